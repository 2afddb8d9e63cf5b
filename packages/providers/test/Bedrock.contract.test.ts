import { assert, layer } from "@effect/vitest"
import { type Deployment, operations as Op, type Wire } from "@switchyard/core"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave, MOCK_AWS_CREDENTIALS, MOCK_BEDROCK_API_KEY, MockUpstream, referencePrefix } from "@switchyard/testkit/mock"
import { Effect, Redacted, Stream } from "effect"
import { collectUntilFailure, makeDeployment, onlyRequest, plain, providerFor, TestLayer } from "./fixtures.ts"

const aws = (secret: string = MOCK_AWS_CREDENTIALS.secretAccessKey) => ({
  accessKeyId: MOCK_AWS_CREDENTIALS.accessKeyId,
  secretAccessKey: Redacted.make(secret),
  sessionToken: undefined,
  regionName: MOCK_AWS_CREDENTIALS.region,
  runtimeEndpoint: undefined
})

/** A SigV4-signed Bedrock deployment served by the mock under `id`. */
const bedrock = (id: string, model: string, extra: Partial<Deployment> = {}) =>
  Effect.map(MockUpstream, (mock) =>
    makeDeployment({ id, provider: "bedrock", model, apiKey: undefined, apiBase: mock.apiBase(id, "bedrock"), aws: aws(), ...extra }))

const hi: Wire.ChatRequest = { model: "g", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }] }
const textOf = (chunks: ReadonlyArray<Wire.ChatChunk>) => chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")
const claude = "anthropic.claude-3-5-sonnet-20240620-v1:0"
const weatherTool = {
  type: "function",
  function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }
}

layer(TestLayer, { excludeTestServices: true })("bedrock provider contract", (it) => {
  it.effect("declares chat and embedding, and messages over chat", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("bedrock")
      assert.deepStrictEqual([...p.operations], ["chat", "embedding", "messages"])
    }))

  it.effect("Converse: a signed POST /model/<id>/converse; the reply is an OpenAI completion with usage", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("bedrock")
      const d = yield* bedrock("br-converse", "meta.llama3-70b-instruct-v1:0")
      const reply = yield* p.call(Op.chat, d, { ...hi, temperature: 0.5, max_tokens: 100 })
      assert.strictEqual(reply.choices[0]!.message.content, REFERENCE_TEXT)
      assert.strictEqual(reply.choices[0]!.finish_reason, "stop")
      assert.strictEqual(reply.id, "chatcmpl-mock-request-id")
      const seen = yield* onlyRequest("br-converse")
      assert.strictEqual(seen.path, "/d/br-converse/model/meta.llama3-70b-instruct-v1%3A0/converse")
      assert.match(seen.headers.authorization!, /^AWS4-HMAC-SHA256 Credential=AKIAMOCKSWITCHYARD01\/\d{8}\/us-east-1\/bedrock\/aws4_request/)
      assert.deepStrictEqual(seen.body, {
        messages: [{ role: "user", content: [{ text: "hi" }] }],
        system: [{ text: "Be brief." }],
        inferenceConfig: { maxTokens: 100, temperature: 0.5 }
      })
      assert.strictEqual((reply.usage as any).prompt_tokens, 2) // the mock counts words: "user hi"
    }))

  it.effect("ConverseStream: eventstream frames become chat chunks, then a usage chunk", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("bedrock")
      const d = yield* bedrock("br-stream", "amazon.nova-pro-v1:0")
      const chunks = yield* Stream.runCollect(p.stream(Op.chat, d, hi))
      assert.strictEqual(textOf(chunks), REFERENCE_TEXT)
      assert.strictEqual(chunks[0]!.choices[0]!.delta.role, "assistant")
      assert.strictEqual(chunks.at(-2)!.choices[0]!.finish_reason, "stop")
      assert.strictEqual((chunks.at(-1)!.usage as any).completion_tokens, REFERENCE_TEXT.split(" ").length)
      assert.strictEqual((yield* onlyRequest("br-stream")).headers.accept, "application/vnd.amazon.eventstream")
    }))

  it.effect("Converse tools: tool specs go out, a forced call comes back as tool_calls (plain and streamed)", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("bedrock")
      const d = yield* bedrock("br-tools", "amazon.nova-pro-v1:0")
      const request = { ...hi, tools: [weatherTool], tool_choice: "required" }
      const reply = yield* p.call(Op.chat, d, request)
      assert.strictEqual(reply.choices[0]!.finish_reason, "tool_calls")
      assert.deepStrictEqual((reply.choices[0]!.message.tool_calls as any)[0].function, { name: "get_weather", arguments: "{\"city\":\"Paris\"}" })
      const chunks = yield* Stream.runCollect(p.stream(Op.chat, d, request))
      const args = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).map((t) => t.function?.arguments ?? "").join("")
      assert.strictEqual(args, "{\"city\": \"Paris\"}")
      const sent = (yield* MockUpstream).requests("br-tools")[0]!.body as any
      assert.deepStrictEqual(sent.toolConfig, {
        tools: [{ toolSpec: { name: "get_weather", inputSchema: { json: weatherTool.function.parameters } } }],
        toolChoice: { any: {} }
      })
    }))

  it.effect("tool results go back as toolResult blocks in a user turn", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("bedrock")
      const d = yield* bedrock("br-result", "amazon.nova-pro-v1:0")
      yield* p.call(Op.chat, d, {
        model: "g",
        messages: [
          { role: "user", content: "weather?" },
          { role: "assistant", content: null, tool_calls: [{ id: "t1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } }] },
          { role: "tool", tool_call_id: "t1", content: "sunny" }
        ]
      })
      const sent = (yield* onlyRequest("br-result")).body as any
      assert.deepStrictEqual(sent.messages, [
        { role: "user", content: [{ text: "weather?" }] },
        { role: "assistant", content: [{ toolUse: { toolUseId: "t1", name: "get_weather", input: { city: "Paris" } } }] },
        { role: "user", content: [{ toolResult: { toolUseId: "t1", content: [{ text: "sunny" }] } }] }
      ])
    }))

  it.effect("Invoke for anthropic.*: the Anthropic body with anthropic_version, no model in it", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("bedrock")
      const d = yield* bedrock("br-invoke", claude)
      const reply = yield* p.call(Op.chat, d, hi)
      assert.strictEqual(reply.choices[0]!.message.content, REFERENCE_TEXT)
      const seen = yield* onlyRequest("br-invoke")
      assert.strictEqual(seen.path, `/d/br-invoke/model/${encodeURIComponent(claude)}/invoke`)
      assert.deepStrictEqual(seen.body, {
        anthropic_version: "bedrock-2023-05-31",
        max_tokens: 4096,
        system: "Be brief.",
        messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }]
      })
    }))

  it.effect("InvokeWithResponseStream: each chunk frame carries one Anthropic event", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("bedrock")
      const d = yield* bedrock("br-invoke-stream", `us.${claude}`)
      const chunks = yield* Stream.runCollect(p.stream(Op.chat, d, hi))
      assert.strictEqual(textOf(chunks), REFERENCE_TEXT)
      assert.strictEqual((yield* onlyRequest("br-invoke-stream")).path.endsWith("/invoke-with-response-stream"), true)
    }))

  it.effect("bedrock/invoke/ with a model that is not Anthropic's is a BadRequest, sent nowhere", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("bedrock")
      const d = yield* bedrock("br-invoke-llama", "invoke/meta.llama3-70b-instruct-v1:0")
      assert.strictEqual((yield* Effect.flip(p.call(Op.chat, d, hi)))._tag, "BadRequest")
      assert.strictEqual((yield* collectUntilFailure(p.stream(Op.chat, d, hi))).error?._tag, "BadRequest")
      assert.lengthOf((yield* MockUpstream).requests("br-invoke-llama"), 0)
    }))

  it.effect("a wrong secret is rejected by the signature check: Authentication, 403, no secret in the message", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("bedrock")
      const wrong = "wrongSecretKey/0123456789abcdefghijklmnop"
      const d = yield* bedrock("br-wrong", "amazon.nova-pro-v1:0", { aws: aws(wrong) })
      const error = yield* Effect.flip(p.call(Op.chat, d, hi))
      assert.strictEqual(error._tag, "Authentication")
      assert.strictEqual(error.status, 403)
      assert.match(error.message, /signature we calculated does not match/)
      assert.notInclude(error.message, wrong)
    }))

  it.effect("a Bedrock API key is sent as Bearer; a wrong one is rejected", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("bedrock")
      const good = yield* bedrock("br-key", "amazon.nova-pro-v1:0", { aws: undefined, apiKey: Redacted.make(MOCK_BEDROCK_API_KEY) })
      const reply = yield* p.call(Op.chat, good, hi)
      assert.strictEqual(reply.choices[0]!.message.content, REFERENCE_TEXT)
      const bad = yield* bedrock("br-badkey", "amazon.nova-pro-v1:0", { aws: undefined, apiKey: Redacted.make("ABSKnot-the-key-0000") })
      const error = yield* Effect.flip(p.call(Op.chat, bad, hi))
      assert.strictEqual(error._tag, "Authentication")
    }))

  it.effect("AWS errors map by x-amzn-errortype: throttling is RateLimited, a validation error BadRequest", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("bedrock")
      const mock = yield* MockUpstream
      const d = yield* bedrock("br-errors", "amazon.nova-pro-v1:0")
      mock.script("br-errors", [Behave.status(429), Behave.status(400, { type: "ServiceQuotaExceededException", message: "quota" })])
      assert.strictEqual((yield* Effect.flip(p.call(Op.chat, d, hi)))._tag, "RateLimited")
      assert.strictEqual((yield* Effect.flip(p.call(Op.chat, d, hi)))._tag, "RateLimited")
      const invalid = yield* Effect.flip(p.call(Op.chat, d, { model: "g", messages: [{ role: "assistant", content: "x" }] }))
      assert.strictEqual(invalid._tag, "BadRequest")
      assert.match(invalid.message, /must start with a user message/)
    }))

  it.effect("an exception frame before content is the typed error of its class; after content it is MidStream", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("bedrock")
      const mock = yield* MockUpstream
      const d = yield* bedrock("br-exc", "amazon.nova-pro-v1:0")
      mock.script("br-exc", [
        Behave.sseErrorAfter(0, { type: "throttlingException", message: "Too many tokens" }),
        Behave.sseErrorAfter(4, { type: "modelStreamErrorException" })
      ])
      const before = yield* collectUntilFailure(p.stream(Op.chat, d, hi))
      assert.strictEqual(before.chunks.length, 0)
      assert.strictEqual(before.error?._tag, "RateLimited")
      const after = yield* collectUntilFailure(p.stream(Op.chat, d, hi))
      assert.strictEqual(after.error?._tag, "MidStream")
      assert.strictEqual((after.error as any).received, referencePrefix(4))
      assert.strictEqual(textOf(after.chunks), referencePrefix(4))
    }))

  it.effect("a prefill is sent trimmed and its whitespace is not repeated (Converse and Invoke, plain and streamed)", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("bedrock")
      const partial = referencePrefix(5)
      const request: Wire.ChatRequest = { model: "g", messages: [{ role: "user", content: "hi" }, { role: "assistant", content: partial }] }
      for (const [id, model] of [["br-pre-c", "anthropic.claude-3-haiku-20240307-v1:0"], ["br-pre-i", claude]] as const) {
        const d = yield* bedrock(id, id === "br-pre-c" ? `converse/${model}` : model)
        const reply = yield* p.call(Op.chat, d, request)
        assert.strictEqual(partial + reply.choices[0]!.message.content, REFERENCE_TEXT)
        const chunks = yield* Stream.runCollect(p.stream(Op.chat, d, request))
        assert.strictEqual(partial + textOf(chunks), REFERENCE_TEXT)
      }
    }))

  it.effect("streams release their connection: sequential streams reuse one", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("bedrock")
      const mock = yield* MockUpstream
      for (const [id, model] of [["br-reuse-i", claude], ["br-reuse-c", "amazon.nova-pro-v1:0"]] as const) {
        const d = yield* bedrock(id, model)
        const before = mock.connections()
        for (let i = 0; i < 4; i++) assert.strictEqual(textOf(yield* Stream.runCollect(p.stream(Op.chat, d, hi))), REFERENCE_TEXT)
        assert.isAtMost(mock.connections() - before, 1, id)
      }
    }))

  it.effect("a stream cut before its end is a failure, not a short reply", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("bedrock")
      const mock = yield* MockUpstream
      const d = yield* bedrock("br-cut", claude)
      mock.script("br-cut", [Behave.cutAfter(3)])
      const result = yield* collectUntilFailure(p.stream(Op.chat, d, hi))
      assert.strictEqual(result.error?._tag, "MidStream")
    }))

  it.effect("embeddings: Titan one text per call, Cohere on Bedrock in one call; base64 when asked", () =>
    Effect.gen(function*() {
      const p = yield* providerFor("bedrock")
      const titan = yield* bedrock("br-titan", "amazon.titan-embed-text-v2:0")
      const reply = yield* p.call(plain(Op.embedding), titan, { model: "e", input: ["one two", "three"] })
      assert.strictEqual(reply.data.length, 2)
      assert.strictEqual((reply.data[0]!.embedding as Array<number>).length, 8)
      assert.deepStrictEqual(reply.usage, { prompt_tokens: 3, total_tokens: 3 })
      const bodies = (yield* MockUpstream).requests("br-titan").map((r) => r.body)
      assert.sameDeepMembers(bodies as Array<unknown>, [{ inputText: "one two" }, { inputText: "three" }])
      const cohere = yield* bedrock("br-cohere", "cohere.embed-english-v3")
      const b64 = yield* p.call(plain(Op.embedding), cohere, { model: "e", input: "hello", encoding_format: "base64" })
      assert.isString(b64.data[0]!.embedding)
      assert.deepStrictEqual((yield* onlyRequest("br-cohere")).body, { texts: ["hello"], input_type: "search_document" })
    }))
})
