/**
 * The HTTP plumbing every provider shares: send a request over the one pooled client, turn non-2xx replies
 * and socket failures into typed errors, and read 2xx bodies as decoded JSON, raw bytes or SSE events.
 */
import { Connection, type ProviderError } from "@switchyard/core"
import { Clock, Effect, Schema, Stream } from "effect"
import { Sse } from "effect/encoding"
import { type HttpClient, type HttpClientRequest, type HttpClientResponse, Headers } from "effect/http"
import { classifyFailure, fromHttpClientError, malformed } from "./ErrorMapping.ts"

/** Parses JSON text, or gives the text back when it is not JSON (error pages, plain-text bodies). */
export const parseJsonOrText = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** The headers of a response as a plain record with lower-case names. */
const headerRecord = (response: HttpClientResponse.HttpClientResponse): Record<string, string> => ({ ...response.headers })

/** Turns a non-2xx reply into its typed error, reading the body for the vendor's error details. */
const failFromResponse = (
  response: HttpClientResponse.HttpClientResponse,
  secrets: ReadonlyArray<string>
): Effect.Effect<never, ProviderError> =>
  Effect.gen(function*() {
    // A body we cannot read still leaves the status, which is what classifies most failures.
    const text = yield* Effect.orElseSucceed(response.text, () => "")
    const nowMillis = yield* Clock.currentTimeMillis
    return yield* Effect.fail(classifyFailure({
      status: response.status,
      headers: headerRecord(response),
      body: parseJsonOrText(text),
      nowMillis,
      secrets
    }))
  })

const redactedHeaders = ["authorization", "cookie", "set-cookie", "x-api-key", "api-key"]

/** Sends a request; a 2xx response comes back unread, anything else fails with its typed error. */
export const send = (
  client: HttpClient.HttpClient,
  request: HttpClientRequest.HttpClientRequest,
  secrets: ReadonlyArray<string>
): Effect.Effect<HttpClientResponse.HttpClientResponse, ProviderError> =>
  client.execute(request).pipe(
    // Azure's `api-key` is not among effect's default redacted headers; traces and logs must not show it.
    Effect.provideService(Headers.CurrentRedactedNames, redactedHeaders),
    Effect.mapError((error) => fromHttpClientError(error, secrets)),
    Effect.flatMap((response) =>
      response.status >= 200 && response.status < 300 ? Effect.succeed(response) : failFromResponse(response, secrets)
    )
  )

/** Decodes a value with an operation's schema; a mismatch is a MalformedResponse that says where. */
export const decodeWith = <A>(
  schema: Schema.Codec<A, unknown>,
  value: unknown,
  secrets: ReadonlyArray<string>,
  status?: number
): Effect.Effect<A, ProviderError> =>
  Schema.decodeUnknownEffect(schema)(value).pipe(
    Effect.mapError((error) => malformed(`the reply does not have the expected shape: ${error.message}`, secrets, status))
  ) as Effect.Effect<A, ProviderError>

/** Reads a 2xx body as text; a socket cut while reading is a Connection error. */
export const readText = (
  response: HttpClientResponse.HttpClientResponse,
  secrets: ReadonlyArray<string>
): Effect.Effect<string, ProviderError> =>
  Effect.mapError(response.text, (error) => fromHttpClientError(error, secrets))

/** Reads a 2xx body as JSON, without decoding it. */
export const readJsonValue = (
  response: HttpClientResponse.HttpClientResponse,
  secrets: ReadonlyArray<string>
): Effect.Effect<unknown, ProviderError> =>
  Effect.flatMap(readText(response, secrets), (text) =>
    Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: () => malformed(`the reply is not JSON: ${text.slice(0, 200)}`, secrets, response.status)
    }))

/** Reads a 2xx body as JSON and decodes it with `schema`. */
export const readJson = <A>(
  response: HttpClientResponse.HttpClientResponse,
  schema: Schema.Codec<A, unknown>,
  secrets: ReadonlyArray<string>
): Effect.Effect<A, ProviderError> =>
  Effect.flatMap(readJsonValue(response, secrets), (value) => decodeWith(schema, value, secrets, response.status))

/** A 2xx body as bytes, as they arrive; a socket cut fails with Connection. */
export const bodyBytes = (
  response: HttpClientResponse.HttpClientResponse,
  secrets: ReadonlyArray<string>
): Stream.Stream<Uint8Array, ProviderError> =>
  Stream.mapError(response.stream, (error) => fromHttpClientError(error, secrets))

/** One SSE event whose data was JSON. */
export interface JsonEvent {
  readonly event: string
  readonly data: unknown
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Whether an event reports a failure: `event: error`, a `type: "error"` payload, OpenAI's bare `{error}`, or `response.failed`. */
const isErrorEvent = (event: string, data: unknown): boolean =>
  event === "error" ||
  (isRecord(data) &&
    (data.type === "error" || data.type === "response.failed" || (isRecord(data.error) && !("choices" in data))))

/**
 * A 2xx SSE body as JSON events, up to `data: [DONE]` or the end of the body. An error event fails the
 * stream with the error it describes; a frame that is not JSON is a MalformedResponse. A body that ends
 * before `[DONE]` or an event `isFinal` accepts was cut, even if the socket closed cleanly: it fails with
 * Connection rather than pass for a complete reply.
 */
export const sseEvents = (
  response: HttpClientResponse.HttpClientResponse,
  secrets: ReadonlyArray<string>,
  isFinal: (event: JsonEvent) => boolean
): Stream.Stream<JsonEvent, ProviderError> =>
  Stream.suspend(() => {
    let ended = false
    const events = bodyBytes(response, secrets).pipe(
      Stream.decodeText(),
      Stream.pipeThroughChannel(Sse.decode()),
      Stream.mapError((error): ProviderError =>
        error._tag === "SseError" || error._tag === "Retry"
          ? malformed(`the event stream is not valid SSE (${error._tag})`, secrets, response.status)
          : error
      ),
      Stream.takeWhile((event) => {
        if (event.data.trim() !== "[DONE]") return true
        ended = true
        return false
      }),
      Stream.mapEffect((event) =>
        Effect.gen(function*() {
          const data = parseJsonOrText(event.data)
          if (isErrorEvent(event.event, data)) {
            const nowMillis = yield* Clock.currentTimeMillis
            return yield* Effect.fail(classifyFailure({ status: undefined, headers: {}, body: data, nowMillis, secrets }))
          }
          if (typeof data === "string") {
            return yield* Effect.fail(malformed(`an event is not JSON: ${data.slice(0, 200)}`, secrets, response.status))
          }
          const json = { event: event.event, data }
          if (isFinal(json)) ended = true
          return json
        })
      )
    )
    const checkEnd = Stream.suspend(() =>
      ended
        ? Stream.empty
        : Stream.fail(new Connection({ message: "the upstream closed the event stream before its end", status: response.status }))
    )
    return Stream.concat(events, checkEnd)
  })
