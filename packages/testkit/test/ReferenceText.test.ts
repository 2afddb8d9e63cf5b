import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { continuationFor, coveredLength, partialOf, REFERENCE_TEXT, words } from "../src/Reference.ts"
import { REFERENCE_CHUNKS, wordChunks } from "../src/mock/index.ts"

const split = Schema.Int.check(Schema.isBetween({ minimum: 3, maximum: REFERENCE_TEXT.length }))

describe("mock continuation", () => {
  it("streams the reference word by word, like the scripted provider", () => {
    assert.deepStrictEqual(REFERENCE_CHUNKS, words(REFERENCE_TEXT))
    assert.strictEqual(REFERENCE_CHUNKS.join(""), REFERENCE_TEXT)
  })

  it.prop("a partial that is any prefix gets exactly the rest", { k: split }, ({ k }) => {
    const partial = REFERENCE_TEXT.slice(0, k)
    assert.strictEqual(partial + continuationFor(partial), REFERENCE_TEXT)
    assert.strictEqual(wordChunks(continuationFor(partial)).join(""), continuationFor(partial))
  })

  it("a continuation after a trimmed prefill starts with the space", () => {
    assert.strictEqual(continuationFor("The quick brown").slice(0, 5), " fox ")
    assert.strictEqual(wordChunks(" fox jumps")[0], " fox ")
  })

  it("finds the partial in each operation's continuation shape", () => {
    const partial = "The quick brown fox "
    const user = { role: "user", content: "Tell me" }
    const cases: ReadonlyArray<readonly [string, unknown]> = [
      ["chat", { messages: [user, { role: "assistant", content: partial }] }],
      ["chat", { messages: [user, { role: "assistant", content: partial }, { role: "user", content: "Continue." }] }],
      ["messages", { messages: [user, { role: "assistant", content: [{ type: "text", text: partial }] }] }],
      ["completion", { prompt: `Say something.${partial}` }],
      ["responses", { input: [user, { role: "assistant", content: partial }] }],
      ["responses", { input: [user, { type: "message", role: "assistant", content: [{ type: "output_text", text: partial }] }] }]
    ]
    for (const [operation, body] of cases) assert.strictEqual(partialOf(operation, body), partial, operation)
  })

  it("an assistant turn that is not reference text is history, not a partial", () => {
    const body = { messages: [{ role: "assistant", content: "Hello! How can I help?" }, { role: "user", content: "hi" }] }
    assert.isUndefined(partialOf("chat", body))
    assert.strictEqual(continuationFor(partialOf("chat", body)), REFERENCE_TEXT)
    assert.strictEqual(coveredLength("Say hi"), 0)
  })
})
