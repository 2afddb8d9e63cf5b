/**
 * The Anthropic Messages API over any chat-capable provider, as ResponsesOverChat does for the Responses
 * API: a Messages request (system, turns, images, tools, tool results) becomes a chat request, a chat reply
 * becomes a Messages reply, and a stream of chat chunks becomes the Messages event grammar
 * (message_start, content blocks, message_delta with stop_reason and usage, message_stop).
 */
import { operations, type Provider, type ProviderError, type Wire } from "@switchyard/core"
import { Effect, Stream } from "effect"
import { parseArguments } from "./ChatCompletion.ts"

type Json = Record<string, unknown>

const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
const defined = (o: Json): Json => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null))
const blocksOf = (content: unknown): ReadonlyArray<Json> =>
  typeof content === "string" ? [{ type: "text", text: content }] : Array.isArray(content) ? content.filter(isRecord) : []

// ------------------------------------------------------------------------------------------- request

/** The text of blocks (a system prompt, a tool result's content). */
const textOf = (content: unknown): string =>
  blocksOf(content).map((b) => (b.type === "text" && typeof b.text === "string" ? b.text : "")).join("")

/** An Anthropic image block as a chat `image_url` part (base64 sources as a data URL). */
const imagePart = (block: Json): Json => {
  const source = isRecord(block.source) ? block.source : {}
  const url = source.type === "base64" ? `data:${String(source.media_type)};base64,${String(source.data)}` : String(source.url ?? "")
  return { type: "image_url", image_url: { url } }
}

/** A user turn: its tool results become tool messages (first, as chat wants them after the call), the rest one user message. */
const userMessages = (content: unknown): Array<Json> => {
  const blocks = blocksOf(content)
  const results = blocks.filter((b) => b.type === "tool_result").map((b) => ({
    role: "tool",
    tool_call_id: b.tool_use_id,
    content: typeof b.content === "string" ? b.content : textOf(b.content)
  }))
  const parts = blocks.flatMap((b): Array<Json> =>
    b.type === "text" ? [{ type: "text", text: b.text }] : b.type === "image" ? [imagePart(b)] : []
  )
  const onlyText = parts.every((p) => p.type === "text")
  const user = parts.length === 0
    ? []
    : [{ role: "user", content: onlyText ? parts.map((p) => p.text).join("") : parts }]
  return [...results, ...user]
}

/** An assistant turn: its text as content, its tool_use blocks as tool calls (thinking has no chat form). */
const assistantMessage = (content: unknown): Json => {
  const blocks = blocksOf(content)
  const calls = blocks.filter((b) => b.type === "tool_use").map((b) => ({
    id: b.id,
    type: "function",
    function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) }
  }))
  const text = textOf(blocks)
  return { role: "assistant", content: text === "" && calls.length > 0 ? null : text, ...(calls.length > 0 ? { tool_calls: calls } : {}) }
}

const chatTools = (tools: unknown): Array<Json> | undefined =>
  Array.isArray(tools) && tools.length > 0
    ? tools.filter(isRecord).map((t) => ({
      type: "function",
      function: defined({ name: t.name, description: t.description, parameters: t.input_schema })
    }))
    : undefined

const chatToolChoice = (choice: unknown): unknown => {
  if (!isRecord(choice)) return undefined
  switch (choice.type) {
    case "any":
      return "required"
    case "tool":
      return { type: "function", function: { name: choice.name } }
    case "none":
      return "none"
    default:
      return "auto"
  }
}

/** Translates a Messages request into the chat request that asks the same. */
export const messagesToChat = (request: Wire.MessagesRequest): Wire.ChatRequest => {
  const system = request.system === undefined ? "" : textOf(request.system)
  const turns = request.messages.flatMap((turn) =>
    turn.role === "assistant" ? [assistantMessage(turn.content)] : userMessages(turn.content)
  )
  const tools = chatTools(request.tools)
  const metadata = isRecord(request.metadata) ? request.metadata : {}
  return defined({
    model: request.model,
    messages: [...(system === "" ? [] : [{ role: "system", content: system }]), ...turns],
    max_tokens: request.max_tokens,
    temperature: request.temperature,
    top_p: request.top_p,
    stop: request.stop_sequences,
    user: metadata.user_id,
    tools,
    tool_choice: tools === undefined ? undefined : chatToolChoice(request.tool_choice),
    stream: request.stream,
    stream_options: request.stream === true ? { include_usage: true } : undefined
  }) as Wire.ChatRequest
}

// --------------------------------------------------------------------------------------------- reply

/** Chat's finish reason as Anthropic's stop reason. */
export const stopReason = (finish: unknown): string =>
  finish === "length" ? "max_tokens" : finish === "tool_calls" || finish === "function_call" ? "tool_use" : finish === "content_filter" ? "refusal" : "end_turn"

/** Chat usage as Anthropic usage. */
const messagesUsage = (usage: unknown): Json => {
  const u = isRecord(usage) ? usage : {}
  return { input_tokens: Number(u.prompt_tokens ?? 0), output_tokens: Number(u.completion_tokens ?? 0) }
}

/** Translates a complete chat reply into a Messages reply. */
export const chatToMessages = (reply: Wire.ChatResponse): Wire.MessagesResponse => {
  const choice = reply.choices[0]
  const text = choice?.message.content ?? ""
  const calls = (choice?.message.tool_calls ?? []).filter(isRecord).map((call) => {
    const fn = isRecord(call.function) ? call.function : {}
    return { type: "tool_use", id: call.id, name: fn.name, input: parseArguments(fn.arguments) }
  })
  return {
    id: reply.id,
    type: "message",
    role: "assistant",
    model: reply.model ?? "",
    content: [...(text === "" && calls.length > 0 ? [] : [{ type: "text", text }]), ...calls],
    stop_reason: stopReason(choice?.finish_reason),
    stop_sequence: null,
    usage: messagesUsage(reply.usage)
  }
}

// -------------------------------------------------------------------------------------------- stream

/** What the stream translation remembers between chunks. Mutable: each subscription gets its own. */
interface EventsState {
  started: boolean
  /** The open block: its Anthropic index, and the chat tool-call index it carries (undefined for text). */
  open: { readonly index: number; readonly tool: number | undefined } | undefined
  next: number
  finish: unknown
  usage: unknown
}

const closeBlock = (state: EventsState, out: Array<Json>): void => {
  if (state.open === undefined) return
  out.push({ type: "content_block_stop", index: state.open.index })
  state.open = undefined
}

const openBlock = (state: EventsState, block: Json, tool: number | undefined, out: Array<Json>): number => {
  closeBlock(state, out)
  const index = state.next++
  state.open = { index, tool }
  out.push({ type: "content_block_start", index, content_block: block })
  return index
}

/** One chat chunk's Messages events (`message_start` comes with the first). */
const chunkToEvents = (state: EventsState, chunk: Wire.ChatChunk): readonly [EventsState, ReadonlyArray<Json>] => {
  const out: Array<Json> = []
  if (!state.started) {
    state.started = true
    const message = { id: chunk.id, type: "message", role: "assistant", model: chunk.model ?? "", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } }
    out.push({ type: "message_start", message })
  }
  const choice = chunk.choices[0]
  const text = choice?.delta.content
  if (typeof text === "string" && text !== "") {
    const index = state.open !== undefined && state.open.tool === undefined
      ? state.open.index
      : openBlock(state, { type: "text", text: "" }, undefined, out)
    out.push({ type: "content_block_delta", index, delta: { type: "text_delta", text } })
  }
  for (const call of choice?.delta.tool_calls ?? []) {
    const fn = isRecord(call.function) ? call.function : {}
    const index = state.open?.tool === call.index
      ? state.open.index
      : openBlock(state, { type: "tool_use", id: call.id, name: fn.name, input: {} }, call.index, out)
    if (typeof fn.arguments === "string" && fn.arguments !== "") {
      out.push({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: fn.arguments } })
    }
  }
  if (choice?.finish_reason) state.finish = choice.finish_reason
  if (chunk.usage != null) state.usage = chunk.usage
  return [state, out]
}

/** The events that close a finished reply; a reply that never said it finished gets none (it must not look complete). */
const finishEvents = (state: EventsState): ReadonlyArray<Json> => {
  if (!state.started || state.finish === undefined) return []
  const out: Array<Json> = []
  closeBlock(state, out)
  out.push(
    { type: "message_delta", delta: { stop_reason: stopReason(state.finish), stop_sequence: null }, usage: messagesUsage(state.usage) },
    { type: "message_stop" }
  )
  return out
}

/** A stream of chat chunks as the Messages events that say the same. */
export const messagesEvents = <E>(chunks: Stream.Stream<Wire.ChatChunk, E>): Stream.Stream<Json, E> =>
  Stream.mapAccum(
    chunks,
    (): EventsState => ({ started: false, open: undefined, next: 0, finish: undefined, usage: undefined }),
    chunkToEvents,
    { onHalt: finishEvents }
  )

// ------------------------------------------------------------------------------------------ provider

/** A provider that serves chat gains `messages` over it; one that speaks Messages natively is left as it is. */
export const withMessagesOverChat = (provider: Provider): Provider => {
  if (provider.operations.has("messages") || !provider.operations.has("chat")) return provider
  return {
    ...provider,
    operations: new Set([...provider.operations, "messages"]),
    call: (operation, deployment, request) =>
      operation.name === "messages"
        ? Effect.map(
          provider.call(operations.chat, deployment, messagesToChat(request as Wire.MessagesRequest)),
          (reply) => chatToMessages(reply) as never
        )
        : provider.call(operation, deployment, request),
    stream: <Req, Chunk>(operation: Parameters<Provider["stream"]>[0], deployment: Parameters<Provider["stream"]>[1], request: Req) =>
      (operation.name === "messages"
        ? messagesEvents<ProviderError>(provider.stream(operations.chat, deployment, messagesToChat(request as Wire.MessagesRequest)))
        : provider.stream(operation, deployment, request)) as Stream.Stream<Chunk, ProviderError>
  }
}
