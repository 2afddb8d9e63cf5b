/**
 * The SSE frames of a streamed text reply in each vendor's format: OpenAI chat and completion chunks,
 * Responses API typed events, and Anthropic message events. Content frames carry one word each.
 */
import type { MockWire } from "./ReferenceText.ts"
import { wordChunks } from "./ReferenceText.ts"

/** What a streamed reply says. */
export interface StreamReplySpec {
  readonly wire: MockWire
  readonly operation: string
  readonly model: string
  readonly text: string
  readonly usage: { readonly prompt: number; readonly completion: number }
  /** Anthropic and OpenAI chat: answer with a call of this tool instead of text. */
  readonly tool: string | undefined
  /** OpenAI chat/completion: send a final usage chunk (`stream_options.include_usage`). */
  readonly includeUsage: boolean
}

/** A stream's frames; a `cut`/`stall` after k counts only `content` frames. */
export interface Frames {
  readonly kind: "sse"
  readonly preamble: ReadonlyArray<string>
  readonly content: ReadonlyArray<string>
  readonly tail: ReadonlyArray<string>
}

const CREATED = 1_700_000_000
const data = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`
const named = (event: string, value: unknown) => `event: ${event}\ndata: ${JSON.stringify(value)}\n\n`

const chatFrames = (s: StreamReplySpec, words: ReadonlyArray<string>): Frames => {
  const chunk = (choices: ReadonlyArray<unknown>, extra: object = {}) =>
    data({ id: "chatcmpl-mock", object: "chat.completion.chunk", created: CREATED, model: s.model, choices, ...extra })
  const usage = { prompt_tokens: s.usage.prompt, completion_tokens: s.usage.completion, total_tokens: s.usage.prompt + s.usage.completion }
  // A forced tool call: its id and name first, then the arguments in two pieces.
  const call = (fn: object, first = false) =>
    chunk([{ index: 0, delta: { tool_calls: [{ index: 0, ...(first ? { id: "call_mock_1", type: "function" } : {}), function: fn }] }, finish_reason: null }])
  const content = s.tool === undefined
    ? words.map((w) => chunk([{ index: 0, delta: { content: w }, finish_reason: null }]))
    : [call({ name: s.tool, arguments: "" }, true), call({ arguments: "{\"city\": " }), call({ arguments: "\"Paris\"}" })]
  return {
    kind: "sse",
    preamble: [chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }])],
    content,
    tail: [
      chunk([{ index: 0, delta: {}, finish_reason: s.tool === undefined ? "stop" : "tool_calls" }]),
      ...(s.includeUsage ? [chunk([], { usage })] : []),
      "data: [DONE]\n\n"
    ]
  }
}

const completionFrames = (s: StreamReplySpec, words: ReadonlyArray<string>): Frames => {
  const chunk = (choices: ReadonlyArray<unknown>, extra: object = {}) =>
    data({ id: "cmpl-mock", object: "text_completion", created: CREATED, model: s.model, choices, ...extra })
  const usage = { prompt_tokens: s.usage.prompt, completion_tokens: s.usage.completion, total_tokens: s.usage.prompt + s.usage.completion }
  return {
    kind: "sse",
    preamble: [],
    content: words.map((w) => chunk([{ index: 0, text: w, finish_reason: null, logprobs: null }])),
    tail: [
      chunk([{ index: 0, text: "", finish_reason: "stop", logprobs: null }]),
      ...(s.includeUsage ? [chunk([], { usage })] : []),
      "data: [DONE]\n\n"
    ]
  }
}

const responsesFrames = (s: StreamReplySpec, words: ReadonlyArray<string>): Frames => {
  let sequence = 0
  const event = (type: string, fields: object) => named(type, { type, sequence_number: sequence++, ...fields })
  const response = (status: string, extra: object = {}) => ({
    id: "resp_mock",
    object: "response",
    created_at: CREATED,
    status,
    model: s.model,
    output: status === "completed"
      ? [{ type: "message", id: "msg_mock", status: "completed", role: "assistant", content: [{ type: "output_text", text: s.text, annotations: [] }] }]
      : [],
    ...extra
  })
  const item = { type: "message", id: "msg_mock", status: "in_progress", role: "assistant", content: [] }
  const at = { item_id: "msg_mock", output_index: 0, content_index: 0 }
  const preamble = [
    event("response.created", { response: response("in_progress") }),
    event("response.in_progress", { response: response("in_progress") }),
    event("response.output_item.added", { output_index: 0, item }),
    event("response.content_part.added", { ...at, part: { type: "output_text", text: "", annotations: [] } })
  ]
  const content = words.map((delta) => event("response.output_text.delta", { ...at, delta }))
  const usage = { input_tokens: s.usage.prompt, output_tokens: s.usage.completion, total_tokens: s.usage.prompt + s.usage.completion }
  const tail = [
    event("response.output_text.done", { ...at, text: s.text }),
    event("response.content_part.done", { ...at, part: { type: "output_text", text: s.text, annotations: [] } }),
    event("response.output_item.done", { output_index: 0, item: { ...item, status: "completed" } }),
    event("response.completed", { response: response("completed", { usage }) })
  ]
  return { kind: "sse", preamble, content, tail }
}

const anthropicFrames = (s: StreamReplySpec, words: ReadonlyArray<string>): Frames => {
  const start = named("message_start", {
    type: "message_start",
    message: {
      id: "msg_mock",
      type: "message",
      role: "assistant",
      model: s.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: s.usage.prompt, output_tokens: 1 }
    }
  })
  const block = s.tool === undefined
    ? { type: "text", text: "" }
    : { type: "tool_use", id: "toolu_mock_1", name: s.tool, input: {} }
  const pieces = s.tool === undefined ? words : ["{\"city\": ", "\"Paris\"}"]
  const content = pieces.map((piece) =>
    named("content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: s.tool === undefined ? { type: "text_delta", text: piece } : { type: "input_json_delta", partial_json: piece }
    })
  )
  return {
    kind: "sse",
    preamble: [start, named("content_block_start", { type: "content_block_start", index: 0, content_block: block }), named("ping", { type: "ping" })],
    content,
    tail: [
      named("content_block_stop", { type: "content_block_stop", index: 0 }),
      named("message_delta", {
        type: "message_delta",
        delta: { stop_reason: s.tool === undefined ? "end_turn" : "tool_use", stop_sequence: null },
        usage: { output_tokens: s.usage.completion }
      }),
      named("message_stop", { type: "message_stop" })
    ]
  }
}

/** The frames of a streamed reply. */
export const streamFrames = (spec: StreamReplySpec): Frames => {
  const words = wordChunks(spec.text)
  if (spec.wire === "anthropic") return anthropicFrames(spec, words)
  if (spec.operation === "completion") return completionFrames(spec, words)
  if (spec.operation === "responses") return responsesFrames(spec, words)
  return chatFrames(spec, words)
}
