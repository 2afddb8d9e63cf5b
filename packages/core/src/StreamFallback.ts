/**
 * Streams that survive. Opening a stream is an attempt like any call: it succeeds when the first chunk
 * arrives, so failures before it are retried and fall back through the same pipeline. A break after
 * content was sent is continued: the partial text goes into a continuation request that re-enters the
 * pipeline where the stream stopped, and its chunks are fitted onto what the client already has.
 */
import { Cause, Effect, Exit, Pull, Scope, Stream } from "effect"
import { type Attempt, MalformedResponse, MidStream, type ProviderError } from "./Errors.ts"
import type { Operation, TextStreamSpec } from "./Operation.ts"
import { type Action, type Pipeline, withDeadline } from "./Pipeline.ts"
import type { Policy } from "./Policy.ts"
import { acceptsPrefill } from "./Provider.ts"
import type { RouterCallError } from "./Router.ts"
import { defaultContinuationPrompt } from "./TextStreams.ts"
import { estimateUsage } from "./Tokens.ts"
import { addUsage, type Usage } from "./Usage.ts"

/** What a finished (or failed) stream went through. */
export interface StreamSummary {
  /** Every deployment that sent part of the stream, in order. */
  readonly deployments: ReadonlyArray<string>
  /** Breaks that were survived by continuing on another deployment. */
  readonly breaks: number
  /** The usage of all parts added up; `estimated` when a broken part never reported its own. */
  readonly usage: Usage | undefined
}

/** An open stream: its first chunk has arrived, so the route that served it is known. */
export interface RoutedStream<Chunk> {
  readonly deployment: string
  readonly group: string
  readonly attempts: ReadonlyArray<Attempt>
  readonly fallbacks: number
  /** The whole reply, first chunk included. It fails typed, and never ends early as if complete. */
  readonly stream: Stream.Stream<Chunk, RouterCallError>
  /** How the stream was served so far; final once `stream` has ended. */
  readonly summary: () => StreamSummary
}

/** A provider stream after its first chunk. */
interface Opened<Chunk> {
  readonly first: ReadonlyArray<Chunk>
  readonly pull: Pull.Pull<ReadonlyArray<Chunk>, ProviderError>
}

/** Overlaps shorter than this are taken for legitimate repetition, unless the whole partial repeats. */
const MIN_OVERLAP = 12

/**
 * How many leading characters of a continuation repeat the tail of `sent`; `undefined` while more of the
 * continuation is needed to tell.
 */
export const overlapLength = (sent: string, continuation: string, ended: boolean): number | undefined => {
  let best = 0
  for (let k = sent.length; k >= 1; k--) {
    if (k < MIN_OVERLAP && k !== sent.length) break
    const tail = sent.slice(sent.length - k)
    if (continuation.length < k) {
      if (!ended && tail.startsWith(continuation)) return undefined
    } else if (best === 0 && continuation.startsWith(tail)) {
      best = k
    }
  }
  return best
}

/** Opens a routed stream. Needs a Scope: the open upstream connection belongs to it. */
export const openStream = <Req, Chunk>(
  pipeline: Pipeline,
  policy: Policy,
  operation: Operation<string, Req, any, Chunk>,
  request: Req
): Effect.Effect<RoutedStream<Chunk>, RouterCallError, Scope.Scope> =>
  Effect.gen(function*() {
    const spec = operation.stream
    if (spec === undefined) return yield* Effect.die(new Error(`${operation.name} does not stream`))
    const text = spec.kind === "text" ? spec as TextStreamSpec<Req, Chunk> : undefined
    const mode = policy.settings.mid_stream_fallback ?? "continue"
    const instruction = policy.settings.continuation_prompt === undefined
      ? defaultContinuationPrompt
      : policy.settings.continuation_prompt
    const journey = yield* pipeline.start(operation, request)
    const original = journey.request as Req

    // `sent` is every character the client has received; a continuation asks for what comes after it.
    let sent = ""
    let lastRequest: unknown = original
    const action: Action<Opened<Chunk>> = (provider, deployment) =>
      Effect.gen(function*() {
        const req = text === undefined || sent === "" || mode === "restart"
          ? original
          : text.continueWith(original, sent, { prefill: acceptsPrefill(provider, deployment), instruction })
        lastRequest = req
        const pull = yield* Stream.toPull(provider.stream(operation, deployment, req))
        const first = yield* pull.pipe(Pull.catchDone(() =>
          Effect.fail(new MalformedResponse({ message: `${deployment.id} ended the stream before its first chunk` }))
        ))
        return { first, pull }
      })
    const open = (index: number) =>
      pipeline.run(journey, action, "keep", policy.streamTimeoutMillis, index).pipe(
        Effect.mapError((failure) => pipeline.finalError(journey, failure))
      )

    const routed = yield* open(0)
    let current = { ...routed.response.value, scope: routed.response.scope, deployment: routed.response.deployment }
    yield* Effect.addFinalizer(() => Scope.close(current.scope, Exit.void))

    let pending: ReadonlyArray<Chunk> | undefined = current.first
    let finished = false
    let resumed = false
    const deployments = [current.deployment.id]
    let breaks = 0
    const held: Array<Chunk> = []
    const parts: Array<Usage> = []
    let segmentText = ""
    let segmentUsage: Usage | undefined
    // While a continuation's start may still repeat the tail of `sent`, its chunks wait here.
    let trimming: Array<Chunk> | undefined

    const total = () => (segmentUsage === undefined ? parts : [...parts, segmentUsage]).reduce<Usage | undefined>(
      (sum, u) => (sum === undefined ? u : addUsage(sum, u)),
      undefined
    )

    /** Sends one chunk on: holds tool-call chunks, tracks text and usage, reports the summed usage. */
    const emit = (chunk: Chunk, out: Array<Chunk>) => {
      if (text === undefined) return void out.push(chunk)
      if (text.holds(chunk)) return void held.push(chunk)
      out.push(...held.splice(0))
      const usage = text.usage(chunk)
      if (usage !== undefined) segmentUsage = usage
      const piece = text.text(chunk)
      sent += piece
      segmentText += piece
      out.push(usage !== undefined && breaks > 0 ? text.withUsage(chunk, total()!) : chunk)
    }

    /** Releases the chunks held for the overlap decision, minus the `trim` characters that repeat. */
    const releaseTrimmed = (buffer: ReadonlyArray<Chunk>, trim: number, out: Array<Chunk>) => {
      let left = trim
      for (const chunk of buffer) {
        const piece = text!.text(chunk)
        if (left === 0 || piece === "") emit(chunk, out)
        else if (piece.length <= left) left -= piece.length
        else {
          emit(text!.setText(chunk, piece.slice(left)), out)
          left = 0
        }
      }
    }

    const decideTrim = (ended: boolean, out: Array<Chunk>) => {
      if (trimming === undefined) return
      const overlap = overlapLength(sent, trimming.map((c) => text!.text(c)).join(""), ended)
      if (overlap === undefined) return
      const buffer = trimming
      trimming = undefined
      releaseTrimmed(buffer, overlap, out)
    }

    const process = (chunks: ReadonlyArray<Chunk>): Array<Chunk> => {
      const out: Array<Chunk> = []
      for (const raw of chunks) {
        const chunk = resumed && text !== undefined ? text.resumed(raw, sent) : raw
        if (chunk === undefined) continue
        if (trimming === undefined) emit(chunk, out)
        else {
          trimming.push(chunk)
          decideTrim(false, out)
        }
      }
      return out
    }

    /** Continues after a break, or fails with the typed error when nothing may continue it. */
    const recover = (error: ProviderError) =>
      Effect.gen(function*() {
        const broken = current.deployment
        const midStream = error._tag === "MidStream"
          ? error
          : new MidStream({ message: `${error._tag} after content was sent: ${error.message}`, received: sent })
        yield* pipeline.recordBreak(journey, broken, midStream)
        yield* Scope.close(current.scope, Exit.void)
        held.length = 0
        trimming = undefined
        const failure = { error: midStream, alternative: false, healthy: false, deployment: broken, attempt: 0 }
        if (text === undefined || mode === "off") return yield* Effect.fail(pipeline.finalError(journey, failure))
        parts.push(segmentUsage ?? (yield* estimateUsage(lastRequest, segmentText)))
        segmentUsage = undefined
        segmentText = ""
        const next = yield* open(journey.entered)
        current = { ...next.response.value, scope: next.response.scope, deployment: next.response.deployment }
        deployments.push(current.deployment.id)
        breaks++
        resumed = true
        pending = current.first
        trimming = sent === "" ? undefined : []
      })

    /** The current upstream's next pull, failing as a stall past the stream timeout. */
    const timed = (opened: typeof current) => {
      const deployment = opened.deployment
      const millis = policy.streamTimeoutMillis(deployment)
      return Effect.exit(withDeadline(
        opened.pull,
        millis,
        () => new MidStream({ message: `${deployment.id} stalled for ${millis}ms`, received: sent })
      ))
    }
    // Built once per upstream, not once per chunk.
    let timedPull = timed(current)
    let timedFor = current

    // A plain loop of effects rather than a generator: it runs once per chunk of every stream.
    const pull: Pull.Pull<ReadonlyArray<Chunk>, RouterCallError> = Effect.suspend(function next(): Pull.Pull<
      ReadonlyArray<Chunk>,
      RouterCallError
    > {
      while (pending !== undefined) {
        const out = process(pending)
        pending = undefined
        if (out.length > 0) return Effect.succeed(out)
      }
      if (finished) return Cause.done()
      if (timedFor !== current) {
        timedPull = timed(current)
        timedFor = current
      }
      return Effect.flatMap(timedPull, (exit) => {
        if (Exit.isSuccess(exit)) {
          pending = exit.value
          return next()
        }
        if (Pull.isDoneCause(exit.cause)) {
          finished = true
          const out: Array<Chunk> = []
          decideTrim(true, out)
          out.push(...held.splice(0))
          return Effect.flatMap(Scope.close(current.scope, Exit.void), () => (out.length > 0 ? Effect.succeed(out) : next()))
        }
        const found = Cause.findError(exit.cause)
        if (found._tag === "Failure") return Effect.failCause(exit.cause as Cause.Cause<never>)
        return Effect.flatMap(recover(found.success as ProviderError), next)
      })
    })

    return {
      deployment: routed.deployment,
      group: routed.group,
      attempts: journey.attempts,
      fallbacks: routed.fallbacks,
      stream: Stream.fromPull(Effect.succeed(pull as Pull.Pull<readonly [Chunk, ...Array<Chunk>], RouterCallError>)),
      summary: () => ({ deployments, breaks, usage: total() })
    }
  })
