/**
 * Gemini's `generateContent` wire behind the OpenAI chat, Responses and embeddings operations. The engine
 * is shared by Google AI Studio (`gemini/…`, an `x-goog-api-key`) and Gemini on Vertex AI (an OAuth token),
 * which differ only in where a request goes and how it authenticates.
 */
import {
  Authentication,
  BadRequest,
  ContentPolicy,
  type Deployment,
  type Operation,
  type OperationName,
  type Provider,
  type ProviderError,
  UnsupportedOperation,
  type Wire
} from "@switchyard/core"
import { Clock, Effect, Redacted, Result, Stream } from "effect"
import { type HttpClient, HttpClientRequest } from "effect/http"
import {
  blockedPrompt,
  fromGeminiEmbeddings,
  fromGeminiResponse,
  fromVertexPredictions,
  initialGeminiState,
  toGeminiEmbedRequest,
  toGeminiRequest,
  toVertexEmbedRequest,
  translateGeminiEvent
} from "./GeminiTranslate.ts"
import { GeminiEmbeddings, GeminiResponse, VertexPredictions } from "./GeminiWire.ts"
import { embeddingTexts } from "./Embeddings.ts"
import { secretsOf } from "./OpenAiCompatible.ts"
import { chatRequestOf, chatToResponse, responsesEvents } from "./ResponsesOverChat.ts"
import { guardStream } from "./StreamGuard.ts"
import { decodeResult, decodeWith, type JsonEvent, readJson, send, sseEvents, translatedEvents } from "./Upstream.ts"

/** The Gemini methods Switchyard calls. */
export type GeminiMethod = "generateContent" | "streamGenerateContent" | "batchEmbedContents" | "predict"

/** Where one Gemini request goes and how it authenticates. */
export interface GeminiTarget {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly secrets: ReadonlyArray<string>
}

/** What distinguishes one Gemini-shaped upstream from another. */
export interface GeminiShapedOptions {
  readonly name: string
  readonly operations: ReadonlyArray<OperationName>
  /** The URL (without `alt=sse`) and auth headers of one request; may fetch a token. */
  readonly target: (deployment: Deployment, method: GeminiMethod) => Effect.Effect<GeminiTarget, ProviderError>
  /** How embeddings are asked for: AI Studio's `:batchEmbedContents` (the default) or Vertex AI's `:predict`. */
  readonly embedVia?: "batchEmbedContents" | "predict"
}

/** A stream event that ends the reply: a candidate with a finish reason, or a refused prompt. */
const isFinalEvent = (event: JsonEvent): boolean => {
  const data = event.data as {
    readonly candidates?: ReadonlyArray<{ readonly finishReason?: unknown }>
    readonly promptFeedback?: { readonly blockReason?: unknown }
  }
  return typeof data.candidates?.[0]?.finishReason === "string" || typeof data.promptFeedback?.blockReason === "string"
}

const refused = (reason: string) => new ContentPolicy({ message: `Gemini blocked the prompt: ${reason}`, status: 200 })

/** A decoded reply, or the ContentPolicy failure of a refused prompt. */
const answer = (value: unknown, secrets: ReadonlyArray<string>): Result.Result<GeminiResponse, ProviderError> =>
  Result.flatMap(decodeResult(GeminiResponse, value, secrets), (reply) => {
    const blocked = blockedPrompt(reply)
    return blocked === undefined ? Result.succeed(reply) : Result.fail(refused(blocked))
  })

const nowSeconds = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))

/** Builds a provider that speaks Gemini's `generateContent`. */
export const makeGeminiShaped = (client: HttpClient.HttpClient, options: GeminiShapedOptions): Provider => {
  const supported = new Set<string>(options.operations)
  const unsupported = (operation: Operation) =>
    new UnsupportedOperation({ operation: operation.name, message: `${options.name} does not support ${operation.name}` })

  const post = (deployment: Deployment, method: GeminiMethod, body: unknown, stream: boolean) =>
    Effect.flatMap(options.target(deployment, method), (target) => {
      const http = HttpClientRequest.post(target.url).pipe(
        HttpClientRequest.setHeaders(target.headers),
        stream ? HttpClientRequest.setUrlParam("alt", "sse") : (r) => r,
        HttpClientRequest.bodyJsonUnsafe(body)
      )
      return Effect.map(send(client, http, target.secrets), (response) => ({ response, secrets: target.secrets }))
    })

  const embed = (deployment: Deployment, request: Wire.EmbeddingRequest) =>
    Effect.gen(function*() {
      const texts = yield* Effect.fromResult(embeddingTexts(request, "gemini"))
      if (options.embedVia === "predict") {
        const { response, secrets } = yield* post(deployment, "predict", toVertexEmbedRequest(texts, request.dimensions), false)
        const reply = fromVertexPredictions(yield* readJson(response, VertexPredictions, secrets), deployment.model)
        return { reply, secrets, status: response.status }
      }
      const body = toGeminiEmbedRequest(texts, deployment.model, request.dimensions)
      const { response, secrets } = yield* post(deployment, "batchEmbedContents", body, false)
      return { reply: fromGeminiEmbeddings(yield* readJson(response, GeminiEmbeddings, secrets), deployment.model), secrets, status: response.status }
    })

  const call = <Req, Res>(operation: Operation<string, Req, Res, any>, deployment: Deployment, request: Req) =>
    Effect.gen(function*() {
      if (!supported.has(operation.name)) return yield* Effect.fail(unsupported(operation))
      if (operation.name === "embedding") {
        const { reply, secrets, status } = yield* embed(deployment, request as Wire.EmbeddingRequest)
        return yield* decodeWith(operation.response, reply, secrets, status)
      }
      const chat = chatRequestOf(operation, request)
      if (chat === undefined) return yield* Effect.fail(unsupported(operation))
      const { response, secrets } = yield* post(deployment, "generateContent", toGeminiRequest(chat), false)
      const value = yield* readJson(response, GeminiResponse, secrets)
      const reply = yield* Effect.fromResult(answer(value, secrets))
      const created = yield* nowSeconds
      const completion = fromGeminiResponse(reply, created, deployment.model)
      const translated = operation.name === "responses" ? chatToResponse(completion as Wire.ChatResponse, created) : completion
      return yield* decodeWith(operation.response, translated, secrets, response.status)
    })

  const stream = <Req, Chunk>(operation: Operation<string, Req, any, Chunk>, deployment: Deployment, request: Req) => {
    const spec = operation.stream
    const chat = chatRequestOf(operation, request)
    if (!supported.has(operation.name) || chat === undefined || spec === undefined) return Stream.fail(unsupported(operation))
    const chunks: Stream.Stream<Chunk, ProviderError> = Stream.unwrap(Effect.gen(function*() {
      const { response, secrets } = yield* post(deployment, "streamGenerateContent", toGeminiRequest(chat), true)
      const created = yield* nowSeconds
      const decode = translatedEvents(
        (data) => answer(data, secrets),
        initialGeminiState(created, deployment.model),
        translateGeminiEvent
      )
      const chatChunks = sseEvents(response, secrets, { isFinal: isFinalEvent, decode })
      const wire = operation.name === "responses" ? responsesEvents<ProviderError>(created)(chatChunks) : chatChunks
      return wire as Stream.Stream<Chunk, ProviderError>
    }))
    return guardStream(spec, chunks)
  }

  return { name: options.name, operations: new Set(options.operations) as ReadonlySet<OperationName>, supportsPrefill: false, call, stream }
}

/** Google AI Studio's base URL; LiteLLM reads a custom `api_base` as the part before `/models/{model}`. */
export const geminiBase = "https://generativelanguage.googleapis.com/v1beta"

/** The URL of one Gemini (AI Studio) method for a deployment. */
export const geminiUrl = (deployment: Deployment, method: GeminiMethod): string =>
  `${(deployment.apiBase ?? geminiBase).replace(/\/+$/, "")}/models/${deployment.model}:${method}`

/** Builds the Gemini (Google AI Studio) provider over a shared HttpClient. */
export const makeGemini = (client: HttpClient.HttpClient): Provider =>
  makeGeminiShaped(client, {
    name: "gemini",
    operations: ["chat", "responses", "embedding"],
    target: (deployment, method) =>
      deployment.apiKey === undefined
        ? Effect.fail(new Authentication({ message: `gemini deployment ${deployment.id} has no api_key` }))
        : Effect.succeed({
          url: geminiUrl(deployment, method),
          headers: { "x-goog-api-key": Redacted.value(deployment.apiKey) },
          secrets: secretsOf(deployment)
        })
  })
