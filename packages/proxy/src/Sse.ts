/**
 * Server-sent events in the exact framing OpenAI clients parse. Chat and completion streams send
 * `data: {json}` per chunk and end with `data: [DONE]`; Responses API streams send
 * `event: <type>` + `data: {json}` per event and no `[DONE]`, as do Anthropic Messages streams. A stream that fails after the headers went
 * out ends with an error event instead, so it never looks complete.
 */
import type { OperationName } from "@switchyard/core"
import { type Array as Arr, Cause, Effect, Pull, Result, Stream } from "effect"
import { anthropicErrorBody, type ApiError, errorBody } from "./HttpErrors.ts"

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
  responses: namedEvents,
  messages: namedEvents
}

// JSON text has no raw line breaks; an event name comes from upstream data, so its line breaks are dropped.
const frame = (data: string, event?: string) =>
  (event === undefined ? "" : `event: ${event.replace(/[\r\n]/g, "")}\n`) + `data: ${data}\n\n`

/**
 * The event that ends a failed stream: chat clients read the OpenAI error object in `data.error`; Responses
 * clients read `event: error` with `code`, `message`, `param` and the next `sequence_number` after
 * `lastSequence`, the last one sent (strict clients, such as the AI SDK, reject it without one).
 */
export const errorEvent = (operation: OperationName, error: ApiError, lastSequence = -1): string => {
  // Anthropic clients read `event: error` with Anthropic's error object.
  if (operation === "messages") return frame(JSON.stringify(anthropicErrorBody(error)), "error")
  const body = errorBody(error)
  return framings[operation]?.eventOf === undefined
    ? frame(JSON.stringify(body))
    : frame(
      JSON.stringify({
        ...body,
        type: "error",
        code: error.code,
        message: error.message,
        param: error.param,
        sequence_number: lastSequence + 1
      }),
      "error"
    )
}

/** The `sequence_number` of a Responses event, or -1. */
const sequenceOf = (chunk: unknown): number => {
  const n = (chunk as { readonly sequence_number?: unknown }).sequence_number
  return typeof n === "number" ? n : -1
}

const utf8 = new TextEncoder()

/**
 * Encodes a stream of chunks as SSE bytes; a failure becomes the error event `toError` describes. The
 * chunks that arrive together become one piece of bytes, written at once: one stage per stream instead
 * of a chain of stream operators, as this runs for every chunk of every stream.
 */
export const encodeSse = <Chunk, E, R>(
  operation: OperationName,
  chunks: Stream.Stream<Chunk, E, R>,
  toError: (error: E) => ApiError
): Stream.Stream<Uint8Array, never, R> => {
  const framing = framings[operation] ?? dataOnly
  const eventOf = framing.eventOf
  const end = framing.done ? frame("[DONE]") : undefined
  return Stream.transformPull(chunks, (pull) => {
    let ended = false
    let lastSequence = -1
    const last = (text: string | undefined): Pull.Pull<Arr.NonEmptyReadonlyArray<Uint8Array>> => {
      ended = true
      return text === undefined ? Cause.done() : Effect.succeed([utf8.encode(text)])
    }
    const next: Pull.Pull<Arr.NonEmptyReadonlyArray<Uint8Array>> = Effect.suspend(() =>
      ended ? Cause.done() : Effect.matchCauseEffect(pull, {
        onSuccess: (array) => {
          let text = ""
          for (const chunk of array) text += frame(JSON.stringify(chunk), eventOf?.(chunk))
          if (eventOf !== undefined) lastSequence = Math.max(lastSequence, sequenceOf(array[array.length - 1]))
          return Effect.succeed([utf8.encode(text)] as const)
        },
        onFailure: (cause) => {
          if (Pull.isDoneCause(cause)) return last(end)
          const found = Cause.findError(cause)
          // Only a typed failure becomes an error event; a defect or an interruption ends the stream as it is.
          return Result.isSuccess(found)
            ? last(errorEvent(operation, toError(found.success as E), lastSequence))
            : Effect.failCause(cause as Cause.Cause<never>)
        }
      })
    )
    return Effect.succeed(next)
  })
}
