/**
 * The Messages grammar of a continued stream, through the splicer alone: one `message_start`, block
 * indexes that go on across a break, tool-use blocks never split, one `message_stop`. The usage the client
 * sees is its own prompt and every completion token; what both parts spent is summed in `splicer.usage()`.
 */
import { assert, describe, it } from "@effect/vitest"
import { operations, Splicer, type TextStreamSpec } from "@switchyard/core"
import { continuationFor, REFERENCE_TEXT, textChunks, words } from "@switchyard/testkit"

type Event = Record<string, any>
const spec = operations.messages.stream as TextStreamSpec<unknown, Event>
const part = { promptTokens: 10, completionTokens: 3, totalTokens: 13 }

const toolBlock = (index: number, id: string): ReadonlyArray<Event> => [
  { type: "content_block_start", index, content_block: { type: "tool_use", id, name: "weather", input: {} } },
  { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: "{\"city\": " } },
  { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: "\"Paris\"}" } },
  { type: "content_block_stop", index }
]

/** Checks the grammar: one start and stop, blocks opened in order, each stopped once, the text of its deltas. */
const grammar = (events: ReadonlyArray<Event>) => {
  assert.strictEqual(events.filter((e) => e.type === "message_start").length, 1)
  assert.strictEqual(events.filter((e) => e.type === "message_stop").length, 1)
  assert.strictEqual(events.at(-1)!.type, "message_stop")
  const starts = events.filter((e) => e.type === "content_block_start").map((e) => e.index)
  assert.deepStrictEqual(starts, starts.map((_, i) => i))
  const stops = events.filter((e) => e.type === "content_block_stop").map((e) => e.index)
  assert.deepStrictEqual(stops, starts)
  for (const e of events) if (e.type === "content_block_delta") assert.include(starts, e.index)
  return starts
}

describe("the messages stream grammar", () => {
  it("a text block cut mid-way goes on in the same block; the completion tokens of both parts are summed", () => {
    const splicer = new Splicer(spec)
    const first = textChunks("messages", REFERENCE_TEXT, { id: "one" }) as Array<Event>
    const out = splicer.push(first.slice(0, 6))
    splicer.broke(part)
    const restText = continuationFor(splicer.sent)
    const rest = textChunks("messages", restText, { id: "two" }) as Array<Event>
    out.push(...splicer.push(rest), ...splicer.end())
    grammar(out)
    assert.strictEqual(out.map((e) => spec.text(e)).join(""), REFERENCE_TEXT)
    assert.strictEqual(out.find((e) => e.type === "message_start")!.message.id, "one")
    const usage = out.find((e) => e.type === "message_delta")!.usage
    assert.deepStrictEqual(usage, { input_tokens: 10, output_tokens: 3 + words(restText).length })
    assert.strictEqual(splicer.usage()!.promptTokens, 20, "what the gateway spent: both prompts")
  })

  it("a tool-use block cut inside is dropped whole and sent whole by the continuation, after the text", () => {
    const splicer = new Splicer(spec)
    const text = textChunks("messages", "Let me check the weather.") as Array<Event>
    const opening = text.slice(0, -2) // no message_delta, no message_stop
    const out = splicer.push([...opening, ...toolBlock(1, "toolu_a").slice(0, 2)])
    splicer.broke(part)
    const again = [
      ...text.slice(0, 1),
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_stop", index: 0 },
      ...toolBlock(1, "toolu_b"),
      { type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { input_tokens: 12, output_tokens: 9 } },
      { type: "message_stop" }
    ]
    out.push(...splicer.push(again), ...splicer.end())
    const starts = grammar(out)
    assert.strictEqual(starts.length, 3)
    const tools = out.filter((e) => e.content_block?.type === "tool_use")
    assert.deepStrictEqual(tools.map((e) => e.content_block.id), ["toolu_b"])
    const json = out.filter((e) => e.delta?.type === "input_json_delta").map((e) => e.delta.partial_json).join("")
    assert.deepStrictEqual(JSON.parse(json), { city: "Paris" })
    assert.deepStrictEqual(out.find((e) => e.type === "message_delta")!.usage, { input_tokens: 10, output_tokens: 12 })
    assert.strictEqual(splicer.usage()!.promptTokens, 22, "what the gateway spent: both prompts")
  })

  it("a continuation that opens with a tool block numbers it after the client's blocks", () => {
    const splicer = new Splicer(spec)
    const text = textChunks("messages", "Checking.") as Array<Event>
    const out = splicer.push(text.slice(0, 4)) // start, block start, delta, block stop
    splicer.broke(part)
    out.push(...splicer.push([text[0]!, ...toolBlock(0, "toolu_c"), { type: "message_stop" }]), ...splicer.end())
    assert.deepStrictEqual(grammar(out), [0, 1])
  })
})

describe("a reply that opens with a tool-use block", () => {
  it("cut inside it: the client gets the fallback's block alone", () => {
    const splicer = new Splicer(spec)
    const start = textChunks("messages", "")[0] as Event
    const tool = toolBlock(0, "toolu_a")
    const out = splicer.push([start, tool[0]!, { type: "ping" }, tool[1]!])
    splicer.broke(part)
    out.push(...splicer.push([start, tool[0]!, { type: "ping" }, ...tool.slice(1), { type: "message_stop" }]), ...splicer.end())
    assert.deepStrictEqual(grammar(out), [0])
  })
})

describe("a thinking block", () => {
  it("cut before its signature is dropped; the continuation's signed block and text follow in order", () => {
    const splicer = new Splicer(spec)
    const start = textChunks("messages", "")[0] as Event
    const thinking = (signature: string): ReadonlyArray<Event> => [
      { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Let me think." } },
      { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature } },
      { type: "content_block_stop", index: 0 }
    ]
    const out = splicer.push([start, ...thinking("sig-a").slice(0, 2)])
    splicer.broke(part)
    const text = (textChunks("messages", "Done.") as Array<Event>).slice(1).map((e) => (e.index === 0 ? { ...e, index: 1 } : e))
    out.push(...splicer.push([start, ...thinking("sig-b"), ...text]), ...splicer.end())
    assert.deepStrictEqual(grammar(out), [0, 1])
    const signatures = out.filter((e) => e.delta?.type === "signature_delta").map((e) => e.delta.signature)
    assert.deepStrictEqual(signatures, ["sig-b"])
    assert.strictEqual(out.filter((e) => e.delta?.type === "thinking_delta").length, 1)
    assert.strictEqual(out.map((e) => spec.text(e)).join(""), "Done.")
  })
})
