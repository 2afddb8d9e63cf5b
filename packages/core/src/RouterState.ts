/**
 * What the router knows about its deployments: cooldowns, failure windows, in-flight leases, latency and
 * usage per minute. One interface, effectful and atomic per call, with time taken from `Clock`, so an
 * implementation over Redis can replace the in-memory default without touching the router.
 */
import { Clock, Context, Effect, Layer } from "effect"

/** A snapshot of one deployment, as routing sees it. */
export interface DeploymentStats {
  /** Epoch millis when the cooldown ends; 0 when it is not cooling down. */
  readonly cooldownUntil: number
  readonly inFlight: number
  /** Exponentially weighted average latency of successful calls; undefined before the first. */
  readonly latencyMillis: number | undefined
  /** Requests started in the rolling minute. */
  readonly rpm: number
  /** Tokens used in the rolling minute. */
  readonly tpm: number
  /** Failures recorded in the deployment's failure window (the last `recordFailure` window; a minute before any). */
  readonly failures: number
  /**
   * Epoch millis until which a strict cooldown (a Retry-After, a key the upstream refused) keeps the
   * deployment out even when its group panics; 0 when there is none.
   */
  readonly strictUntil: number
}

/** How a cooldown is kept. */
export interface CooldownOptions {
  /** Even a group whose every deployment cools down (panic) must not try it before the end. */
  readonly strict?: boolean | undefined
  /** Keep the failure window: the health estimate goes on from it, so one more failure after the end re-cools. */
  readonly keepFailures?: boolean | undefined
}

/** How one call ended, for the latency and usage windows. */
export interface CallOutcome {
  readonly latencyMillis: number | undefined
  readonly tokens: number
}

/** The answer of `take`. */
export interface Admission {
  /** Whether the amount fit in the minute's limit (a refused amount is not counted). */
  readonly admitted: boolean
  /** Milliseconds until the minute ends and the limit opens again. */
  readonly resetInMillis: number
}

/**
 * `ok`: the state is what it should be; `degraded`: a shared backend is unreachable and this replica
 * serves from its local view (still routing, but no longer sharing cooldowns and usage).
 */
export type StateHealth = "ok" | "degraded"

export interface RouterStateShape {
  /** Snapshots of the given deployments, in the same order. */
  readonly stats: (ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<DeploymentStats>>
  /** Counts one failure in a window of `windowMillis` and returns the count in that window. */
  readonly recordFailure: (id: string, windowMillis: number) => Effect.Effect<number>
  /** Cools a deployment down until `untilMillis` (epoch) and, unless `keepFailures`, resets its failure window. */
  readonly coolDown: (id: string, untilMillis: number, options?: CooldownOptions) => Effect.Effect<void>
  /** Starts a call: takes an in-flight lease and counts a request. Returns the lease to release. */
  readonly acquire: (id: string) => Effect.Effect<string>
  /** Ends a call: releases its lease and records latency and tokens; a lease not held (any more) is ignored. */
  readonly release: (id: string, lease: string, outcome: CallOutcome) => Effect.Effect<void>
  /**
   * Counts `amount` against `limit` in the current clock minute of `key` (a virtual key's rpm), atomically
   * across every replica sharing the state; refused, and not counted, when it would pass the limit.
   */
  readonly take: (key: string, limit: number, amount: number) => Effect.Effect<Admission>
  /** How the state backend is doing, for readiness; cheap, never waits on the network. */
  readonly health: Effect.Effect<StateHealth>
}

/** The router's shared memory of deployment health and load. */
export class RouterState extends Context.Service<RouterState, RouterStateShape>()("switchyard/RouterState") {
  /** The in-memory state: the embedded default, one process. */
  static readonly memory: Layer.Layer<RouterState> = Layer.sync(RouterState, () => makeMemoryState())
}

const MINUTE = 60_000
/** Weight of the newest sample in the latency average. */
const LATENCY_ALPHA = 0.3

/** A per-minute counter that reads as a rolling minute: this minute plus the unexpired part of the last. */
class MinuteWindow {
  private minute = 0
  private current = 0
  private previous = 0
  add(now: number, n: number) {
    this.roll(now)
    this.current += n
  }
  read(now: number): number {
    this.roll(now)
    const elapsed = (now % MINUTE) / MINUTE
    return this.current + Math.round(this.previous * (1 - elapsed))
  }
  private roll(now: number) {
    const minute = Math.floor(now / MINUTE)
    if (minute === this.minute) return
    this.previous = minute === this.minute + 1 ? this.current : 0
    this.current = 0
    this.minute = minute
  }
}

interface Entry {
  cooldownUntil: number
  strictUntil: number
  failures: Array<number>
  /** The window of the last `recordFailure`: `stats` counts the failures inside it. */
  failureWindow: number
  /** The leases of the calls in flight: releasing a lease that is not here (again, or never taken) is a no-op. */
  readonly leases: Set<string>
  latencyMillis: number | undefined
  readonly requests: MinuteWindow
  readonly tokens: MinuteWindow
}

/** Exact per-minute quotas in one process: the in-memory `take`, and a shared state's fallback while degraded. */
export const makeMinuteQuotas = () => {
  const used = new Map<string, { minute: number; count: number }>()
  return (key: string, limit: number, amount: number, now: number): Admission => {
    const minute = Math.floor(now / MINUTE)
    const resetInMillis = (minute + 1) * MINUTE - now
    let q = used.get(key)
    if (q === undefined || q.minute !== minute) {
      q = { minute, count: 0 }
      used.set(key, q)
    }
    if (q.count + amount > limit) return { admitted: false, resetInMillis }
    q.count += amount
    return { admitted: true, resetInMillis }
  }
}

/** How many of the (ascending) times are after `since`: a binary search, since `stats` runs on every attempt. */
const countSince = (times: ReadonlyArray<number>, since: number): number => {
  let lo = 0
  let hi = times.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (times[mid]! > since) hi = mid
    else lo = mid + 1
  }
  return times.length - lo
}

/** Builds an in-memory RouterState. Every method is synchronous inside, so each call is atomic. */
export const makeMemoryState = (): RouterStateShape => {
  const entries = new Map<string, Entry>()
  let leases = 0
  const entry = (id: string): Entry => {
    let e = entries.get(id)
    if (e === undefined) {
      e = {
        cooldownUntil: 0,
        strictUntil: 0,
        failures: [],
        failureWindow: MINUTE,
        leases: new Set(),
        latencyMillis: undefined,
        requests: new MinuteWindow(),
        tokens: new MinuteWindow()
      }
      entries.set(id, e)
    }
    return e
  }
  const withNow = <A>(f: (now: number) => A) => Effect.map(Clock.currentTimeMillis, f)
  const quotas = makeMinuteQuotas()
  return RouterState.of({
    health: Effect.succeed("ok"),
    take: (key, limit, amount) => withNow((now) => quotas(key, limit, amount, now)),
    stats: (ids) =>
      withNow((now) =>
        ids.map((id) => {
          const e = entry(id)
          return {
            cooldownUntil: e.cooldownUntil > now ? e.cooldownUntil : 0,
            inFlight: e.leases.size,
            latencyMillis: e.latencyMillis,
            rpm: e.requests.read(now),
            tpm: e.tokens.read(now),
            failures: countSince(e.failures, now - e.failureWindow),
            strictUntil: e.strictUntil > now ? e.strictUntil : 0
          }
        })
      ),
    recordFailure: (id, windowMillis) =>
      withNow((now) => {
        const e = entry(id)
        e.failureWindow = windowMillis
        // The times are ascending: the expired ones are a prefix (no new array per failure at high rates).
        const expired = e.failures.length - countSince(e.failures, now - windowMillis)
        if (expired > 0) e.failures.splice(0, expired)
        e.failures.push(now)
        return e.failures.length
      }),
    coolDown: (id, untilMillis, options) =>
      Effect.sync(() => {
        const e = entry(id)
        e.cooldownUntil = Math.max(e.cooldownUntil, untilMillis)
        if (options?.strict === true) e.strictUntil = Math.max(e.strictUntil, untilMillis)
        if (options?.keepFailures !== true) e.failures = []
      }),
    acquire: (id) =>
      withNow((now) => {
        const e = entry(id)
        const lease = String(++leases)
        e.leases.add(lease)
        e.requests.add(now, 1)
        return lease
      }),
    release: (id, lease, outcome) =>
      withNow((now) => {
        const e = entry(id)
        if (!e.leases.delete(lease)) return
        if (outcome.tokens > 0) e.tokens.add(now, outcome.tokens)
        if (outcome.latencyMillis !== undefined) {
          e.latencyMillis = e.latencyMillis === undefined
            ? outcome.latencyMillis
            : e.latencyMillis + LATENCY_ALPHA * (outcome.latencyMillis - e.latencyMillis)
        }
      })
  })
}
