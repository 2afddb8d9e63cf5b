/**
 * The HTTP plumbing every provider shares: send a request over the one pooled client, turn non-2xx replies
 * and socket failures into typed errors, and read 2xx bodies as decoded JSON, raw bytes or SSE events.
 */
import { Connection, type ProviderError } from "@switchyard/core"
import { Array as Arr, Cause, Channel, Clock, Context, Effect, Exit, Pull, Result, Schema, Scope, Stream } from "effect"
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

/** The default cap on a buffered upstream reply: room for a batch of base64 images. */
export const DEFAULT_MAX_REPLY_BYTES = 64 * 1024 * 1024

/**
 * The largest upstream reply read into memory (the gateway's `general_settings.max_response_body_mb`).
 * A larger one is a MalformedResponse, which fails over like any bad reply.
 */
export const MaxReplyBytes = Context.Reference<number>("switchyard/providers/MaxReplyBytes", {
  defaultValue: () => DEFAULT_MAX_REPLY_BYTES
})

const tooLarge = (cap: number, secrets: ReadonlyArray<string>, status: number) =>
  malformed(`the reply exceeds the limit of ${cap} bytes`, secrets, status)

const utf8 = new TextDecoder()

/**
 * A reply's body as text, refused past `MaxReplyBytes`: at once when its `content-length` says so, else
 * as the bytes arrive. A declared length within the cap is read whole (undici stops at that length).
 */
const cappedText = (
  response: HttpClientResponse.HttpClientResponse,
  secrets: ReadonlyArray<string>
): Effect.Effect<string, ProviderError> =>
  Effect.flatMap(MaxReplyBytes, (cap) => {
    const declared = response.headers["content-length"]
    if (declared !== undefined) {
      return Number(declared) > cap
        ? Effect.fail(tooLarge(cap, secrets, response.status))
        : Effect.mapError(response.text, (error) => fromHttpClientError(error, secrets))
    }
    const chunks: Array<Uint8Array> = []
    let size = 0
    return Stream.runForEach(bodyBytes(response, secrets), (chunk) => {
      size += chunk.length
      if (size > cap) return Effect.fail(tooLarge(cap, secrets, response.status))
      chunks.push(chunk)
      return Effect.void
    }).pipe(Effect.map(() => utf8.decode(Buffer.concat(chunks))))
  })

/** The headers of a response as a plain record with lower-case names. */
const headerRecord = (response: HttpClientResponse.HttpClientResponse): Record<string, string> => ({ ...response.headers })

/** Turns a non-2xx reply into its typed error, reading the body for the vendor's error details. */
const failFromResponse = (
  response: HttpClientResponse.HttpClientResponse,
  secrets: ReadonlyArray<string>
): Effect.Effect<never, ProviderError> =>
  Effect.gen(function*() {
    // A body we cannot read still leaves the status, which is what classifies most failures.
    const text = yield* Effect.orElseSucceed(cappedText(response, secrets), () => "")
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

type SyncDecode = (value: unknown) => Result.Result<unknown, Schema.SchemaError>

// Wire schemas have no effects: decoding them directly skips running a parser effect per reply and chunk.
const decoders = new WeakMap<Schema.Codec<any, unknown>, SyncDecode>()
const decoderOf = (schema: Schema.Codec<any, unknown>): SyncDecode => {
  let decode = decoders.get(schema)
  if (decode === undefined) {
    decode = Schema.decodeUnknownResult(schema)
    decoders.set(schema, decode)
  }
  return decode
}

/** `decodeWith` without the effect, for the elements of a stream. */
export const decodeResult = <A>(
  schema: Schema.Codec<A, unknown>,
  value: unknown,
  secrets: ReadonlyArray<string>,
  status?: number
): Result.Result<A, ProviderError> => {
  const result = decoderOf(schema)(value) as Result.Result<A, Schema.SchemaError>
  return Result.isSuccess(result)
    ? result as unknown as Result.Result<A, ProviderError>
    : Result.fail(malformed(`the reply does not have the expected shape: ${result.failure.message}`, secrets, status))
}

/** Decodes a value with an operation's schema; a mismatch is a MalformedResponse that says where. */
export const decodeWith = <A>(
  schema: Schema.Codec<A, unknown>,
  value: unknown,
  secrets: ReadonlyArray<string>,
  status?: number
): Effect.Effect<A, ProviderError> => Effect.fromResult(decodeResult(schema, value, secrets, status))

/** Reads a 2xx body as text; a socket cut while reading is a Connection error. */
export const readText = (
  response: HttpClientResponse.HttpClientResponse,
  secrets: ReadonlyArray<string>
): Effect.Effect<string, ProviderError> => cappedText(response, secrets)

const parseJsonReply = (text: string, secrets: ReadonlyArray<string>, status: number): Result.Result<unknown, ProviderError> => {
  try {
    return Result.succeed(JSON.parse(text) as unknown)
  } catch {
    return Result.fail(malformed(`the reply is not JSON: ${text.slice(0, 200)}`, secrets, status))
  }
}

/** Reads a 2xx body as JSON, without decoding it. */
export const readJsonValue = (
  response: HttpClientResponse.HttpClientResponse,
  secrets: ReadonlyArray<string>
): Effect.Effect<unknown, ProviderError> =>
  Effect.flatMap(readText(response, secrets), (text) => Effect.fromResult(parseJsonReply(text, secrets, response.status)))

/** Reads a 2xx body as JSON and decodes it with `schema`. */
export const readJson = <A>(
  response: HttpClientResponse.HttpClientResponse,
  schema: Schema.Codec<A, unknown>,
  secrets: ReadonlyArray<string>
): Effect.Effect<A, ProviderError> =>
  Effect.flatMap(readText(response, secrets), (text) => {
    const value = parseJsonReply(text, secrets, response.status)
    return Effect.fromResult(
      Result.isSuccess(value) ? decodeResult(schema, value.success, secrets, response.status) : value as Result.Result<never, ProviderError>
    )
  })

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

/** How long a stream that ended with `data: [DONE]` may read on for the end of its body (in the background). */
const DRAIN_MILLIS = 5_000
/** How much it may read: past this the connection is closed rather than drained. */
const DRAIN_BYTES = 256 * 1024

/**
 * Reads what is left of a body in the background and then releases it. A stream that stops at `[DONE]`
 * has usually been sent the whole body already; reading it to the end lets undici return the connection
 * to its pool instead of closing it.
 */
const drainInBackground = (
  bytes: Pull.Pull<ReadonlyArray<Uint8Array>, ProviderError>,
  scope: Scope.Closeable
) => {
  let read = 0
  const drain: Effect.Effect<void, unknown> = Effect.flatMap(bytes, (chunks) => {
    for (const c of chunks) read += c.length
    return read > DRAIN_BYTES ? Effect.void : drain
  })
  Effect.runFork(drain.pipe(
    Effect.ignore,
    Effect.timeoutOption(DRAIN_MILLIS),
    Effect.ensuring(Scope.close(scope, Exit.void))
  ))
}

/** One parsed SSE event, before its data is read as JSON. */
interface RawEvent {
  readonly event: string
  readonly data: string
}

/** How one wire's event stream reads: which events complete a reply, and what each event becomes. */
export interface SseWire<A> {
  /** Whether an event makes the reply complete (a body that ends after it was not cut). */
  readonly isFinal: (event: JsonEvent) => boolean
  /** Whether an event is the end marker, like `data: [DONE]`: nothing after it is read as events. */
  readonly isEnd?: (event: JsonEvent) => boolean
  /**
   * Turns one event into the stream's elements, pushed onto `out` (none, one or several); it returns a
   * failure instead when the event does not decode. It is called once per event, in order, per stream.
   */
  readonly decode: (event: JsonEvent, out: Array<A>) => ProviderError | undefined
}

/**
 * A `decode` for `sseEvents` that decodes each event once and feeds it through a translation from one
 * vendor's events to the operation's chunks (Anthropic's or Gemini's events to chat chunks). Build one
 * per stream: it holds that stream's translation state.
 */
export const translatedEvents = <E, S, A>(
  decodeEvent: (data: unknown) => Result.Result<E, ProviderError>,
  initial: S,
  step: (state: S, event: E) => readonly [S, ReadonlyArray<A>]
): SseWire<A>["decode"] => {
  let state = initial
  return (event, out) => {
    const decoded = decodeEvent(event.data)
    if (Result.isFailure(decoded)) return decoded.failure
    const [next, items] = step(state, decoded.success)
    state = next
    for (const item of items) out.push(item)
    return undefined
  }
}

/**
 * A 2xx SSE body as the elements `wire.decode` makes of its JSON events, up to `data: [DONE]` (or an
 * event `wire.isEnd` accepts) or the end of the body. An error event fails the stream with the error it
 * describes; a frame that is not JSON is a MalformedResponse. A body that ends before `[DONE]` or an
 * event `isFinal` accepts was cut, even if the socket closed cleanly: it fails with Connection rather
 * than pass for a complete reply.
 *
 * It is one hand-written stage rather than a chain of stream operators (text decoding, SSE framing,
 * `[DONE]`, JSON, decoding), because a chain costs allocations and effect steps per event and per open
 * stream. Events that arrive together are emitted together; a failure is raised after the events before it.
 */
export const sseEvents = <A>(
  response: HttpClientResponse.HttpClientResponse,
  secrets: ReadonlyArray<string>,
  wire: SseWire<A>
): Stream.Stream<A, ProviderError> =>
  Stream.fromChannel(Channel.fromTransform((_, scope) =>
    Effect.gen(function*() {
      const clock = yield* Clock.Clock
      // The body has its own scope, so that a stream ended by `[DONE]` can hand it to the drain.
      const bodyScope = yield* Scope.make()
      const bytes = yield* Stream.toPull(bodyBytes(response, secrets)).pipe(Scope.provide(bodyScope))
      let draining = false
      yield* Scope.addFinalizer(scope, Effect.suspend(() => (draining ? Effect.void : Scope.close(bodyScope, Exit.void))))

      const text = new TextDecoder()
      let parsed: Array<RawEvent> = []
      let retry = false
      const parser = Sse.makeParser((event) => {
        if (event._tag === "Retry") retry = true
        else parsed.push(event)
      })
      /** `[DONE]` or a final event arrived: the reply is complete. */
      let ended = false
      /** `[DONE]` arrived: nothing after it is read as events. */
      let done = false
      let bodyEnded = false
      let failure: ProviderError | undefined
      const invalid = (what: string) =>
        malformed(`the event stream is not valid SSE (${what})`, secrets, response.status)

      /** Feeds decoded text to the SSE parser; an event over the size limit fails the stream. */
      const feed = (piece: string) => {
        const error = parser.feed(piece)
        if (error !== undefined && failure === undefined) {
          parsed = []
          failure = invalid(error._tag)
        }
      }

      /** Turns the parsed events into elements, stopping at `[DONE]` or at the first failure. */
      const take = (out: Array<A>) => {
        const events = parsed
        parsed = []
        for (const event of events) {
          if (event.data.trim() === "[DONE]") {
            done = true
            return
          }
          const data = parseJsonOrText(event.data)
          if (isErrorEvent(event.event, data)) {
            const nowMillis = clock.currentTimeMillisUnsafe()
            failure = classifyFailure({ status: undefined, headers: {}, body: data, nowMillis, secrets })
            return
          }
          if (typeof data === "string") {
            failure = malformed(`an event is not JSON: ${data.slice(0, 200)}`, secrets, response.status)
            return
          }
          const json: JsonEvent = { event: event.event, data }
          if (wire.isFinal(json)) ended = true
          const error = wire.decode(json, out)
          if (error !== undefined) {
            failure = error
            return
          }
          if (wire.isEnd?.(json) === true) {
            done = true
            return
          }
        }
        if (retry) failure = invalid("Retry")
      }

      const next: Pull.Pull<Arr.NonEmptyReadonlyArray<A>, ProviderError> = Effect.suspend(() => {
        if (failure !== undefined) return Effect.fail(failure)
        if (done) {
          if (!draining) {
            draining = true
            drainInBackground(bytes, bodyScope)
          }
          return Cause.done()
        }
        if (bodyEnded) {
          return ended
            ? Cause.done()
            : Effect.fail(
              new Connection({ message: "the upstream closed the event stream before its end", status: response.status })
            )
        }
        return Effect.flatMap(
          Pull.catchDone(bytes, () => {
            bodyEnded = true
            return Effect.succeed(undefined)
          }),
          (chunks) => {
            if (chunks === undefined) feed(text.decode())
            else for (const chunk of chunks) feed(text.decode(chunk, streaming))
            const out: Array<A> = []
            if (failure === undefined) take(out)
            return Arr.isArrayNonEmpty(out) ? Effect.succeed(out) : next
          }
        )
      })
      return next
    })
  ))

const streaming = { stream: true } as const
