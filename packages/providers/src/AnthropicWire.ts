/**
 * The Anthropic Messages API shapes Switchyard reads: a message reply and the stream events. Unnamed
 * fields are kept, so new block or event kinds decode and are ignored instead of failing the reply.
 */
import { Wire } from "@switchyard/core"
import { Schema } from "effect"

const open = Wire.open
const optional = Schema.optionalKey

/** Token counts as Anthropic reports them. */
export const AnthropicUsage = open({
  input_tokens: optional(Schema.NullOr(Schema.Number)),
  output_tokens: optional(Schema.NullOr(Schema.Number))
})
export type AnthropicUsage = typeof AnthropicUsage.Type

/** A content block: `text`, `tool_use`, `thinking`, … */
export const ContentBlock = open({
  type: Schema.String,
  text: optional(Schema.String),
  id: optional(Schema.String),
  name: optional(Schema.String),
  input: optional(Schema.Unknown)
})
export type ContentBlock = typeof ContentBlock.Type

/** A complete reply of `POST /v1/messages`, and the `message` of a `message_start` event. */
export const AnthropicMessage = open({
  id: Schema.String,
  type: optional(Schema.String),
  role: optional(Schema.String),
  model: optional(Schema.String),
  content: Schema.Array(ContentBlock),
  stop_reason: optional(Schema.NullOr(Schema.String)),
  usage: optional(AnthropicUsage)
})
export type AnthropicMessage = typeof AnthropicMessage.Type

/** One stream event (`message_start`, `content_block_delta`, `message_delta`, …). */
export const AnthropicEvent = open({
  type: Schema.String,
  message: optional(AnthropicMessage),
  index: optional(Schema.Number),
  content_block: optional(ContentBlock),
  delta: optional(open({
    type: optional(Schema.String),
    text: optional(Schema.String),
    partial_json: optional(Schema.String),
    stop_reason: optional(Schema.NullOr(Schema.String))
  })),
  usage: optional(AnthropicUsage)
})
export type AnthropicEvent = typeof AnthropicEvent.Type
