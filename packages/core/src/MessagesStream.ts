/**
 * The stream rules of the Anthropic Messages operation, in its event grammar: one `message_start`, content
 * blocks by index, one `message_delta` with the usage and one `message_stop`. A continuation's events are
 * fitted onto what the client has: its `message_start` becomes a `ping`, its first text block continues
 * the client's open text block (or its blocks are numbered after the client's), and blocks whose pieces
 * only mean something whole (tool calls, signed thinking) are held until their `content_block_stop`.
 */
import type { ContinuationOptions, StreamIdentity } from "./TextStreams.ts"
import { type Usage, usageFromWire } from "./Usage.ts"
import type * as Wire from "./Wire.ts"

type Json = Record<string, unknown>
const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** What the client has been shown of the content blocks. Mutable: one per stream, owned by its splicer. */
interface Blocks {
  /** How many block indexes the client has seen: a continuation's blocks are numbered from here. */
  shown: number
  /** The client's index of the text block that was started and not stopped, if any. */
  openText: number | undefined
  /** Client index minus continuation index, once the current continuation's first block arrived. */
  offset: number | undefined
}

// The block bookkeeping rides on the splicer's identity object, so the shared identity shape stays as it is.
const blocksByIdentity = new WeakMap<StreamIdentity, Blocks>()
const blocksOf = (identity: StreamIdentity): Blocks => {
  let blocks = blocksByIdentity.get(identity)
  if (blocks === undefined) {
    blocks = { shown: 0, openText: undefined, offset: undefined }
    blocksByIdentity.set(identity, blocks)
  }
  return blocks
}

const blockType = (event: Wire.MessagesEvent): unknown =>
  isRecord(event.content_block) ? event.content_block.type : undefined
const deltaOf = (event: Wire.MessagesEvent): Json | undefined => (isRecord(event.delta) ? event.delta : undefined)

/** Blocks whose pieces only mean something whole: a tool call's input JSON, a signed thinking block. */
const wholeBlocks = new Set(["tool_use", "server_tool_use", "thinking", "redacted_thinking"])
const wholeDeltas = new Set(["input_json_delta", "thinking_delta", "signature_delta"])

/** Records a block event the client is shown (with the client's index). A held block counts once it stops. */
const note = (blocks: Blocks, event: Wire.MessagesEvent): void => {
  const index = event.index
  if (index === undefined) return
  if (event.type === "content_block_start") {
    const type = blockType(event)
    if (!wholeBlocks.has(type as string)) blocks.shown = Math.max(blocks.shown, index + 1)
    if (type === "text") blocks.openText = index
  } else if (event.type === "content_block_stop") {
    blocks.shown = Math.max(blocks.shown, index + 1)
    if (blocks.openText === index) blocks.openText = undefined
  }
}

const ping: Wire.MessagesEvent = { type: "ping" }

/** The partial reply as an assistant turn; a client's own trailing prefill turn is extended instead. */
const withPartial = (turns: ReadonlyArray<Wire.MessagesTurn>, partial: string): Array<Wire.MessagesTurn> => {
  const last = turns[turns.length - 1]
  if (last?.role !== "assistant") return [...turns, { role: "assistant", content: partial }]
  const content = typeof last.content === "string"
    ? last.content + partial
    : [...last.content, { type: "text", text: partial }]
  return [...turns.slice(0, -1), { ...last, content }]
}

export const messagesStream = {
  text: (event: Wire.MessagesEvent): string => {
    const delta = event.type === "content_block_delta" ? deltaOf(event) : undefined
    return delta?.type === "text_delta" && typeof delta.text === "string" ? delta.text : ""
  },
  setText: (event: Wire.MessagesEvent, text: string): Wire.MessagesEvent => ({ ...event, delta: { ...deltaOf(event), text } }),
  /** `message_delta` reports the reply's usage; `message_start`'s is only a first guess of the output. */
  usage: (event: Wire.MessagesEvent): Usage | undefined =>
    event.type === "message_delta" ? usageFromWire(event.usage) : undefined,
  withUsage: (event: Wire.MessagesEvent, usage: Usage): Wire.MessagesEvent => ({
    ...event,
    usage: { ...event.usage, input_tokens: usage.promptTokens, output_tokens: usage.completionTokens }
  }),
  continueWith: (request: Wire.MessagesRequest, partial: string, options: ContinuationOptions): Wire.MessagesRequest => ({
    ...request,
    messages: [
      ...withPartial(request.messages, partial),
      ...(options.prefill || options.instruction === null ? [] : [{ role: "user" as const, content: options.instruction }])
    ]
  }),
  /** The fitting needs the block bookkeeping, so it happens in `reidentify`. */
  resumed: (event: Wire.MessagesEvent): Wire.MessagesEvent | undefined => event,
  /** A ping is held too: sent on, it would release a whole block's held start before the block is complete. */
  holds: (event: Wire.MessagesEvent): boolean =>
    event.type === "ping" ||
    (event.type === "content_block_start"
      ? wholeBlocks.has(blockType(event) as string)
      : event.type === "content_block_delta" && wholeDeltas.has(deltaOf(event)?.type as string)),
  noteIdentity: (identity: StreamIdentity, event: Wire.MessagesEvent): void => {
    if (event.type === "message_start" && identity.id === undefined && isRecord(event.message)) {
      const id = event.message.id
      if (typeof id === "string") identity.id = id
    }
    note(blocksOf(identity), event)
  },
  /** A continuation's event as part of the client's message: one `message_start`, block indexes continued. */
  reidentify: (event: Wire.MessagesEvent, identity: StreamIdentity): Wire.MessagesEvent => {
    const blocks = blocksOf(identity)
    if (event.type === "message_start") {
      blocks.offset = undefined
      return ping
    }
    const index = event.index
    if (index === undefined) return event
    if (blocks.offset === undefined) {
      // The continuation's first block: text goes on in the client's open text block; anything else follows it.
      const merges = event.type === "content_block_start" && blockType(event) === "text" && blocks.openText !== undefined
      blocks.offset = (merges ? blocks.openText! : blocks.shown) - index
      if (merges) return ping
    }
    const out = blocks.offset === 0 ? event : { ...event, index: index + blocks.offset }
    note(blocks, out)
    return out
  }
}
