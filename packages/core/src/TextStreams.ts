/**
 * The stream rules of the three text operations, as data: what text a chunk adds, how to ask another
 * deployment for the rest of a broken reply, and how to fit the continuation's chunks onto what was sent.
 */
import { type Usage, usageFromWire } from "./Usage.ts"
import type * as Wire from "./Wire.ts"

/** How a continuation request is phrased for the deployment that will receive it. */
export interface ContinuationOptions {
  /** The target continues a trailing assistant message by itself. */
  readonly prefill: boolean
  /** Appended as a user message when the target cannot prefill; `null` turns it off. */
  readonly instruction: string | null
}

/**
 * The identity a client saw first: a continuation's chunks are rewritten to it, so the client sees one
 * reply (one id, one creation time, sequence numbers that only go up). Mutable: the splicer owns it.
 */
export interface StreamIdentity {
  id?: string
  created?: number
  /** The model the client was told first (a continuation's deployment may name another). */
  model?: string
  /** Where the text sits in the output (Responses API). */
  outputIndex?: number
  contentIndex?: number
  /** The output item the text belongs to (Responses API). */
  itemId?: string
  /** The last sequence number sent (Responses API); -1 before the first. */
  sequence: number
}

/** Notes the `id`, `created` and `model` of the first chunk that has them (chat and completion chunks). */
const noteIdCreated = (
  identity: StreamIdentity,
  chunk: { readonly id?: unknown; readonly created?: unknown; readonly model?: unknown }
): void => {
  if (identity.id === undefined && typeof chunk.id === "string") identity.id = chunk.id
  if (identity.created === undefined && typeof chunk.created === "number") identity.created = chunk.created
  if (identity.model === undefined && typeof chunk.model === "string") identity.model = chunk.model
}

/** The same chunk under the `id`, `created` and `model` the client already has. */
const withIdCreated = <C extends { readonly id: string; readonly created?: number | undefined; readonly model?: string | undefined }>(
  chunk: C,
  identity: StreamIdentity
): C => {
  const id = identity.id ?? chunk.id
  const created = identity.created === undefined || chunk.created === undefined ? chunk.created : identity.created
  const model = identity.model === undefined || chunk.model === undefined ? chunk.model : identity.model
  return id === chunk.id && created === chunk.created && model === chunk.model
    ? chunk
    : { ...chunk, id, ...(created === undefined ? {} : { created }), ...(model === undefined ? {} : { model }) }
}

/** The default continuation instruction, for targets without assistant prefill. */
export const defaultContinuationPrompt =
  "Your previous reply was cut off. Continue it exactly where it stopped, without repeating anything."

const toWireUsage = (usage: Usage) => ({
  prompt_tokens: usage.promptTokens,
  completion_tokens: usage.completionTokens,
  total_tokens: usage.totalTokens,
  ...(usage.estimated ? { estimated: true } : {})
})

/** Chat and completion streams report usage only under `stream_options.include_usage`. */
const usageAsked = (request: { readonly [key: string]: unknown }): boolean => {
  const options = request.stream_options
  return typeof options === "object" && options !== null && (options as { include_usage?: unknown }).include_usage === true
}

/** A chunk without its usage; the usage-only last chunk (no choices) goes entirely. */
const withoutUsage = <C extends { readonly choices: ReadonlyArray<unknown>; readonly usage?: unknown }>(chunk: C): C | undefined => {
  if (chunk.choices.length === 0) return undefined
  const { usage: _, ...rest } = chunk
  return rest as unknown as C
}

/** Messages that carry the partial reply, then the instruction when the target needs one. */
const continuationMessages = (partial: string, options: ContinuationOptions) => [
  { role: "assistant" as const, content: partial },
  ...(options.prefill || options.instruction === null ? [] : [{ role: "user" as const, content: options.instruction }])
]

// ---------------------------------------------------------------------------------------------- chat

const chatDelta = (chunk: Wire.ChatChunk) => chunk.choices[0]?.delta

export const chatStream = {
  text: (chunk: Wire.ChatChunk): string => chatDelta(chunk)?.content ?? "",
  setText: (chunk: Wire.ChatChunk, text: string): Wire.ChatChunk => ({
    ...chunk,
    choices: chunk.choices.map((c, i) => (i === 0 ? { ...c, delta: { ...c.delta, content: text } } : c))
  }),
  usage: (chunk: Wire.ChatChunk) => usageFromWire(chunk.usage),
  withUsage: (chunk: Wire.ChatChunk, usage: Usage): Wire.ChatChunk => ({ ...chunk, usage: toWireUsage(usage) }),
  usageAsked: (request: Wire.ChatRequest): boolean => usageAsked(request),
  withoutUsage: (chunk: Wire.ChatChunk): Wire.ChatChunk | undefined => withoutUsage(chunk),
  continueWith: (request: Wire.ChatRequest, partial: string, options: ContinuationOptions): Wire.ChatRequest => ({
    ...request,
    messages: [...request.messages, ...continuationMessages(partial, options)]
  }),
  /** A continuation's role-only opening chunk would announce a second reply: drop it. */
  resumed: (chunk: Wire.ChatChunk): Wire.ChatChunk | undefined => {
    const choice = chunk.choices[0]
    const empty = choice === undefined
      ? chunk.usage == null
      : !choice.delta.content && !choice.delta.tool_calls && !choice.finish_reason
    return empty ? undefined : chunk
  },
  /** Tool-call argument deltas are held until the reply finishes, so a break never leaves half a call. */
  holds: (chunk: Wire.ChatChunk): boolean => {
    const choice = chunk.choices[0]
    return choice !== undefined && choice.delta.tool_calls !== undefined && !choice.finish_reason
  },
  noteIdentity: (identity: StreamIdentity, chunk: Wire.ChatChunk): void => noteIdCreated(identity, chunk),
  reidentify: (chunk: Wire.ChatChunk, identity: StreamIdentity): Wire.ChatChunk => withIdCreated(chunk, identity)
}

// ----------------------------------------------------------------------------------------- completion

export const completionStream = {
  text: (chunk: Wire.CompletionResponse): string => chunk.choices[0]?.text ?? "",
  setText: (chunk: Wire.CompletionResponse, text: string): Wire.CompletionResponse => ({
    ...chunk,
    choices: chunk.choices.map((c, i) => (i === 0 ? { ...c, text } : c))
  }),
  usage: (chunk: Wire.CompletionResponse) => usageFromWire(chunk.usage),
  withUsage: (chunk: Wire.CompletionResponse, usage: Usage): Wire.CompletionResponse => ({
    ...chunk,
    usage: toWireUsage(usage)
  }),
  usageAsked: (request: Wire.CompletionRequest): boolean => usageAsked(request),
  withoutUsage: (chunk: Wire.CompletionResponse): Wire.CompletionResponse | undefined => withoutUsage(chunk),
  continueWith: (request: Wire.CompletionRequest, partial: string): Wire.CompletionRequest => ({
    ...request,
    prompt: typeof request.prompt === "string" ? request.prompt + partial : request.prompt.map((p) => p + partial)
  }),
  resumed: (chunk: Wire.CompletionResponse): Wire.CompletionResponse | undefined => chunk,
  holds: (): boolean => false,
  noteIdentity: (identity: StreamIdentity, chunk: Wire.CompletionResponse): void => noteIdCreated(identity, chunk),
  reidentify: (chunk: Wire.CompletionResponse, identity: StreamIdentity): Wire.CompletionResponse =>
    withIdCreated(chunk, identity)
}

// ------------------------------------------------------------------------------------------ responses

/** Events that open a response; a continuation's copies of them are dropped. */
const openingEvents = new Set([
  "response.created",
  "response.in_progress",
  "response.output_item.added",
  "response.content_part.added"
])

/** Rewrites every `output_text` text inside a value to the full text the client has seen. */
const withFullText = (value: unknown, full: string): unknown => {
  if (Array.isArray(value)) return value.map((v) => withFullText(v, full))
  if (typeof value !== "object" || value === null) return value
  const record = value as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(record)) out[k] = withFullText(v, full)
  if (record.type === "output_text" && typeof record.text === "string") out.text = full
  return out
}

const inputItems = (input: Wire.ResponsesRequest["input"]): ReadonlyArray<unknown> =>
  typeof input === "string" ? [{ role: "user", content: input }] : input

export const responsesStream = {
  text: (event: Wire.ResponsesEvent): string =>
    event.type === "response.output_text.delta" && typeof event.delta === "string" ? event.delta : "",
  setText: (event: Wire.ResponsesEvent, text: string): Wire.ResponsesEvent => ({ ...event, delta: text }),
  usage: (event: Wire.ResponsesEvent) =>
    event.type === "response.completed" && typeof event.response === "object" && event.response !== null
      ? usageFromWire((event.response as { readonly usage?: unknown }).usage)
      : undefined,
  withUsage: (event: Wire.ResponsesEvent, usage: Usage): Wire.ResponsesEvent => ({
    ...event,
    response: {
      ...(event.response as object),
      usage: {
        input_tokens: usage.promptTokens,
        output_tokens: usage.completionTokens,
        total_tokens: usage.totalTokens,
        ...(usage.estimated ? { estimated: true } : {})
      }
    }
  }),
  continueWith: (request: Wire.ResponsesRequest, partial: string, options: ContinuationOptions): Wire.ResponsesRequest => ({
    ...request,
    input: [...inputItems(request.input), ...continuationMessages(partial, options)]
  }),
  /** Drops the continuation's opening events and makes its closing events carry the whole text. */
  resumed: (event: Wire.ResponsesEvent, sent: string): Wire.ResponsesEvent | undefined => {
    if (openingEvents.has(event.type)) return undefined
    if (event.type === "response.output_text.done") return { ...event, text: sent }
    return event.type.endsWith(".done") || event.type === "response.completed"
      ? withFullText(event, sent) as Wire.ResponsesEvent
      : event
  },
  holds: (): boolean => false,
  /** Notes the response id, the output item id and the last sequence number the client saw. */
  noteIdentity: (identity: StreamIdentity, event: Wire.ResponsesEvent): void => {
    const e = event as ResponsesIds
    if (typeof e.sequence_number === "number" && e.sequence_number > identity.sequence) identity.sequence = e.sequence_number
    if (identity.id === undefined && typeof e.response?.id === "string") identity.id = e.response.id
    if (identity.model === undefined && typeof e.response?.model === "string") identity.model = e.response.model
    if (identity.created === undefined && typeof e.response?.created_at === "number") identity.created = e.response.created_at
    if (identity.outputIndex === undefined && typeof e.output_index === "number") identity.outputIndex = e.output_index
    if (identity.contentIndex === undefined && typeof e.content_index === "number") identity.contentIndex = e.content_index
    const item = typeof e.item_id === "string" ? e.item_id : e.item?.id
    if (identity.itemId === undefined && typeof item === "string") identity.itemId = item
  },
  /** A continuation's event under the client's response and item ids, numbered after the last event sent. */
  reidentify: (event: Wire.ResponsesEvent, identity: StreamIdentity): Wire.ResponsesEvent => {
    const e = event as ResponsesIds
    const out: Record<string, unknown> = { ...event }
    if (typeof e.sequence_number === "number") out.sequence_number = ++identity.sequence
    if (typeof e.item_id === "string" && identity.itemId !== undefined) out.item_id = identity.itemId
    if (typeof e.item?.id === "string" && identity.itemId !== undefined) out.item = { ...e.item, id: identity.itemId }
    if (typeof e.output_index === "number" && identity.outputIndex !== undefined) out.output_index = identity.outputIndex
    if (typeof e.content_index === "number" && identity.contentIndex !== undefined) out.content_index = identity.contentIndex
    if (typeof e.response === "object" && e.response !== null) out.response = responseUnder(e.response, identity)
    return out as Wire.ResponsesEvent
  }
}

/** The identity fields a Responses API event may carry. */
interface ResponsesIds {
  readonly sequence_number?: unknown
  readonly item_id?: unknown
  readonly output_index?: unknown
  readonly content_index?: unknown
  readonly item?: { readonly id?: unknown }
  readonly response?: { readonly id?: unknown; readonly model?: unknown; readonly created_at?: unknown }
}

/** A continuation's response object under the id, model and creation time the client saw first. */
const responseUnder = (response: NonNullable<ResponsesIds["response"]>, identity: StreamIdentity) => ({
  ...response,
  ...(identity.id === undefined ? {} : { id: identity.id }),
  ...(identity.model === undefined || response.model === undefined ? {} : { model: identity.model }),
  ...(identity.created === undefined || response.created_at === undefined ? {} : { created_at: identity.created })
})
