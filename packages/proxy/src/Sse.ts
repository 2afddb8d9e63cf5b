/**
 * Server-sent events in the exact framing OpenAI clients parse. Chat and completion streams send
 * `data: {json}` per chunk and end with `data: [DONE]`; Responses API streams send
 * `event: <type>` + `data: {json}` per event and no `[DONE]`. A stream that fails after the headers went
 * out ends with an error event instead, so it never looks complete.
 */
import type { OperationName } from "@switchyard/core"
import { Stream } from "effect"
import { type ApiError, errorBody } from "./HttpErrors.ts"

/** How one text operation frames its events. */
interface Framing {
  /** The `event:` name of a chunk, when the framing names events. */
  readonly eventOf: ((chunk: unknown) => string) | undefined
  /** Whether a clean end is marked with `data: [DONE]`. */
  readonly done: boolean
}

const dataOnly: Framing = { eventOf: undefined, done: true }
const namedEvents: Framing = {
  eventOf: (chunk) => String((chunk as { readonly type?: unknown }).type ?? "message"),
  done: false
}

/** The framing of each streaming text operation. */
const framings: { readonly [K in OperationName]?: Framing } = {
  chat: dataOnly,
  completion: dataOnly,
  responses: namedEvents
}

// JSON text has no raw line breaks; an event name comes from upstream data, so its line breaks are dropped.
const frame = (data: string, event?: string) =>
  (event === undefined ? "" : `event: ${event.replace(/[\r\n]/g, "")}\n`) + `data: ${data}\n\n`

/** The event that ends a failed stream; Responses clients read `event: error`, chat clients `data.error`. */
export const errorEvent = (operation: OperationName, error: ApiError): string => {
  const body = errorBody(error)
  return framings[operation]?.eventOf === undefined
    ? frame(JSON.stringify(body))
    : frame(JSON.stringify({ ...body, type: "error", code: error.code, message: error.message, param: error.param }), "error")
}

/** Encodes a stream of chunks as SSE bytes; a failure becomes the error event `toError` describes. */
export const encodeSse = <Chunk, E, R>(
  operation: OperationName,
  chunks: Stream.Stream<Chunk, E, R>,
  toError: (error: E) => ApiError
): Stream.Stream<Uint8Array, never, R> => {
  const framing = framings[operation] ?? dataOnly
  const events = chunks.pipe(
    Stream.map((chunk) => frame(JSON.stringify(chunk), framing.eventOf?.(chunk))),
    Stream.concat(Stream.fromIterable(framing.done ? [frame("[DONE]")] : [])),
    Stream.catch((error: E) => Stream.succeed(errorEvent(operation, toError(error))))
  )
  return Stream.encodeText(events)
}
