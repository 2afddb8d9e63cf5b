/**
 * A known reference reply, streamed word by word in each text operation's wire format. A request that
 * carries partial content is answered with the rest of the reference, so a continued stream can be
 * checked against the reference exactly.
 */
import type { OperationName } from "@switchyard/core"

/** The reply every scripted or mocked text stream gives. */
export const REFERENCE_TEXT =
  "The quick brown fox jumps over the lazy dog. It was not the first time the dog had seen the fox, " +
  "and it would not be the last. Streams break, but the reply arrives whole."

/** Splits text into words that keep their trailing space, so joining them gives the text back. */
export const words = (text: string): Array<string> => text.match(/\S+\s*/g) ?? []

/** The partial reply a continuation request carries, or "" for an original request. */
export const partialOf = (operation: OperationName, request: unknown): string => {
  const body = request as { messages?: Array<{ role: string; content?: unknown }>; prompt?: unknown; input?: unknown }
  if (operation === "chat" || operation === "responses") {
    const items = operation === "chat" ? body.messages : Array.isArray(body.input) ? body.input : []
    const assistant = (items ?? []).findLast((m) => (m as { role?: string }).role === "assistant") as
      | { content?: unknown }
      | undefined
    return typeof assistant?.content === "string" ? assistant.content : ""
  }
  if (operation === "completion" && typeof body.prompt === "string") {
    // The prompt ends with the partial: the longest prefix of the reference it ends with.
    for (let n = Math.min(REFERENCE_TEXT.length, body.prompt.length); n > 0; n--) {
      if (body.prompt.endsWith(REFERENCE_TEXT.slice(0, n))) return REFERENCE_TEXT.slice(0, n)
    }
  }
  return ""
}

/** The rest of the reference after `partial` (the whole reference when `partial` is not a prefix of it). */
export const restAfter = (partial: string): string =>
  REFERENCE_TEXT.startsWith(partial) ? REFERENCE_TEXT.slice(partial.length) : REFERENCE_TEXT

const usageOf = (text: string) => {
  const completion = words(text).length
  return { prompt_tokens: 10, completion_tokens: completion, total_tokens: 10 + completion }
}

/** Wire chunks of `operation` that stream `text` one word at a time, ending with usage when asked. */
export const textChunks = (
  operation: "chat" | "completion" | "responses",
  text: string,
  options: { readonly id?: string; readonly usage?: boolean } = {}
): Array<unknown> => {
  const id = options.id ?? "ref"
  const pieces = words(text)
  const usage = options.usage === false ? undefined : usageOf(text)
  switch (operation) {
    case "chat":
      return [
        { id, object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", content: "" } }] },
        ...pieces.map((w) => ({ id, object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: w } }] })),
        { id, object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
        ...(usage ? [{ id, object: "chat.completion.chunk", choices: [], usage }] : [])
      ]
    case "completion":
      return [
        ...pieces.map((w) => ({ id, object: "text_completion", choices: [{ index: 0, text: w }] })),
        { id, object: "text_completion", choices: [{ index: 0, text: "", finish_reason: "stop" }], ...(usage ? { usage } : {}) }
      ]
    case "responses": {
      const item = { id: `msg_${id}`, type: "message", role: "assistant" }
      const full = { ...item, content: [{ type: "output_text", text }] }
      return [
        { type: "response.created", response: { id, status: "in_progress", output: [] } },
        { type: "response.output_item.added", output_index: 0, item: { ...item, content: [] } },
        { type: "response.content_part.added", output_index: 0, part: { type: "output_text", text: "" } },
        ...pieces.map((w) => ({ type: "response.output_text.delta", output_index: 0, delta: w })),
        { type: "response.output_text.done", output_index: 0, text },
        { type: "response.output_item.done", output_index: 0, item: full },
        {
          type: "response.completed",
          response: {
            id,
            status: "completed",
            output: [full],
            ...(usage
              ? { usage: { input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens, total_tokens: usage.total_tokens } }
              : {})
          }
        }
      ]
    }
  }
}

/** How many chunks precede the first one with text, per operation (the opening events). */
export const openingChunks = { chat: 1, completion: 0, responses: 3 } as const
