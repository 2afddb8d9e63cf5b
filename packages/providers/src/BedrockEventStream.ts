/**
 * Bedrock's `application/vnd.amazon.eventstream` bodies as a Stream of decoded events. Framing is
 * smithy's (`getChunkedStream` splits messages, `EventStreamCodec` checks both CRCs and parses headers);
 * an `exception` or `error` frame fails the stream with the typed error of its class, as an HTTP error
 * of that class would.
 */
import { getChunkedStream } from "@smithy/core/event-streams"
import { EventStreamCodec, type Message } from "@smithy/eventstream-codec"
import { fromUtf8, toUtf8 } from "@smithy/util-utf8"
import type { ProviderError } from "@switchyard/core"
import { Clock, Effect, Result, Stream } from "effect"
import type { HttpClientResponse } from "effect/http"
import { classifyFailure, malformed } from "./ErrorMapping.ts"
import { bodyBytes, parseJsonOrText } from "./Upstream.ts"

/** One `event` frame: its `:event-type` and its JSON payload. */
export interface BedrockEvent {
  readonly eventType: string
  readonly payload: unknown
}

const codec = new EventStreamCodec(toUtf8, fromUtf8)
const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const isProviderError = (u: unknown): u is ProviderError => isRecord(u) && typeof u._tag === "string" && "message" in u

const header = (message: Message, name: string): string | undefined => {
  const h = message.headers[name]
  return h?.type === "string" ? h.value : undefined
}

/** One frame as an event, or the typed error an exception frame stands for. */
const frameOf = (
  bytes: Uint8Array,
  secrets: ReadonlyArray<string>,
  nowMillis: number
): Result.Result<BedrockEvent, ProviderError> => {
  let message: Message
  try {
    message = codec.decode(bytes)
  } catch (error) {
    return Result.fail(malformed(`an eventstream frame is invalid: ${(error as Error).message}`, secrets))
  }
  const payload = parseJsonOrText(toUtf8(message.body))
  switch (header(message, ":message-type")) {
    case "event":
      return Result.succeed({ eventType: header(message, ":event-type") ?? "", payload })
    case "exception": {
      const type = header(message, ":exception-type") ?? "internalServerException"
      return Result.fail(classifyFailure({ status: undefined, headers: { "x-amzn-errortype": type }, body: payload, nowMillis, secrets }))
    }
    default: {
      // `:message-type: error` carries its code and message in headers.
      const type = header(message, ":error-code") ?? "internalServerException"
      const body = { message: header(message, ":error-message") ?? (typeof payload === "string" ? payload : undefined) }
      return Result.fail(classifyFailure({ status: undefined, headers: { "x-amzn-errortype": type }, body, nowMillis, secrets }))
    }
  }
}

/** A 2xx eventstream body as events; a truncated or corrupt frame is a MalformedResponse, a socket cut Connection. */
export const bedrockEvents = (
  response: HttpClientResponse.HttpClientResponse,
  secrets: ReadonlyArray<string>
): Stream.Stream<BedrockEvent, ProviderError> => {
  const frames = Stream.suspend(() => {
    // smithy's splitter does not pass `return()` on to its source: the body is released here, so a stream
    // that ends early (at `message_stop`, on an exception frame, or when the client leaves) frees it.
    const body = Stream.toAsyncIterable(bodyBytes(response, secrets))[Symbol.asyncIterator]()
    return Stream.fromAsyncIterable(
      getChunkedStream({ [Symbol.asyncIterator]: () => body }),
      (error) => isProviderError(error) ? error : malformed(`the eventstream is not valid: ${String((error as Error)?.message ?? error)}`, secrets)
    ).pipe(Stream.ensuring(Effect.promise(() => body.return?.() ?? Promise.resolve(undefined)).pipe(Effect.ignore)))
  })
  return Stream.mapEffect(frames, (bytes) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.fromResult(frameOf(bytes, secrets, now))))
}

/** The payload of an InvokeModelWithResponseStream `chunk` event: the model's own JSON event, base64 in `bytes`. */
export const chunkPayload = (event: BedrockEvent, secrets: ReadonlyArray<string>): Result.Result<unknown, ProviderError> => {
  const bytes = isRecord(event.payload) ? event.payload.bytes : undefined
  if (typeof bytes !== "string") return Result.fail(malformed(`a ${event.eventType} event has no bytes`, secrets))
  const json = parseJsonOrText(Buffer.from(bytes, "base64").toString("utf8"))
  return typeof json === "string" ? Result.fail(malformed("a chunk event's bytes are not JSON", secrets)) : Result.succeed(json)
}
