import { assert, describe, it } from "@effect/vitest"
import {
  blockedPrompt,
  fromGeminiResponse,
  geminiFinishReason,
  geminiSchema,
  initialGeminiState,
  translateGeminiEvent
} from "../src/GeminiTranslate.ts"

describe("Gemini → chat", () => {
  it("finish reasons: STOP, MAX_TOKENS, the safety family, and STOP after a function call", () => {
    assert.strictEqual(geminiFinishReason("STOP", false), "stop")
    assert.strictEqual(geminiFinishReason("MAX_TOKENS", false), "length")
    for (const reason of ["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"]) {
      assert.strictEqual(geminiFinishReason(reason, false), "content_filter", reason)
    }
    assert.strictEqual(geminiFinishReason("STOP", true), "tool_calls")
    assert.strictEqual(geminiFinishReason("OTHER", false), "stop")
    assert.isNull(geminiFinishReason(undefined, false))
  })

  it("a reply: thoughts are not text but are completion tokens; function calls are tool calls", () => {
    const reply = fromGeminiResponse({
      responseId: "r1",
      modelVersion: "gemini-2.5-pro",
      candidates: [{
        content: { role: "model", parts: [{ text: "thinking…", thought: true }, { text: "Hi" }, { functionCall: { name: "f", args: { a: 1 } } }] },
        finishReason: "STOP"
      }],
      usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 2, thoughtsTokenCount: 5, totalTokenCount: 11 }
    }, 9, "m") as Record<string, any>
    assert.strictEqual(reply.choices[0].message.content, "Hi")
    assert.deepStrictEqual(reply.choices[0].message.tool_calls, [{ id: "call_0", type: "function", function: { name: "f", arguments: "{\"a\":1}" } }])
    assert.strictEqual(reply.choices[0].finish_reason, "tool_calls")
    assert.deepStrictEqual(reply.usage, { prompt_tokens: 4, completion_tokens: 7, total_tokens: 11 })
    assert.strictEqual(reply.model, "gemini-2.5-pro")
  })

  it("a refused prompt (no candidates, a block reason) is recognised", () => {
    assert.strictEqual(blockedPrompt({ promptFeedback: { blockReason: "SAFETY" } }), "SAFETY")
    assert.isUndefined(blockedPrompt({ candidates: [{ content: { parts: [{ text: "x" }] } }] }))
  })

  it("stream events: the role once, text, numbered function calls, then finish and the last usage", () => {
    const [s1, c1] = translateGeminiEvent(initialGeminiState(1, "m"), { responseId: "r", candidates: [{ content: { parts: [{ text: "Hel" }] } }] })
    const [s2, c2] = translateGeminiEvent(s1, { candidates: [{ content: { parts: [{ functionCall: { name: "f", args: {} } }] } }] })
    const [, c3] = translateGeminiEvent(s2, {
      candidates: [{ content: { parts: [{ functionCall: { name: "g", args: { x: 1 } } }] }, finishReason: "STOP" }],
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 4, totalTokenCount: 7 }
    })
    const deltas = [...c1, ...c2, ...c3].map((c) => (c.choices as Array<{ delta: unknown; finish_reason: unknown }>)[0])
    assert.deepStrictEqual(deltas[0]!.delta, { role: "assistant", content: "" })
    assert.deepStrictEqual(deltas[1]!.delta, { content: "Hel" })
    assert.strictEqual((deltas[2]!.delta as any).tool_calls[0].index, 0)
    assert.strictEqual((deltas[3]!.delta as any).tool_calls[0].index, 1)
    assert.strictEqual((deltas[3]!.delta as any).tool_calls[0].function.arguments, "{\"x\":1}")
    assert.strictEqual(deltas[4]!.finish_reason, "tool_calls")
    assert.deepStrictEqual(c3[c3.length - 1]!.usage, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 })
    assert.isTrue([...c1, ...c2, ...c3].every((c) => c.id === "r"))
  })
})

describe("chat → Gemini", () => {
  it("schemas lose what Gemini rejects, but a field may carry any name", () => {
    assert.deepStrictEqual(
      geminiSchema({
        $schema: "http://json-schema.org/draft-07/schema#",
        type: "object",
        additionalProperties: false,
        properties: { strict: { type: "boolean" }, items: { type: "array", items: { type: "object", additionalProperties: false } } }
      }),
      { type: "object", properties: { strict: { type: "boolean" }, items: { type: "array", items: { type: "object" } } } }
    )
  })
})
