/**
 * The wire shapes of the ten operations, as OpenAI (and Cohere/Jina for rerank) and Anthropic (messages) define them.
 * Requests keep every field they do not name, so provider-specific parameters pass through untouched.
 */
import { Schema } from "effect"

/** A JSON object with some fields named and typed, and every other field kept as it came. */
export const open = <const Fields extends Schema.Struct.Fields>(fields: Fields) =>
  Schema.StructWithRest(Schema.Struct(fields), [Schema.Record(Schema.String, Schema.Unknown)])

const optional = Schema.optionalKey
const Model = Schema.NonEmptyString
const WireUsage = Schema.Record(Schema.String, Schema.Unknown)

// ---------------------------------------------------------------------------------------------- chat

export const ChatMessage = open({
  role: Schema.Literals(["system", "developer", "user", "assistant", "tool", "function"]),
  content: optional(Schema.NullOr(Schema.Union([Schema.String, Schema.Array(Schema.Unknown)])))
})
export type ChatMessage = typeof ChatMessage.Type

export const ChatRequest = open({
  model: Model,
  messages: Schema.Array(ChatMessage).check(Schema.isMinLength(1)),
  stream: optional(Schema.Boolean)
})
export type ChatRequest = typeof ChatRequest.Type

export const ToolCallDelta = open({
  index: Schema.Number,
  id: optional(Schema.String),
  type: optional(Schema.String),
  function: optional(open({ name: optional(Schema.String), arguments: optional(Schema.String) }))
})
export type ToolCallDelta = typeof ToolCallDelta.Type

export const ChatResponse = open({
  id: Schema.String,
  object: optional(Schema.String),
  created: optional(Schema.Number),
  model: optional(Schema.String),
  choices: Schema.Array(open({
    index: Schema.Number,
    message: open({
      role: Schema.String,
      content: optional(Schema.NullOr(Schema.String)),
      tool_calls: optional(Schema.Array(Schema.Unknown))
    }),
    finish_reason: optional(Schema.NullOr(Schema.String))
  })),
  usage: optional(Schema.NullOr(WireUsage))
})
export type ChatResponse = typeof ChatResponse.Type

export const ChatChunk = open({
  id: Schema.String,
  object: optional(Schema.String),
  created: optional(Schema.Number),
  model: optional(Schema.String),
  choices: Schema.Array(open({
    index: Schema.Number,
    delta: open({
      role: optional(Schema.String),
      content: optional(Schema.NullOr(Schema.String)),
      tool_calls: optional(Schema.Array(ToolCallDelta))
    }),
    finish_reason: optional(Schema.NullOr(Schema.String))
  })),
  usage: optional(Schema.NullOr(WireUsage))
})
export type ChatChunk = typeof ChatChunk.Type

// ----------------------------------------------------------------------------------------- completion

export const CompletionRequest = open({
  model: Model,
  prompt: Schema.Union([Schema.String, Schema.Array(Schema.String)]),
  stream: optional(Schema.Boolean)
})
export type CompletionRequest = typeof CompletionRequest.Type

/** A completion reply and a completion chunk have the same shape. */
export const CompletionResponse = open({
  id: Schema.String,
  object: optional(Schema.String),
  created: optional(Schema.Number),
  model: optional(Schema.String),
  choices: Schema.Array(open({
    index: Schema.Number,
    text: Schema.String,
    finish_reason: optional(Schema.NullOr(Schema.String))
  })),
  usage: optional(Schema.NullOr(WireUsage))
})
export type CompletionResponse = typeof CompletionResponse.Type

// ------------------------------------------------------------------------------------------ embedding

export const EmbeddingRequest = open({
  model: Model,
  input: Schema.Union([
    Schema.String,
    Schema.Array(Schema.String),
    Schema.Array(Schema.Number),
    Schema.Array(Schema.Array(Schema.Number))
  ])
})
export type EmbeddingRequest = typeof EmbeddingRequest.Type

export const EmbeddingResponse = open({
  object: optional(Schema.String),
  data: Schema.Array(open({
    index: Schema.Number,
    embedding: Schema.Union([Schema.Array(Schema.Number), Schema.String])
  })),
  model: optional(Schema.String),
  usage: optional(Schema.NullOr(WireUsage))
})
export type EmbeddingResponse = typeof EmbeddingResponse.Type

// --------------------------------------------------------------------------------------------- speech

export const SpeechRequest = open({
  model: Model,
  input: Schema.String,
  voice: Schema.Union([Schema.String, Schema.Record(Schema.String, Schema.Unknown)]),
  response_format: optional(Schema.String),
  speed: optional(Schema.Number)
})
export type SpeechRequest = typeof SpeechRequest.Type

/** A piece of an audio body. Every piece carries the content type, so the first one can set the header. */
export const AudioChunk = Schema.Struct({
  contentType: Schema.String,
  data: Schema.Uint8Array
})
export type AudioChunk = typeof AudioChunk.Type

// -------------------------------------------------------------------------------------- transcription

/** An uploaded file, as a multipart part. */
export const UploadedFile = Schema.Struct({
  filename: Schema.String,
  contentType: Schema.String,
  data: Schema.Uint8Array
})
export type UploadedFile = typeof UploadedFile.Type

export const TranscriptionRequest = open({
  model: Model,
  file: UploadedFile,
  language: optional(Schema.String),
  prompt: optional(Schema.String),
  response_format: optional(Schema.String),
  temperature: optional(Schema.Number)
})
export type TranscriptionRequest = typeof TranscriptionRequest.Type

export const TranscriptionResponse = open({
  text: Schema.String,
  usage: optional(Schema.NullOr(WireUsage))
})
export type TranscriptionResponse = typeof TranscriptionResponse.Type

// ---------------------------------------------------------------------------------------------- image

export const ImageRequest = open({
  model: Model,
  prompt: Schema.String,
  n: optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  size: optional(Schema.String)
})
export type ImageRequest = typeof ImageRequest.Type

export const ImageResponse = open({
  created: optional(Schema.Number),
  data: Schema.Array(open({
    url: optional(Schema.String),
    b64_json: optional(Schema.String),
    revised_prompt: optional(Schema.String)
  })),
  usage: optional(Schema.NullOr(WireUsage))
})
export type ImageResponse = typeof ImageResponse.Type

// --------------------------------------------------------------------------------------------- rerank

export const RerankRequest = open({
  model: Model,
  query: Schema.String,
  documents: Schema.Array(Schema.Union([Schema.String, Schema.Record(Schema.String, Schema.Unknown)])),
  top_n: optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  return_documents: optional(Schema.Boolean)
})
export type RerankRequest = typeof RerankRequest.Type

export const RerankResponse = open({
  id: optional(Schema.String),
  results: Schema.Array(open({
    index: Schema.Number,
    relevance_score: Schema.Number,
    document: optional(Schema.Unknown)
  })),
  meta: optional(Schema.Unknown),
  usage: optional(Schema.NullOr(WireUsage))
})
export type RerankResponse = typeof RerankResponse.Type

// ------------------------------------------------------------------------------------------ responses

export const ResponsesRequest = open({
  model: Model,
  input: Schema.Union([Schema.String, Schema.Array(Schema.Unknown)]),
  instructions: optional(Schema.NullOr(Schema.String)),
  stream: optional(Schema.Boolean)
})
export type ResponsesRequest = typeof ResponsesRequest.Type

export const ResponsesResponse = open({
  id: Schema.String,
  object: optional(Schema.String),
  status: optional(Schema.String),
  model: optional(Schema.String),
  output: Schema.Array(Schema.Unknown),
  usage: optional(Schema.NullOr(WireUsage))
})
export type ResponsesResponse = typeof ResponsesResponse.Type

/** One Responses API stream event (`response.output_text.delta`, `response.completed`, …). */
export const ResponsesEvent = open({
  type: Schema.String,
  delta: optional(Schema.Unknown),
  response: optional(Schema.Unknown)
})
export type ResponsesEvent = typeof ResponsesEvent.Type

// ----------------------------------------------------------------------------------------- moderation

export const ModerationRequest = open({
  model: Model,
  input: Schema.Union([Schema.String, Schema.Array(Schema.Unknown)])
})
export type ModerationRequest = typeof ModerationRequest.Type

export const ModerationResponse = open({
  id: optional(Schema.String),
  model: optional(Schema.String),
  results: Schema.Array(Schema.Unknown)
})
export type ModerationResponse = typeof ModerationResponse.Type

// ------------------------------------------------------------------------------- messages (Anthropic)

/** One turn of an Anthropic Messages conversation: text, or a list of content blocks. */
export const MessagesTurn = open({
  role: Schema.Literals(["user", "assistant"]),
  content: Schema.Union([Schema.String, Schema.Array(Schema.Unknown)])
})
export type MessagesTurn = typeof MessagesTurn.Type

/** `POST /v1/messages`, as Anthropic defines it. */
export const MessagesRequest = open({
  model: Model,
  messages: Schema.Array(MessagesTurn).check(Schema.isMinLength(1)),
  max_tokens: Schema.Number,
  system: optional(Schema.Union([Schema.String, Schema.Array(Schema.Unknown)])),
  stream: optional(Schema.Boolean)
})
export type MessagesRequest = typeof MessagesRequest.Type

/** A complete Messages reply. */
export const MessagesResponse = open({
  id: Schema.String,
  type: optional(Schema.String),
  role: optional(Schema.String),
  model: optional(Schema.String),
  content: Schema.Array(Schema.Unknown),
  stop_reason: optional(Schema.NullOr(Schema.String)),
  usage: optional(Schema.NullOr(WireUsage))
})
export type MessagesResponse = typeof MessagesResponse.Type

/** One Messages stream event (`message_start`, `content_block_delta`, `message_stop`, …). */
export const MessagesEvent = open({
  type: Schema.String,
  index: optional(Schema.Number),
  message: optional(Schema.Unknown),
  content_block: optional(Schema.Unknown),
  delta: optional(Schema.Unknown),
  usage: optional(Schema.NullOr(WireUsage))
})
export type MessagesEvent = typeof MessagesEvent.Type
