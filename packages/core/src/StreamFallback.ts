/**
 * Streams that survive: the driver of a routed stream. Opening a stream is an attempt like any call: it
 * succeeds when the first chunk arrives, so failures before it are retried and fall back through the
 * same pipeline. After that the driver moves chunks from the upstream to the client through the
 * `Splicer`, and decides, once per failure, whether the upstream broke (continue elsewhere) or the
 * reply ended (with an error the client must see).
 */
import { Cause, Effect, Exit, Pull, Scope, Stream } from "effect"
import { contentFiltered } from "./ContentFilter.ts"
import type { Deployment } from "./Deployment.ts"
import { type Attempt, failurePolicy, MalformedResponse, MidStream, type ProviderError } from "./Errors.ts"
import type { Operation, TextStreamSpec } from "./Operation.ts"
import { type Journey, type Perform, type Pipeline, type Produced, withDeadline } from "./Pipeline.ts"
import type { Policy } from "./Policy.ts"
import { isPrefillRefusal, type PrefillSupport } from "./Prefill.ts"
import type { RouterCallError } from "./Router.ts"
import { Splicer } from "./Splicer.ts"
import { defaultContinuationPrompt } from "./TextStreams.ts"
import { estimateUsage } from "./Tokens.ts"
import type { Usage } from "./Usage.ts"

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

/**
 * Whether a failure inside an open stream is a break, which a continuation may repair: a cut, a stall,
 * a 5xx, overload or a rate limit. Anything else (a 400-class error event) is the reply's own answer,
 * and the client sees it as it would at the start.
 */
export const breaksStream = (error: ProviderError): boolean => failurePolicy(error).retry === "same"

/** A failure after content was sent, as the MidStream that says so; `received` is the text that had arrived. */
export const asMidStream = (cause: ProviderError, received: string): MidStream =>
  cause._tag === "MidStream" ? cause : new MidStream({
    message: `stream broke after content was sent: ${cause._tag}: ${cause.message}`,
    received,
    ...(cause.status === undefined ? {} : { status: cause.status })
  })

/** A provider stream after its first chunk, with the scope that holds its connection. */
interface Upstream<Chunk> {
  readonly first: ReadonlyArray<Chunk>
  readonly pull: Pull.Pull<ReadonlyArray<Chunk>, ProviderError>
  readonly scope: Scope.Closeable
  /** The request it was sent, for estimating the usage of a part that never reported it. */
  readonly request: unknown
}

/** Opens a provider stream up to its first chunk; its connection lives in a scope of its own. */
const openUpstream = <Chunk>(
  chunks: Stream.Stream<Chunk, ProviderError>,
  deployment: Deployment,
  request: unknown
): Effect.Effect<Upstream<Chunk>, ProviderError> =>
  Effect.suspend(() => {
    const scope = Scope.makeUnsafe()
    return Stream.toPull(chunks).pipe(
      Scope.provide(scope),
      Effect.flatMap((pull) =>
        Effect.flatMap(
          Pull.catchDone(pull, () =>
            Effect.fail(new MalformedResponse({ message: `${deployment.id} ended the stream before its first chunk` }))),
          (first) => {
            // Opening chunks that end filtered before any text: a content-policy failure, not a reply.
            const filtered = contentFiltered({ first })
            return filtered === undefined ? Effect.succeed<Upstream<Chunk>>({ first, pull, scope, request }) : Effect.fail(filtered)
          }
        )
      ),
      Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : Scope.close(scope, exit)))
    )
  })

/** Opens a routed stream. Needs a Scope: the open upstream connection belongs to it. */
export const openStream = <Req, Chunk>(
  pipeline: Pipeline,
  policy: Policy,
  prefill: PrefillSupport,
  operation: Operation<string, Req, any, Chunk>,
  request: Req
): Effect.Effect<RoutedStream<Chunk>, RouterCallError, Scope.Scope> =>
  Effect.gen(function*() {
    const spec = operation.stream
    if (spec === undefined) return yield* Effect.die(new Error(`${operation.name} does not stream`))
    const text = spec.kind === "text" ? spec as TextStreamSpec<Req, Chunk> : undefined
    const splicer = text === undefined ? undefined : new Splicer<Chunk>(
      text as TextStreamSpec<unknown, Chunk>,
      text.usageAsked?.(request) ?? true
    )
    const mode = policy.settings.mid_stream_fallback ?? "continue"
    const instruction = policy.settings.continuation_prompt === undefined
      ? defaultContinuationPrompt
      : policy.settings.continuation_prompt
    const journey = yield* pipeline.start(operation, request)
    const original = journey.request as Req

    // A continuation asks for what comes after the text the client already has.
    const perform: Perform<Upstream<Chunk>> = (provider, deployment) => {
      const send = (req: unknown) => openUpstream(provider.stream(operation, deployment, req as Req), deployment, req)
      const sent = splicer?.sent ?? ""
      if (text === undefined || sent === "" || mode === "restart") return send(original)
      const continuation = (asPrefill: boolean) => send(text.continueWith(original, sent, { prefill: asPrefill, instruction }))
      if (!prefill.accepts(provider, deployment)) return continuation(false)
      // A refused prefill is no failure of the deployment: it is asked again at once in the instruction form.
      return Effect.catchIf(continuation(true), isPrefillRefusal, () => {
        prefill.refused(deployment)
        return continuation(false)
      })
    }
    const open = (index: number) =>
      pipeline.run(journey, perform, pipeline.streamTimeout(journey), index).pipe(
        Effect.mapError((failure) => pipeline.finalError(journey, failure))
      )

    const opened = yield* open(0)
    const relay = new Relay<Chunk>(
      { pipeline, journey, splicer, continues: mode !== "off", open, stallMillis: pipeline.streamTimeout(journey) },
      opened
    )
    yield* Effect.addFinalizer(() => relay.abandon())
    return {
      deployment: opened.deployment.id,
      group: opened.group,
      attempts: journey.attempts,
      fallbacks: opened.fallbacks,
      stream: Stream.fromPull(Effect.succeed(relay.pull as Pull.Pull<readonly [Chunk, ...Array<Chunk>], RouterCallError>)),
      summary: () => ({ deployments: relay.deployments, breaks: splicer?.breaks ?? 0, usage: splicer?.usage() })
    }
  })

/** What a relay works with: the route's pipeline and journey, the splicer, and how to open the next upstream. */
interface RelayContext<Chunk> {
  readonly pipeline: Pipeline
  readonly journey: Journey
  /** Absent for byte streams, which pass through and are never continued. */
  readonly splicer: Splicer<Chunk> | undefined
  /** Whether a break may be continued at all (`mid_stream_fallback` is not `off`). */
  readonly continues: boolean
  readonly open: (index: number) => Effect.Effect<Produced<Upstream<Chunk>>, RouterCallError>
  readonly stallMillis: (deployment: Deployment) => number
}

type PullExit<Chunk> = Exit.Exit<ReadonlyArray<Chunk>, ProviderError | Cause.Done>

/**
 * Moves the chunks of one upstream after another to the client. Its state is which upstream is current
 * and the chunks pulled but not yet spliced; everything about what the client has is the splicer's.
 */
class Relay<Chunk> {
  readonly deployments: Array<string>
  private readonly splicer: Splicer<Chunk> | undefined
  private current: Produced<Upstream<Chunk>>
  /** The upstream whose attempt was ended last: ending it again would cost a second state call. */
  private endedLast: Produced<Upstream<Chunk>> | undefined
  private pending: ReadonlyArray<Chunk> | undefined
  private finished = false
  private timedPull!: Effect.Effect<PullExit<Chunk>>

  constructor(private readonly context: RelayContext<Chunk>, first: Produced<Upstream<Chunk>>) {
    this.splicer = context.splicer
    this.current = first
    this.deployments = [first.deployment.id]
    this.use(first)
  }

  /** The client's next chunks. A plain loop of effects rather than a generator: it runs once per chunk. */
  readonly pull: Pull.Pull<ReadonlyArray<Chunk>, RouterCallError> = Effect.suspend(() => {
    const pending = this.pending
    if (pending !== undefined) {
      this.pending = undefined
      const out = this.splicer === undefined ? pending : this.splicer.push(pending)
      if (out.length > 0) return Effect.succeed(out)
    }
    if (this.finished) return Cause.done()
    return Effect.flatMap(this.timedPull, this.pulled)
  })

  /** Releases the current upstream if the client leaves before the end (a no-op after it). */
  abandon(): Effect.Effect<void> {
    return this.endUpstream(this.splicer?.part().usage?.totalTokens ?? 0)
  }

  private readonly pulled = (exit: PullExit<Chunk>): Pull.Pull<ReadonlyArray<Chunk>, RouterCallError> => {
    if (Exit.isSuccess(exit)) {
      this.pending = exit.value
      return this.pull
    }
    if (Pull.isDoneCause(exit.cause)) return this.ended()
    const found = Cause.findError(exit.cause)
    if (found._tag === "Failure") return Effect.failCause(exit.cause as Cause.Cause<never>)
    return Effect.andThen(this.broke(found.success as ProviderError), this.pull)
  }

  /** The upstream ended cleanly: release what the splicer held, and the upstream with its tokens. */
  private ended(): Pull.Pull<ReadonlyArray<Chunk>, RouterCallError> {
    this.finished = true
    const out = this.splicer?.end() ?? []
    const tokens = this.splicer?.part().usage?.totalTokens ?? 0
    return Effect.andThen(this.endUpstream(tokens), out.length > 0 ? Effect.succeed(out) : Cause.done())
  }

  /** The one place that decides what a failure inside the stream means: continue elsewhere, or end with it. */
  private broke(error: ProviderError): Effect.Effect<void, RouterCallError> {
    const relay = this
    const { continues, journey, open, pipeline, splicer } = this.context
    const broken = this.current
    const repairable = breaksStream(error)
    const reported = repairable ? asMidStream(error, splicer?.sent ?? "") : error
    return Effect.gen(function*() {
      yield* pipeline.recordBreak(journey, broken.deployment, reported)
      if (splicer === undefined || !repairable || !continues) {
        yield* relay.endUpstream(splicer?.part().usage?.totalTokens ?? 0)
        const failure = { error: reported, alternative: false, healthy: false, deployment: broken.deployment, attempt: 0 }
        return yield* Effect.fail(pipeline.finalError(journey, failure))
      }
      const part = splicer.part()
      const usage = part.usage ?? (yield* estimateUsage(broken.value.request, part.text))
      yield* relay.endUpstream(usage.totalTokens)
      splicer.broke(usage)
      const next = yield* open(journey.entered)
      relay.deployments.push(next.deployment.id)
      relay.use(next)
    })
  }

  /** Makes `next` the current upstream: its first chunks go out next, its pulls are timed. */
  private use(next: Produced<Upstream<Chunk>>): void {
    this.current = next
    this.pending = next.value.first
    const deployment = next.deployment
    const millis = this.context.stallMillis(deployment)
    // Built once per upstream, not once per chunk.
    this.timedPull = Effect.exit(withDeadline(
      next.value.pull,
      millis,
      () => new MidStream({ message: `${deployment.id} stalled for ${millis}ms`, received: this.splicer?.sent ?? "" })
    ))
  }

  /** Closes the current upstream's connection and ends its attempt with the tokens it used. */
  private endUpstream(tokens: number): Effect.Effect<void> {
    const current = this.current
    if (this.endedLast === current) return Effect.void
    this.endedLast = current
    return Effect.andThen(Scope.close(current.value.scope, Exit.void), current.release(tokens))
  }
}
