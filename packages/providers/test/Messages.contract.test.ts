/**
 * The Messages operation at the provider level: passed through natively to Anthropic and to Claude on
 * Vertex AI (the client's body with the deployment's model; a trailing prefill's whitespace cut and its
 * repeat stripped; prompt tokens carried to `message_delta`), and translated over chat elsewhere.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { operations as Op, type Wire } from "@switchyard/core"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { MOCK_AWS_CREDENTIALS, MockUpstream } from "@switchyard/testkit/mock"
import { Effect, Redacted, Stream } from "effect"
import { chatToMessages, messagesEvents, messagesToChat } from "../src/MessagesOverChat.ts"
import { makeDeployment, mockDeployment, onlyRequest, providerFor, TestLayer } from "./fixtures.ts"

type Event = Record<string, any>
const ask = (messages: Wire.MessagesRequest["messages"] = [{ role: "user", content: "Tell me about the fox" }]): Wire.MessagesRequest => ({
  model: "group",
  max_tokens: 256,
  messages
})
const textOf = (events: ReadonlyArray<Event>) =>
  events.map((e) => (e.type === "content_block_delta" && e.delta.type === "text_delta" ? e.delta.text : "")).join("")

layer(TestLayer, { excludeTestServices: true })("messages on Anthropic-shaped upstreams", (it) => {
  it.effect("anthropic: the client's body with the deployment's model; the reply as it came", () =>
    Effect.gen(function*() {
      const anthropic = yield* providerFor("anthropic")
      const d = yield* mockDeployment("msg-an", "anthropic", { model: "claude-3-5-sonnet-20241022" })
      const request = { ...ask(), system: "Be brief.", metadata: { user_id: "u1" } }
      const reply = yield* anthropic.call(Op.messages, d, request)
      assert.deepStrictEqual(reply.content, [{ type: "text", text: REFERENCE_TEXT }])
      const seen = yield* onlyRequest("msg-an")
      assert.deepStrictEqual(seen.body, { ...request, model: "claude-3-5-sonnet-20241022", stream: false })
    }))

  it.effect("anthropic stream: a prefill's trailing space is cut and not repeated; message_delta carries the prompt tokens", () =>
    Effect.gen(function*() {
      const anthropic = yield* providerFor("anthropic")
      const d = yield* mockDeployment("msg-an-prefill", "anthropic", { model: "claude-3-5-sonnet-20241022" })
      const partial = "The quick brown "
      const events = yield* Stream.runCollect(anthropic.stream(Op.messages, d, ask([
        { role: "user", content: "Tell me about the fox" },
        { role: "assistant", content: partial }
      ])))
      assert.strictEqual(partial + textOf(events), REFERENCE_TEXT)
      const seen = yield* onlyRequest("msg-an-prefill")
      assert.strictEqual((seen.body as any).messages[1].content, "The quick brown")
      const start = events.find((e) => e.type === "message_start") as Event
      const delta = events.find((e) => e.type === "message_delta") as Event
      assert.strictEqual(delta.usage.input_tokens, start.message.usage.input_tokens)
      assert.isAbove(delta.usage.output_tokens, 0)
    }))

  it.effect("vertex_ai Claude: :streamRawPredict with the Messages body, vertex anthropic_version and no model", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const vertex = yield* providerFor("vertex_ai")
      const model = "claude-sonnet-4-5"
      const d = makeDeployment({
        id: "msg-vx",
        provider: "vertex_ai",
        model,
        apiKey: undefined,
        apiBase: mock.vertexBase("msg-vx", model),
        vertexCredentials: Redacted.make(JSON.stringify(mock.google.serviceAccount()))
      })
      const events = yield* Stream.runCollect(vertex.stream(Op.messages, d, ask()))
      assert.strictEqual(textOf(events), REFERENCE_TEXT)
      const seen = yield* onlyRequest("msg-vx")
      assert.match(seen.path, /:streamRawPredict$/)
      assert.deepStrictEqual(seen.body, { anthropic_version: "vertex-2023-10-16", max_tokens: 256, messages: ask().messages, stream: true })
    }))

  it.effect("bedrock: Anthropic models natively through Invoke (plain and streamed), others over Converse", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const bedrock = yield* providerFor("bedrock")
      const d = (id: string, model: string) =>
        makeDeployment({
          id,
          provider: "bedrock",
          model,
          apiKey: undefined,
          apiBase: mock.apiBase(id, "bedrock"),
          aws: {
            accessKeyId: MOCK_AWS_CREDENTIALS.accessKeyId,
            secretAccessKey: Redacted.make(MOCK_AWS_CREDENTIALS.secretAccessKey),
            sessionToken: undefined,
            regionName: MOCK_AWS_CREDENTIALS.region,
            runtimeEndpoint: undefined
          }
        })
      const claude = "anthropic.claude-3-5-sonnet-20240620-v1:0"
      const reply = yield* bedrock.call(Op.messages, d("msg-br", claude), ask())
      assert.deepStrictEqual(reply.content, [{ type: "text", text: REFERENCE_TEXT }])
      assert.deepStrictEqual((yield* onlyRequest("msg-br")).body, { anthropic_version: "bedrock-2023-05-31", max_tokens: 256, messages: ask().messages })
      const events = yield* Stream.runCollect(bedrock.stream(Op.messages, d("msg-br-stream", claude), ask()))
      assert.strictEqual(textOf(events), REFERENCE_TEXT)
      assert.strictEqual((events.at(-1) as Event).type, "message_stop")
      assert.match((yield* onlyRequest("msg-br-stream")).path, /invoke-with-response-stream$/)
      const llama = yield* Stream.runCollect(bedrock.stream(Op.messages, d("msg-br-llama", "meta.llama3-70b-instruct-v1:0"), ask()))
      assert.strictEqual(textOf(llama), REFERENCE_TEXT)
      assert.match((yield* onlyRequest("msg-br-llama")).path, /converse-stream$/)
    }))

  it.effect("openai: the Messages API over chat, plain and streamed, with the grammar's events", () =>
    Effect.gen(function*() {
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("msg-oa", "openai")
      const reply = yield* openai.call(Op.messages, d, ask())
      assert.deepStrictEqual(reply.content, [{ type: "text", text: REFERENCE_TEXT }])
      assert.strictEqual(reply.stop_reason, "end_turn")
      const events = yield* Stream.runCollect(openai.stream(Op.messages, d, { ...ask(), stream: true }))
      assert.deepStrictEqual(
        [...new Set(events.map((e) => e.type))],
        ["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]
      )
      assert.strictEqual(textOf(events), REFERENCE_TEXT)
      assert.isAbove((events.at(-2) as Event).usage.input_tokens, 0)
    }))
})

describe("the Messages API over chat, as pure translations", () => {
  it("a chat stream with text then two tool calls: one text block, two whole tool_use blocks, stop_reason tool_use", async () => {
    const chunk = (delta: object, finish: string | null = null, usage?: object): Wire.ChatChunk =>
      ({ id: "c1", model: "m", choices: [{ index: 0, delta, finish_reason: finish }], ...(usage ? { usage } : {}) }) as never
    const chunks = [
      chunk({ role: "assistant", content: "" }),
      chunk({ content: "Checking." }),
      chunk({ tool_calls: [{ index: 0, id: "call_a", function: { name: "weather", arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: "{\"city\":\"Paris\"}" } }] }),
      chunk({ tool_calls: [{ index: 1, id: "call_b", function: { name: "time", arguments: "{}" } }] }),
      chunk({}, "tool_calls"),
      { id: "c1", choices: [], usage: { prompt_tokens: 7, completion_tokens: 9 } } as never
    ]
    const events = [...await Effect.runPromise(Stream.runCollect(messagesEvents(Stream.fromIterable(chunks))))] as Array<Event>
    assert.deepStrictEqual(events.map((e) => [e.type, e.index]), [
      ["message_start", undefined],
      ["content_block_start", 0],
      ["content_block_delta", 0],
      ["content_block_stop", 0],
      ["content_block_start", 1],
      ["content_block_delta", 1],
      ["content_block_stop", 1],
      ["content_block_start", 2],
      ["content_block_delta", 2],
      ["content_block_stop", 2],
      ["message_delta", undefined],
      ["message_stop", undefined]
    ])
    assert.deepStrictEqual(events[4]!.content_block, { type: "tool_use", id: "call_a", name: "weather", input: {} })
    assert.deepStrictEqual(events[10], { type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { input_tokens: 7, output_tokens: 9 } })
  })

  it("a chat stream that never finished gets no closing events", async () => {
    const events = await Effect.runPromise(Stream.runCollect(messagesEvents(Stream.fromIterable([
      { id: "c", choices: [{ index: 0, delta: { content: "Hal" } }] } as never
    ]))))
    assert.deepStrictEqual(events.map((e) => e.type), ["message_start", "content_block_start", "content_block_delta"])
  })

  it("requests and replies: system, stop sequences, tool choice; finish reasons as stop reasons", () => {
    const chat = messagesToChat({ ...ask(), system: [{ type: "text", text: "Be brief." }], stop_sequences: ["END"], tool_choice: { type: "auto" }, tools: [{ name: "t", input_schema: {} }] })
    assert.deepStrictEqual(chat.messages[0], { role: "system", content: "Be brief." })
    assert.deepStrictEqual([chat.stop, chat.tool_choice], [["END"], "auto"])
    const reply = (finish: string, message: object) => chatToMessages({ id: "r", choices: [{ index: 0, message: { role: "assistant", ...message }, finish_reason: finish }], usage: { prompt_tokens: 1, completion_tokens: 2 } })
    assert.strictEqual(reply("length", { content: "a" }).stop_reason, "max_tokens")
    const tool = reply("tool_calls", { content: null, tool_calls: [{ id: "x", function: { name: "t", arguments: "{\"a\":1}" } }] })
    assert.deepStrictEqual(tool.content, [{ type: "tool_use", id: "x", name: "t", input: { a: 1 } }])
    assert.deepStrictEqual([tool.stop_reason, tool.usage], ["tool_use", { input_tokens: 1, output_tokens: 2 }])
  })
})
