/**
 * Gateway metrics as effect `Metric`s, served as Prometheus text on `/metrics`. Each gateway keeps its
 * own registry, so two gateways in one process (tests, embedding) do not mix their counts.
 */
import { type Attempt, type DeploymentStats, Health, type StateHealth } from "@switchyard/core"
import { gaugeValue, stateBackendUp } from "@switchyard/redis/health"
import { Context, Effect, Layer, Metric } from "effect"
import * as PrometheusMetrics from "effect/observability/PrometheusMetrics"

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
  /** The tokens the upstreams really spent, continuation prompts included, when known. */
  readonly spent?: { readonly promptTokens: number; readonly completionTokens: number } | undefined
  readonly durationMillis: number
  /** Gateway time: the duration minus the time spent in attempts. */
  readonly overheadMillis: number
}

const secondsBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
const overheadBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

/** A counter that only goes up. */
const counter = (name: string, description: string) => Metric.counter(name, { description, incremental: true })

const requests = counter("switchyard_requests_total", "Requests by model group, operation and HTTP status")
const attempts = counter("switchyard_attempts_total", "Attempts against deployments")
const failures = counter("switchyard_deployment_failures_total", "Failed attempts by deployment and failure class; these feed cooldowns")
const retries = counter("switchyard_retries_total", "Attempts beyond the first that were not a fallback or a stream continuation")
const fallbacks = counter("switchyard_fallbacks_total", "Fallback groups entered")
const continuations = counter("switchyard_stream_continuations_total", "Streams that broke mid-way and were continued on another deployment")
const tokens = counter("switchyard_tokens_total", "Tokens the upstreams spent, by kind (prompt, completion): every continuation's prompt too")
const latency = Metric.histogram("switchyard_request_duration_seconds", {
  description: "Whole request time, to the end of the body for streams",
  boundaries: secondsBoundaries
})
const overhead = Metric.histogram("switchyard_overhead_seconds", {
  description: "Gateway time per request: the duration minus the time spent in upstream attempts",
  boundaries: overheadBoundaries
})

/** The health estimate of one deployment at scrape time. */
export interface DeploymentHealth {
  readonly deployment: string
  readonly group: string
  readonly stats: DeploymentStats
  /** Epoch millis the stats were read at. */
  readonly now: number
}

const failureRate = Metric.gauge("switchyard_deployment_failure_rate", {
  description: "Share of the deployment's requests in its failure window that failed: the estimate cooldowns follow"
})
const cooldownSeconds = Metric.gauge("switchyard_deployment_cooldown_seconds", {
  description: "Seconds until the deployment's cooldown ends; 0 when it takes traffic"
})
const cooldownStrict = Metric.gauge("switchyard_deployment_cooldown_strict", {
  description: "1 while the cooldown is strict (a Retry-After or a refused key): even a panicking group skips it"
})

/** Recording and exposing the gateway metrics. */
export interface GatewayMetricsShape {
  /** Records one finished request. */
  readonly record: (record: RequestRecord) => Effect.Effect<void>
  /** Sets the state-backend gauge from the router state's health. */
  readonly stateHealth: (health: StateHealth) => Effect.Effect<void>
  /** Sets the per-deployment failure rate and cooldown gauges from a snapshot of the router state. */
  readonly deploymentHealth: (snapshot: ReadonlyArray<DeploymentHealth>) => Effect.Effect<void>
  /** The Prometheus text exposition of every metric. */
  readonly render: Effect.Effect<string>
}

/** Label sets seen beyond this many are not cached (the series still count); keeps a flood of model names bounded. */
const MAX_BOUND_SERIES = 10_000

/** Builds the metrics of one gateway over a fresh registry. */
export const makeGatewayMetrics = (): GatewayMetricsShape => {
  const registry: Metric.MetricRegistry = new Map()
  const context = Context.make(Metric.MetricRegistry, registry)
  // A metric bound to its attributes resolves its series key once; binding per request (withAttributes)
  // sorts and serializes the attributes on every update, which showed in profiles.
  const bound = new Map<string, Metric.Metric<number, unknown>>()
  const series = <M extends Metric.Metric<number, any>>(metric: M, key: string, attributes: () => Metric.Metric.Attributes): M => {
    let found = bound.get(key) as M | undefined
    if (found === undefined) {
      found = Metric.withAttributes(metric, attributes()) as M
      if (bound.size < MAX_BOUND_SERIES) bound.set(key, found)
    }
    return found
  }
  const add = (metric: Metric.Counter<number>, key: string, attributes: () => Metric.Metric.Attributes, n: number) => {
    if (n > 0) series(metric, key, attributes).updateUnsafe(n, context)
  }
  const recordNow = (r: RequestRecord) => {
    const route = `${r.model}\u0000${r.operation}`
    const routeAttributes = () => ({ model: r.model, operation: r.operation })
    add(requests, `r\u0000${route}\u0000${r.status}`, () => ({ ...routeAttributes(), status: String(r.status) }), 1)
    for (const a of r.attempts) {
      add(attempts, `a\u0000${a.deployment}\u0000${a.group}`, () => ({ deployment: a.deployment, group: a.group }), 1)
      if (a.error !== undefined) {
        const error = a.error
        add(failures, `f\u0000${a.deployment}\u0000${error}`, () => ({ deployment: a.deployment, error }), 1)
      }
    }
    add(retries, `t\u0000${route}`, routeAttributes, Math.max(0, r.attempts.length - 1 - r.fallbacks - r.continuations))
    add(fallbacks, `b\u0000${route}`, routeAttributes, r.fallbacks)
    add(continuations, `c\u0000${route}`, routeAttributes, r.continuations)
    if (r.spent !== undefined) {
      add(tokens, `p\u0000${route}`, () => ({ ...routeAttributes(), kind: "prompt" }), r.spent.promptTokens)
      add(tokens, `k\u0000${route}`, () => ({ ...routeAttributes(), kind: "completion" }), r.spent.completionTokens)
    }
    const byOperation = () => ({ operation: r.operation })
    series(latency, `l\u0000${r.operation}`, byOperation).updateUnsafe(r.durationMillis / 1000, context)
    series(overhead, `o\u0000${r.operation}`, byOperation).updateUnsafe(r.overheadMillis / 1000, context)
  }
  return {
    record: (r) => Effect.sync(() => recordNow(r)),
    stateHealth: (health) => Effect.sync(() => stateBackendUp.updateUnsafe(gaugeValue(health), context)),
    deploymentHealth: (snapshot) =>
      Effect.sync(() => {
        for (const { deployment, group, stats, now } of snapshot) {
          const attributes = () => ({ deployment, group })
          const remaining = stats.cooldownUntil === 0 ? 0 : Math.max(0, stats.cooldownUntil - now) / 1000
          series(failureRate, `h\u0000${deployment}`, attributes).updateUnsafe(Health.failureRate(stats), context)
          series(cooldownSeconds, `s\u0000${deployment}`, attributes).updateUnsafe(remaining, context)
          series(cooldownStrict, `x\u0000${deployment}`, attributes).updateUnsafe(stats.strictUntil > 0 ? 1 : 0, context)
        }
      }),
    render: Effect.provideService(PrometheusMetrics.format(), Metric.MetricRegistry, registry)
  }
}

/** The gateway's metrics service. */
export class GatewayMetrics extends Context.Service<GatewayMetrics, GatewayMetricsShape>()("switchyard/proxy/Metrics") {
  /** A fresh set of gateway metrics. */
  static readonly layer: Layer.Layer<GatewayMetrics> = Layer.sync(GatewayMetrics, makeGatewayMetrics)
}
