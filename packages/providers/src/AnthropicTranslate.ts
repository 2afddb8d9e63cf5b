/**
 * Translation between OpenAI chat and Anthropic messages, both ways, as pure functions: the request
 * (system prompt, turns, tools, tool calls and results, sampling options) and the complete reply.
 */
import type { Wire } from "@switchyard/core"
import type { AnthropicMessage, AnthropicUsage } from "./AnthropicWire.ts"
import { chatCompletion, parseArguments } from "./ChatCompletion.ts"

type Json = Record<string, unknown>
type Block = Json

/** The `max_tokens` Anthropic requires when the client did not say. */
export const defaultMaxTokens = 4096

const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** The text of OpenAI message content: a string, or the text parts of a part list. */
export const contentText = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
    ? content.map((p) => (isRecord(p) && p.type === "text" && typeof p.text === "string" ? p.text : "")).join("")
    : ""

/** An OpenAI `image_url` part as an Anthropic image block (inline base64 or a URL). */
const imageBlock = (part: Json): Block => {
  const url = isRecord(part.image_url) ? String(part.image_url.url ?? "") : String(part.image_url ?? "")
  const inline = /^data:([^;,]+);base64,(.*)$/s.exec(url)
  return inline
    ? { type: "image", source: { type: "base64", media_type: inline[1], data: inline[2] } }
    : { type: "image", source: { type: "url", url } }
}

/** User or assistant content as blocks; parts we do not know are passed through (they may be Anthropic blocks). */
const contentBlocks = (content: unknown): Array<Block> => {
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }]
  if (!Array.isArray(content)) return []
  return content.flatMap((part): Array<Block> => {
    if (!isRecord(part)) return []
    if (part.type === "text") return typeof part.text === "string" && part.text !== "" ? [{ type: "text", text: part.text }] : []
    if (part.type === "image_url") return [imageBlock(part)]
    return [part]
  })
}

/** Assistant tool calls as `tool_use` blocks. */
const toolUseBlocks = (toolCalls: unknown): Array<Block> =>
  Array.isArray(toolCalls)
    ? toolCalls.filter(isRecord).map((call) => {
      const fn = isRecord(call.function) ? call.function : {}
      return { type: "tool_use", id: call.id, name: fn.name, input: parseArguments(fn.arguments) }
    })
    : []

interface Turn {
  readonly role: "user" | "assistant"
  readonly content: Array<Block>
}

/** One OpenAI message as an Anthropic turn (tool results are user turns); system messages are handled apart. */
const toTurn = (message: Wire.ChatMessage): Turn => {
  switch (message.role) {
    case "assistant":
      return { role: "assistant", content: [...contentBlocks(message.content), ...toolUseBlocks(message.tool_calls)] }
    case "tool":
    case "function":
      return {
        role: "user",
        content: [{
          type: "tool_result",
          tool_use_id: message.tool_call_id ?? message.name,
          content: contentText(message.content)
        }]
      }
    default:
      return { role: "user", content: contentBlocks(message.content) }
  }
}

/** Anthropic wants alternating turns: consecutive turns of one role (e.g. several tool results) become one. */
const mergeTurns = (turns: ReadonlyArray<Turn>): Array<Turn> =>
  turns.reduce<Array<Turn>>((acc, turn) => {
    const last = acc[acc.length - 1]
    if (last !== undefined && last.role === turn.role) last.content.push(...turn.content)
    else acc.push({ role: turn.role, content: [...turn.content] })
    return acc
  }, [])

/**
 * A trailing assistant turn is a prefill Anthropic continues, but it rejects one ending in whitespace. The
 * whitespace is cut here and cut again from the start of the reply (`prefillWhitespace`), where the model
 * repeats it: the provider undoes its own change, so the client's text has no doubled space.
 */
const trimPrefill = (turns: Array<Turn>): Array<Turn> => {
  const last = turns[turns.length - 1]
  if (last?.role !== "assistant") return turns
  const blocks = [...last.content]
  const tail = blocks[blocks.length - 1]
  if (tail?.type === "text" && typeof tail.text === "string") {
    const text = tail.text.trimEnd()
    if (text === "") blocks.pop()
    else blocks[blocks.length - 1] = { ...tail, text }
  }
  return blocks.length === 0 ? turns.slice(0, -1) : [...turns.slice(0, -1), { role: "assistant", content: blocks }]
}

/** The whitespace a request's trailing assistant message ends with: what `toAnthropicRequest` cuts from the prefill. */
export const prefillWhitespace = (request: Wire.ChatRequest): string => {
  const last = request.messages[request.messages.length - 1]
  return last?.role === "assistant" ? /\s*$/.exec(contentText(last.content))![0] : ""
}

/**
 * Removes from the start of `text` the part of `pending` whitespace it repeats; `pending` is what is left
 * to remove if `text` was all whitespace, else "" (the reply has moved on).
 */
export const stripRepeated = (text: string, pending: string): { readonly text: string; readonly pending: string } => {
  let n = 0
  while (n < pending.length && n < text.length && text[n] === pending[n]) n++
  return { text: text.slice(n), pending: n === text.length ? pending.slice(n) : "" }
}

/** OpenAI function tools as Anthropic tools. */
const toTools = (tools: unknown): Array<Json> | undefined =>
  Array.isArray(tools)
    ? tools.filter(isRecord).map((tool) => {
      const fn = isRecord(tool.function) ? tool.function : tool
      return {
        name: fn.name,
        ...(fn.description === undefined ? {} : { description: fn.description }),
        input_schema: fn.parameters ?? { type: "object", properties: {} }
      }
    })
    : undefined

/** OpenAI `tool_choice` as Anthropic's. */
const toToolChoice = (choice: unknown): Json | undefined => {
  if (choice === "auto") return { type: "auto" }
  if (choice === "required") return { type: "any" }
  if (choice === "none") return { type: "none" }
  if (isRecord(choice) && isRecord(choice.function)) return { type: "tool", name: choice.function.name }
  return undefined
}

/** Translates an OpenAI chat request into an Anthropic Messages request for `model`. */
export const toAnthropicRequest = (request: Wire.ChatRequest, model: string, stream: boolean): Json => {
  const system = request.messages
    .filter((m) => m.role === "system" || m.role === "developer")
    .map((m) => contentText(m.content))
    .filter((text) => text !== "")
  const turns = trimPrefill(mergeTurns(
    request.messages.filter((m) => m.role !== "system" && m.role !== "developer").map(toTurn)
  ))
  const stop = request.stop
  const tools = toTools(request.tools)
  const toolChoice = toToolChoice(request.tool_choice)
  const optional: Json = {
    system: system.length > 0 ? system.join("\n\n") : undefined,
    stop_sequences: typeof stop === "string" ? [stop] : Array.isArray(stop) ? stop : undefined,
    temperature: request.temperature,
    top_p: request.top_p,
    top_k: request.top_k,
    tools: tools && tools.length > 0 ? tools : undefined,
    tool_choice: tools && tools.length > 0 ? toolChoice : undefined,
    metadata: typeof request.user === "string" ? { user_id: request.user } : undefined,
    stream: stream ? true : undefined
  }
  return {
    model,
    max_tokens: request.max_tokens ?? request.max_completion_tokens ?? defaultMaxTokens,
    messages: turns,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined && v !== null))
  }
}

const finishReasons: Readonly<Record<string, string>> = {
  end_turn: "stop",
  stop_sequence: "stop",
  pause_turn: "stop",
  max_tokens: "length",
  tool_use: "tool_calls",
  refusal: "content_filter"
}

/** Anthropic's `stop_reason` as an OpenAI `finish_reason`. */
export const finishReason = (stopReason: string | null | undefined): string | null =>
  stopReason === null || stopReason === undefined ? null : finishReasons[stopReason] ?? "stop"

/** Anthropic usage as OpenAI usage; cached prompt tokens are prompt tokens too. */
export const toOpenAiUsage = (input: AnthropicUsage | undefined, output: AnthropicUsage | undefined = input) => {
  const n = (u: AnthropicUsage | undefined, k: string) => (typeof u?.[k] === "number" ? (u[k] as number) : 0)
  const prompt = n(input, "input_tokens") + n(input, "cache_creation_input_tokens") + n(input, "cache_read_input_tokens")
  const completion = n(output, "output_tokens")
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
}

/** Translates a complete Anthropic reply into an OpenAI chat completion; `prefill` is the whitespace cut from a prefill. */
export const fromAnthropicMessage = (message: AnthropicMessage, createdSeconds: number, prefill = ""): Json => {
  const joined = message.content.filter((b) => b.type === "text").map((b) => b.text ?? "").join("")
  const text = stripRepeated(joined, prefill).text
  return chatCompletion({
    id: message.id,
    created: createdSeconds,
    model: message.model,
    text,
    toolCalls: message.content.filter((b) => b.type === "tool_use"),
    finishReason: finishReason(message.stop_reason),
    usage: toOpenAiUsage(message.usage)
  })
}
