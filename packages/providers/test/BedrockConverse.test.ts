/** OpenAI chat ↔ Bedrock Converse, as pure functions: images, options, usage with cache counts, stop reasons. */
import { assert, describe, it } from "@effect/vitest"
import type { Wire } from "@switchyard/core"
import { Result } from "effect"
import { converseFinishReason, converseUsage, fromConverseResponse, initialConverseState, toConverseRequest, translateConverseEvent } from "../src/index.ts"

const png = "iVBORw0KGgo="

describe("toConverseRequest", () => {
  it("images as bytes, options as inferenceConfig, top_k as an additional field", () => {
    const request: Wire.ChatRequest = {
      model: "g",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "what is this?" }, { type: "image_url", image_url: { url: `data:image/png;base64,${png}` } }] }
      ],
      max_completion_tokens: 50,
      top_p: 0.9,
      stop: "END",
      top_k: 5,
      tool_choice: "auto"
    }
    assert.deepStrictEqual(Result.getOrThrow(toConverseRequest(request)), {
      messages: [{ role: "user", content: [{ text: "what is this?" }, { image: { format: "png", source: { bytes: png } } }] }],
      system: [{ text: "Be brief." }],
      inferenceConfig: { maxTokens: 50, topP: 0.9, stopSequences: ["END"] },
      additionalModelRequestFields: { top_k: 5 }
    })
  })

  it("an image by URL is a BadRequest: Converse takes bytes", () => {
    const request: Wire.ChatRequest = {
      model: "g",
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/cat.png" } }] }]
    }
    const result = toConverseRequest(request)
    assert.isTrue(Result.isFailure(result))
    assert.strictEqual(Result.isFailure(result) && result.failure._tag, "BadRequest")
  })

  it("a named tool choice is a tool choice; consecutive tool results are one user turn", () => {
    const request: Wire.ChatRequest = {
      model: "g",
      messages: [
        { role: "user", content: "both" },
        { role: "assistant", content: "", tool_calls: [{ id: "a", function: { name: "f", arguments: "{}" } }, { id: "b", function: { name: "f", arguments: "not json" } }] },
        { role: "tool", tool_call_id: "a", content: "1" },
        { role: "tool", tool_call_id: "b", content: "2" }
      ],
      tools: [{ type: "function", function: { name: "f", description: "F" } }],
      tool_choice: { type: "function", function: { name: "f" } }
    }
    const body = Result.getOrThrow(toConverseRequest(request)) as any
    assert.deepStrictEqual(body.toolConfig.toolChoice, { tool: { name: "f" } })
    assert.deepStrictEqual(body.toolConfig.tools[0].toolSpec, { name: "f", description: "F", inputSchema: { json: { type: "object", properties: {} } } })
    assert.deepStrictEqual(body.messages[1].content[1], { toolUse: { toolUseId: "b", name: "f", input: { arguments: "not json" } } })
    assert.deepStrictEqual(body.messages.map((m: any) => [m.role, m.content.length]), [["user", 1], ["assistant", 2], ["user", 2]])
  })
})

describe("Converse replies", () => {
  it("usage counts cache reads and writes as prompt tokens and reports them apart", () => {
    assert.deepStrictEqual(converseUsage({ inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 100, cacheWriteInputTokens: 20 }), {
      prompt_tokens: 130,
      completion_tokens: 5,
      total_tokens: 135,
      prompt_tokens_details: { cached_tokens: 100 },
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 20
    })
  })

  it("stop reasons map to OpenAI finish reasons", () => {
    const cases = { end_turn: "stop", stop_sequence: "stop", max_tokens: "length", tool_use: "tool_calls", guardrail_intervened: "content_filter", content_filtered: "content_filter" }
    for (const [reason, finish] of Object.entries(cases)) assert.strictEqual(converseFinishReason(reason), finish, reason)
  })

  it("a reply with a tool call has null content and the call's arguments as JSON", () => {
    const reply = fromConverseResponse({
      output: { message: { role: "assistant", content: [{ toolUse: { toolUseId: "t", name: "f", input: { x: 1 } } }] } },
      stopReason: "tool_use",
      usage: { inputTokens: 1, outputTokens: 2 }
    }, "id", "m", 7) as any
    assert.isNull(reply.choices[0].message.content)
    assert.deepStrictEqual(reply.choices[0].message.tool_calls, [{ id: "t", type: "function", function: { name: "f", arguments: "{\"x\":1}" } }])
    assert.strictEqual(reply.choices[0].finish_reason, "tool_calls")
  })

  it("stream events: the role rides on the first delta, messageStart alone sends nothing, metadata is the usage chunk", () => {
    let state = initialConverseState("id", "m", 7)
    const out: Array<any> = []
    for (const event of [
      { eventType: "messageStart", payload: { role: "assistant" } },
      { eventType: "contentBlockDelta", payload: { contentBlockIndex: 0, delta: { text: "Hi" } } },
      { eventType: "contentBlockDelta", payload: { contentBlockIndex: 0, delta: { reasoningContent: { text: "hmm" } } } },
      { eventType: "contentBlockDelta", payload: { contentBlockIndex: 0, delta: { text: " there" } } },
      { eventType: "messageStop", payload: { stopReason: "max_tokens" } },
      { eventType: "metadata", payload: { usage: { inputTokens: 3, outputTokens: 2, cacheReadInputTokens: 4 } } }
    ]) {
      const [next, chunks] = translateConverseEvent(state, event)
      state = next
      out.push(...chunks)
    }
    assert.deepStrictEqual(out.map((c) => c.choices[0]?.delta), [{ role: "assistant", content: "Hi" }, { content: " there" }, {}, undefined])
    assert.strictEqual(out[2].choices[0].finish_reason, "length")
    assert.strictEqual(out[3].usage.prompt_tokens, 7)
  })
})
