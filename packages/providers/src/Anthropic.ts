/**
 * Anthropic's Messages API behind the OpenAI chat operation: requests and replies are translated, the
 * stream's events become chat chunks, and errors go through the same table as every other provider.
 */
import {
  type Deployment,
  type Operation,
  type Provider,
  type ProviderError,
  UnsupportedOperation,
  type Wire
} from "@switchyard/core"
import { Clock, Effect, Redacted, Result, Stream } from "effect"
import { type HttpClient, HttpClientRequest } from "effect/http"
import { initialStreamState, translateEvent } from "./AnthropicStream.ts"
import { fromAnthropicMessage, prefillWhitespace, toAnthropicRequest } from "./AnthropicTranslate.ts"
import { AnthropicEvent, AnthropicMessage } from "./AnthropicWire.ts"
import { secretsOf } from "./OpenAiCompatible.ts"
import { guardStream } from "./StreamGuard.ts"
import { decodeResult, decodeWith, type JsonEvent, readJson, send, sseEvents } from "./Upstream.ts"

/** The API version header every request carries. */
export const anthropicVersion = "2023-06-01"

/** The messages URL of a deployment; `api_base` may be the host, or already end in `/v1` or `/v1/messages`. */
export const messagesUrl = (deployment: Deployment): string => {
  const base = (deployment.apiBase ?? "https://api.anthropic.com").replace(/\/+$/, "")
  return base.endsWith("/v1/messages") ? base : base.endsWith("/v1") ? `${base}/messages` : `${base}/v1/messages`
}

/** `message_stop` ends a reply; a `message_delta` with a stop reason already says it is complete. */
const isFinalEvent = (event: JsonEvent): boolean => {
  const data = event.data as { readonly type?: unknown; readonly delta?: { readonly stop_reason?: unknown } }
  return data.type === "message_stop" || (data.type === "message_delta" && typeof data.delta?.stop_reason === "string")
}

/** `message_stop` is the end marker of an Anthropic stream, as `[DONE]` is of OpenAI's. */
const isEndEvent = (event: JsonEvent): boolean => (event.data as { readonly type?: unknown }).type === "message_stop"

const nowSeconds = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))

/** Builds the Anthropic provider over a shared HttpClient: chat only, with prefill. */
export const makeAnthropic = (client: HttpClient.HttpClient): Provider => {
  const unsupported = (operation: Operation) =>
    new UnsupportedOperation({ operation: operation.name, message: `anthropic does not support ${operation.name}` })

  const open = (deployment: Deployment, request: Wire.ChatRequest, stream: boolean) => {
    const secrets = secretsOf(deployment)
    const http = HttpClientRequest.post(messagesUrl(deployment)).pipe(
      HttpClientRequest.setHeaders({
        "anthropic-version": anthropicVersion,
        ...(deployment.apiKey === undefined ? {} : { "x-api-key": Redacted.value(deployment.apiKey) }),
        ...(stream ? { accept: "text/event-stream" } : {})
      }),
      HttpClientRequest.bodyJsonUnsafe(toAnthropicRequest(request, deployment.model, stream))
    )
    return Effect.map(send(client, http, secrets), (response) => ({ response, secrets }))
  }

  const call = <Req, Res>(operation: Operation<string, Req, Res, any>, deployment: Deployment, request: Req) =>
    Effect.gen(function*() {
      if (operation.name !== "chat") return yield* Effect.fail(unsupported(operation))
      const { response, secrets } = yield* open(deployment, request as Wire.ChatRequest, false)
      const message = yield* readJson(response, AnthropicMessage, secrets)
      const created = yield* nowSeconds
      const reply = fromAnthropicMessage(message, created, prefillWhitespace(request as Wire.ChatRequest))
      return yield* decodeWith(operation.response, reply, secrets, response.status)
    })

  const stream = <Req, Chunk>(operation: Operation<string, Req, any, Chunk>, deployment: Deployment, request: Req) => {
    const spec = operation.stream
    if (operation.name !== "chat" || spec === undefined) return Stream.fail(unsupported(operation))
    const chunks: Stream.Stream<Chunk, ProviderError> = Stream.unwrap(Effect.gen(function*() {
      const { response, secrets } = yield* open(deployment, request as Wire.ChatRequest, true)
      const created = yield* nowSeconds
      // Each event is decoded once, here; the chat chunks translated from it are built typed.
      let state = initialStreamState(created, prefillWhitespace(request as Wire.ChatRequest))
      const decode = (event: JsonEvent, out: Array<Chunk>): ProviderError | undefined => {
        const decoded = decodeResult(AnthropicEvent, event.data, secrets)
        if (Result.isFailure(decoded)) return decoded.failure
        const [next, translated] = translateEvent(state, decoded.success)
        state = next
        for (const chunk of translated) out.push(chunk as Chunk)
      }
      return sseEvents(response, secrets, { isFinal: isFinalEvent, isEnd: isEndEvent, decode })
    }))
    return guardStream(spec, chunks)
  }

  return { name: "anthropic", operations: new Set(["chat"]), supportsPrefill: true, call, stream }
}
