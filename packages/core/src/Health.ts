/**
 * The health estimate: when a failure takes its deployment out of routing, and which deployments a group
 * may still use when cooldowns would leave it empty (a panic threshold, as Envoy has). A router must not
 * make availability worse than its upstreams': sporadic failures cool nothing, a deployment failing most
 * of its traffic cools at once, and a cooldown is a preference, never a refusal, unless the upstream
 * itself said so (a Retry-After, a refused key).
 */
import { Clock, Effect } from "effect"
import type { Deployment } from "./Deployment.ts"
import { failurePolicy, type ProviderError, retryAfterMillis } from "./Errors.ts"
import { defaults, type Policy } from "./Policy.ts"
import type { DeploymentStats, RouterStateShape } from "./RouterState.ts"
import { type Candidate, isHealthy, withinLimits } from "./Routing.ts"

/** A deployment cools down when more than this share of its requests in the window failed… */
export const FAILURE_RATE_THRESHOLD = 0.5
/** …and the window holds at least this many requests: at low traffic one failure is not a rate. */
export const MIN_REQUESTS = 5

/** The share of a deployment's requests in its failure window that failed (0 before any request). */
export const failureRate = (stats: DeploymentStats): number =>
  stats.rpm === 0 ? (stats.failures > 0 ? 1 : 0) : Math.min(1, stats.failures / stats.rpm)

/** Whether `failures` of `requests` in the window say the deployment is unhealthy. */
export const overThreshold = (failures: number, requests: number): boolean =>
  requests >= MIN_REQUESTS && failures > requests * FAILURE_RATE_THRESHOLD

/**
 * Counts a failure of `deployment` (in a group of `groupSize` that can serve the operation) and cools it
 * down when the policy says so: by the explicit per-minute count when `allowed_fails` is set, else by the
 * health estimate.
 */
export const judgeFailure = (
  state: RouterStateShape,
  policy: Policy,
  deployment: Deployment,
  error: ProviderError,
  groupSize: number
): Effect.Effect<void> =>
  Effect.gen(function*() {
    const facts = failurePolicy(error)
    // Not the deployment's fault (the client's request): it says nothing about the deployment's health.
    if (facts.cooldown === "never") return
    const failures = yield* state.recordFailure(deployment.id, defaults.failureWindowMillis)
    if (policy.cooldowns === "off") return
    const now = yield* Clock.currentTimeMillis
    const coolFor = (millis: number, strict: boolean) =>
      state.coolDown(deployment.id, now + millis, { strict, keepFailures: policy.cooldowns === "estimate" })
    if (policy.cooldowns === "counted") {
      const allowed = policy.allowedFails(error)
      if (allowed !== undefined && failures > allowed) yield* coolFor(policy.cooldownMillis(deployment, error), false)
      return
    }
    // A lone deployment is never taken out by an estimate: its group would have nothing left to route to.
    if (groupSize < 2) return
    if (facts.estimate === "verdict") return yield* coolFor(policy.cooldownMillis(deployment, error), true)
    const retryAfter = retryAfterMillis(error)
    if (retryAfter > 0) return yield* coolFor(retryAfter, true)
    const [stats] = yield* state.stats([deployment.id])
    if (overThreshold(failures, stats!.rpm)) yield* coolFor(policy.cooldownMillis(deployment, error), false)
  })

/**
 * The panic choice among deployments that are all cooling down: the ones whose cooldown ends first, then
 * the lowest failure rate. Never one under a strict cooldown (the upstream said when to come back), and
 * never one over its own rpm/tpm limit.
 */
export const panicChoice = (candidates: ReadonlyArray<Candidate>): ReadonlyArray<Candidate> => {
  const eligible = candidates.filter((c) => c.stats.strictUntil === 0 && withinLimits(c))
  if (eligible.length === 0) return eligible
  const key = (c: Candidate) => [c.stats.cooldownUntil, failureRate(c.stats)] as const
  const best = eligible.reduce((a, b) => {
    const [ka, kb] = [key(a), key(b)]
    return kb[0] < ka[0] || (kb[0] === ka[0] && kb[1] < ka[1]) ? b : a
  })
  const [until, rate] = key(best)
  return eligible.filter((c) => c.stats.cooldownUntil === until && failureRate(c.stats) === rate)
}

/**
 * The deployments the next attempt of a request may go to: healthy ones it has not failed on yet, else
 * healthy ones worth another try, else (when `panic` is allowed) the panic choice among those it has not
 * tried. Empty: the group has nothing for this request.
 */
export const poolOf = (
  all: ReadonlyArray<Candidate>,
  failed: ReadonlySet<string>,
  excluded: ReadonlySet<string>,
  panic: boolean
): ReadonlyArray<Candidate> => {
  const healthy = all.filter(isHealthy)
  const fresh = healthy.filter((c) => !failed.has(c.deployment.id))
  if (fresh.length > 0) return fresh
  const again = healthy.filter((c) => !excluded.has(c.deployment.id))
  if (again.length > 0 || !panic) return again
  return panicChoice(all.filter((c) => !failed.has(c.deployment.id)))
}

/** Where a group stands after a failed attempt. */
export interface Standing {
  /** Another deployment can take the retry at once. */
  readonly alternative: boolean
  /** The group can serve at all. */
  readonly healthy: boolean
  /** When it cannot: how long until its first deployment comes back from a cooldown (none cooling: undefined). */
  readonly comesBackInMillis: number | undefined
}

/** After a failure at `now`: whether another deployment can take the retry, and whether the group can serve. */
export const standing = (
  all: ReadonlyArray<Candidate>,
  failed: ReadonlySet<string>,
  excluded: ReadonlySet<string>,
  panic: boolean,
  now: number
): Standing => {
  const pool = poolOf(all, failed, excluded, panic)
  const healthy = pool.length > 0 || all.some(isHealthy)
  const until = all.map((c) => c.stats.cooldownUntil).filter((t) => t > now)
  return {
    alternative: pool.some((c) => !failed.has(c.deployment.id)),
    healthy,
    comesBackInMillis: healthy || until.length === 0 ? undefined : Math.min(...until) - now
  }
}
