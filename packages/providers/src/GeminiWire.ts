/**
 * The Gemini API shapes Switchyard reads (AI Studio and Vertex AI speak the same `generateContent`):
 * a reply, which is also one stream event, and an embeddings reply. Unnamed fields are kept, so new part
 * kinds decode and are ignored instead of failing the reply.
 */
import { Wire } from "@switchyard/core"
import { Schema } from "effect"

const open = Wire.open
const optional = Schema.optionalKey

/** One part of a content: text, a function call, inline data, … */
export const GeminiPart = open({
  text: optional(Schema.String),
  thought: optional(Schema.Boolean),
  functionCall: optional(open({ name: Schema.String, args: optional(Schema.Unknown), id: optional(Schema.String) }))
})
export type GeminiPart = typeof GeminiPart.Type

/** Token counts as Gemini reports them. */
export const GeminiUsage = open({
  promptTokenCount: optional(Schema.Number),
  candidatesTokenCount: optional(Schema.Number),
  thoughtsTokenCount: optional(Schema.Number),
  totalTokenCount: optional(Schema.Number)
})
export type GeminiUsage = typeof GeminiUsage.Type

/** A reply of `:generateContent`, and each event of `:streamGenerateContent?alt=sse`. */
export const GeminiResponse = open({
  candidates: optional(Schema.Array(open({
    index: optional(Schema.Number),
    content: optional(open({ role: optional(Schema.String), parts: optional(Schema.Array(GeminiPart)) })),
    finishReason: optional(Schema.String)
  }))),
  promptFeedback: optional(open({ blockReason: optional(Schema.String) })),
  usageMetadata: optional(GeminiUsage),
  modelVersion: optional(Schema.String),
  responseId: optional(Schema.String)
})
export type GeminiResponse = typeof GeminiResponse.Type

/** A reply of `:batchEmbedContents`. */
export const GeminiEmbeddings = open({
  embeddings: Schema.Array(open({ values: Schema.Array(Schema.Number) }))
})
export type GeminiEmbeddings = typeof GeminiEmbeddings.Type

/** A reply of Vertex AI's `:predict` for a text-embedding model. */
export const VertexPredictions = open({
  predictions: Schema.Array(open({
    embeddings: open({
      values: Schema.Array(Schema.Number),
      statistics: optional(open({ token_count: optional(Schema.Number) }))
    })
  }))
})
export type VertexPredictions = typeof VertexPredictions.Type
