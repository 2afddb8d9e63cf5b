import { assert, layer } from "@effect/vitest"
import { operations as Op } from "@switchyard/core"
import { Behave, MockUpstream, SPEECH_BYTES, speechAudio } from "@switchyard/testkit/mock"
import { Effect, Stream } from "effect"
import { createHash } from "node:crypto"
import { collectUntilFailure, mockDeployment, plain, providerFor, TestLayer } from "./fixtures.ts"

const speech = { model: "tts", input: "The quick brown fox", voice: "alloy" }
const concat = (pieces: ReadonlyArray<Uint8Array>) => {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0))
  pieces.reduce((at, p) => (out.set(p, at), at + p.length), 0)
  return out
}

layer(TestLayer, { excludeTestServices: true })("audio end to end", (it) => {
  it.effect("speech streams the binary body in several pieces as they arrive, keeping the content type", () =>
    Effect.gen(function*() {
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("tts-stream", "openai", { model: "tts-1-hd" })
      const chunks = yield* Stream.runCollect(openai.stream(Op.speech, d, speech))
      assert.isAbove(chunks.length, 1)
      assert.ok(chunks.every((c) => c.contentType === "audio/mpeg"))
      const audio = concat(chunks.map((c) => c.data))
      assert.strictEqual(audio.length, SPEECH_BYTES)
      assert.deepStrictEqual(audio, speechAudio(speech.input, "mp3"))
    }))

  it.effect("speech is not buffered: the first pieces arrive while the upstream is still sending", () =>
    Effect.gen(function*() {
      ;(yield* MockUpstream).script("tts-stall", [Behave.stallAfter(2)])
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("tts-stall", "openai")
      // The upstream never finishes this body; a buffering provider would never yield.
      const first = yield* Stream.runCollect(Stream.take(openai.stream(Op.speech, d, speech), 1))
      assert.strictEqual(first[0]!.contentType, "audio/mpeg")
      assert.isAbove(first[0]!.data.length, 0)
    }))

  it.effect("speech cut after the first bytes is MidStream with nothing to continue from", () =>
    Effect.gen(function*() {
      ;(yield* MockUpstream).script("tts-cut", [Behave.cutAfter(2)])
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("tts-cut", "openai")
      const { chunks, error } = yield* collectUntilFailure(openai.stream(Op.speech, d, speech))
      assert.isAbove(chunks.length, 0)
      assert.strictEqual(error?._tag, "MidStream")
      assert.strictEqual(error?._tag === "MidStream" ? error.received : undefined, "")
    }))

  it.effect("speech that fails before the first byte keeps its class (a fallback is still possible)", () =>
    Effect.gen(function*() {
      ;(yield* MockUpstream).script("tts-down", [Behave.status(503)])
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("tts-down", "openai")
      const { error } = yield* collectUntilFailure(openai.stream(Op.speech, d, speech))
      assert.strictEqual(error?._tag, "Overloaded")
    }))

  it.effect("speech call collects the whole body; response_format picks the content type", () =>
    Effect.gen(function*() {
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("tts-call", "openai")
      const audio = yield* openai.call(Op.speech, d, { ...speech, response_format: "flac" })
      assert.strictEqual(audio.contentType, "audio/flac")
      assert.deepStrictEqual(audio.data, speechAudio(speech.input, "flac"))
    }))

  it.effect("transcription uploads a real multipart body: the file arrives byte for byte", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("stt", "openai", { model: "whisper-large-v3" })
      const wav = speechAudio("a recording", "wav")
      const reply = yield* openai.call(plain(Op.transcription), d, {
        model: "g",
        file: { filename: "meeting.wav", contentType: "audio/wav", data: wav },
        prompt: "Switchyard, LiteLLM",
        response_format: "verbose_json"
      })
      assert.strictEqual(reply.text, `Transcript of meeting.wav (${wav.length} bytes).`)
      const seen = mock.requests("stt")[0]!
      assert.deepStrictEqual(seen.file, {
        field: "file",
        filename: "meeting.wav",
        contentType: "audio/wav",
        size: wav.length,
        sha256: createHash("sha256").update(wav).digest("hex")
      })
      assert.deepStrictEqual(seen.body, {
        model: "whisper-large-v3",
        prompt: "Switchyard, LiteLLM",
        response_format: "verbose_json",
        file: { filename: "meeting.wav", contentType: "audio/wav", size: wav.length }
      })
    }))
})
