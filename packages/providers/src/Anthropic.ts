/**
 * Anthropic's Messages API, passed through for `messages`, and behind the OpenAI chat and Responses operations: requests and replies are
 * translated, the stream's events become chat chunks (and, for `responses`, Responses events), and errors
 * go through the same table as every other provider. The same engine serves Claude on Vertex AI, which
 * differs only in where a request goes, how it authenticates and two fields of the body.
 */
import {
  type Deployment,
  type Operation,
  operations,
  type Provider,
  type ProviderError,
  UnsupportedOperation,
  Wire
} from "@switchyard/core"
import { Clock, Effect, Redacted, Result, Stream } from "effect"
import { type HttpClient, HttpClientRequest } from "effect/http"
import { nativeEvent, nativeMessagesBody, nativeMessagesReply } from "./AnthropicMessages.ts"
import { initialStreamState, translateEvent } from "./AnthropicStream.ts"
import { fromAnthropicMessage, prefillWhitespace, toAnthropicRequest } from "./AnthropicTranslate.ts"
import { AnthropicEvent, AnthropicMessage } from "./AnthropicWire.ts"
import { secretsOf } from "./OpenAiCompatible.ts"
import { chatRequestOf, chatToResponse, responsesEvents } from "./ResponsesOverChat.ts"
import { guardStream } from "./StreamGuard.ts"
import { decodeResult, decodeWith, type JsonEvent, readJson, send, sseEvents, translatedEvents } from "./Upstream.ts"

/** The API version header every request carries. */
export const anthropicVersion = "2023-06-01"

/** The messages URL of a deployment; `api_base` may be the host, or already end in `/v1` or `/v1/messages`. */
export const messagesUrl = (deployment: Deployment): string => {
  const base = (deployment.apiBase ?? "https://api.anthropic.com").replace(/\/+$/, "")
  return base.endsWith("/v1/messages") ? base : base.endsWith("/v1") ? `${base}/messages` : `${base}/v1/messages`
}

/**
 * Whether a Claude model continues an assistant prefill. From the 4.6 generation on (claude-sonnet-4-6,
 * claude-opus-4-6, later generations) Anthropic refuses a conversation that ends with an assistant turn;
 * earlier models continue it. Both naming schemes are read (`claude-3-5-sonnet`, `claude-sonnet-4-5`), with
 * or without a date or Vertex `@version` suffix; a name that is not Claude's is assumed to accept it.
 */
export const claudeAcceptsPrefill = (model: string): boolean => {
  const name = model.toLowerCase().replace(/^.*\//, "")
  const match = /claude-(?:(?:opus|sonnet|haiku)-)?(\d+)(?:[-.](\d{1,2}))?(?![\d])/.exec(name)
  if (match === null) return true
  const generation = Number(match[1]) + (match[2] === undefined ? 0 : Number(match[2]) / 10)
  return generation < 4.6
}

/** `message_stop` ends a reply; a `message_delta` with a stop reason already says it is complete. */
const isFinalEvent = (event: JsonEvent): boolean => {
  const data = event.data as { readonly type?: unknown; readonly delta?: { readonly stop_reason?: unknown } }
  return data.type === "message_stop" || (data.type === "message_delta" && typeof data.delta?.stop_reason === "string")
}

/** `message_stop` is the end marker of an Anthropic stream, as `[DONE]` is of OpenAI's. */
const isEndEvent = (event: JsonEvent): boolean => (event.data as { readonly type?: unknown }).type === "message_stop"

const nowSeconds = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))

/** Where a Messages request goes and how it authenticates. */
export interface MessagesTarget {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  /** Values to scrub from any message (keys, tokens). */
  readonly secrets: ReadonlyArray<string>
}

/** What distinguishes one Anthropic-shaped upstream from another. */
export interface AnthropicShapedOptions {
  readonly name: string
  /** The URL and auth headers of one request; may fetch a token (and fail as Authentication). */
  readonly target: (deployment: Deployment, stream: boolean) => Effect.Effect<MessagesTarget, ProviderError>
  /** The Messages body as this upstream wants it. */
  readonly body: (body: Record<string, unknown>, deployment: Deployment) => Record<string, unknown>
}

/** Builds a provider that speaks Anthropic Messages: chat and responses, prefill per model family. */
export const makeAnthropicShaped = (client: HttpClient.HttpClient, options: AnthropicShapedOptions): Provider => {
  const unsupported = (operation: Operation) =>
    new UnsupportedOperation({ operation: operation.name, message: `${options.name} does not support ${operation.name}` })

  /** Sends a Messages body (before this upstream's own changes to it). */
  const open = (deployment: Deployment, body: Record<string, unknown>, stream: boolean) =>
    Effect.flatMap(options.target(deployment, stream), (target) => {
      const http = HttpClientRequest.post(target.url).pipe(
        HttpClientRequest.setHeaders({ ...target.headers, ...(stream ? { accept: "text/event-stream" } : {}) }),
        HttpClientRequest.bodyJsonUnsafe(options.body(body, deployment))
      )
      return Effect.map(send(client, http, target.secrets), (response) => ({ response, secrets: target.secrets }))
    })

  // The Messages API itself passes through: the client's body, the upstream's events.
  const callMessages = (deployment: Deployment, request: Wire.MessagesRequest) =>
    Effect.gen(function*() {
      const { body, prefill } = nativeMessagesBody(request, deployment.model, false)
      const { response, secrets } = yield* open(deployment, body, false)
      return nativeMessagesReply(yield* readJson(response, operations.messages.response, secrets), prefill)
    })

  const streamMessages = (deployment: Deployment, request: Wire.MessagesRequest) =>
    Stream.unwrap(Effect.gen(function*() {
      const { body, prefill } = nativeMessagesBody(request, deployment.model, true)
      const { response, secrets } = yield* open(deployment, body, true)
      const decode = translatedEvents(
        (data) => decodeResult(Wire.MessagesEvent, data, secrets),
        { prefill, promptUsage: undefined },
        nativeEvent
      )
      return sseEvents(response, secrets, { isFinal: isFinalEvent, isEnd: isEndEvent, decode })
    }))

  const call = <Req, Res>(operation: Operation<string, Req, Res, any>, deployment: Deployment, request: Req) =>
    Effect.gen(function*() {
      if (operation.name === "messages") return (yield* callMessages(deployment, request as Wire.MessagesRequest)) as Res
      const chat = chatRequestOf(operation, request)
      if (chat === undefined) return yield* Effect.fail(unsupported(operation))
      const { response, secrets } = yield* open(deployment, toAnthropicRequest(chat, deployment.model, false), false)
      const message = yield* readJson(response, AnthropicMessage, secrets)
      const created = yield* nowSeconds
      const reply = fromAnthropicMessage(message, created, prefillWhitespace(chat))
      const translated = operation.name === "responses" ? chatToResponse(reply as Wire.ChatResponse, created) : reply
      return yield* decodeWith(operation.response, translated, secrets, response.status)
    })

  const stream = <Req, Chunk>(operation: Operation<string, Req, any, Chunk>, deployment: Deployment, request: Req) => {
    const spec = operation.stream
    if (operation.name === "messages" && spec !== undefined) {
      return guardStream(spec, streamMessages(deployment, request as Wire.MessagesRequest) as Stream.Stream<Chunk, ProviderError>)
    }
    const chat = chatRequestOf(operation, request)
    if (chat === undefined || spec === undefined) return Stream.fail(unsupported(operation))
    const chunks: Stream.Stream<Chunk, ProviderError> = Stream.unwrap(Effect.gen(function*() {
      const { response, secrets } = yield* open(deployment, toAnthropicRequest(chat, deployment.model, true), true)
      const created = yield* nowSeconds
      // Each event is decoded once, here; the chat chunks translated from it are built typed.
      const decode = translatedEvents(
        (data) => decodeResult(AnthropicEvent, data, secrets),
        initialStreamState(created, prefillWhitespace(chat)),
        translateEvent
      )
      const chatChunks = sseEvents(response, secrets, { isFinal: isFinalEvent, isEnd: isEndEvent, decode })
      const wire = operation.name === "responses" ? responsesEvents<ProviderError>(created)(chatChunks) : chatChunks
      return wire as Stream.Stream<Chunk, ProviderError>
    }))
    return guardStream(spec, chunks)
  }

  return {
    name: options.name,
    operations: new Set(["chat", "responses", "messages"]),
    supportsPrefill: (deployment) => claudeAcceptsPrefill(deployment.model),
    call,
    stream
  }
}

/** Builds the Anthropic provider over a shared HttpClient. */
export const makeAnthropic = (client: HttpClient.HttpClient): Provider =>
  makeAnthropicShaped(client, {
    name: "anthropic",
    target: (deployment) =>
      Effect.succeed({
        url: messagesUrl(deployment),
        headers: {
          "anthropic-version": anthropicVersion,
          ...(deployment.apiKey === undefined ? {} : { "x-api-key": Redacted.value(deployment.apiKey) })
        },
        secrets: secretsOf(deployment)
      }),
    body: (body) => body
  })
