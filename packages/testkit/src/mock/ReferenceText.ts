/**
 * How the mock streams the testkit's REFERENCE_TEXT. The continuation rule itself (which partial a
 * request carries, and the rest of the reference after it) lives in `../Reference.ts`, shared with the
 * scripted provider.
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

/** Which wire format a request came in. */
export type MockWire = "openai" | "anthropic" | "google" | "bedrock" | "cohere"
