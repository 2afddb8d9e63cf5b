/**
 * What the real Claude API rejects in a Messages body before it answers, wherever Claude is served
 * (Anthropic's API or Vertex AI): a final assistant turn ending in whitespace, and any final assistant turn
 * (a prefill) on the 4.6-generation models and later, which refuse prefill outright.
 */

/** Anthropic's message for a prefill sent to a model that refuses one. */
export const PREFILL_REFUSAL = "This model does not support assistant message prefill. The conversation must end with a user message."

/** Whether a Claude model refuses assistant prefill (the 4.6 generation on: claude-sonnet-4-6, claude-opus-4-6, …). */
export const refusesPrefill = (model: string | undefined): boolean =>
  model !== undefined && /claude-(?:opus|sonnet|haiku)-(?:4-[6-9]|[5-9])(?!\d)/i.test(model)

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Why Claude rejects the body's conversation for `model`, or undefined. */
export const claudeBodyRejection = (model: string | undefined, body: unknown): string | undefined => {
  const messages = isRecord(body) && Array.isArray(body.messages) ? body.messages : []
  const last = messages[messages.length - 1]
  if (!isRecord(last) || last.role !== "assistant") return undefined
  if (refusesPrefill(model)) return PREFILL_REFUSAL
  const content = last.content
  const text = typeof content === "string"
    ? content
    : Array.isArray(content) && isRecord(content[content.length - 1])
    ? String((content[content.length - 1] as Record<string, unknown>).text ?? "")
    : ""
  return /\s$/.test(text) ? "messages: final assistant content cannot end with trailing whitespace" : undefined
}
