/**
 * Token usage, normalized across the wire formats (`prompt_tokens` / `input_tokens` and friends).
 */
import { Schema } from "effect"

/** Token counts of one reply; `estimated` marks counts made by our tokenizer rather than the upstream. */
export const Usage = Schema.Struct({
  promptTokens: Schema.Number,
  completionTokens: Schema.Number,
  totalTokens: Schema.Number,
  estimated: Schema.optionalKey(Schema.Boolean)
})
export type Usage = typeof Usage.Type

/** The sum of two usages; estimated when either part was. */
export const addUsage = (a: Usage, b: Usage): Usage =>
  ({
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    ...(a.estimated || b.estimated ? { estimated: true } : {})
  })

const count = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0)

/** Reads an OpenAI-style (`prompt_tokens`) or Responses-style (`input_tokens`) usage object. */
export const usageFromWire = (wire: unknown): Usage | undefined => {
  if (typeof wire !== "object" || wire === null) return undefined
  const u = wire as Record<string, unknown>
  const prompt = count(u.prompt_tokens ?? u.input_tokens)
  const completion = count(u.completion_tokens ?? u.output_tokens)
  const total = u.total_tokens === undefined ? prompt + completion : count(u.total_tokens)
  return { promptTokens: prompt, completionTokens: completion, totalTokens: total }
}
