import { assert, layer } from "@effect/vitest"
import { acceptsPrefill, operations as Op, usageFromWire, type Wire } from "@switchyard/core"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { MockUpstream } from "@switchyard/testkit/mock"
import { Effect, Stream } from "effect"
import { makeDeployment, mockDeployment, plain, providerFor, TEST_KEY, TestLayer } from "./fixtures.ts"

const onlyRequest = (deployment: string) =>
  Effect.map(MockUpstream, (mock) => {
    const requests = mock.requests(deployment)
    assert.strictEqual(requests.length, 1)
    return requests[0]!
  })

const weatherTool = {
  type: "function",
  function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }
}

const textOf = (chunks: ReadonlyArray<Wire.ChatChunk>) => chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")

layer(TestLayer, { excludeTestServices: true })("anthropic provider contract", (it) => {
  it.effect("declares chat, responses and messages, with prefill before the 4.6 generation only", () =>
    Effect.gen(function*() {
      const anthropic = yield* providerFor("anthropic")
      assert.deepStrictEqual([...anthropic.operations], ["chat", "responses", "messages"])
      const on = (model: string) => acceptsPrefill(anthropic, makeDeployment({ id: model, provider: "anthropic", model }))
      assert.isTrue(on("claude-sonnet-4-5"))
      assert.isFalse(on("claude-sonnet-4-6"))
    }))

  it.effect("chat: POST /v1/messages with x-api-key and anthropic-version; the reply is an OpenAI completion", () =>
    Effect.gen(function*() {
      const anthropic = yield* providerFor("anthropic")
      const d = yield* mockDeployment("an-chat", "anthropic", { model: "claude-sonnet-4-5" })
      const reply = yield* anthropic.call(Op.chat, d, {
        model: "group",
        messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }]
      })
      assert.strictEqual(reply.object, "chat.completion")
      assert.strictEqual(reply.choices[0]!.message.content, REFERENCE_TEXT)
      assert.strictEqual(reply.choices[0]!.finish_reason, "stop")
      assert.deepStrictEqual(Op.chat.usage(reply), { promptTokens: 3, completionTokens: REFERENCE_TEXT.split(" ").length, totalTokens: 3 + REFERENCE_TEXT.split(" ").length } as never)
      const seen = yield* onlyRequest("an-chat")
      assert.strictEqual(seen.path, "/d/an-chat/v1/messages")
      assert.strictEqual(seen.headers["x-api-key"], TEST_KEY)
      assert.strictEqual(seen.headers["anthropic-version"], "2023-06-01")
      assert.isUndefined(seen.headers.authorization)
      assert.deepStrictEqual(seen.body, {
        model: "claude-sonnet-4-5",
        max_tokens: 4096,
        system: "Be brief.",
        messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }]
      })
    }))

  it.effect("a forced tool call comes back as OpenAI tool_calls", () =>
    Effect.gen(function*() {
      const anthropic = yield* providerFor("anthropic")
      const d = yield* mockDeployment("an-tool", "anthropic")
      const reply = yield* anthropic.call(Op.chat, d, {
        model: "g",
        messages: [{ role: "user", content: "Weather in Paris?" }],
        tools: [weatherTool],
        tool_choice: "required"
      })
      const message = reply.choices[0]!.message
      assert.isNull(message.content)
      assert.deepStrictEqual(message.tool_calls, [{
        id: "toolu_mock_1",
        type: "function",
        function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" }
      }])
      assert.strictEqual(reply.choices[0]!.finish_reason, "tool_calls")
    }))

  it.effect("stream: Anthropic events become chat chunks with the whole text, a finish reason and usage", () =>
    Effect.gen(function*() {
      const anthropic = yield* providerFor("anthropic")
      const d = yield* mockDeployment("an-stream", "anthropic")
      const chunks = yield* Stream.runCollect(anthropic.stream(Op.chat, d, { model: "g", messages: [{ role: "user", content: "hi" }] }))
      assert.strictEqual(textOf(chunks), REFERENCE_TEXT)
      assert.ok(chunks.every((c) => c.object === "chat.completion.chunk" && c.id === "msg_mock"))
      assert.strictEqual(chunks[0]!.choices[0]!.delta.role, "assistant")
      assert.strictEqual(chunks.at(-2)!.choices[0]!.finish_reason, "stop")
      assert.strictEqual(usageFromWire(chunks.at(-1)!.usage)?.completionTokens, REFERENCE_TEXT.split(" ").length)
      assert.strictEqual((yield* onlyRequest("an-stream")).headers.accept, "text/event-stream")
    }))

  it.effect("stream: a tool call streams as tool_calls deltas that assemble to the arguments", () =>
    Effect.gen(function*() {
      const anthropic = yield* providerFor("anthropic")
      const d = yield* mockDeployment("an-stream-tool", "anthropic")
      const chunks = yield* Stream.runCollect(anthropic.stream(Op.chat, d, {
        model: "g",
        messages: [{ role: "user", content: "Weather?" }],
        tools: [weatherTool],
        tool_choice: { type: "function", function: { name: "get_weather" } }
      }))
      const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
      assert.strictEqual(calls[0]!.function?.name, "get_weather")
      assert.strictEqual(calls.map((c) => c.function?.arguments ?? "").join(""), "{\"city\": \"Paris\"}")
      assert.strictEqual(chunks.at(-2)!.choices[0]!.finish_reason, "tool_calls")
    }))

  it.effect("prefill: a trailing assistant message is continued; the partial plus the reply is the whole text", () =>
    Effect.gen(function*() {
      const anthropic = yield* providerFor("anthropic")
      const d = yield* mockDeployment("an-prefill", "anthropic")
      const partial = "The quick brown fox "
      const chunks = yield* Stream.runCollect(anthropic.stream(Op.chat, d, {
        model: "g",
        messages: [{ role: "user", content: "Tell me a story" }, { role: "assistant", content: partial }]
      }))
      // Anthropic rejects a prefill ending in whitespace: the provider cuts the space and removes the one the model repeats.
      assert.strictEqual(partial + textOf(chunks), REFERENCE_TEXT)
      const sent = (yield* MockUpstream).requests("an-prefill")[0]!.body as { messages: Array<{ content: Array<{ text: string }> }> }
      assert.strictEqual(sent.messages.at(-1)!.content[0]!.text, "The quick brown fox")
    }))

  it.effect("prefill in a plain call: the reply continues the partial without a doubled space", () =>
    Effect.gen(function*() {
      const anthropic = yield* providerFor("anthropic")
      const d = yield* mockDeployment("an-prefill-call", "anthropic")
      const partial = "The quick brown fox jumps "
      const reply = yield* anthropic.call(Op.chat, d, {
        model: "g",
        messages: [{ role: "user", content: "Tell me a story" }, { role: "assistant", content: partial }]
      })
      assert.strictEqual(partial + reply.choices[0]!.message.content, REFERENCE_TEXT)
    }))

  it.effect("operations other than chat are unsupported", () =>
    Effect.gen(function*() {
      const anthropic = yield* providerFor("anthropic")
      const d = yield* mockDeployment("an-embed", "anthropic")
      const error = yield* Effect.flip(anthropic.call(plain(Op.embedding), d, { model: "g", input: "x" }))
      assert.strictEqual(error._tag, "UnsupportedOperation")
    }))

  it.effect("an Anthropic error body is classified (529 overloaded_error → Overloaded)", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      mock.script("an-529", [{ kind: "error", status: 529 }])
      const anthropic = yield* providerFor("anthropic")
      const d = yield* mockDeployment("an-529", "anthropic")
      const error = yield* Effect.flip(anthropic.call(Op.chat, d, { model: "g", messages: [{ role: "user", content: "x" }] }))
      assert.strictEqual(error._tag, "Overloaded")
      assert.strictEqual(error.status, 529)
      assert.strictEqual(error.message, "Overloaded")
    }))
})
