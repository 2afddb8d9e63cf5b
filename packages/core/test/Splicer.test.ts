/**
 * The splicer on its own, without Effect or I/O: whatever the break positions, the overlap a
 * continuation repeats and the number of breaks, the client gets the reference text exactly once, tool
 * calls whole, its own prompt and every part's completion as its usage, and one identity.
 */
import { assert, describe, it } from "@effect/vitest"
import { operations, overlapLength, Splicer, type TextStreamSpec, type Usage } from "@switchyard/core"
import { continuationFor, openingChunks, REFERENCE_TEXT, textChunks, toolCallChunk, toolCallsFinish, words } from "@switchyard/testkit"
import { Schema } from "effect"

type TextOperation = "chat" | "completion" | "responses"
const specOf = (operation: TextOperation) => operations[operation].stream as TextStreamSpec<unknown, any>
const textOf = (operation: TextOperation, chunks: ReadonlyArray<unknown>) =>
  chunks.map((c) => specOf(operation).text(c)).join("")
const partUsage = (completionTokens: number): Usage => ({ promptTokens: 5, completionTokens, totalTokens: 5 + completionTokens })

/** One upstream after another: each breaks after `k` words (repeating `repeat` characters of what was sent), the last ends. */
const splice = (
  operation: TextOperation,
  breaks: ReadonlyArray<{ readonly k: number; readonly repeat: number }>
) => {
  const splicer = new Splicer<any>(specOf(operation))
  const out: Array<any> = []
  breaks.forEach(({ k, repeat }, i) => {
    const rest = continuationFor(splicer.sent === "" ? undefined : splicer.sent)
    let from = REFERENCE_TEXT.length - rest.length - Math.min(repeat, splicer.sent.length)
    // Word chunks drop leading whitespace: a repeat starts on a visible character, so it stays `repeat` long.
    while (from > 0 && /\s/.test(REFERENCE_TEXT[from]!)) from--
    const chunks = textChunks(operation, REFERENCE_TEXT.slice(from), { id: `up${i}` })
    out.push(...splicer.push(chunks.slice(0, openingChunks[operation] + k)))
    splicer.broke(partUsage(i + 1))
  })
  const rest = continuationFor(splicer.sent === "" ? undefined : splicer.sent)
  out.push(...splicer.push(textChunks(operation, rest, { id: "last" })), ...splicer.end())
  return { splicer, out, lastWords: words(rest).length }
}

describe("the splicer", () => {
  it.prop(
    "the client gets the reference text once, one identity, and its own prompt with every part's completion as usage, for any breaks",
    {
      operation: Schema.Literals(["chat", "completion", "responses"]),
      breaks: Schema.Array(Schema.Struct({
        k: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: words(REFERENCE_TEXT).length - 2 })),
        // A continuation that repeats nothing, or at least the overlap the trim recognizes.
        repeat: Schema.Union([Schema.Literal(0), Schema.Int.check(Schema.isBetween({ minimum: 12, maximum: 200 }))])
      })).check(Schema.isMinLength(0), Schema.isMaxLength(3))
    },
    ({ breaks, operation }) => {
      const { lastWords, out, splicer } = splice(operation, breaks)
      assert.strictEqual(textOf(operation, out), REFERENCE_TEXT)
      assert.strictEqual(splicer.breaks, breaks.length)
      const spec = specOf(operation)
      const reported = out.map((c) => spec.usage(c)).filter((u) => u !== undefined).at(-1)
      assert.deepStrictEqual(reported, splicer.clientUsage())
      const parts = breaks.reduce((n, _, i) => n + i + 1, 0)
      assert.strictEqual(reported!.completionTokens, parts + lastWords)
      // The client is told its own prompt (the first part's); the gateway counts every part's.
      assert.strictEqual(reported!.promptTokens, breaks.length > 0 ? 5 : 10)
      assert.strictEqual(reported!.totalTokens, reported!.promptTokens + reported!.completionTokens)
      assert.strictEqual(splicer.usage()!.promptTokens, 5 * breaks.length + 10)
      assert.strictEqual(splicer.usage()!.completionTokens, parts + lastWords)
      if (operation === "responses") {
        assert.strictEqual(out.filter((e) => e.type === "response.created").length, 1, "one response, not two")
        const completed = out.find((e) => e.type === "response.completed")
        assert.strictEqual(completed.response.id, out[0].response.id)
        assert.strictEqual(completed.response.output[0].content[0].text, REFERENCE_TEXT)
        assert.strictEqual(new Set(out.flatMap((e) => (e.item?.id ? [e.item.id] : []))).size, 1)
      } else {
        assert.deepStrictEqual([...new Set(out.map((c) => c.id))], [out[0].id], "every chunk under the first id sent")
      }
    },
    { arbitrary: { runs: 300 } }
  )

  it("numbers a continuation's Responses events after the last one sent", () => {
    const spec = specOf("responses")
    const splicer = new Splicer<any>(spec)
    const numbered = (events: ReadonlyArray<any>) => events.map((e, i) => ({ ...e, sequence_number: i }))
    const out = splicer.push(numbered(textChunks("responses", "The quick brown fox ").slice(0, 5)))
    splicer.broke(partUsage(2))
    out.push(...splicer.push(numbered(textChunks("responses", continuationFor(splicer.sent)))), ...splicer.end())
    const sequence = out.map((e) => e.sequence_number)
    assert.deepStrictEqual(sequence, sequence.map((_, i) => i))
  })

  it("holds tool-call chunks until the reply finishes; a break drops them and the next upstream's call goes out whole", () => {
    const tool = toolCallChunk
    const finish = toolCallsFinish
    const opening = { id: "t", choices: [{ index: 0, delta: { role: "assistant", content: "Let me check. " } }] }
    const splicer = new Splicer<any>(specOf("chat"))
    const out = splicer.push([opening, tool('{"ci', true), tool('ty": "Par')])
    assert.deepStrictEqual(out, [opening], "nothing of a call before it is complete")
    splicer.broke(partUsage(3))
    out.push(...splicer.push([tool('{"city": ', true), tool('"Paris"}'), finish]), ...splicer.end())
    const calls = out.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
    assert.strictEqual(calls.filter((t: { id?: string }) => t.id !== undefined).length, 1, "one call, started once")
    assert.strictEqual(calls.map((t: { function: { arguments: string } }) => t.function.arguments).join(""), '{"city": "Paris"}')
    assert.strictEqual(textOf("chat", out), "Let me check. ")
  })

  it("an unbroken reply passes through unchanged", () => {
    for (const operation of ["chat", "completion", "responses"] as const) {
      const chunks = textChunks(operation, REFERENCE_TEXT)
      const splicer = new Splicer<any>(specOf(operation))
      const out = [...splicer.push(chunks), ...splicer.end()]
      assert.deepStrictEqual(out, chunks)
      assert.isUndefined(splicer.usage()?.estimated)
    }
  })

  it("waits for a continuation's start while it may still repeat the tail, and trims it once it can tell", () => {
    const splicer = new Splicer<any>(specOf("completion"))
    splicer.push(textChunks("completion", "The quick brown fox jumps over the lazy ", { usage: false }))
    splicer.broke(partUsage(8))
    const again = textChunks("completion", "over the lazy dog. It was")
    assert.deepStrictEqual(splicer.push(again.slice(0, 2)), [], "'over the ' could still be a repeat")
    const out = splicer.push(again.slice(2))
    assert.strictEqual(textOf("completion", out), "dog. It was")
  })

  it("overlapLength: removes a repeated tail, keeps legitimate short repetition, waits when it cannot tell yet", () => {
    const sent = "The quick brown fox jumps over the lazy dog. "
    assert.strictEqual(overlapLength(sent, "over the lazy dog. It was", false), "over the lazy dog. ".length)
    assert.strictEqual(overlapLength(sent, "dog. Then", false), 0)
    assert.strictEqual(overlapLength(sent, "over the", false), undefined)
    assert.strictEqual(overlapLength(sent, "over the", true), 0)
    assert.strictEqual(overlapLength(sent, sent + "More", false), sent.length)
  })
})
