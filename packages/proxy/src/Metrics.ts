/**
 * Gateway metrics as effect `Metric`s, served as Prometheus text on `/metrics`. Each gateway keeps its
 * own registry, so two gateways in one process (tests, embedding) do not mix their counts.
 */
import type { Attempt } from "@switchyard/core"
import { Context, Effect, Layer, Metric } from "effect"
import { PrometheusMetrics } from "effect/observability"

/** What one finished request reports. */
export interface RequestRecord {
  readonly operation: string
  /** The requested model group, or `unknown` when the request was rejected before it named one. */
  readonly model: string
  readonly status: number
  /** Every attempt, the successful one (if any) last. */
  readonly attempts: ReadonlyArray<Attempt>
  readonly fallbacks: number
  /** Breaks of a stream that were continued on another deployment. */
  readonly continuations: number
  readonly durationMillis: number
  /** Gateway time: the duration minus the time spent in attempts. */
  readonly overheadMillis: number
}

const secondsBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
const overheadBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

const requests = Metric.counter("switchyard_requests_total", {
  description: "Requests by model group, operation and HTTP status",
  incremental: true
})
const attempts = Metric.counter("switchyard_attempts_total", {
  description: "Attempts against deployments",
  incremental: true
})
const failures = Metric.counter("switchyard_deployment_failures_total", {
  description: "Failed attempts by deployment and failure class; these feed cooldowns",
  incremental: true
})
const retries = Metric.counter("switchyard_retries_total", {
  description: "Attempts beyond the first that were not a fallback or a stream continuation",
  incremental: true
})
const fallbacks = Metric.counter("switchyard_fallbacks_total", {
  description: "Fallback groups entered",
  incremental: true
})
const continuations = Metric.counter("switchyard_stream_continuations_total", {
  description: "Streams that broke mid-way and were continued on another deployment",
  incremental: true
})
const latency = Metric.histogram("switchyard_request_duration_seconds", {
  description: "Whole request time, to the end of the body for streams",
  boundaries: secondsBoundaries
})
const overhead = Metric.histogram("switchyard_overhead_seconds", {
  description: "Gateway time per request: the duration minus the time spent in upstream attempts",
  boundaries: overheadBoundaries
})

/** Recording and exposing the gateway metrics. */
export interface GatewayMetricsShape {
  /** Records one finished request. */
  readonly record: (record: RequestRecord) => Effect.Effect<void>
  /** The Prometheus text exposition of every metric. */
  readonly render: Effect.Effect<string>
}

/** Builds the metrics of one gateway over a fresh registry. */
export const makeGatewayMetrics = (): GatewayMetricsShape => {
  const registry: Metric.MetricRegistry = new Map()
  const inRegistry = <A>(effect: Effect.Effect<A>) => Effect.provideService(effect, Metric.MetricRegistry, registry)
  const add = (metric: Metric.Counter<number>, attributes: Metric.Metric.Attributes, n: number) =>
    n > 0 ? Metric.update(Metric.withAttributes(metric, attributes), n) : Effect.void
  return {
    record: (r) =>
      inRegistry(Effect.gen(function*() {
        const route = { model: r.model, operation: r.operation }
        yield* add(requests, { ...route, status: String(r.status) }, 1)
        for (const a of r.attempts) {
          yield* add(attempts, { deployment: a.deployment, group: a.group }, 1)
          if (a.error !== undefined) yield* add(failures, { deployment: a.deployment, error: a.error }, 1)
        }
        yield* add(retries, route, Math.max(0, r.attempts.length - 1 - r.fallbacks - r.continuations))
        yield* add(fallbacks, route, r.fallbacks)
        yield* add(continuations, route, r.continuations)
        yield* Metric.update(Metric.withAttributes(latency, { operation: r.operation }), r.durationMillis / 1000)
        yield* Metric.update(Metric.withAttributes(overhead, { operation: r.operation }), r.overheadMillis / 1000)
      })),
    render: inRegistry(PrometheusMetrics.format())
  }
}

/** The gateway's metrics service. */
export class GatewayMetrics extends Context.Service<GatewayMetrics, GatewayMetricsShape>()("switchyard/proxy/Metrics") {
  /** A fresh set of gateway metrics. */
  static readonly layer: Layer.Layer<GatewayMetrics> = Layer.sync(GatewayMetrics, makeGatewayMetrics)
}
