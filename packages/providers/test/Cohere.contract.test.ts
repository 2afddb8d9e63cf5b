import { assert, layer } from "@effect/vitest"
import { operations as Op } from "@switchyard/core"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { MockUpstream } from "@switchyard/testkit/mock"
import { ConfigProvider, Effect, Stream } from "effect"
import { makeDeployment, onlyRequest, plain, providerFor, TEST_KEY, TestLayer } from "./fixtures.ts"

const cohere = (id: string, model: string) =>
  Effect.map(MockUpstream, (mock) => makeDeployment({ id, provider: "cohere", model, apiBase: mock.apiBase(id, "cohere") }))

layer(TestLayer, { excludeTestServices: true })("cohere provider contract", (it) => {
  it.effect("declares chat, embedding and rerank, and messages over chat", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual([...(yield* providerFor("cohere")).operations], ["chat", "embedding", "rerank", "messages"])
    }))

  it.effect("embed v2: input_type and embedding_types mapped; float vectors back in the encoding asked for", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("cohere")
      const d = yield* cohere("co-embed", "embed-v4.0")
      const reply = yield* p.call(plain(Op.embedding), d, { model: "e", input: ["a b", "c"], input_type: "search_query", dimensions: 256 })
      assert.strictEqual(reply.data.length, 2)
      assert.strictEqual((reply.data[1]!.embedding as Array<number>).length, 8)
      assert.deepStrictEqual(reply.usage, { prompt_tokens: 3, total_tokens: 3 })
      const seen = yield* onlyRequest("co-embed")
      assert.strictEqual(seen.path, "/d/co-embed/v2/embed")
      assert.strictEqual(seen.headers.authorization, `Bearer ${TEST_KEY}`)
      assert.deepStrictEqual(seen.body, {
        model: "embed-v4.0",
        texts: ["a b", "c"],
        input_type: "search_query",
        embedding_types: ["float"],
        output_dimension: 256
      })
      const b64 = yield* p.call(plain(Op.embedding), d, { model: "e", input: "x", encoding_format: "base64" })
      const floats = new Float32Array(new Uint8Array(Buffer.from(b64.data[0]!.embedding as string, "base64")).buffer)
      assert.strictEqual(floats.length, 8)
      const int8 = yield* p.call(plain(Op.embedding), d, { model: "e", input: "x", embedding_types: ["int8"] })
      assert.isTrue((int8.data[0]!.embedding as Array<number>).every(Number.isInteger))
    }))

  it.effect("embed v2 without input_type sends search_document, as LiteLLM does", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("cohere")
      const d = yield* cohere("co-embed-default", "embed-english-v3.0")
      yield* p.call(plain(Op.embedding), d, { model: "e", input: "x" })
      assert.strictEqual(((yield* onlyRequest("co-embed-default")).body as any).input_type, "search_document")
    }))

  it.effect("rerank v2: documents sent as text, results back with documents when asked", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("cohere")
      const d = yield* cohere("co-rerank", "rerank-v3.5")
      const reply = yield* p.call(plain(Op.rerank), d, {
        model: "r",
        query: "dog",
        documents: ["cat", { text: "dog" }],
        top_n: 1,
        return_documents: true
      })
      assert.deepStrictEqual(reply.results.map((r) => [r.index, r.document]), [[1, { text: "dog" }]])
      const seen = yield* onlyRequest("co-rerank")
      assert.deepStrictEqual(seen.body, { model: "rerank-v3.5", query: "dog", documents: ["cat", "{\"text\":\"dog\"}"], top_n: 1 })
    }))

  it.effect("chat goes through the OpenAI-compatible API, plain and streamed", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("cohere")
      const d = yield* cohere("co-chat", "command-a-03-2025")
      const reply = yield* p.call(Op.chat, d, { model: "c", messages: [{ role: "user", content: "hi" }] })
      assert.strictEqual(reply.choices[0]!.message.content, REFERENCE_TEXT)
      const chunks = yield* Stream.runCollect(p.stream(Op.chat, d, { model: "c", messages: [{ role: "user", content: "hi" }] }))
      assert.strictEqual(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), REFERENCE_TEXT)
      assert.deepStrictEqual((yield* MockUpstream).requests("co-chat").map((r) => r.path), [
        "/d/co-chat/compatibility/v1/chat/completions",
        "/d/co-chat/compatibility/v1/chat/completions"
      ])
    }))

  it.effect("without api_key the key comes from CO_API_KEY; a Cohere error keeps its message", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("cohere")
      const mock = yield* MockUpstream
      const d = { ...(yield* cohere("co-env", "embed-v4.0")), apiKey: undefined }
      yield* p.call(plain(Op.embedding), d, { model: "e", input: "x" }).pipe(
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { CO_API_KEY: "co-env-key-123" } })))
      )
      assert.strictEqual(mock.requests("co-env")[0]!.headers.authorization, "Bearer co-env-key-123")
      const error = yield* Effect.flip(p.call(plain(Op.embedding), d, { model: "e", input: "x" }))
      assert.strictEqual(error._tag, "Authentication")
      assert.strictEqual(error.message, "no api key supplied")
    }))
})
