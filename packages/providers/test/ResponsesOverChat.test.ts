import { assert, describe, it, layer } from "@effect/vitest"
import { operations as Op, responsesStream, type Wire } from "@switchyard/core"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { MockUpstream, referencePrefix } from "@switchyard/testkit/mock"
import { Effect, Stream } from "effect"
import { toAnthropicRequest } from "../src/AnthropicTranslate.ts"
import { chatToResponse, responsesEvents, responsesToChat } from "../src/ResponsesOverChat.ts"
import { mockDeployment, providerFor, TestLayer } from "./fixtures.ts"

describe("Responses request → chat request", () => {
  it("input items, instructions, function calls and their outputs, tools and options", () => {
    const chat = responsesToChat({
      model: "m",
      instructions: "Be brief.",
      input: [
        { role: "user", content: [{ type: "input_text", text: "Weather in Paris?" }, { type: "input_image", image_url: "https://x/cat.png" }] },
        { type: "function_call", call_id: "call_1", name: "get_weather", arguments: "{\"city\":\"Paris\"}" },
        { type: "function_call", call_id: "call_2", name: "get_time", arguments: "{}" },
        { type: "function_call_output", call_id: "call_1", output: "21C" },
        { type: "function_call_output", call_id: "call_2", output: { t: "noon" } },
        { type: "reasoning", id: "rs_1", summary: [] },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "It is 21C." }] },
        { role: "user", content: "Thanks" }
      ],
      tools: [
        { type: "function", name: "get_weather", description: "Weather", parameters: { type: "object" }, strict: true },
        { type: "web_search" }
      ],
      tool_choice: { type: "function", name: "get_weather" },
      max_output_tokens: 100,
      temperature: 0.5,
      text: { format: { type: "json_schema", name: "w", schema: { type: "object" }, strict: true } },
      stream: true
    })
    assert.deepStrictEqual(chat, {
      model: "m",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Weather in Paris?" }, { type: "image_url", image_url: { url: "https://x/cat.png" } }] },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } },
            { id: "call_2", type: "function", function: { name: "get_time", arguments: "{}" } }
          ]
        },
        { role: "tool", tool_call_id: "call_1", content: "21C" },
        { role: "tool", tool_call_id: "call_2", content: "{\"t\":\"noon\"}" },
        { role: "assistant", content: [{ type: "text", text: "It is 21C." }] },
        { role: "user", content: "Thanks" }
      ],
      max_tokens: 100,
      temperature: 0.5,
      tools: [{ type: "function", function: { name: "get_weather", description: "Weather", parameters: { type: "object" }, strict: true } }],
      tool_choice: { type: "function", function: { name: "get_weather" } },
      response_format: { type: "json_schema", json_schema: { name: "w", schema: { type: "object" }, strict: true } },
      stream: true
    } as never)
  })

  it("a continuation (the core's rule) becomes a trailing assistant turn, then the instruction when there is one", () => {
    const original: Wire.ResponsesRequest = { model: "m", input: "Tell me about the fox" }
    const partial = referencePrefix(5)
    const prefill = toAnthropicRequest(responsesToChat(responsesStream.continueWith(original, partial, { prefill: true, instruction: "go on" })), "claude", true)
    assert.deepStrictEqual((prefill.messages as Array<{ role: string }>).map((m) => m.role), ["user", "assistant"])
    const instructed = toAnthropicRequest(responsesToChat(responsesStream.continueWith(original, partial, { prefill: false, instruction: "go on" })), "claude", true)
    assert.deepStrictEqual(instructed.messages, [
      { role: "user", content: [{ type: "text", text: "Tell me about the fox" }] },
      { role: "assistant", content: [{ type: "text", text: partial }] },
      { role: "user", content: [{ type: "text", text: "go on" }] }
    ])
  })
})

describe("chat reply → Responses reply", () => {
  it("text and tool calls become output items; length is incomplete; usage is renamed", () => {
    const response = chatToResponse({
      id: "c1",
      model: "m",
      choices: [{ index: 0, message: { role: "assistant", content: "Hi", tool_calls: [{ id: "call_1", function: { name: "f", arguments: "{}" } }] }, finish_reason: "length" }],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 }
    }, 10) as Record<string, any>
    assert.strictEqual(response.status, "incomplete")
    assert.deepStrictEqual(response.incomplete_details, { reason: "max_output_tokens" })
    assert.deepStrictEqual(response.output.map((o: { type: string }) => o.type), ["message", "function_call"])
    assert.strictEqual(response.output[0].content[0].text, "Hi")
    assert.strictEqual(response.output[1].call_id, "call_1")
    assert.deepStrictEqual([response.usage.input_tokens, response.usage.output_tokens, response.usage.total_tokens], [3, 4, 7])
  })
})

describe("chat chunks → Responses events", () => {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): Wire.ChatChunk => ({ id: "c", model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })
  it.effect("opens once, streams text and a tool call, closes every item and completes with the full output", () =>
    Effect.gen(function*() {
      const events = yield* Stream.runCollect(responsesEvents<never>(7)(Stream.make(
        chunk({ role: "assistant", content: "" }),
        chunk({ content: "Hel" }),
        chunk({ content: "lo" }),
        chunk({ tool_calls: [{ index: 0, id: "call_9", function: { name: "f", arguments: "{\"a\":" } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: "1}" } }] }),
        chunk({}, "tool_calls"),
        { id: "c", choices: [], usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 } }
      )))
      assert.deepStrictEqual(events.map((e) => e.type), [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed"
      ])
      assert.deepStrictEqual(events.map((e) => e.sequence_number), events.map((_, i) => i))
      const completed = events[events.length - 1]!.response as Record<string, any>
      assert.strictEqual(completed.output[0].content[0].text, "Hello")
      assert.deepStrictEqual(completed.output[1], { id: "fc_c_0", type: "function_call", status: "completed", call_id: "call_9", name: "f", arguments: "{\"a\":1}" })
      assert.strictEqual(completed.usage.total_tokens, 5)
    }))

  it.effect("a stream that fails before its finish emits no closing events: the failure is what the router sees", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const error = yield* responsesEvents<string>(0)(Stream.concat(Stream.make(chunk({ content: "Hi" })), Stream.fail("cut"))).pipe(
        Stream.runForEach((e) => Effect.sync(() => void seen.push(String(e.type)))),
        Effect.flip
      )
      assert.strictEqual(error, "cut")
      assert.notInclude(seen, "response.completed")
      assert.notInclude(seen, "response.output_text.done")
    }))
})

layer(TestLayer, { excludeTestServices: true })("responses over the Anthropic provider", (it) => {
  it.effect("a plain call: Messages out, a Responses reply back", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const anthropic = yield* providerFor("anthropic")
      const d = yield* mockDeployment("an-resp", "anthropic", { model: "claude-sonnet-4-6" })
      const reply = yield* anthropic.call(Op.responses, d, { model: "g", input: "Tell me about the fox", instructions: "Be brief." })
      assert.strictEqual(reply.object, "response")
      assert.strictEqual((reply.output[0] as { content: Array<{ text: string }> }).content[0]!.text, REFERENCE_TEXT)
      assert.deepStrictEqual(mock.requests("an-resp")[0]!.body, {
        model: "claude-sonnet-4-6",
        max_tokens: 4096,
        system: "Be brief.",
        messages: [{ role: "user", content: [{ type: "text", text: "Tell me about the fox" }] }]
      })
    }))

  it.effect("a stream: Anthropic events as Responses events, ending with response.completed", () =>
    Effect.gen(function*() {
      const anthropic = yield* providerFor("anthropic")
      const d = yield* mockDeployment("an-resp-stream", "anthropic", { model: "claude-sonnet-4-6" })
      const events = yield* Stream.runCollect(anthropic.stream(Op.responses, d, { model: "g", input: "Tell me about the fox", stream: true }))
      assert.strictEqual(events.map(responsesStream.text).join(""), REFERENCE_TEXT)
      assert.strictEqual(events[events.length - 1]!.type, "response.completed")
      assert.deepStrictEqual(responsesStream.usage(events[events.length - 1]!), {
        promptTokens: 7,
        completionTokens: REFERENCE_TEXT.split(" ").length,
        totalTokens: 7 + REFERENCE_TEXT.split(" ").length
      } as never)
    }))
})
