/**
 * The continuation rule of the mock: it answers with the testkit's REFERENCE_TEXT, and a request that
 * carries part of it (a prefill, a prompt ending in it, an assistant input item) gets the rest, so a broken
 * stream plus its continuation is exactly the reference text, whichever way the partial was phrased.
 */
import { REFERENCE_TEXT } from "../Reference.ts"

/**
 * Splits text into stream chunks: one per word, each with the whitespace that follows it. Unlike `words`,
 * leading whitespace is kept (on the first chunk): a continuation after a trimmed prefill starts with one.
 */
export const wordChunks = (text: string): Array<string> => text.match(/\s*\S+\s*/g) ?? (text === "" ? [] : [text])

/** The reference text's words, as the mock streams them. */
export const REFERENCE_CHUNKS: ReadonlyArray<string> = wordChunks(REFERENCE_TEXT)

/** The first `k` chunks of the reference text, joined: what a client has after `k` chunks. */
export const referencePrefix = (k: number): string => REFERENCE_CHUNKS.slice(0, k).join("")

const firstWord = REFERENCE_TEXT.split(" ")[0]!

/**
 * How many characters of the reference text `text` already ends with: the longest prefix of the reference
 * that is a suffix of `text`, covering at least the first word (0 if none). No word boundary is required
 * before it: a completion continuation appends the partial to the prompt as it is.
 */
export const coveredLength = (text: string): number => {
  for (let k = Math.min(text.length, REFERENCE_TEXT.length); k >= firstWord.length; k--) {
    if (text.endsWith(REFERENCE_TEXT.slice(0, k))) return k
  }
  return 0
}

/** The reply to a request whose partial content is `partial`: the rest of the reference text. */
export const continuationFor = (partial: string | undefined): string =>
  partial === undefined ? REFERENCE_TEXT : REFERENCE_TEXT.slice(coveredLength(partial))

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** The text of message content: a string, or the text of its parts (`text`, `output_text`, `input_text`). */
const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
    ? content.map((p) => (isRecord(p) && typeof p.text === "string" ? p.text : "")).join("")
    : ""

/** The last assistant message or item that already holds part of the reference text. */
const assistantPartial = (items: unknown): string | undefined => {
  if (!Array.isArray(items)) return undefined
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]
    if (!isRecord(item) || item.role !== "assistant") continue
    const text = textOf(item.content)
    // Only a message that holds reference text is a partial; other assistant turns are history.
    return coveredLength(text) > 0 ? text : undefined
  }
  return undefined
}

/** Which wire format a request came in. */
export type MockWire = "openai" | "anthropic"

/**
 * The partial content a request carries, per operation: chat and Anthropic messages hold it in an
 * assistant message (a prefill, or followed by a continuation instruction), completion at the end of the
 * prompt, responses in an assistant input item.
 */
export const mockPartialOf = (operation: string, body: unknown): string | undefined => {
  if (!isRecord(body)) return undefined
  switch (operation) {
    case "chat":
    case "messages":
      return assistantPartial(body.messages)
    case "completion": {
      const prompt = Array.isArray(body.prompt) ? body.prompt[0] : body.prompt
      const covered = typeof prompt === "string" ? coveredLength(prompt) : 0
      return covered > 0 ? (prompt as string).slice(-covered) : undefined
    }
    case "responses":
      return assistantPartial(body.input)
    default:
      return undefined
  }
}
