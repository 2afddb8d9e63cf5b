/**
 * The Messages API passed through to an Anthropic-shaped upstream (Anthropic, Claude on Vertex AI): the
 * body goes as the client sent it, with the deployment's model, and the events come back as they are. Two
 * repairs keep a continued stream exact: a trailing prefill loses the whitespace Claude rejects (and the
 * reply's repeat of it is cut), and `message_delta` carries the prompt tokens `message_start` reported.
 */
import type { Wire } from "@switchyard/core"
import { stripRepeated } from "./AnthropicTranslate.ts"

type Json = Record<string, unknown>
const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** The turns with a trailing assistant turn's text trimmed at the end, and the whitespace that was cut. */
const trimPrefill = (turns: ReadonlyArray<Wire.MessagesTurn>): { readonly turns: ReadonlyArray<Wire.MessagesTurn>; readonly cut: string } => {
  const last = turns[turns.length - 1]
  if (last?.role !== "assistant") return { turns, cut: "" }
  const blocks = typeof last.content === "string" ? undefined : last.content
  const tail = blocks === undefined ? last.content : blocks[blocks.length - 1]
  const text = typeof tail === "string" ? tail : isRecord(tail) && tail.type === "text" && typeof tail.text === "string" ? tail.text : undefined
  if (text === undefined) return { turns, cut: "" }
  const cut = /\s*$/.exec(text)![0]
  if (cut === "") return { turns, cut }
  const trimmed = text.slice(0, text.length - cut.length)
  const content = blocks === undefined ? trimmed : [...blocks.slice(0, -1), { ...(tail as Json), text: trimmed }]
  return { turns: [...turns.slice(0, -1), { ...last, content }], cut }
}

/** The body sent upstream and the prefill whitespace the reply may repeat at its start. */
export const nativeMessagesBody = (request: Wire.MessagesRequest, model: string, stream: boolean) => {
  const { cut, turns } = trimPrefill(request.messages)
  return { body: { ...request, model, messages: turns, stream } as Json, prefill: cut }
}

/** A complete reply minus the prefill whitespace its first text block repeats. */
export const nativeMessagesReply = (reply: Wire.MessagesResponse, prefill: string): Wire.MessagesResponse => {
  const first = reply.content[0]
  if (prefill === "" || !isRecord(first) || typeof first.text !== "string") return reply
  return { ...reply, content: [{ ...first, text: stripRepeated(first.text, prefill).text }, ...reply.content.slice(1)] }
}

/** What the pass-through remembers between events. */
export interface NativeState {
  readonly prefill: string
  readonly promptUsage: Json | undefined
}

/** One upstream event as the client gets it. */
export const nativeEvent = (state: NativeState, event: Wire.MessagesEvent): readonly [NativeState, ReadonlyArray<Wire.MessagesEvent>] => {
  switch (event.type) {
    case "message_start": {
      const usage = isRecord(event.message) && isRecord(event.message.usage) ? event.message.usage : undefined
      return [{ ...state, promptUsage: usage }, [event]]
    }
    case "content_block_delta": {
      const delta = isRecord(event.delta) ? event.delta : undefined
      if (state.prefill === "" || delta?.type !== "text_delta" || typeof delta.text !== "string") return [state, [event]]
      const stripped = stripRepeated(delta.text, state.prefill)
      return [{ ...state, prefill: stripped.pending }, [{ ...event, delta: { ...delta, text: stripped.text } }]]
    }
    case "message_delta": {
      const prompt = state.promptUsage
      if (prompt === undefined || event.usage?.input_tokens != null) return [state, [event]]
      const { output_tokens: _first, ...input } = prompt
      return [state, [{ ...event, usage: { ...input, ...event.usage } }]]
    }
    default:
      return [state, [event]]
  }
}
