/**
 * A deployment's `rpm` and `tpm` as exact per-minute quotas in the router state. The snapshot routing
 * reads can be a sync behind on a shared state, so replicas reading it would overshoot a limit together;
 * the quota is taken atomically where the state lives (one Redis call), after the snapshot's own check.
 */
import { Effect } from "effect"
import type { Deployment } from "./Deployment.ts"
import type { Candidate } from "./Routing.ts"
import type { RouterStateShape } from "./RouterState.ts"

/** Picking under the quotas, and counting the tokens a call used. */
export interface DeploymentQuotas {
  /** Picks from the pool a deployment whose quotas have room (taking one of its rpm); undefined when none has. */
  readonly pick: (pool: ReadonlyArray<Candidate>) => Effect.Effect<Candidate | undefined>
  /** Counts the tokens of a finished call against the deployment's tpm quota. */
  readonly used: (deployment: Deployment, tokens: number) => Effect.Effect<void>
}

const rpmKey = (d: Deployment) => `dep:${d.id}`
const tpmKey = (d: Deployment) => `dep:${d.id}:tpm`

/** The quotas over `state`; `pickFrom` is the routing strategy's pick. */
export const makeDeploymentQuotas = (
  state: RouterStateShape,
  pickFrom: (pool: ReadonlyArray<Candidate>) => Effect.Effect<Candidate>
): DeploymentQuotas => {
  /** Whether the tpm quota has tokens left (taking none: used ≤ tpm - 1), then takes one of the rpm. */
  const hasRoom = (d: Deployment): Effect.Effect<boolean> => {
    const tokens = d.tpm === undefined
      ? Effect.succeed(true)
      : Effect.map(state.take(tpmKey(d), d.tpm - 1, 0), (a) => a.admitted)
    const rpm = d.rpm
    return rpm === undefined
      ? tokens
      : Effect.flatMap(tokens, (ok) => ok ? Effect.map(state.take(rpmKey(d), rpm, 1), (a) => a.admitted) : Effect.succeed(false))
  }
  const next = (left: ReadonlyArray<Candidate>): Effect.Effect<Candidate | undefined> =>
    left.length === 0 ? Effect.succeed(undefined) : Effect.flatMap(pickFrom(left), (c) =>
      Effect.flatMap(hasRoom(c.deployment), (room) => room ? Effect.succeed(c) : next(left.filter((x) => x !== c))))
  return {
    // A group without limits picks as it always did: no state call on that path.
    pick: (pool) => pool.some((c) => c.deployment.rpm !== undefined || c.deployment.tpm !== undefined) ? next(pool) : pickFrom(pool),
    used: (deployment, tokens) =>
      deployment.tpm === undefined || tokens <= 0
        ? Effect.void
        : Effect.asVoid(state.take(tpmKey(deployment), Number.MAX_SAFE_INTEGER, tokens))
  }
}
