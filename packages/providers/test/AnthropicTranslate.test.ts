import { assert, describe, it } from "@effect/vitest"
import {
  type AnthropicEvent,
  finishReason,
  fromAnthropicMessage,
  initialStreamState,
  prefillWhitespace,
  stripRepeated,
  toAnthropicRequest,
  translateEvent
} from "../src/index.ts"

const weather = {
  type: "function",
  function: { name: "get_weather", description: "Weather by city", parameters: { type: "object", properties: { city: { type: "string" } } } }
}

describe("OpenAI chat → Anthropic messages", () => {
  it("moves system and developer messages to `system` and keeps the turns", () => {
    const out = toAnthropicRequest({
      model: "group",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "developer", content: [{ type: "text", text: "Use metric units." }] },
        { role: "user", content: "hi" },
        { role: "assistant", content: "hello" },
        { role: "user", content: "weather?" }
      ]
    }, "claude-sonnet-4-5", false)
    assert.deepStrictEqual(out, {
      model: "claude-sonnet-4-5",
      max_tokens: 4096,
      system: "Be brief.\n\nUse metric units.",
      messages: [
        { role: "user", content: [{ type: "text", text: "hi" }] },
        { role: "assistant", content: [{ type: "text", text: "hello" }] },
        { role: "user", content: [{ type: "text", text: "weather?" }] }
      ]
    })
  })

  it("translates tools, tool choice, tool calls and tool results (merged into one user turn)", () => {
    const out = toAnthropicRequest({
      model: "group",
      messages: [
        { role: "user", content: "Weather in Paris and Oslo?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } },
            { id: "call_2", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Oslo\"}" } }
          ]
        },
        { role: "tool", tool_call_id: "call_1", content: "18C" },
        { role: "tool", tool_call_id: "call_2", content: "9C" }
      ],
      tools: [weather],
      tool_choice: "required"
    }, "claude", true)
    assert.deepStrictEqual(out.tools, [{
      name: "get_weather",
      description: "Weather by city",
      input_schema: { type: "object", properties: { city: { type: "string" } } }
    }])
    assert.deepStrictEqual(out.tool_choice, { type: "any" })
    assert.strictEqual(out.stream, true)
    assert.deepStrictEqual(out.messages, [
      { role: "user", content: [{ type: "text", text: "Weather in Paris and Oslo?" }] },
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
          { type: "tool_use", id: "call_2", name: "get_weather", input: { city: "Oslo" } }
        ]
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_1", content: "18C" },
          { type: "tool_result", tool_use_id: "call_2", content: "9C" }
        ]
      }
    ])
  })

  it("maps sampling options, stop and a named tool choice", () => {
    const out = toAnthropicRequest({
      model: "g",
      messages: [{ role: "user", content: "x" }],
      max_completion_tokens: 100,
      stop: "END",
      temperature: 0.3,
      top_p: 0.9,
      tools: [weather],
      tool_choice: { type: "function", function: { name: "get_weather" } }
    }, "claude", false)
    assert.strictEqual(out.max_tokens, 100)
    assert.deepStrictEqual(out.stop_sequences, ["END"])
    assert.strictEqual(out.temperature, 0.3)
    assert.strictEqual(out.top_p, 0.9)
    assert.deepStrictEqual(out.tool_choice, { type: "tool", name: "get_weather" })
  })

  it("sends a trailing assistant message as prefill, without the trailing whitespace Anthropic rejects", () => {
    const out = toAnthropicRequest({
      model: "g",
      messages: [{ role: "user", content: "Tell me" }, { role: "assistant", content: "The quick brown " }]
    }, "claude", true)
    assert.deepStrictEqual((out.messages as Array<unknown>).at(-1), {
      role: "assistant",
      content: [{ type: "text", text: "The quick brown" }]
    })
  })

  it("translates image parts, inline and by URL", () => {
    const out = toAnthropicRequest({
      model: "g",
      messages: [{
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
          { type: "image_url", image_url: { url: "https://example.invalid/cat.png" } }
        ]
      }]
    }, "claude", false)
    assert.deepStrictEqual((out.messages as Array<{ content: unknown }>)[0]!.content, [
      { type: "text", text: "What is this?" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } },
      { type: "image", source: { type: "url", url: "https://example.invalid/cat.png" } }
    ])
  })
})

describe("prefill whitespace", () => {
  it("is what the trailing assistant message ends with", () => {
    const request = { model: "g", messages: [{ role: "user" as const, content: "x" }, { role: "assistant" as const, content: "The fox \n" }] }
    assert.strictEqual(prefillWhitespace(request), " \n")
    assert.strictEqual(prefillWhitespace({ model: "g", messages: [{ role: "user", content: "x " }] }), "")
  })

  it.each([
    [" jumps", " ", "jumps", ""],
    ["jumps", " ", "jumps", ""],
    [" ", "  ", "", " "],
    ["\nNext", " \n", "\nNext", ""]
  ] as const)("stripRepeated(%j, %j) → %j, pending %j", (text, pending, out, left) => {
    assert.deepStrictEqual(stripRepeated(text, pending), { text: out, pending: left })
  })

  it("is stripped from the first text deltas of a stream, and only there", () => {
    let state = initialStreamState(0, "  ")
    const texts: Array<string> = []
    for (const text of [" ", " fox", " jumps"]) {
      const [next, out] = translateEvent(state, { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } })
      state = next
      texts.push(...out.map((c: any) => c.choices[0].delta.content))
    }
    assert.deepStrictEqual(texts, ["", "fox", " jumps"])
  })
})

describe("Anthropic message → OpenAI chat completion", () => {
  it("translates text, tool use, stop reason and usage (cached prompt tokens included)", () => {
    const out = fromAnthropicMessage({
      id: "msg_1",
      model: "claude",
      content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }],
      stop_reason: "tool_use",
      usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 100 }
    }, 1234)
    assert.deepStrictEqual(out, {
      id: "msg_1",
      object: "chat.completion",
      created: 1234,
      model: "claude",
      choices: [{
        index: 0,
        message: {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "toolu_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } }]
        },
        finish_reason: "tool_calls"
      }],
      usage: { prompt_tokens: 110, completion_tokens: 5, total_tokens: 115 }
    })
  })

  it.each([
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["max_tokens", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"]
  ] as const)("stop_reason %s → finish_reason %s", (stop, finish) => {
    assert.strictEqual(finishReason(stop), finish)
  })
})

describe("Anthropic stream events → OpenAI chat chunks", () => {
  it("translates a tool-using stream", () => {
    const events: ReadonlyArray<AnthropicEvent> = [
      { type: "message_start", message: { id: "msg_1", model: "claude", content: [], usage: { input_tokens: 12, output_tokens: 1 } } },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Checking. " } },
      { type: "content_block_stop", index: 0 },
      { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "toolu_1", name: "get_weather", input: {} } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "{\"city\":" } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "\"Paris\"}" } },
      { type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 20 } },
      { type: "message_stop" }
    ]
    let state = initialStreamState(99)
    const chunks: Array<Record<string, any>> = []
    for (const event of events) {
      const [next, out] = translateEvent(state, event)
      state = next
      chunks.push(...out)
    }
    const deltas = chunks.flatMap((c) => c.choices.map((choice: any) => choice.delta))
    assert.strictEqual(deltas[0].role, "assistant")
    assert.strictEqual(deltas.map((d: any) => d.content ?? "").join(""), "Checking. ")
    const calls = deltas.flatMap((d: any) => d.tool_calls ?? [])
    assert.deepStrictEqual(calls[0], { index: 0, id: "toolu_1", type: "function", function: { name: "get_weather", arguments: "" } })
    assert.strictEqual(calls.map((c: any) => c.function.arguments).join(""), "{\"city\":\"Paris\"}")
    assert.strictEqual(chunks.at(-2)!.choices[0].finish_reason, "tool_calls")
    assert.deepStrictEqual(chunks.at(-1), {
      id: "msg_1",
      object: "chat.completion.chunk",
      created: 99,
      model: "claude",
      choices: [],
      usage: { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 }
    })
  })
})
