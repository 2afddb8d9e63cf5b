/**
 * Routing: which healthy deployment of a group takes the next attempt. Health (cooldowns and the
 * deployment's own rpm/tpm limits) and `order` priority come first; the configured strategy then picks.
 */
import { Effect, Random } from "effect"
import type { RoutingStrategy } from "./Config.ts"
import type { Deployment } from "./Deployment.ts"
import type { DeploymentStats } from "./RouterState.ts"

/** A deployment together with what the state knows about it. */
export interface Candidate {
  readonly deployment: Deployment
  readonly stats: DeploymentStats
}

/** Whether a deployment is under its own rpm/tpm limits (which even a panicking group respects). */
export const withinLimits = ({ deployment, stats }: Candidate): boolean =>
  (deployment.rpm === undefined || stats.rpm < deployment.rpm) &&
  (deployment.tpm === undefined || stats.tpm < deployment.tpm)

/** Whether a deployment may take a request now: not cooling down and under its own rpm/tpm limits. */
export const isHealthy = (candidate: Candidate): boolean => candidate.stats.cooldownUntil === 0 && withinLimits(candidate)

/** Keeps only the candidates of the best (lowest) `order`; deployments without an order come last. */
export const byPriority = (candidates: ReadonlyArray<Candidate>): ReadonlyArray<Candidate> => {
  let best = Infinity
  for (const c of candidates) best = Math.min(best, c.deployment.order ?? Infinity)
  return best === Infinity ? candidates : candidates.filter((c) => (c.deployment.order ?? Infinity) === best)
}

/** Picks one candidate at random, in proportion to `weight`. */
const weightedPick = (candidates: ReadonlyArray<Candidate>, weightOf: (c: Candidate) => number) =>
  Effect.map(Random.next, (r) => {
    const total = candidates.reduce((sum, c) => sum + weightOf(c), 0)
    let point = r * total
    for (const c of candidates) {
      point -= weightOf(c)
      if (point < 0) return c
    }
    return candidates[candidates.length - 1]!
  })

/** The candidates tied for the smallest key, one of them chosen at random so ties spread load. */
const lowest = (candidates: ReadonlyArray<Candidate>, key: (c: Candidate) => number) => {
  let best = Infinity
  for (const c of candidates) best = Math.min(best, key(c))
  const tied = candidates.filter((c) => key(c) === best)
  return tied.length === 1 ? Effect.succeed(tied[0]!) : weightedPick(tied, () => 1)
}

/** Simple-shuffle weights: `weight`, else `rpm`, else `tpm`, else equal (LiteLLM's order of preference). */
const shuffleWeight = (candidates: ReadonlyArray<Candidate>): (c: Candidate) => number => {
  if (candidates.some((c) => c.deployment.weight !== undefined)) return (c) => c.deployment.weight ?? 1
  if (candidates.some((c) => c.deployment.rpm !== undefined)) return (c) => c.deployment.rpm ?? 1
  if (candidates.some((c) => c.deployment.tpm !== undefined)) return (c) => c.deployment.tpm ?? 1
  return () => 1
}

const cost = (d: Deployment) => (d.info.input_cost_per_token ?? 0) + (d.info.output_cost_per_token ?? 0)

/** Picks one of the (non-empty) candidates by strategy. */
export const pick = (
  strategy: RoutingStrategy,
  candidates: ReadonlyArray<Candidate>
): Effect.Effect<Candidate> => {
  const pool = byPriority(candidates)
  if (pool.length === 1) return Effect.succeed(pool[0]!)
  switch (strategy) {
    case "simple-shuffle":
      return weightedPick(pool, shuffleWeight(pool))
    case "least-busy":
      return lowest(pool, (c) => c.stats.inFlight)
    case "latency-based-routing":
      // Unmeasured deployments count as fastest, so every deployment gets measured.
      return lowest(pool, (c) => c.stats.latencyMillis ?? 0)
    case "usage-based-routing":
    case "usage-based-routing-v2":
      return lowest(pool, (c) => c.stats.tpm)
    case "cost-based-routing":
      return lowest(pool, (c) => cost(c.deployment))
  }
}
