import { assert, layer } from "@effect/vitest"
import { acceptsPrefill, type Deployment, operations as Op, type Wire } from "@switchyard/core"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave, MockUpstream, referencePrefix } from "@switchyard/testkit/mock"
import { Effect, Redacted, Stream } from "effect"
import { collectUntilFailure, makeDeployment, plain, providerFor, TEST_KEY, TestLayer } from "./fixtures.ts"

const GEMINI = "gemini-2.5-flash"

/** A Gemini (AI Studio) deployment served by the mock. */
const studio = (id: string, extra: Partial<Deployment> = {}) =>
  Effect.map(MockUpstream, (mock) =>
    makeDeployment({ id, provider: "gemini", model: GEMINI, apiBase: mock.apiBase(id, "gemini"), ...extra }))

/** A Gemini-on-Vertex deployment served by the mock, with its service account. */
const onVertex = (id: string) =>
  Effect.map(MockUpstream, (mock) =>
    makeDeployment({
      id,
      provider: "vertex_ai",
      model: GEMINI,
      apiKey: undefined,
      apiBase: mock.vertexBase(id, GEMINI),
      vertexCredentials: Redacted.make(JSON.stringify(mock.google.serviceAccount()))
    }))

const ask: Wire.ChatRequest = { model: "g", messages: [{ role: "user", content: "Tell me about the fox" }] }
const textOf = (chunks: ReadonlyArray<Wire.ChatChunk>) => chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")
const weather = {
  type: "function",
  function: { name: "get_weather", description: "Weather", parameters: { type: "object", additionalProperties: false, properties: { city: { type: "string" } } } }
}

layer(TestLayer, { excludeTestServices: true })("gemini provider contract (AI Studio and Vertex)", (it) => {
  it.effect("declares chat, responses and embeddings (and messages over chat); no prefill", () =>
    Effect.gen(function*() {
      const gemini = yield* providerFor("gemini")
      assert.deepStrictEqual([...gemini.operations], ["chat", "responses", "embedding", "messages"])
      assert.isFalse(acceptsPrefill(gemini, yield* studio("g-caps")))
    }))

  it.effect("chat: :generateContent with x-goog-api-key; messages become contents and systemInstruction", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const gemini = yield* providerFor("gemini")
      const reply = yield* gemini.call(Op.chat, yield* studio("g-chat"), {
        model: "g",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Hi" },
          { role: "assistant", content: "Hello." },
          { role: "user", content: [{ type: "text", text: "Tell me" }, { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } }] }
        ],
        temperature: 0.2,
        max_tokens: 64,
        stop: ["END"],
        response_format: { type: "json_schema", json_schema: { name: "x", strict: true, schema: { type: "object", additionalProperties: false, properties: { a: { type: "string" } } } } }
      })
      assert.strictEqual(reply.choices[0]!.message.content, REFERENCE_TEXT)
      assert.strictEqual(reply.choices[0]!.finish_reason, "stop")
      assert.strictEqual(reply.usage!.completion_tokens, REFERENCE_TEXT.split(" ").length)
      const [seen] = mock.requests("g-chat")
      assert.strictEqual(seen!.path, `/d/g-chat/v1beta/models/${GEMINI}:generateContent`)
      assert.strictEqual(seen!.headers["x-goog-api-key"], TEST_KEY)
      assert.deepStrictEqual(seen!.body, {
        contents: [
          { role: "user", parts: [{ text: "Hi" }] },
          { role: "model", parts: [{ text: "Hello." }] },
          { role: "user", parts: [{ text: "Tell me" }, { inlineData: { mimeType: "image/png", data: "AAAA" } }] }
        ],
        systemInstruction: { parts: [{ text: "Be brief." }] },
        generationConfig: {
          temperature: 0.2,
          maxOutputTokens: 64,
          stopSequences: ["END"],
          responseMimeType: "application/json",
          responseSchema: { type: "object", properties: { a: { type: "string" } } }
        }
      })
    }))

  it.effect("tools: functionDeclarations and toolConfig out, a functionCall back as tool_calls; tool results as functionResponse", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const gemini = yield* providerFor("gemini")
      const d = yield* studio("g-tools")
      const reply = yield* gemini.call(Op.chat, d, { ...ask, tools: [weather], tool_choice: { type: "function", function: { name: "get_weather" } } })
      const call = (reply.choices[0]!.message.tool_calls as Array<{ id: string; function: { name: string; arguments: string } }>)[0]!
      assert.strictEqual(call.function.name, "get_weather")
      assert.deepStrictEqual(JSON.parse(call.function.arguments), { city: "Paris" })
      assert.strictEqual(reply.choices[0]!.finish_reason, "tool_calls")
      const sent = mock.requests("g-tools")[0]!.body as Record<string, unknown>
      assert.deepStrictEqual(sent.tools, [{ functionDeclarations: [{ name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } }] }])
      assert.deepStrictEqual(sent.toolConfig, { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["get_weather"] } })
      yield* gemini.call(Op.chat, d, {
        model: "g",
        messages: [
          ...ask.messages,
          { role: "assistant", content: null, tool_calls: [{ id: call.id, type: "function", function: call.function }] },
          { role: "tool", tool_call_id: call.id, content: "{\"temp\": 21}" }
        ]
      })
      const followUp = mock.requests("g-tools")[1]!.body as { contents: Array<unknown> }
      assert.deepStrictEqual(followUp.contents.slice(1), [
        { role: "model", parts: [{ functionCall: { name: "get_weather", args: { city: "Paris" } } }] },
        { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { temp: 21 } } }] }
      ])
    }))

  it.effect("stream: :streamGenerateContent?alt=sse, events as chat chunks ending with finish and usage", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const gemini = yield* providerFor("gemini")
      const chunks = yield* Stream.runCollect(gemini.stream(Op.chat, yield* studio("g-stream"), ask))
      assert.strictEqual(textOf(chunks), REFERENCE_TEXT)
      assert.strictEqual(chunks[0]!.choices[0]!.delta.role, "assistant")
      assert.strictEqual(chunks[chunks.length - 2]!.choices[0]!.finish_reason, "stop")
      assert.strictEqual((chunks[chunks.length - 1]!.usage as { completion_tokens: number }).completion_tokens, REFERENCE_TEXT.split(" ").length)
      const [seen] = mock.requests("g-stream")
      assert.strictEqual(seen!.path, `/d/g-stream/v1beta/models/${GEMINI}:streamGenerateContent`)
      assert.strictEqual(seen!.query.alt, "sse")
    }))

  it.effect("a cut stream is MidStream with the text so far; a body that ends before a finish reason is cut too", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const gemini = yield* providerFor("gemini")
      mock.script("g-cut", [Behave.cutAfter(4), Behave.cutAfter(0)])
      const d = yield* studio("g-cut")
      const cut = yield* collectUntilFailure(gemini.stream(Op.chat, d, ask))
      assert.strictEqual(cut.error?._tag, "MidStream")
      assert.strictEqual(cut.error?._tag === "MidStream" ? cut.error.received : "", referencePrefix(4))
      const early = yield* collectUntilFailure(gemini.stream(Op.chat, d, ask))
      assert.strictEqual(early.error?._tag, "Connection")
    }))

  it.effect("an in-stream Google error (RESOURCE_EXHAUSTED) after text is MidStream; before text it is RateLimited", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const gemini = yield* providerFor("gemini")
      mock.script("g-err", [Behave.sseErrorAfter(3, { type: "RESOURCE_EXHAUSTED", message: "Quota exceeded" }), Behave.sseErrorAfter(0, { type: "RESOURCE_EXHAUSTED" })])
      const d = yield* studio("g-err")
      const mid = yield* collectUntilFailure(gemini.stream(Op.chat, d, ask))
      assert.strictEqual(mid.error?._tag, "MidStream")
      assert.match(mid.error!.message, /RateLimited: Quota exceeded/)
      const before = yield* collectUntilFailure(gemini.stream(Op.chat, d, ask))
      assert.strictEqual(before.error?._tag, "RateLimited")
    }))

  it.effect("Google error statuses map to their classes", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const gemini = yield* providerFor("gemini")
      const rows: ReadonlyArray<readonly [number, string]> = [[429, "RateLimited"], [503, "Overloaded"], [403, "Authentication"], [404, "NotFound"], [400, "BadRequest"], [500, "ServerError"], [504, "Timeout"]]
      for (const [status, tag] of rows) {
        const id = `g-status-${status}`
        mock.script(id, [Behave.status(status)])
        const error = yield* Effect.flip(gemini.call(Op.chat, yield* studio(id), ask))
        assert.strictEqual(error._tag, tag, `HTTP ${status}`)
        assert.strictEqual(error.status, status)
      }
    }))

  it.effect("a missing api key is refused by the mock as Google does (PERMISSION_DENIED), and fails as Authentication", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const gemini = yield* providerFor("gemini")
      const noKey = yield* Effect.flip(gemini.call(Op.chat, yield* studio("g-nokey", { apiKey: undefined }), ask))
      assert.strictEqual(noKey._tag, "Authentication")
      assert.strictEqual(mock.requests("g-nokey").length, 0)
      mock.script("g-denied", [Behave.status(403)])
      const denied = yield* Effect.flip(gemini.call(Op.chat, yield* studio("g-denied"), ask))
      assert.strictEqual(denied._tag, "Authentication")
    }))

  it.effect("embeddings: :batchEmbedContents, one vector per input", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const gemini = yield* providerFor("gemini")
      const reply = yield* gemini.call(plain(Op.embedding), yield* studio("g-embed", { model: "text-embedding-004" }), { model: "g", input: ["a", "b"], dimensions: 8 })
      assert.strictEqual(reply.data.length, 2)
      assert.strictEqual((reply.data[0]!.embedding as Array<number>).length, 8)
      const [seen] = mock.requests("g-embed")
      assert.strictEqual(seen!.path, "/d/g-embed/v1beta/models/text-embedding-004:batchEmbedContents")
      assert.deepStrictEqual((seen!.body as { requests: Array<unknown> }).requests[0], {
        model: "models/text-embedding-004",
        content: { parts: [{ text: "a" }] },
        outputDimensionality: 8
      })
      const tokens = yield* Effect.flip(gemini.call(plain(Op.embedding), yield* studio("g-embed-2"), { model: "g", input: [1, 2, 3] }))
      assert.strictEqual(tokens._tag, "BadRequest")
    }))

  it.effect("Vertex Gemini: :generateContent and :streamGenerateContent under publishers/google with a bearer token", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const vertex = yield* providerFor("vertex_ai")
      const d = yield* onVertex("vg")
      const reply = yield* vertex.call(Op.chat, d, ask)
      assert.strictEqual(reply.choices[0]!.message.content, REFERENCE_TEXT)
      const chunks = yield* Stream.runCollect(vertex.stream(Op.chat, d, ask))
      assert.strictEqual(textOf(chunks), REFERENCE_TEXT)
      const [call, stream] = mock.requests("vg")
      assert.match(call!.path, /\/publishers\/google\/models\/gemini-2\.5-flash:generateContent$/)
      assert.match(stream!.path, /:streamGenerateContent$/)
      assert.strictEqual(stream!.query.alt, "sse")
      assert.match(call!.headers.authorization!, /^Bearer ya29\.mock-/)
      assert.isUndefined(call!.headers["x-goog-api-key"])
    }))

  it.effect("Vertex embeddings: :predict with one instance per text and Vertex's token counts; Claude has none", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const vertex = yield* providerFor("vertex_ai")
      const d = { ...(yield* onVertex("vg-embed")), model: "text-embedding-005", apiBase: mock.vertexBase("vg-embed", "text-embedding-005") }
      const reply = yield* vertex.call(plain(Op.embedding), d, { model: "g", input: ["the fox", "a dog"], dimensions: 8 })
      assert.strictEqual(reply.data.length, 2)
      assert.deepStrictEqual(reply.usage, { prompt_tokens: 4, total_tokens: 4 })
      const [seen] = mock.requests("vg-embed")
      assert.match(seen!.path, /\/publishers\/google\/models\/text-embedding-005:predict$/)
      assert.deepStrictEqual(seen!.body, { instances: [{ content: "the fox" }, { content: "a dog" }], parameters: { outputDimensionality: 8 } })
      const claude = { ...d, model: "claude-sonnet-4-6" }
      const error = yield* Effect.flip(vertex.call(plain(Op.embedding), claude, { model: "g", input: "x" }))
      assert.strictEqual(error._tag, "UnsupportedOperation")
    }))

  it.effect("responses over Gemini: the stream is Responses events with the whole text and usage", () =>
    Effect.gen(function*() {
      const gemini = yield* providerFor("gemini")
      const events = yield* Stream.runCollect(gemini.stream(Op.responses, yield* studio("g-resp"), { model: "g", input: "Tell me about the fox", stream: true }))
      assert.strictEqual(events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join(""), REFERENCE_TEXT)
      const last = events[events.length - 1]!
      assert.strictEqual(last.type, "response.completed")
      assert.strictEqual((last.response as { usage: { output_tokens: number } }).usage.output_tokens, REFERENCE_TEXT.split(" ").length)
    }))
})
