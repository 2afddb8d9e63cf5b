/**
 * The one handler every operation route uses. It is parameterized by the operation from the core
 * registry and nothing else: authenticate, read and decode the body with the operation's schema, then
 * `router.call` for a plain call or `router.open` for a stream. There is no per-route flow to drift.
 */
import {
  type AllAttemptsFailed,
  type Attempt,
  FallbackAllowed,
  type Operation,
  type OperationName,
  type RouterCallError,
  type Routed,
  type RouterShape,
  type Usage,
  type Wire
} from "@switchyard/core"
import { Cause, Clock, Effect, Exit, Pull, Scope, Stream, type Tracer } from "effect"
import { type HttpServerRequest, HttpServerResponse } from "effect/http"
import type { AuthShape, Principal } from "./Auth.ts"
import type { BrowserGuard } from "./BrowserGuard.ts"
import { ApiError, ApiErrors, errorResponse, fromRouterError } from "./HttpErrors.ts"
import type { GatewayMetricsShape } from "./Metrics.ts"
import { checkModelName, decodeRequest, readBody } from "./RequestBody.ts"
import type { Redactor } from "./Secrets.ts"
import { encodeSse } from "./Sse.ts"

/** What the handler needs from the gateway. */
export interface HandlerDeps {
  readonly router: RouterShape
  readonly auth: AuthShape
  readonly metrics: GatewayMetricsShape
  readonly bodyLimitBytes: number
  readonly redact: Redactor
  readonly guard: BrowserGuard
  /** The metric label of a requested model: a configured name, else `other`. */
  readonly modelLabel: (model: string) => string
}

/** How a request was served, for the response headers, the metrics and the log line. */
interface Served {
  readonly deployment: string | undefined
  readonly attempts: ReadonlyArray<Attempt>
  readonly fallbacks: number
  readonly continuations: number
  /** What the upstreams really spent (every continuation's prompt too), when known. */
  readonly spent?: Usage | undefined
}

const notServed: Served = { deployment: undefined, attempts: [], fallbacks: 0, continuations: 0 }

/** The status a stream's request is recorded with: 499 when the client left before the end. */
const endStatus = (exit: Exit.Exit<unknown, unknown>, failedWith: number | undefined): number =>
  Exit.isSuccess(exit)
    ? failedWith ?? 200
    : Cause.hasInterruptsOnly(exit.cause)
    ? 499
    : failedWith ?? 500

/** Milliseconds on the fiber's clock, read without an effect: the handler reads it several times per request. */
const millisOf = (clock: Clock.Clock) => Number(clock.currentTimeNanosUnsafe()) / 1e6

/** Time spent in upstream attempts; the rest of a request's time is the gateway's overhead. */
const upstreamMillis = (attempts: ReadonlyArray<Attempt>) => {
  let sum = 0
  for (const a of attempts) sum += a.durationMillis
  return sum
}

const servedHeaders = (served: Served, overheadMillis: number): Record<string, string> => ({
  ...(served.deployment === undefined ? {} : { "x-switchyard-deployment": served.deployment }),
  "x-switchyard-attempts": String(served.attempts.length),
  "x-switchyard-fallbacks": String(served.fallbacks),
  "x-switchyard-overhead-ms": overheadMillis.toFixed(1)
})

/** Model groups a request names: the model, and fallbacks the client asked for. */
const modelsNamed = (body: Record<string, unknown>): ReadonlyArray<string> =>
  Array.isArray(body.fallbacks) ? [String(body.model), ...body.fallbacks.map(String)] : [String(body.model)]

/** Fallback groups an attempt list reached: the groups beyond the first. */
const fallbacksIn = (attempts: ReadonlyArray<Attempt>) => {
  if (attempts.length < 2) return 0
  return Math.max(0, new Set(attempts.map((a) => a.group)).size - 1)
}

/** The route an AllAttemptsFailed took: every attempt, and how many fallback groups it entered. */
const failedRoute = (error: AllAttemptsFailed): Served => ({
  deployment: undefined,
  attempts: error.attempts,
  fallbacks: fallbacksIn(error.attempts),
  continuations: 0
})

const noSpan = Effect.succeed(undefined)
/** The request's span; an effect that cannot fail, so reading it costs no error channel. */
const currentSpan: Effect.Effect<Tracer.Span | undefined> = Effect.catch(Effect.currentSpan, () => noSpan)

/**
 * What one request has learnt so far, and what it does with it at the end. A class rather than closures
 * made per request: the methods are shared, so a request allocates one object for them.
 */
class RequestState {
  readonly started: number
  model = "unknown"
  principal: Principal | undefined = undefined
  /** Whether the request's body was read: an error answered before it closes the connection. */
  bodyRead = false
  /** Set by the first `finish`, so a request is logged and counted once whichever way it ends. */
  finished = false

  constructor(
    readonly deps: HandlerDeps,
    readonly name: OperationName,
    readonly method: string,
    readonly path: string,
    readonly clock: Clock.Clock,
    readonly span: Tracer.Span | undefined
  ) {
    this.started = millisOf(clock)
  }

  /** An upstream's message may quote anything: blank the keys the config holds before it leaves. */
  redacted(error: ApiError): ApiError {
    return new ApiError({ ...error, message: this.deps.redact(error.message) })
  }

  /** The overhead so far: all of the handler's time that was not spent waiting for an upstream. */
  overheadNow(attempts: ReadonlyArray<Attempt>): number {
    return Math.max(0, millisOf(this.clock) - this.started - upstreamMillis(attempts))
  }

  /** Metrics and the one log line of a finished request. */
  finish(status: number, served: Served, overheadMillis: number): Effect.Effect<void> {
    if (this.finished) return Effect.void
    this.finished = true
    const durationMillis = millisOf(this.clock) - this.started
    const principal = this.principal
    return Effect.andThen(
      this.deps.metrics.record({
        operation: this.name,
        model: this.deps.modelLabel(this.model),
        status,
        attempts: served.attempts,
        fallbacks: served.fallbacks,
        continuations: served.continuations,
        spent: served.spent,
        durationMillis,
        overheadMillis
      }),
      Effect.annotateLogs(requestLine, {
        method: this.method,
        path: this.path,
        operation: this.name,
        model: this.model,
        status,
        deployment: served.deployment ?? "-",
        attempts: served.attempts.length,
        fallbacks: served.fallbacks,
        ...(served.continuations > 0 ? { continuations: served.continuations } : {}),
        ...(served.spent === undefined ? {} : { prompt_tokens: served.spent.promptTokens, completion_tokens: served.spent.completionTokens }),
        ...(principal?._tag === "Virtual" && principal.key.alias !== undefined ? { key_alias: principal.key.alias } : {}),
        duration_ms: Math.round(durationMillis),
        overhead_ms: Number(overheadMillis.toFixed(1))
      })
    )
  }

  /** Puts how the request was routed on its span: the outcome as attributes, one event per attempt. */
  traceRoute(served: Served, status: number): void {
    const span = this.span
    if (span === undefined) return
    const now = this.clock.currentTimeNanosUnsafe()
    span.attribute("switchyard.model", this.model)
    span.attribute("http.response.status_code", status)
    span.attribute("switchyard.attempts", served.attempts.length)
    span.attribute("switchyard.fallbacks", served.fallbacks)
    if (served.deployment !== undefined) span.attribute("switchyard.deployment", served.deployment)
    for (const a of served.attempts) {
      span.event("switchyard.attempt", now, {
        deployment: a.deployment,
        group: a.group,
        duration_ms: a.durationMillis,
        ...(a.error === undefined ? {} : { error: a.error })
      })
    }
  }

  /** The answer of a request that failed: the error response, after the span, metrics and log line. */
  fail(error: ApiError, served: Served): Effect.Effect<HttpServerResponse.HttpServerResponse> {
    const overhead = this.overheadNow(served.attempts)
    this.traceRoute(served, error.status)
    return Effect.as(
      this.finish(error.status, served, overhead),
      HttpServerResponse.setHeaders(errorResponse(this.redacted(error), this.name), {
        ...servedHeaders(served, overhead),
        // Not reading the rest of an unread body: a client trickling it cannot hold the connection.
        ...(this.bodyRead ? {} : { connection: "close" })
      })
    )
  }

  /** The answer of a routed call. */
  answer(result: Routed<unknown>, spent: Usage | undefined): Effect.Effect<HttpServerResponse.HttpServerResponse> {
    const served: Served = { deployment: result.deployment, attempts: result.attempts, fallbacks: result.fallbacks, continuations: 0, spent }
    const overhead = this.overheadNow(result.attempts)
    this.traceRoute(served, 200)
    return Effect.as(
      this.finish(200, served, overhead),
      HttpServerResponse.jsonUnsafe(result.response, { headers: servedHeaders(served, overhead) })
    )
  }

  /** The error response of whatever stopped the request. */
  recover(error: ApiError | RouterCallError): Effect.Effect<HttpServerResponse.HttpServerResponse> {
    return error._tag === "ApiError"
      ? this.fail(error, notServed)
      : this.fail(fromRouterError(error), error._tag === "AllAttemptsFailed" ? failedRoute(error) : notServed)
  }

  /** A defect is logged with its details (keys blanked); the client gets a plain 500. */
  defect(defect: unknown): Effect.Effect<HttpServerResponse.HttpServerResponse> {
    return Effect.logError("request failed with a defect").pipe(
      Effect.annotateLogs({ path: this.path, defect: this.deps.redact(Cause.pretty(Cause.die(defect))) }),
      Effect.andThen(Effect.suspend(() => this.fail(ApiErrors.internal(), notServed)))
    )
  }
}

/** Builds the handler of the routes of one operation. */
export const makeOperationHandler = (deps: HandlerDeps) =>
<Req>(operation: Operation<string, Req>) =>
(request: HttpServerRequest.HttpServerRequest) => {
  const name = operation.name as OperationName
  const path = request.url.split("?")[0] ?? request.url

  return Effect.gen(function*() {
    const state = new RequestState(deps, name, request.method, path, yield* Clock.Clock, yield* currentSpan)

    const routed = Effect.gen(function*() {
      yield* deps.guard.check(request, true)
      const principal = yield* deps.auth.authenticate(request.headers)
      state.principal = principal
      yield* deps.auth.admit(principal)
      const raw = yield* readBody(request, operation, deps.bodyLimitBytes)
      state.bodyRead = true
      yield* checkModelName(raw)
      if (typeof raw.model === "string") state.model = raw.model
      const body = yield* decodeRequest(operation, raw)
      yield* deps.auth.authorize(principal, modelsNamed(raw))
      const streams = operation.stream !== undefined && (operation.stream.kind === "bytes" || raw.stream === true)
      const served = streams
        ? openStream(deps, operation, state, body)
        : Effect.flatMap(deps.router.call(operation, body), (result) => state.answer(result, operation.usage?.(result.response)))
      // A configured fallback serves only groups the key may use.
      return yield* Effect.provideService(served, FallbackAllowed, (group) => deps.auth.allows(principal, group))
    })

    return yield* routed.pipe(
      Effect.catch((error: ApiError | RouterCallError) => state.recover(error)),
      Effect.catchDefect((defect) => state.defect(defect)),
      Effect.map((response) => deps.guard.withCors(request, response)),
      // The client left before the answer: a hung upstream must still show, as a 499. Its attempts are
      // the router's, unknown here, so no overhead is claimed for it.
      Effect.onInterrupt(() => Effect.suspend(() => state.finish(499, notServed, 0)))
    )
  }).pipe(Effect.withSpan(
    "switchyard.request",
    { attributes: { "switchyard.operation": name, "http.request.method": request.method, "url.path": path } },
    // The one span of a request. Its stack frame would point here for every request; capturing it per
    // request (a `new Error()`) showed in profiles.
    noStackTrace
  ))
}

/**
 * Opens the routed stream before answering, so a failure before the first chunk is a plain JSON error.
 * The stream's Scope outlives the handler: the response body closes it when it ends.
 */
const openStream = <Req>(deps: HandlerDeps, operation: Operation<string, Req>, state: RequestState, body: Req) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    // Should the body never run (the client left first), the request's own scope still closes it.
    yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
    const stream = yield* deps.router.open(operation, body).pipe(
      Scope.provide(scope),
      Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : Scope.close(scope, exit)))
    )
    const overhead = state.overheadNow(stream.attempts)
    const servedSoFar = (): Served => {
      const summary = stream.summary()
      return {
        deployment: summary.deployments.at(-1) ?? stream.deployment,
        attempts: stream.attempts,
        // A continuation may have moved on to a fallback group after the stream opened.
        fallbacks: Math.max(stream.fallbacks, fallbacksIn(stream.attempts)),
        continuations: summary.breaks,
        spent: summary.usage
      }
    }
    const headers = servedHeaders(servedSoFar(), overhead)
    // The span ends with the handler, when the headers go out; the log line comes at the stream's end.
    state.traceRoute(servedSoFar(), 200)
    // The status a broken stream ends with is the one its error event (or cut) stands for.
    let failedWith: number | undefined
    const toError = (error: RouterCallError) => {
      const apiError = state.redacted(fromRouterError(error))
      failedWith = apiError.status
      return apiError
    }
    const done = (exit: Exit.Exit<unknown, unknown>) =>
      state.finish(endStatus(exit, failedWith), servedSoFar(), overhead).pipe(
        Effect.ensuring(Scope.close(scope, Exit.void))
      )
    if (operation.stream?.kind === "bytes") {
      const audio = (stream.stream as Stream.Stream<Wire.AudioChunk, RouterCallError>).pipe(
        Stream.tapError((error) => Effect.sync(() => toError(error)))
      )
      return yield* bytesResponse(audio, scope, headers, done)
    }
    const events = encodeSse(state.name, stream.stream, toError).pipe(Stream.onExit(done))
    return HttpServerResponse.stream(events, {
      contentType: "text/event-stream",
      headers: { ...headers, "cache-control": "no-cache", "x-accel-buffering": "no" }
    })
  })

const noStackTrace = { captureStackTrace: false } as const

/** The one log line of a request; its fields are log annotations. */
const requestLine = Effect.log("request")

/**
 * Passes audio through as it arrives: the first chunk (already there when the stream opened) gives the
 * content type, and every chunk is written as it comes. A break after bytes were sent cuts the
 * connection, which a client sees as an incomplete body.
 */
const bytesResponse = (
  chunks: Stream.Stream<Wire.AudioChunk, RouterCallError>,
  scope: Scope.Closeable,
  headers: Record<string, string>,
  done: (exit: Exit.Exit<unknown, unknown>) => Effect.Effect<void>
) =>
  Effect.gen(function*() {
    const pull = yield* Stream.toPull(chunks).pipe(Scope.provide(scope))
    const first = yield* Pull.catchDone(pull, () => Effect.succeed<ReadonlyArray<Wire.AudioChunk>>([]))
    const rest = Stream.fromPull(Effect.succeed(pull))
    const body = Stream.concat(Stream.fromIterable(first), rest).pipe(
      Stream.map((chunk) => chunk.data),
      Stream.onExit(done)
    )
    return HttpServerResponse.stream(body, {
      contentType: first[0]?.contentType ?? "application/octet-stream",
      headers
    })
  })
