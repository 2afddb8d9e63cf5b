/**
 * An operation is one call type described as a value: its schemas, whether and how it streams, and how
 * to read its usage. The router has no per-operation code path; adding an operation is adding an entry.
 */
import type { Schema } from "effect"
import {
  chatStream,
  completionStream,
  type ContinuationOptions,
  responsesStream,
  type StreamIdentity
} from "./TextStreams.ts"
import { messagesStream } from "./MessagesStream.ts"
import { type Usage, usageFromWire } from "./Usage.ts"
import * as Wire from "./Wire.ts"

/**
 * The rules of a text stream, which can be continued on another deployment after a break. Written as
 * methods so an operation with a specific chunk type still fits where any operation is accepted.
 */
export interface TextStreamSpec<Req, Chunk> {
  readonly kind: "text"
  readonly chunk: Schema.Codec<Chunk, unknown>
  /** The text a chunk adds to the reply. */
  text(chunk: Chunk): string
  /** The same chunk carrying other text (for trimming an overlap). */
  setText(chunk: Chunk, text: string): Chunk
  /** The usage a chunk reports, if it reports one. */
  usage(chunk: Chunk): Usage | undefined
  /** The same chunk reporting another usage (the sum over every part of a continued stream). */
  withUsage(chunk: Chunk, usage: Usage): Chunk
  /** Whether the client asked to be told the usage (absent: always). */
  usageAsked?(request: Req): boolean
  /** The same chunk without its usage; `undefined` when the usage was all it carried. */
  withoutUsage?(chunk: Chunk): Chunk | undefined
  /** The request that asks for the rest of a reply of which `partial` was already sent. */
  continueWith(request: Req, partial: string, options: ContinuationOptions): Req
  /** Fits a continuation's chunk onto the stream the client already has; `undefined` drops it. */
  resumed(chunk: Chunk, sent: string): Chunk | undefined
  /** Whether a chunk must be held back until the reply finishes (a tool call being assembled). */
  holds(chunk: Chunk): boolean
  /** Notes in `identity` the ids and sequence number a chunk shows the client. */
  noteIdentity(identity: StreamIdentity, chunk: Chunk): void
  /** A continuation's chunk under the identity the client already has (advancing its sequence number). */
  reidentify(chunk: Chunk, identity: StreamIdentity): Chunk
}

/** How an operation streams. Text streams can be continued after a break; byte streams cannot. */
export type StreamSpec<Req, Chunk> =
  | TextStreamSpec<Req, Chunk>
  | { readonly kind: "bytes"; readonly chunk: Schema.Codec<Chunk, unknown> }

/** One call type. `Req`, `Res` and `Chunk` are the decoded wire shapes. */
export interface Operation<Name extends string = string, Req = any, Res = any, Chunk = any> {
  readonly name: Name
  /** The path below `/v1` that the operation has in the OpenAI API (Anthropic's, for `messages`). */
  readonly path: string
  readonly request: Schema.Codec<Req, unknown>
  readonly response: Schema.Codec<Res, unknown>
  readonly stream: StreamSpec<Req, Chunk> | undefined
  readonly usage: (response: Res) => Usage | undefined
}

/** The request type of an operation. */
export type RequestOf<O> = O extends Operation<any, infer Req, any, any> ? Req : never
/** The response type of an operation. */
export type ResponseOf<O> = O extends Operation<any, any, infer Res, any> ? Res : never
/** The stream chunk type of an operation. */
export type ChunkOf<O> = O extends Operation<any, any, any, infer Chunk> ? Chunk : never

const wireUsage = (response: { readonly usage?: unknown }) => usageFromWire(response.usage)
const noUsage = () => undefined

const make = <const Name extends string, Req, Res, Chunk = never>(
  operation: Operation<Name, Req, Res, Chunk>
): Operation<Name, Req, Res, Chunk> => operation

export const chat = make({
  name: "chat",
  path: "/chat/completions",
  request: Wire.ChatRequest,
  response: Wire.ChatResponse,
  usage: wireUsage,
  stream: { kind: "text", chunk: Wire.ChatChunk, ...chatStream }
})

export const completion = make({
  name: "completion",
  path: "/completions",
  request: Wire.CompletionRequest,
  response: Wire.CompletionResponse,
  usage: wireUsage,
  stream: { kind: "text", chunk: Wire.CompletionResponse, ...completionStream }
})

export const embedding = make({
  name: "embedding",
  path: "/embeddings",
  request: Wire.EmbeddingRequest,
  response: Wire.EmbeddingResponse,
  usage: wireUsage,
  stream: undefined
})

/** Speech answers with audio bytes: a call returns the whole body as one chunk, a stream passes it through. */
export const speech = make({
  name: "speech",
  path: "/audio/speech",
  request: Wire.SpeechRequest,
  response: Wire.AudioChunk,
  usage: noUsage,
  stream: { kind: "bytes", chunk: Wire.AudioChunk }
})

export const transcription = make({
  name: "transcription",
  path: "/audio/transcriptions",
  request: Wire.TranscriptionRequest,
  response: Wire.TranscriptionResponse,
  usage: wireUsage,
  stream: undefined
})

export const image = make({
  name: "image",
  path: "/images/generations",
  request: Wire.ImageRequest,
  response: Wire.ImageResponse,
  usage: wireUsage,
  stream: undefined
})

export const rerank = make({
  name: "rerank",
  path: "/rerank",
  request: Wire.RerankRequest,
  response: Wire.RerankResponse,
  usage: (response) => {
    const meta = response.meta as { readonly billed_units?: { readonly search_units?: unknown } } | undefined
    return wireUsage(response) ?? usageFromWire({ prompt_tokens: meta?.billed_units?.search_units })
  },
  stream: undefined
})

export const responses = make({
  name: "responses",
  path: "/responses",
  request: Wire.ResponsesRequest,
  response: Wire.ResponsesResponse,
  usage: wireUsage,
  stream: { kind: "text", chunk: Wire.ResponsesEvent, ...responsesStream }
})

export const moderation = make({
  name: "moderation",
  path: "/moderations",
  request: Wire.ModerationRequest,
  response: Wire.ModerationResponse,
  usage: noUsage,
  stream: undefined
})

/** Anthropic's Messages API: the same pipeline, its own event grammar for continued streams. */
export const messages = make({
  name: "messages",
  path: "/messages",
  request: Wire.MessagesRequest,
  response: Wire.MessagesResponse,
  usage: wireUsage,
  stream: { kind: "text", chunk: Wire.MessagesEvent, ...messagesStream }
})

/** The registry: every operation Switchyard routes. Tests walk it, so a new entry is covered at once. */
export const operations = {
  chat,
  completion,
  embedding,
  speech,
  transcription,
  image,
  rerank,
  responses,
  moderation,
  messages
} as const

export type Operations = typeof operations
export type OperationName = keyof Operations

/** Every operation name, in registry order. */
export const operationNames = Object.keys(operations) as ReadonlyArray<OperationName>
