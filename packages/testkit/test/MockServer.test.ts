import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Agent } from "node:http"
import { REFERENCE_TEXT } from "../src/Reference.ts"
import { Behave, MockUpstream, referencePrefix, SPEECH_BYTES, speechAudio } from "../src/mock/index.ts"
import { json, send, sseData } from "./http.ts"

const chat = (extra: Record<string, unknown> = {}) => ({ model: "m", messages: [{ role: "user", content: "hi" }], ...extra })
const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

layer(MockUpstream.layer(), { excludeTestServices: true })("mock upstream", (it) => {
  it.effect("serves every OpenAI operation below a deployment's prefix and records what it got", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const base = mock.apiBase("all")
      const calls: ReadonlyArray<readonly [string, unknown, (body: any) => void]> = [
        ["/chat/completions", chat(), (b) => assert.strictEqual(b.choices[0].message.content, REFERENCE_TEXT)],
        ["/completions", { model: "m", prompt: "x" }, (b) => assert.strictEqual(b.choices[0].text, REFERENCE_TEXT)],
        ["/embeddings", { model: "m", input: ["a", "b"] }, (b) => assert.strictEqual(b.data.length, 2)],
        ["/images/generations", { model: "m", prompt: "cat", n: 3 }, (b) => assert.strictEqual(b.data.length, 3)],
        ["/moderations", { model: "m", input: "hello" }, (b) => assert.isFalse(b.results[0].flagged)],
        ["/rerank", { model: "m", query: "dog", documents: ["cat", "dog"] }, (b) => assert.strictEqual(b.results[0].index, 1)],
        ["/responses", { model: "m", input: "hi" }, (b) => assert.strictEqual(b.output[0].content[0].text, REFERENCE_TEXT)]
      ]
      for (const [path, body, check] of calls) {
        const reply = yield* promise(() => send(`${base}${path}`, { body, headers: { authorization: "Bearer k" } }))
        assert.strictEqual(reply.status, 200, path)
        check(json(reply))
      }
      const seen = mock.requests("all")
      assert.deepStrictEqual(seen.map((r) => r.operation), ["chat", "completion", "embedding", "image", "moderation", "rerank", "responses"])
      assert.strictEqual(seen[0]!.headers.authorization, "Bearer k")
      assert.deepStrictEqual(seen[0]!.body, chat())
    }))

  it.effect("speech: a realistic binary body written in several pieces", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const reply = yield* promise(() => send(`${mock.apiBase("tts")}/audio/speech`, { body: { model: "m", input: "hey", voice: "a" } }))
      assert.strictEqual(reply.headers["content-type"], "audio/mpeg")
      assert.strictEqual(reply.body.length, SPEECH_BYTES)
      assert.deepStrictEqual(new Uint8Array(reply.body), speechAudio("hey"))
      assert.isAbove(reply.pieces, 1)
    }))

  it.effect("transcription: parses the multipart upload", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const form = new FormData()
      form.append("model", "whisper-1")
      form.append("timestamp_granularities[]", "word")
      form.append("timestamp_granularities[]", "segment")
      form.append("file", new Blob([new Uint8Array(1234)], { type: "audio/wav" }), "a.wav")
      const reply = yield* promise(() => fetch(`${mock.apiBase("stt")}/audio/transcriptions`, { method: "POST", body: form }).then((r) => r.json()))
      assert.deepStrictEqual(reply, { text: "Transcript of a.wav (1234 bytes)." })
      const seen = mock.requests("stt")[0]!
      assert.deepStrictEqual(seen.body, {
        model: "whisper-1",
        "timestamp_granularities[]": ["word", "segment"],
        file: { filename: "a.wav", contentType: "audio/wav", size: 1234 }
      })
    }))

  it.effect("Azure and Anthropic paths, and requests without a prefix (deployment `default`)", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const azure = yield* promise(() => send(`${mock.apiBase("az", "azure")}/openai/deployments/d1/embeddings?api-version=2024-10-21`, { body: { input: "x" } }))
      assert.strictEqual(azure.status, 200)
      const anthropic = yield* promise(() =>
        send(`${mock.apiBase("an", "anthropic")}/v1/messages`, { body: chat(), headers: { "anthropic-version": "2023-06-01" } })
      )
      assert.strictEqual(json(anthropic).content[0].text, REFERENCE_TEXT)
      const plain = yield* promise(() => send(`${mock.url}/v1/chat/completions`, { body: chat() }))
      assert.strictEqual(plain.status, 200)
      assert.deepStrictEqual(mock.requests("az")[0]!.query, { "api-version": "2024-10-21" })
      assert.strictEqual(mock.requests("default").length, 1)
      const unknown = yield* promise(() => send(`${mock.apiBase("x")}/nope`, { body: {} }))
      assert.strictEqual(unknown.status, 404)
      assert.include(json(unknown).error.message, "Unknown request URL")
    }))

  it.effect("Anthropic: rejects a missing version header and a prefill ending in whitespace, like the real API", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const url = `${mock.apiBase("an-check", "anthropic")}/v1/messages`
      const noVersion = yield* promise(() => send(url, { body: chat() }))
      assert.strictEqual(noVersion.status, 400)
      assert.strictEqual(json(noVersion).error.type, "invalid_request_error")
      const body = chat({ messages: [{ role: "user", content: "x" }, { role: "assistant", content: "The quick " }] })
      const trailing = yield* promise(() => send(url, { body, headers: { "anthropic-version": "2023-06-01" } }))
      assert.include(json(trailing).error.message, "trailing whitespace")
    }))

  it.effect("scripts: a queue with `times`, then `otherwise`, then the default ok", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      mock.script("q", [Behave.failFirst(2, Behave.status(500)), Behave.status(429)], Behave.status(503))
      const statuses: Array<number> = []
      for (let i = 0; i < 5; i++) statuses.push((yield* promise(() => send(`${mock.apiBase("q")}/embeddings`, { body: { input: "x" } }))).status)
      assert.deepStrictEqual(statuses, [500, 500, 429, 503, 503])
      const other = yield* promise(() => send(`${mock.apiBase("other")}/embeddings`, { body: { input: "x" } }))
      assert.strictEqual(other.status, 200)
    }))

  it.effect("error bodies are vendor-shaped, with headers", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      mock.script("e-openai", [Behave.rateLimited(2)])
      mock.script("e-anthropic", [Behave.status(529, { headers: { "retry-after-ms": "250" } })])
      const openai = yield* promise(() => send(`${mock.apiBase("e-openai")}/chat/completions`, { body: chat() }))
      assert.strictEqual(openai.headers["retry-after"], "2")
      assert.strictEqual(json(openai).error.code, "rate_limit_exceeded")
      const anthropic = yield* promise(() =>
        send(`${mock.apiBase("e-anthropic", "anthropic")}/v1/messages`, { body: chat(), headers: { "anthropic-version": "2023-06-01" } })
      )
      assert.strictEqual(anthropic.status, 529)
      assert.strictEqual(anthropic.headers["retry-after-ms"], "250")
      assert.deepStrictEqual(json(anthropic).error, { type: "overloaded_error", message: "Overloaded" })
    }))

  it.effect("faults: reset and hang-up drop the connection; malformed sends broken JSON", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      mock.script("f", [Behave.reset(), Behave.hangup(), Behave.malformed()])
      const url = `${mock.apiBase("f")}/chat/completions`
      const reset = yield* promise(() => send(url, { body: chat() }))
      assert.strictEqual(reset.error, "ECONNRESET")
      const hangup = yield* promise(() => send(url, { body: chat() }))
      assert.isDefined(hangup.error)
      assert.strictEqual(hangup.status, 0)
      const malformed = yield* promise(() => send(url, { body: chat() }))
      assert.strictEqual(malformed.status, 200)
      assert.throws(() => json(malformed))
      assert.strictEqual(mock.requests("f").length, 3)
    }))

  it.effect("SSE faults: cut after k words, error event after k words", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      mock.script("s", [Behave.cutAfter(3), Behave.sseErrorAfter(2)])
      const url = `${mock.apiBase("s")}/chat/completions`
      const text = (data: Array<string>) =>
        data.filter((d) => d !== "[DONE]").map((d) => JSON.parse(d).choices?.[0]?.delta?.content ?? "").join("")
      const cut = yield* promise(() => send(url, { body: chat({ stream: true }) }))
      assert.isDefined(cut.error)
      assert.strictEqual(text(sseData(cut)), referencePrefix(3))
      const errored = yield* promise(() => send(url, { body: chat({ stream: true }) }))
      const data = sseData(errored)
      assert.isUndefined(errored.error)
      assert.strictEqual(JSON.parse(data.at(-1)!).error.type, "server_error")
      assert.strictEqual(text(data.slice(0, -1)), referencePrefix(2))
    }))

  it.effect("a stalled stream sends k words and then nothing, with the socket still open", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      mock.script("stall", [Behave.stallAfter(2)])
      const body = JSON.stringify({ model: "m", prompt: "x", stream: true })
      const response = yield* promise(() => fetch(`${mock.apiBase("stall")}/completions`, { method: "POST", body }))
      const reader = response.body!.getReader()
      // Read until two whole frames are in; the body never ends, so reading on would wait forever.
      let received = ""
      while (received.split("\n\n").length < 3) received += new TextDecoder().decode((yield* promise(() => reader.read())).value)
      const frames = received.split("\n\n").filter((f) => f.startsWith("data: ")).map((f) => JSON.parse(f.slice(6)))
      assert.strictEqual(frames.map((f) => f.choices[0].text).join(""), referencePrefix(2))
      yield* promise(() => reader.cancel())
    }))

  it.effect("streams carry usage: chat with include_usage, responses in response.completed", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const chatReply = yield* promise(() =>
        send(`${mock.apiBase("u")}/chat/completions`, { body: chat({ stream: true, stream_options: { include_usage: true } }) })
      )
      const frames = sseData(chatReply)
      assert.strictEqual(frames.at(-1), "[DONE]")
      assert.strictEqual(JSON.parse(frames.at(-2)!).usage.completion_tokens, REFERENCE_TEXT.split(" ").length)
      const responses = yield* promise(() => send(`${mock.apiBase("u")}/responses`, { body: { model: "m", input: "hi", stream: true } }))
      const completed = JSON.parse(sseData(responses).at(-1)!)
      assert.strictEqual(completed.type, "response.completed")
      assert.strictEqual(completed.response.usage.output_tokens, REFERENCE_TEXT.split(" ").length)
    }))

  it.effect("latency before headers", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      mock.script("slow", [Behave.ok({ delayMillis: 40 })])
      const start = Date.now()
      yield* promise(() => send(`${mock.apiBase("slow")}/embeddings`, { body: { input: "x" } }))
      assert.isAtLeast(Date.now() - start, 35)
    }))

  it.effect("counts TCP connections: keep-alive reuses one, fresh connections are counted", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      mock.reset()
      const url = `${mock.apiBase("conn")}/embeddings`
      const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 })
      for (let i = 0; i < 5; i++) yield* promise(() => send(url, { body: { input: "x" }, agent: keepAlive }))
      keepAlive.destroy()
      assert.strictEqual(mock.connections(), 1)
      const fresh = new Agent({ keepAlive: false })
      for (let i = 0; i < 3; i++) yield* promise(() => send(url, { body: { input: "x" }, agent: fresh }))
      assert.strictEqual(mock.connections(), 4)
    }))

  it.effect("control over HTTP: script, requests, reset", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const scripted = yield* promise(() =>
        send(`${mock.url}/_mock/script`, { body: { deployment: "remote", behaviors: [{ kind: "error", status: 503 }], otherwise: { kind: "error", status: 401 } } })
      )
      assert.strictEqual(scripted.status, 200)
      const first = yield* promise(() => send(`${mock.apiBase("remote")}/embeddings`, { body: { input: "x" } }))
      const second = yield* promise(() => send(`${mock.apiBase("remote")}/embeddings`, { body: { input: "x" } }))
      assert.deepStrictEqual([first.status, second.status], [503, 401])
      const listed = json(yield* promise(() => send(`${mock.url}/_mock/requests?deployment=remote`)))
      assert.strictEqual(listed.length, 2)
      const invalid = yield* promise(() => send(`${mock.url}/_mock/script`, { body: { deployment: "x", behaviors: [{ kind: "explode" }] } }))
      assert.strictEqual(invalid.status, 400)
      yield* promise(() => send(`${mock.url}/_mock/reset`, { method: "POST" }))
      assert.deepStrictEqual(json(yield* promise(() => send(`${mock.url}/_mock/requests`))), [])
      assert.strictEqual((yield* promise(() => send(`${mock.apiBase("remote")}/embeddings`, { body: { input: "x" } }))).status, 200)
    }))
})
