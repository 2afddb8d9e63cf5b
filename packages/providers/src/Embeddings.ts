/**
 * OpenAI embedding requests and replies for upstreams with their own embedding wire (Bedrock Titan and
 * Cohere, Cohere v2): the texts of a request, and vectors as an OpenAI reply in the encoding asked for.
 */
import { BadRequest, type Wire } from "@switchyard/core"
import { Result } from "effect"

/** The texts of an embedding request; token arrays cannot be sent to a text-only embedding API. */
export const embeddingTexts = (request: Wire.EmbeddingRequest, provider: string): Result.Result<Array<string>, BadRequest> => {
  const input = request.input
  if (typeof input === "string") return Result.succeed([input])
  if (input.every((i): i is string => typeof i === "string")) return Result.succeed([...input])
  return Result.fail(new BadRequest({ message: `${provider} embeddings take text input, not token arrays`, param: "input" }))
}

/** A vector as OpenAI's base64 form: little-endian float32 bytes. */
const base64Of = (vector: ReadonlyArray<number>): string => Buffer.from(new Float32Array(vector).buffer).toString("base64")

/** Vectors as an OpenAI embedding reply; base64 when the client asked for it (the official clients do by default). */
export const embeddingReply = (
  vectors: ReadonlyArray<ReadonlyArray<number>>,
  model: string,
  promptTokens: number,
  encodingFormat: unknown
): Record<string, unknown> => ({
  object: "list",
  model,
  data: vectors.map((vector, index) => ({
    object: "embedding",
    index,
    embedding: encodingFormat === "base64" ? base64Of(vector) : vector
  })),
  usage: { prompt_tokens: promptTokens, total_tokens: promptTokens }
})
