/**
 * A known reference reply, streamed word by word in each text operation's wire format. A request that
 * carries partial content is answered with the rest of the reference, so a continued stream can be
 * checked against the reference exactly.
 */

/** The reply every scripted or mocked text stream gives. */
export const REFERENCE_TEXT =
  "The quick brown fox jumps over the lazy dog. It was not the first time the dog had seen the fox, " +
  "and it would not be the last. Streams break, but the reply arrives whole."

/** Splits text into words that keep their trailing space, so joining them gives the text back. */
export const words = (text: string): Array<string> => text.match(/\S+\s*/g) ?? []

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

/**
 * The partial content a request carries, per operation: chat and Anthropic messages hold it in an
 * assistant message (a prefill, or followed by a continuation instruction), completion at the end of the
 * prompt, responses in an assistant input item.
 */
export const partialOf = (operation: string, body: unknown): string | undefined => {
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

const usageOf = (text: string) => {
  const completion = words(text).length
  return { prompt_tokens: 10, completion_tokens: completion, total_tokens: 10 + completion }
}

/** Wire chunks of `operation` that stream `text` one word at a time, ending with usage when asked. */
export const textChunks = (
  operation: "chat" | "completion" | "responses" | "messages",
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
    case "messages":
      return [
        { type: "message_start", message: { id, type: "message", role: "assistant", content: [], usage: { input_tokens: 10, output_tokens: 1 } } },
        { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
        ...pieces.map((w) => ({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: w } })),
        { type: "content_block_stop", index: 0 },
        {
          type: "message_delta",
          delta: { stop_reason: "end_turn" },
          ...(usage ? { usage: { input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens } } : {})
        },
        { type: "message_stop" }
      ]
  }
}

/** How many chunks precede the first one with text, per operation (the opening events). */
export const openingChunks = { chat: 1, completion: 0, responses: 3, messages: 2 } as const
