/**
 * Whether the router's state is shared right now. A replica whose Redis is down keeps routing on its own
 * local state: that is `degraded`, not down, so readiness stays 200 and only this status and the gauge
 * tell an operator that the replicas have stopped sharing cooldowns and usage.
 */
import { Context, Effect, Layer, Metric } from "effect"

/** `ok`: shared state in sync; `degraded`: serving from local state while Redis is unreachable. */
export type StateHealth = "ok" | "degraded"

/** The health of the router state, for `/health/readiness`. */
export class RouterStateHealth extends Context.Service<RouterStateHealth, {
  /** The current status; cheap, never touches the network. */
  readonly status: Effect.Effect<StateHealth>
}>()("switchyard/RouterStateHealth") {
  /** A state that cannot degrade: the in-memory one. */
  static readonly alwaysOk: Layer.Layer<RouterStateHealth> = Layer.succeed(
    RouterStateHealth,
    RouterStateHealth.of({ status: Effect.succeed("ok") })
  )
}

/** 1 while the shared state (Redis) is in sync, 0 while the replica serves from its local state. */
export const stateBackendUp = Metric.gauge("switchyard_state_backend_up", {
  description: "1 when the shared router state (Redis) is reachable and in sync, 0 while serving from local state"
})

/** The gauge value of a status. */
export const gaugeValue = (status: StateHealth): number => (status === "ok" ? 1 : 0)
