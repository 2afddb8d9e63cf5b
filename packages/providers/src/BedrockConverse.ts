/**
 * Translation between OpenAI chat and Bedrock's Converse API, as pure functions: the request (system,
 * turns, images, tools, tool results, `inferenceConfig`), the complete reply, and the ConverseStream
 * events as chat chunks (a step function for `Stream.mapAccum`).
 */
import { BadRequest, type Wire } from "@switchyard/core"
import { Result } from "effect"
import { contentText, defaultMaxTokens, finishReason, stripRepeated } from "./AnthropicTranslate.ts"
import { chatCompletion, parseArguments } from "./ChatCompletion.ts"

type Json = Record<string, unknown>
const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
const num = (u: unknown): number => (typeof u === "number" ? u : 0)

const imageFormats = new Set(["png", "jpeg", "gif", "webp"])

/** An OpenAI `image_url` part as a Converse image block; Converse takes bytes only, so the image must be a data URL. */
const imageBlock = (part: Json): Result.Result<Json, BadRequest> => {
  const url = isRecord(part.image_url) ? String(part.image_url.url ?? "") : String(part.image_url ?? "")
  const inline = /^data:image\/([a-z]+);base64,(.*)$/s.exec(url)
  const format = inline?.[1] === "jpg" ? "jpeg" : inline?.[1]
  if (inline === null || format === undefined || !imageFormats.has(format)) {
    return Result.fail(new BadRequest({ message: "bedrock converse takes images as base64 data URLs (png, jpeg, gif or webp)" }))
  }
  return Result.succeed({ image: { format, source: { bytes: inline[2] } } })
}

/** User or assistant content as Converse blocks. */
const contentBlocks = (content: unknown): Result.Result<Array<Json>, BadRequest> => {
  if (typeof content === "string") return Result.succeed(content === "" ? [] : [{ text: content }])
  if (!Array.isArray(content)) return Result.succeed([])
  const out: Array<Json> = []
  for (const part of content) {
    if (!isRecord(part)) continue
    if (part.type === "text" && typeof part.text === "string" && part.text !== "") out.push({ text: part.text })
    else if (part.type === "image_url") {
      const image = imageBlock(part)
      if (Result.isFailure(image)) return Result.fail(image.failure)
      out.push(image.success)
    }
  }
  return Result.succeed(out)
}

interface Turn {
  readonly role: "user" | "assistant"
  readonly content: Array<Json>
}

/** One OpenAI message as a Converse turn: tool results are user turns, tool calls assistant `toolUse` blocks. */
const toTurn = (message: Wire.ChatMessage): Result.Result<Turn, BadRequest> => {
  if (message.role === "tool" || message.role === "function") {
    const toolUseId = String(message.tool_call_id ?? message.name ?? "")
    return Result.succeed({ role: "user", content: [{ toolResult: { toolUseId, content: [{ text: contentText(message.content) }] } }] })
  }
  return Result.map(contentBlocks(message.content), (blocks): Turn => {
    if (message.role !== "assistant") return { role: "user", content: blocks }
    const calls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isRecord) : []
    const uses = calls.map((call) => {
      const fn = isRecord(call.function) ? call.function : {}
      return { toolUse: { toolUseId: call.id, name: fn.name, input: parseArguments(fn.arguments) } }
    })
    return { role: "assistant", content: [...blocks, ...uses] }
  })
}

/** Converse wants alternating turns: consecutive turns of one role become one; a trailing prefill loses its end whitespace. */
const mergeTurns = (turns: ReadonlyArray<Turn>): Array<Turn> => {
  const merged = turns.reduce<Array<Turn>>((acc, turn) => {
    const last = acc[acc.length - 1]
    if (last !== undefined && last.role === turn.role) last.content.push(...turn.content)
    else acc.push({ role: turn.role, content: [...turn.content] })
    return acc
  }, [])
  const last = merged[merged.length - 1]
  const tail = last?.role === "assistant" ? last.content[last.content.length - 1] : undefined
  if (tail !== undefined && typeof tail.text === "string") {
    const text = tail.text.trimEnd()
    if (text === "") last!.content.pop()
    else last!.content[last!.content.length - 1] = { text }
  }
  return merged.filter((t) => t.content.length > 0)
}

const toToolConfig = (request: Wire.ChatRequest): Json | undefined => {
  const tools = Array.isArray(request.tools) ? request.tools.filter(isRecord) : []
  if (tools.length === 0) return undefined
  const specs = tools.map((tool) => {
    const fn = isRecord(tool.function) ? tool.function : tool
    return {
      toolSpec: {
        name: fn.name,
        ...(fn.description === undefined ? {} : { description: fn.description }),
        inputSchema: { json: fn.parameters ?? { type: "object", properties: {} } }
      }
    }
  })
  const choice = request.tool_choice
  const toolChoice = choice === "required"
    ? { any: {} }
    : isRecord(choice) && isRecord(choice.function)
    ? { tool: { name: choice.function.name } }
    : choice === "auto"
    ? { auto: {} }
    : undefined
  return { tools: specs, ...(toolChoice === undefined ? {} : { toolChoice }) }
}

const defined = (o: Json): Json => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null))

/** Translates an OpenAI chat request into a Converse request body (the model is in the URL). */
export const toConverseRequest = (request: Wire.ChatRequest): Result.Result<Json, BadRequest> => {
  const system = request.messages
    .filter((m) => m.role === "system" || m.role === "developer")
    .map((m) => contentText(m.content))
    .filter((text) => text !== "")
  const turns: Array<Turn> = []
  for (const message of request.messages) {
    if (message.role === "system" || message.role === "developer") continue
    const turn = toTurn(message)
    if (Result.isFailure(turn)) return Result.fail(turn.failure)
    turns.push(turn.success)
  }
  const stop = request.stop
  const inferenceConfig = defined({
    maxTokens: request.max_tokens ?? request.max_completion_tokens ?? defaultMaxTokens,
    temperature: request.temperature,
    topP: request.top_p,
    stopSequences: typeof stop === "string" ? [stop] : Array.isArray(stop) ? stop : undefined
  })
  return Result.succeed(defined({
    messages: mergeTurns(turns),
    system: system.length > 0 ? system.map((text) => ({ text })) : undefined,
    inferenceConfig,
    toolConfig: toToolConfig(request),
    additionalModelRequestFields: request.top_k === undefined ? undefined : { top_k: request.top_k }
  }))
}

/** Converse's `stopReason` as an OpenAI `finish_reason`; guardrail and content filters are `content_filter`. */
export const converseFinishReason = (stopReason: unknown): string | null =>
  stopReason === "guardrail_intervened" || stopReason === "content_filtered"
    ? "content_filter"
    : finishReason(typeof stopReason === "string" ? stopReason : undefined)

/** Converse usage as OpenAI usage: cache reads and writes are prompt tokens too, and reported apart. */
export const converseUsage = (usage: unknown): Json => {
  const u = isRecord(usage) ? usage : {}
  const read = num(u.cacheReadInputTokens)
  const write = num(u.cacheWriteInputTokens)
  const prompt = num(u.inputTokens) + read + write
  const completion = num(u.outputTokens)
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: read },
    cache_read_input_tokens: read,
    cache_creation_input_tokens: write
  }
}

/**
 * A complete Converse reply as an OpenAI chat completion. `prefill` is the whitespace cut from a trailing
 * assistant message (see `toConverseRequest`), which the reply repeats at its start and is cut from it again.
 */
export const fromConverseResponse = (reply: Json, id: string, model: string, createdSeconds: number, prefill = ""): Json => {
  const output = isRecord(reply.output) && isRecord(reply.output.message) ? reply.output.message : {}
  const blocks = Array.isArray(output.content) ? output.content.filter(isRecord) : []
  const text = stripRepeated(blocks.map((b) => (typeof b.text === "string" ? b.text : "")).join(""), prefill).text
  const toolCalls = blocks.filter((b) => isRecord(b.toolUse)).map((b) => {
    const use = b.toolUse as Json
    return { id: use.toolUseId, name: use.name, input: use.input }
  })
  return chatCompletion({
    id,
    created: createdSeconds,
    model,
    text,
    toolCalls,
    finishReason: converseFinishReason(reply.stopReason),
    usage: converseUsage(reply.usage)
  })
}

/** What the stream translation remembers between events. */
export interface ConverseStreamState {
  readonly id: string
  readonly model: string
  readonly created: number
  /** Whether a chunk has carried `role: "assistant"` yet. */
  readonly started: boolean
  /** Converse content-block index → OpenAI tool-call index, for the blocks that are tool calls. */
  readonly toolIndex: ReadonlyMap<number, number>
  /** Whitespace cut from the prefill that the reply may still repeat at its start. */
  readonly prefill: string
}

/** The state before the first event. */
export const initialConverseState = (id: string, model: string, created: number, prefill = ""): ConverseStreamState => ({
  id,
  model,
  created,
  started: false,
  toolIndex: new Map(),
  prefill
})

const chunkOf = (state: ConverseStreamState, choices: ReadonlyArray<Json>, extra: Json = {}): Json => ({
  id: state.id,
  object: "chat.completion.chunk",
  created: state.created,
  model: state.model,
  choices,
  ...extra
})

/** A delta chunk; the first one of a reply also carries the role (nothing is sent for `messageStart` alone). */
const delta = (state: ConverseStreamState, d: Json, finish: string | null = null): readonly [ConverseStreamState, Json] => [
  { ...state, started: true },
  chunkOf(state, [{ index: 0, delta: state.started ? d : { role: "assistant", ...d }, finish_reason: finish }])
]

/** One ConverseStream event's effect: the new state and the chat chunks it produces (often none). */
export const translateConverseEvent = (
  state: ConverseStreamState,
  event: { readonly eventType: string; readonly payload: unknown }
): readonly [ConverseStreamState, ReadonlyArray<Json>] => {
  const p = isRecord(event.payload) ? event.payload : {}
  const blockIndex = num(p.contentBlockIndex)
  switch (event.eventType) {
    case "contentBlockStart": {
      const use = isRecord(p.start) && isRecord(p.start.toolUse) ? p.start.toolUse : undefined
      if (use === undefined) return [state, []]
      const index = state.toolIndex.size
      const call = { index, id: use.toolUseId, type: "function", function: { name: use.name, arguments: "" } }
      const [next, chunk] = delta({ ...state, toolIndex: new Map([...state.toolIndex, [blockIndex, index]]) }, {
        tool_calls: [call]
      })
      return [next, [chunk]]
    }
    case "contentBlockDelta": {
      const d = isRecord(p.delta) ? p.delta : {}
      if (typeof d.text === "string") {
        const stripped = stripRepeated(d.text, state.prefill)
        const [next, chunk] = delta({ ...state, prefill: stripped.pending }, { content: stripped.text })
        return [next, [chunk]]
      }
      const index = state.toolIndex.get(blockIndex)
      if (isRecord(d.toolUse) && index !== undefined) {
        const [next, chunk] = delta(state, { tool_calls: [{ index, function: { arguments: String(d.toolUse.input ?? "") } }] })
        return [next, [chunk]]
      }
      // Reasoning deltas have no place in an OpenAI chat chunk.
      return [state, []]
    }
    case "messageStop": {
      const [next, chunk] = delta(state, {}, converseFinishReason(p.stopReason) ?? "stop")
      return [next, [chunk]]
    }
    case "metadata":
      // OpenAI sends usage as a last chunk with no choices.
      return [state, [chunkOf(state, [], { usage: converseUsage(p.usage) })]]
    default:
      // messageStart, contentBlockStop and event kinds added later carry nothing for the client.
      return [state, []]
  }
}
