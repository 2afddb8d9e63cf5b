/**
 * Token estimates for the part of a stream whose upstream broke before reporting usage, and token counts. Counted with a
 * real BPE tokenizer (js-tiktoken, cl100k_base). Its ranks load on first use, not at startup: they cost
 * ~94 MB of RSS and ~0.2 s to build (measured), which only a process that sees a broken stream pays.
 */
import { Effect } from "effect"
import type { Usage } from "./Usage.ts"

let encoder: Promise<{ encode: (text: string) => Array<number> }> | undefined
const load = () =>
  encoder ??= Promise.all([import("js-tiktoken/lite"), import("js-tiktoken/ranks/cl100k_base")]).then(
    ([{ Tiktoken }, ranks]) => new Tiktoken(ranks.default)
  )

/** The text a request sends as its prompt, for estimating prompt tokens. */
export const promptText = (request: unknown): string => {
  const body = request as { readonly messages?: unknown; readonly prompt?: unknown; readonly input?: unknown }
  const value = body.messages ?? body.prompt ?? body.input ?? ""
  return typeof value === "string" ? value : JSON.stringify(value)
}

/** The estimated usage of a reply part: the request as prompt, `completion` as the output. */
export const estimateUsage = (request: unknown, completion: string): Effect.Effect<Usage> =>
  Effect.promise(load).pipe(Effect.map((tokenizer) => {
    const promptTokens = tokenizer.encode(promptText(request)).length
    const completionTokens = tokenizer.encode(completion).length
    return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, estimated: true }
  }))


/** How many tokens a text is, by the same tokenizer (for `count_tokens` where the upstream cannot say). */
export const countTokens = (text: string): Effect.Effect<number> =>
  Effect.map(Effect.promise(load), (tokenizer) => tokenizer.encode(text).length)
