/**
 * The one handler every operation route uses. It is parameterized by the operation from the core
 * registry and nothing else: authenticate, read and decode the body with the operation's schema, then
 * `router.call` for a plain call or `router.open` for a stream. There is no per-route flow to drift.
 */
import {
  type AllAttemptsFailed,
  type Attempt,
  type Operation,
  type OperationName,
  type RouterCallError,
  type RouterShape,
  type Wire
} from "@switchyard/core"
import { Cause, Clock, Effect, Exit, Pull, Scope, Stream } from "effect"
import { type HttpServerRequest, HttpServerResponse } from "effect/http"
import type { AuthShape, Principal } from "./Auth.ts"
import { ApiError, ApiErrors, errorResponse, fromRouterError } from "./HttpErrors.ts"
import type { GatewayMetricsShape } from "./Metrics.ts"
import { decodeRequest, readBody } from "./RequestBody.ts"
import type { Redactor } from "./Secrets.ts"
import { encodeSse } from "./Sse.ts"

/** What the handler needs from the gateway. */
export interface HandlerDeps {
  readonly router: RouterShape
  readonly auth: AuthShape
  readonly metrics: GatewayMetricsShape
  readonly bodyLimitBytes: number
  readonly redact: Redactor
}

/** How a request was served, for the response headers, the metrics and the log line. */
interface Served {
  readonly deployment: string | undefined
  readonly attempts: ReadonlyArray<Attempt>
  readonly fallbacks: number
  readonly continuations: number
}

const notServed: Served = { deployment: undefined, attempts: [], fallbacks: 0, continuations: 0 }

/** The status a stream's request is recorded with: 499 when the client left before the end. */
const endStatus = (exit: Exit.Exit<unknown, unknown>, failedWith: number | undefined): number =>
  Exit.isSuccess(exit)
    ? failedWith ?? 200
    : Cause.hasInterruptsOnly(exit.cause)
    ? 499
    : failedWith ?? 500

const nowMillis = Effect.map(Clock.currentTimeNanos, (n) => Number(n) / 1e6)

/** Time spent in upstream attempts; the rest of a request's time is the gateway's overhead. */
const upstreamMillis = (attempts: ReadonlyArray<Attempt>) => attempts.reduce((sum, a) => sum + a.durationMillis, 0)

const servedHeaders = (served: Served, overheadMillis: number): Record<string, string> => ({
  ...(served.deployment === undefined ? {} : { "x-switchyard-deployment": served.deployment }),
  "x-switchyard-attempts": String(served.attempts.length),
  "x-switchyard-fallbacks": String(served.fallbacks),
  "x-switchyard-overhead-ms": overheadMillis.toFixed(1)
})

/** Model groups a request names: the model, and fallbacks the client asked for. */
const modelsNamed = (body: Record<string, unknown>): ReadonlyArray<string> => [
  String(body.model),
  ...(Array.isArray(body.fallbacks) ? body.fallbacks.map(String) : [])
]

/** Fallback groups an attempt list reached: the groups beyond the first. */
const fallbacksIn = (attempts: ReadonlyArray<Attempt>) => Math.max(0, new Set(attempts.map((a) => a.group)).size - 1)

/** The route an AllAttemptsFailed took: every attempt, and how many fallback groups it entered. */
const failedRoute = (error: AllAttemptsFailed): Served => ({
  deployment: undefined,
  attempts: error.attempts,
  fallbacks: fallbacksIn(error.attempts),
  continuations: 0
})

/** Builds the handler of the routes of one operation. */
export const makeOperationHandler = (deps: HandlerDeps) =>
<Req>(operation: Operation<string, Req>) =>
(request: HttpServerRequest.HttpServerRequest) => {
  const name = operation.name as OperationName
  const path = request.url.split("?")[0] ?? request.url

  return Effect.gen(function*() {
    const started = yield* nowMillis
    let model = "unknown"
    let principal: Principal | undefined

    /** An upstream's message may quote anything: blank the keys the config holds before it leaves. */
    const redacted = (error: ApiError) => new ApiError({ ...error, message: deps.redact(error.message) })

    /** Metrics and the one log line of a finished request. */
    const finish = (status: number, served: Served, overheadMillis: number) =>
      Effect.gen(function*() {
        const durationMillis = (yield* nowMillis) - started
        yield* deps.metrics.record({
          operation: name,
          model,
          status,
          attempts: served.attempts,
          fallbacks: served.fallbacks,
          continuations: served.continuations,
          durationMillis,
          overheadMillis
        })
        yield* Effect.log("request").pipe(Effect.annotateLogs({
          method: request.method,
          path,
          operation: name,
          model,
          status,
          deployment: served.deployment ?? "-",
          attempts: served.attempts.length,
          fallbacks: served.fallbacks,
          ...(served.continuations > 0 ? { continuations: served.continuations } : {}),
          ...(principal?._tag === "Virtual" && principal.key.alias !== undefined ? { key_alias: principal.key.alias } : {}),
          duration_ms: Math.round(durationMillis),
          overhead_ms: Number(overheadMillis.toFixed(1))
        }))
      })

    /** Puts how the request was routed on its span: the outcome as attributes, one event per attempt. */
    const traceRoute = (served: Served, status: number) =>
      Effect.gen(function*() {
        const span = yield* Effect.currentSpan
        const now = yield* Clock.currentTimeNanos
        span.attribute("switchyard.model", model)
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
      }).pipe(Effect.ignore)

    /** The overhead so far: all of the handler's time that was not spent waiting for an upstream. */
    const overheadNow = (attempts: ReadonlyArray<Attempt>) =>
      Effect.map(nowMillis, (now) => Math.max(0, now - started - upstreamMillis(attempts)))

    const fail = (error: ApiError, served: Served) =>
      Effect.gen(function*() {
        const overhead = yield* overheadNow(served.attempts)
        yield* traceRoute(served, error.status)
        yield* finish(error.status, served, overhead)
        return HttpServerResponse.setHeaders(errorResponse(redacted(error)), servedHeaders(served, overhead))
      })

    const routed = Effect.gen(function*() {
      principal = yield* deps.auth.authenticate(request.headers)
      yield* deps.auth.admit(principal)
      const raw = yield* readBody(request, operation, deps.bodyLimitBytes)
      if (typeof raw.model === "string") model = raw.model
      const body = yield* decodeRequest(operation, raw)
      yield* deps.auth.authorize(principal, modelsNamed(raw))
      const streams = operation.stream !== undefined && (operation.stream.kind === "bytes" || raw.stream === true)
      if (!streams) {
        const result = yield* deps.router.call(operation, body)
        const served: Served = { ...result, continuations: 0 }
        const overhead = yield* overheadNow(result.attempts)
        yield* traceRoute(served, 200)
        yield* finish(200, served, overhead)
        return HttpServerResponse.jsonUnsafe(result.response, { headers: servedHeaders(served, overhead) })
      }
      return yield* openStream(body)
    })

    /**
     * Opens the routed stream before answering, so a failure before the first chunk is a plain JSON
     * error. The stream's Scope outlives this handler: the response body closes it when it ends.
     */
    const openStream = (body: Req) =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        // Should the body never run (the client left first), the request's own scope still closes it.
        yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
        const stream = yield* deps.router.open(operation, body).pipe(
          Scope.provide(scope),
          Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : Scope.close(scope, exit)))
        )
        const overhead = yield* overheadNow(stream.attempts)
        const servedSoFar = (): Served => ({
          deployment: stream.summary().deployments.at(-1) ?? stream.deployment,
          attempts: stream.attempts,
          // A continuation may have moved on to a fallback group after the stream opened.
          fallbacks: Math.max(stream.fallbacks, fallbacksIn(stream.attempts)),
          continuations: stream.summary().breaks
        })
        const headers = servedHeaders(servedSoFar(), overhead)
        // The span ends with this handler, when the headers go out; the log line comes at the stream's end.
        yield* traceRoute(servedSoFar(), 200)
        // The status a broken stream ends with is the one its error event (or cut) stands for.
        let failedWith: number | undefined
        const toError = (error: RouterCallError) => {
          const apiError = redacted(fromRouterError(error))
          failedWith = apiError.status
          return apiError
        }
        const done = (exit: Exit.Exit<unknown, unknown>) =>
          finish(endStatus(exit, failedWith), servedSoFar(), overhead).pipe(
            Effect.ensuring(Scope.close(scope, Exit.void))
          )
        if (operation.stream?.kind === "bytes") {
          const audio = (stream.stream as Stream.Stream<Wire.AudioChunk, RouterCallError>).pipe(
            Stream.tapError((error) => Effect.sync(() => toError(error)))
          )
          return yield* bytesResponse(audio, scope, headers, done)
        }
        const events = encodeSse(name, stream.stream, toError).pipe(Stream.onExit(done))
        return HttpServerResponse.stream(events, {
          contentType: "text/event-stream",
          headers: { ...headers, "cache-control": "no-cache", "x-accel-buffering": "no" }
        })
      })

    return yield* routed.pipe(
      Effect.catch((error: ApiError | RouterCallError) =>
        error._tag === "ApiError"
          ? fail(error, notServed)
          : fail(fromRouterError(error), error._tag === "AllAttemptsFailed" ? failedRoute(error) : notServed)
      ),
      Effect.catchDefect((defect) =>
        Effect.logError("request failed with a defect").pipe(
          Effect.annotateLogs({ path, defect: deps.redact(Cause.pretty(Cause.die(defect))) }),
          Effect.andThen(fail(ApiErrors.internal(), notServed))
        )
      )
    )
  }).pipe(Effect.withSpan("switchyard.request", {
    attributes: { "switchyard.operation": name, "http.request.method": request.method, "url.path": path }
  }))
}

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
