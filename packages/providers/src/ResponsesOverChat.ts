/**
 * The Responses API over any chat-capable wire, as pure functions: a Responses request (input items,
 * instructions, tools, tool outputs) becomes a chat request, a chat reply becomes a Responses reply, and a
 * stream of chat chunks becomes the Responses event sequence (created, output_item.added,
 * content_part.added, output_text.delta, …, completed with the full output and usage). A provider that
 * speaks another wire (Anthropic, Gemini) translates to chat first and then through here.
 */
import type { Wire } from "@switchyard/core"
import { Stream } from "effect"

type Json = Record<string, unknown>

const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
const defined = (o: Json): Json => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null))

// ------------------------------------------------------------------------------------------- request

/** A Responses content part as a chat content part (text and images; unknown parts pass through). */
const chatPart = (part: unknown): unknown => {
  if (!isRecord(part)) return part
  switch (part.type) {
    case "input_text":
    case "output_text":
    case "text":
      return { type: "text", text: part.text }
    case "refusal":
      return { type: "text", text: part.refusal }
    case "input_image": {
      const url = typeof part.image_url === "string" ? part.image_url : isRecord(part.image_url) ? part.image_url.url : undefined
      return { type: "image_url", image_url: { url } }
    }
    default:
      return part
  }
}

const chatContent = (content: unknown): unknown => (Array.isArray(content) ? content.map(chatPart) : content ?? "")

const toolCallOf = (item: Json) => ({
  id: item.call_id ?? item.id,
  type: "function",
  function: { name: item.name, arguments: typeof item.arguments === "string" ? item.arguments : JSON.stringify(item.arguments ?? {}) }
})

/** Input items as chat messages; consecutive function calls join one assistant message, as chat has them. */
const chatMessages = (input: Wire.ResponsesRequest["input"]): Array<Json> => {
  if (typeof input === "string") return [{ role: "user", content: input }]
  const messages: Array<Json> = []
  for (const item of input) {
    if (!isRecord(item)) continue
    if (item.type === "function_call") {
      const last = messages[messages.length - 1]
      if (last?.role === "assistant" && Array.isArray(last.tool_calls)) last.tool_calls = [...last.tool_calls, toolCallOf(item)]
      else messages.push({ role: "assistant", content: null, tool_calls: [toolCallOf(item)] })
    } else if (item.type === "function_call_output") {
      const output = typeof item.output === "string" ? item.output : JSON.stringify(item.output)
      messages.push({ role: "tool", tool_call_id: item.call_id, content: output })
    } else if ((item.type === undefined || item.type === "message") && typeof item.role === "string") {
      messages.push({ role: item.role, content: chatContent(item.content) })
    }
    // Reasoning items and item references have no chat form; the model does without them.
  }
  return messages
}

/** Responses function tools as chat tools (hosted tools such as web search have no chat form). */
const chatTools = (tools: unknown): Array<Json> | undefined => {
  if (!Array.isArray(tools)) return undefined
  const functions = tools.filter((t): t is Json => isRecord(t) && t.type === "function")
  return functions.length === 0 ? undefined : functions.map((t) => ({
    type: "function",
    function: defined({ name: t.name, description: t.description, parameters: t.parameters, strict: t.strict })
  }))
}

const chatToolChoice = (choice: unknown): unknown =>
  isRecord(choice) && choice.type === "function" ? { type: "function", function: { name: choice.name } } : choice

/** `text.format` as chat's `response_format`. */
const chatResponseFormat = (text: unknown): unknown => {
  const format = isRecord(text) ? text.format : undefined
  if (!isRecord(format) || format.type === "text") return undefined
  if (format.type === "json_schema") {
    return { type: "json_schema", json_schema: defined({ name: format.name, schema: format.schema, strict: format.strict }) }
  }
  return { type: format.type }
}

/** Translates a Responses request into the chat request that asks the same. */
export const responsesToChat = (request: Wire.ResponsesRequest): Wire.ChatRequest => {
  const instructions = typeof request.instructions === "string" && request.instructions !== ""
    ? [{ role: "system", content: request.instructions }]
    : []
  const tools = chatTools(request.tools)
  return defined({
    model: request.model,
    messages: [...instructions, ...chatMessages(request.input)],
    max_tokens: request.max_output_tokens,
    temperature: request.temperature,
    top_p: request.top_p,
    user: request.user,
    tools,
    tool_choice: tools === undefined ? undefined : chatToolChoice(request.tool_choice),
    parallel_tool_calls: tools === undefined ? undefined : request.parallel_tool_calls,
    response_format: chatResponseFormat(request.text),
    stream: request.stream
  }) as Wire.ChatRequest
}

/** The chat request a chat or responses request asks for; undefined for operations chat cannot serve. */
export const chatRequestOf = (operation: { readonly name: string }, request: unknown): Wire.ChatRequest | undefined =>
  operation.name === "chat"
    ? request as Wire.ChatRequest
    : operation.name === "responses"
    ? responsesToChat(request as Wire.ResponsesRequest)
    : undefined

// --------------------------------------------------------------------------------------------- reply

/** Chat usage as Responses usage. */
export const responsesUsage = (usage: unknown): Json | undefined => {
  if (!isRecord(usage)) return undefined
  const input = typeof usage.prompt_tokens === "number" ? usage.prompt_tokens : 0
  const output = typeof usage.completion_tokens === "number" ? usage.completion_tokens : 0
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: typeof usage.total_tokens === "number" ? usage.total_tokens : input + output
  }
}

const messageItem = (id: string, text: string, status: string) => ({
  id,
  type: "message",
  status,
  role: "assistant",
  content: status === "in_progress" ? [] : [{ type: "output_text", text, annotations: [] }]
})

const functionCallItem = (id: string, callId: unknown, name: unknown, args: string, status: string) => ({
  id,
  type: "function_call",
  status,
  call_id: callId,
  name,
  arguments: args
})

/** How a finish reason ends a response: `completed`, or `incomplete` with the reason. */
const ending = (finish: string | null | undefined) =>
  finish === "length"
    ? { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } }
    : finish === "content_filter"
    ? { status: "incomplete", incomplete_details: { reason: "content_filter" } }
    : { status: "completed", incomplete_details: null }

const responseOf = (id: string, model: unknown, created: number, fields: Json): Json => ({
  id,
  object: "response",
  created_at: created,
  model,
  error: null,
  ...fields
})

/** Translates a complete chat reply into a Responses reply. */
export const chatToResponse = (reply: Wire.ChatResponse, createdSeconds: number): Json => {
  const choice = reply.choices[0]
  const text = choice?.message.content ?? ""
  const calls = (choice?.message.tool_calls ?? []).filter(isRecord)
  const output = [
    ...(text === "" && calls.length > 0 ? [] : [messageItem(`msg_${reply.id}`, text, "completed")]),
    ...calls.map((call, i) => {
      const fn = isRecord(call.function) ? call.function : {}
      return functionCallItem(`fc_${reply.id}_${i}`, call.id, fn.name, String(fn.arguments ?? ""), "completed")
    })
  ]
  return responseOf(`resp_${reply.id}`, reply.model, createdSeconds, {
    ...ending(choice?.finish_reason),
    output,
    usage: responsesUsage(reply.usage) ?? null
  })
}

// -------------------------------------------------------------------------------------------- stream

interface OpenCall {
  readonly outputIndex: number
  readonly id: string
  readonly callId: unknown
  readonly name: unknown
  args: string
}

/** What the stream translation remembers between chunks. Mutable: each subscription gets its own. */
export interface ResponsesStreamState {
  readonly created: number
  id: string
  model: unknown
  sequence: number
  started: boolean
  nextOutput: number
  message: { readonly outputIndex: number; readonly id: string; text: string } | undefined
  readonly calls: Map<number, OpenCall>
  readonly done: Array<{ readonly outputIndex: number; readonly item: Json }>
  finish: string | null | undefined
  usage: unknown
}

/** The state before the first chunk. */
export const initialResponsesState = (createdSeconds: number): ResponsesStreamState => ({
  created: createdSeconds,
  id: "",
  model: undefined,
  sequence: 0,
  started: false,
  nextOutput: 0,
  message: undefined,
  calls: new Map(),
  done: [],
  finish: undefined,
  usage: undefined
})

const event = (state: ResponsesStreamState, type: string, fields: Json): Json => ({
  type,
  sequence_number: state.sequence++,
  ...fields
})

const inProgress = (state: ResponsesStreamState) =>
  responseOf(`resp_${state.id}`, state.model, state.created, { status: "in_progress", output: [], usage: null })

/** Closes the open message: its text, part and item are done. */
const closeMessage = (state: ResponsesStreamState): Array<Json> => {
  const m = state.message
  if (m === undefined) return []
  state.message = undefined
  const at = { item_id: m.id, output_index: m.outputIndex, content_index: 0 }
  const item = messageItem(m.id, m.text, "completed")
  state.done.push({ outputIndex: m.outputIndex, item })
  return [
    event(state, "response.output_text.done", { ...at, text: m.text, logprobs: [] }),
    event(state, "response.content_part.done", { ...at, part: { type: "output_text", text: m.text, annotations: [] } }),
    event(state, "response.output_item.done", { output_index: m.outputIndex, item })
  ]
}

const textEvents = (state: ResponsesStreamState, delta: string): Array<Json> => {
  const out: Array<Json> = []
  if (state.message === undefined) {
    state.message = { outputIndex: state.nextOutput++, id: `msg_${state.id}`, text: "" }
    const m = state.message
    out.push(
      event(state, "response.output_item.added", { output_index: m.outputIndex, item: messageItem(m.id, "", "in_progress") }),
      event(state, "response.content_part.added", {
        item_id: m.id,
        output_index: m.outputIndex,
        content_index: 0,
        part: { type: "output_text", text: "", annotations: [] }
      })
    )
  }
  const m = state.message
  m.text += delta
  out.push(event(state, "response.output_text.delta", { item_id: m.id, output_index: m.outputIndex, content_index: 0, delta, logprobs: [] }))
  return out
}

const toolEvents = (state: ResponsesStreamState, delta: Json): Array<Json> => {
  const index = typeof delta.index === "number" ? delta.index : 0
  const fn = isRecord(delta.function) ? delta.function : {}
  const out: Array<Json> = []
  let call = state.calls.get(index)
  if (call === undefined) {
    out.push(...closeMessage(state))
    call = { outputIndex: state.nextOutput++, id: `fc_${state.id}_${index}`, callId: delta.id, name: fn.name, args: "" }
    state.calls.set(index, call)
    out.push(event(state, "response.output_item.added", {
      output_index: call.outputIndex,
      item: functionCallItem(call.id, call.callId, call.name, "", "in_progress")
    }))
  }
  const args = typeof fn.arguments === "string" ? fn.arguments : ""
  if (args !== "") {
    call.args += args
    out.push(event(state, "response.function_call_arguments.delta", { item_id: call.id, output_index: call.outputIndex, delta: args }))
  }
  return out
}

/** One chat chunk's Responses events (the opening events come with the first chunk). */
export const chunkToResponses = (state: ResponsesStreamState, chunk: Wire.ChatChunk): readonly [ResponsesStreamState, ReadonlyArray<Json>] => {
  const out: Array<Json> = []
  if (!state.started) {
    state.started = true
    state.id = chunk.id
    state.model = chunk.model
    out.push(event(state, "response.created", { response: inProgress(state) }), event(state, "response.in_progress", { response: inProgress(state) }))
  }
  const choice = chunk.choices[0]
  const content = choice?.delta.content
  if (typeof content === "string" && content !== "") out.push(...textEvents(state, content))
  for (const call of choice?.delta.tool_calls ?? []) out.push(...toolEvents(state, call))
  if (choice?.finish_reason) state.finish = choice.finish_reason
  if (chunk.usage != null) state.usage = chunk.usage
  return [state, out]
}

/** The events that close a finished stream: open items are done, then the response with its output and usage. */
export const finishResponses = (state: ResponsesStreamState): ReadonlyArray<Json> => {
  // Only a reply that said it finished is closed: a stream that broke must not look complete.
  if (!state.started || state.finish === undefined) return []
  const out = closeMessage(state)
  for (const call of state.calls.values()) {
    const item = functionCallItem(call.id, call.callId, call.name, call.args, "completed")
    state.done.push({ outputIndex: call.outputIndex, item })
    out.push(
      event(state, "response.function_call_arguments.done", { item_id: call.id, output_index: call.outputIndex, arguments: call.args }),
      event(state, "response.output_item.done", { output_index: call.outputIndex, item })
    )
  }
  const end = ending(state.finish)
  const output = [...state.done].sort((a, b) => a.outputIndex - b.outputIndex).map((d) => d.item)
  const response = responseOf(`resp_${state.id}`, state.model, state.created, { ...end, output, usage: responsesUsage(state.usage) ?? null })
  out.push(event(state, end.status === "completed" ? "response.completed" : "response.incomplete", { response }))
  return out
}

/** A stream of chat chunks as the Responses events that say the same, closed when the chunks end. */
export const responsesEvents = <E>(createdSeconds: number) => (chunks: Stream.Stream<unknown, E>): Stream.Stream<Json, E> =>
  Stream.mapAccum(
    chunks,
    () => initialResponsesState(createdSeconds),
    (state, chunk) => chunkToResponses(state, chunk as Wire.ChatChunk),
    { onHalt: finishResponses }
  )
