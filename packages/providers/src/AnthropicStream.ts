/**
 * Anthropic stream events as OpenAI chat chunks. The translation is a pure step function over a small
 * state (message id, model, prompt usage, which content blocks are tool calls) for `Stream.mapAccum`.
 */
import type { AnthropicEvent, AnthropicUsage } from "./AnthropicWire.ts"
import { finishReason, stripRepeated, toOpenAiUsage } from "./AnthropicTranslate.ts"

/** What the translation remembers between events. */
export interface StreamState {
  readonly id: string
  readonly model: string | undefined
  readonly created: number
  readonly promptUsage: AnthropicUsage | undefined
  /** Anthropic content-block index → OpenAI tool-call index, for the blocks that are tool calls. */
  readonly toolIndex: ReadonlyMap<number, number>
  /** Whitespace cut from the prefill that the reply may still repeat at its start. */
  readonly prefill: string
}

/** The state before `message_start`; `prefill` is the whitespace cut from the request's prefill. */
export const initialStreamState = (createdSeconds: number, prefill = ""): StreamState => ({
  id: "",
  model: undefined,
  created: createdSeconds,
  promptUsage: undefined,
  toolIndex: new Map(),
  prefill
})

type Json = Record<string, unknown>

const chunk = (state: StreamState, choices: ReadonlyArray<Json>, extra: Json = {}): Json => ({
  id: state.id,
  object: "chat.completion.chunk",
  created: state.created,
  ...(state.model === undefined ? {} : { model: state.model }),
  choices,
  ...extra
})

const delta = (state: StreamState, d: Json, finish: string | null = null): Json =>
  chunk(state, [{ index: 0, delta: d, finish_reason: finish }])

/** A text delta, minus the prefill whitespace it repeats. */
const text = (state: StreamState, content: string): readonly [StreamState, ReadonlyArray<Json>] => {
  if (state.prefill === "") return [state, [delta(state, { content })]]
  const stripped = stripRepeated(content, state.prefill)
  return [{ ...state, prefill: stripped.pending }, [delta(state, { content: stripped.text })]]
}

/** One event's effect: the new state and the chat chunks it produces (often none). */
export const translateEvent = (state: StreamState, event: AnthropicEvent): readonly [StreamState, ReadonlyArray<Json>] => {
  switch (event.type) {
    case "message_start": {
      const message = event.message
      const next = { ...state, id: message?.id ?? state.id, model: message?.model ?? state.model, promptUsage: message?.usage }
      return [next, [delta(next, { role: "assistant", content: "" })]]
    }
    case "content_block_start": {
      const block = event.content_block
      if (block?.type === "tool_use" && event.index !== undefined) {
        const index = state.toolIndex.size
        const next = { ...state, toolIndex: new Map([...state.toolIndex, [event.index, index]]) }
        const call = { index, id: block.id, type: "function", function: { name: block.name, arguments: "" } }
        return [next, [delta(next, { tool_calls: [call] })]]
      }
      // A text block may open with text already in it.
      return block?.type === "text" && block.text ? text(state, block.text) : [state, []]
    }
    case "content_block_delta": {
      const d = event.delta
      if (d?.type === "text_delta" && d.text !== undefined) return text(state, d.text)
      const index = event.index === undefined ? undefined : state.toolIndex.get(event.index)
      if (d?.type === "input_json_delta" && index !== undefined) {
        return [state, [delta(state, { tool_calls: [{ index, function: { arguments: d.partial_json ?? "" } }] })]]
      }
      // Thinking and signature deltas have no place in an OpenAI chat chunk.
      return [state, []]
    }
    case "message_delta": {
      const finish = delta(state, {}, finishReason(event.delta?.stop_reason) ?? "stop")
      // OpenAI sends usage as a last chunk with no choices; `output_tokens` here is the running total.
      const usage = chunk(state, [], { usage: toOpenAiUsage(state.promptUsage, event.usage) })
      return [state, [finish, usage]]
    }
    default:
      // ping, content_block_stop, message_stop and event kinds added later carry nothing for the client.
      return [state, []]
  }
}
