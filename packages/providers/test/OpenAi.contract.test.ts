import { assert, layer } from "@effect/vitest"
import { operationNames, operations as Op } from "@switchyard/core"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { MockUpstream, speechAudio } from "@switchyard/testkit/mock"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { mockDeployment, plain, providerFor, TEST_KEY, TestLayer } from "./fixtures.ts"

/** The one request a deployment received; the test fails if there was not exactly one. */
const onlyRequest = (deployment: string) =>
  Effect.map(MockUpstream, (mock) => {
    const requests = mock.requests(deployment)
    assert.strictEqual(requests.length, 1)
    return requests[0]!
  })

const audioFile = new Uint8Array(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff))

layer(TestLayer, { excludeTestServices: true })("openai provider contract", (it) => {
  it.effect("declares all nine operations, without prefill", () =>
    Effect.gen(function*() {
      const openai = yield* providerFor("openai")
      assert.deepStrictEqual([...openai.operations].sort(), [...operationNames].sort())
      assert.isFalse(openai.supportsPrefill)
      // OpenAI-compatible prefixes are the same provider.
      for (const alias of ["hosted_vllm", "groq", "together_ai", "deepseek", "fireworks_ai", "openai_compatible"]) {
        assert.strictEqual(yield* providerFor(alias), openai)
      }
    }))

  it.effect("chat: POST /chat/completions with Bearer key and the deployment's model; a call never streams", () =>
    Effect.gen(function*() {
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("oa-chat", "openai", { model: "gpt-4o-mini" })
      const reply = yield* openai.call(Op.chat, d, {
        model: "my-group",
        messages: [{ role: "user", content: "hi" }],
        temperature: 0.2,
        stream: true
      })
      assert.strictEqual(reply.choices[0]!.message.content, REFERENCE_TEXT)
      assert.strictEqual(reply.model, "gpt-4o-mini")
      const seen = yield* onlyRequest("oa-chat")
      assert.strictEqual(seen.path, "/d/oa-chat/v1/chat/completions")
      assert.strictEqual(seen.headers.authorization, `Bearer ${TEST_KEY}`)
      assert.include(seen.headers["content-type"], "application/json")
      assert.deepStrictEqual(seen.body, { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], temperature: 0.2 })
    }))

  it.effect("completion", () =>
    Effect.gen(function*() {
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("oa-completion", "openai", { model: "gpt-3.5-turbo-instruct" })
      const reply = yield* openai.call(Op.completion, d, { model: "g", prompt: "Say hi", max_tokens: 5 })
      assert.strictEqual(reply.choices[0]!.text, REFERENCE_TEXT)
      const seen = yield* onlyRequest("oa-completion")
      assert.strictEqual(seen.path, "/d/oa-completion/v1/completions")
      assert.deepStrictEqual(seen.body, { model: "gpt-3.5-turbo-instruct", prompt: "Say hi", max_tokens: 5 })
    }))

  it.effect("embedding", () =>
    Effect.gen(function*() {
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("oa-embedding", "openai", { model: "text-embedding-3-small" })
      const reply = yield* openai.call(plain(Op.embedding), d, { model: "g", input: ["a", "b"], dimensions: 8 })
      assert.strictEqual(reply.data.length, 2)
      assert.strictEqual((reply.data[0]!.embedding as ReadonlyArray<number>).length, 8)
      const seen = yield* onlyRequest("oa-embedding")
      assert.strictEqual(seen.path, "/d/oa-embedding/v1/embeddings")
      assert.deepStrictEqual(seen.body, { model: "text-embedding-3-small", input: ["a", "b"], dimensions: 8 })
    }))

  it.effect("image", () =>
    Effect.gen(function*() {
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("oa-image", "openai", { model: "dall-e-3" })
      const reply = yield* openai.call(plain(Op.image), d, { model: "g", prompt: "a cat", n: 2, size: "256x256" })
      assert.strictEqual(reply.data.length, 2)
      const seen = yield* onlyRequest("oa-image")
      assert.strictEqual(seen.path, "/d/oa-image/v1/images/generations")
      assert.deepStrictEqual(seen.body, { model: "dall-e-3", prompt: "a cat", n: 2, size: "256x256" })
    }))

  it.effect("moderation", () =>
    Effect.gen(function*() {
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("oa-moderation", "openai", { model: "omni-moderation-latest" })
      const reply = yield* openai.call(plain(Op.moderation), d, { model: "g", input: "I will attack the castle" })
      assert.strictEqual((reply.results[0] as { flagged: boolean }).flagged, true)
      const seen = yield* onlyRequest("oa-moderation")
      assert.strictEqual(seen.path, "/d/oa-moderation/v1/moderations")
      assert.strictEqual((seen.body as { model: string }).model, "omni-moderation-latest")
    }))

  it.effect("responses", () =>
    Effect.gen(function*() {
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("oa-responses", "openai", { model: "gpt-4.1" })
      const reply = yield* openai.call(Op.responses, d, { model: "g", input: "hi", instructions: "be brief" })
      assert.strictEqual(reply.status, "completed")
      assert.strictEqual(Op.responses.usage(reply)?.completionTokens, REFERENCE_TEXT.split(" ").length)
      const seen = yield* onlyRequest("oa-responses")
      assert.strictEqual(seen.path, "/d/oa-responses/v1/responses")
      assert.deepStrictEqual(seen.body, { model: "gpt-4.1", input: "hi", instructions: "be brief" })
    }))

  it.effect("rerank: POST {base}/rerank in the Cohere/Jina shape", () =>
    Effect.gen(function*() {
      const openai = yield* providerFor("hosted_vllm")
      const d = yield* mockDeployment("oa-rerank", "hosted_vllm", { model: "BAAI/bge-reranker-v2-m3" })
      const reply = yield* openai.call(plain(Op.rerank), d, {
        model: "g",
        query: "quick fox",
        documents: ["a lazy dog", "the quick brown fox"],
        top_n: 1,
        return_documents: true
      })
      assert.deepStrictEqual(reply.results.map((r) => r.index), [1])
      assert.deepStrictEqual(reply.results[0]!.document, { text: "the quick brown fox" })
      const seen = yield* onlyRequest("oa-rerank")
      assert.strictEqual(seen.path, "/d/oa-rerank/v1/rerank")
      assert.strictEqual((seen.body as { model: string }).model, "BAAI/bge-reranker-v2-m3")
    }))

  it.effect("speech: the whole audio body as one AudioChunk with the upstream's content type", () =>
    Effect.gen(function*() {
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("oa-speech", "openai", { model: "tts-1" })
      const reply = yield* openai.call(Op.speech, d, { model: "g", input: "hello there", voice: "alloy", response_format: "wav" })
      assert.strictEqual(reply.contentType, "audio/wav")
      assert.deepStrictEqual(reply.data, speechAudio("hello there", "wav"))
      const seen = yield* onlyRequest("oa-speech")
      assert.strictEqual(seen.path, "/d/oa-speech/v1/audio/speech")
      assert.deepStrictEqual(seen.body, { model: "tts-1", input: "hello there", voice: "alloy", response_format: "wav" })
    }))

  it.effect("transcription: multipart with the file part and every other field", () =>
    Effect.gen(function*() {
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("oa-transcription", "openai", { model: "whisper-1" })
      const reply = yield* openai.call(plain(Op.transcription), d, {
        model: "g",
        file: { filename: "clip.wav", contentType: "audio/wav", data: audioFile },
        language: "en",
        temperature: 0,
        timestamp_granularities: ["word", "segment"]
      })
      assert.strictEqual(reply.text, "Transcript of clip.wav (3000 bytes).")
      const seen = yield* onlyRequest("oa-transcription")
      assert.strictEqual(seen.path, "/d/oa-transcription/v1/audio/transcriptions")
      assert.match(seen.headers["content-type"]!, /^multipart\/form-data; boundary=/)
      assert.strictEqual(seen.headers.authorization, `Bearer ${TEST_KEY}`)
      assert.deepStrictEqual(seen.body, {
        model: "whisper-1",
        language: "en",
        temperature: "0",
        "timestamp_granularities[]": ["word", "segment"],
        file: { filename: "clip.wav", contentType: "audio/wav", size: 3000 }
      })
      assert.strictEqual(seen.file?.sha256, createHash("sha256").update(audioFile).digest("hex"))
    }))

  it.effect("transcription asked for as text: the plain-text body becomes {text}", () =>
    Effect.gen(function*() {
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("oa-transcription-text", "openai", { model: "whisper-1" })
      const reply = yield* openai.call(plain(Op.transcription), d, {
        model: "g",
        file: { filename: "a.mp3", contentType: "audio/mpeg", data: new Uint8Array([1, 2, 3]) },
        response_format: "text"
      })
      assert.strictEqual(reply.text, "Transcript of a.mp3 (3 bytes).")
    }))

  it.effect("a deployment without a key sends no Authorization header", () =>
    Effect.gen(function*() {
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("oa-nokey", "hosted_vllm", { apiKey: undefined })
      yield* openai.call(plain(Op.embedding), d, { model: "g", input: "x" })
      assert.isUndefined((yield* onlyRequest("oa-nokey")).headers.authorization)
    }))

  it.effect("a self-hosted prefix without api_base is a misconfiguration", () =>
    Effect.gen(function*() {
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("oa-nobase", "hosted_vllm", { apiBase: undefined })
      const error = yield* Effect.flip(openai.call(plain(Op.embedding), d, { model: "g", input: "x" }))
      assert.strictEqual(error._tag, "NotFound")
    }))
})
