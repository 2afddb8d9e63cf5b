/**
 * Whether the router's state is shared right now. A replica whose Redis is down keeps routing on its own
 * local state: that is `degraded`, not down, so readiness stays 200 and only this status and the gauge
 * tell an operator that the replicas have stopped sharing cooldowns and usage.
 */
import type { StateHealth } from "@switchyard/core"
import { Metric } from "effect"

/** 1 while the shared state (Redis) is in sync, 0 while the replica serves from its local state. */
export const stateBackendUp = Metric.gauge("switchyard_state_backend_up", {
  description: "1 when the shared router state (Redis) is reachable and in sync, 0 while serving from local state"
})

/** The gauge value of a status. */
export const gaugeValue = (status: StateHealth): number => (status === "ok" ? 1 : 0)
