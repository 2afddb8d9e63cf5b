/**
 * RouterState on Redis, so several proxy replicas route as one router. Every call is answered from the
 * replica's local view (no round trip on the hot path) and the syncer carries writes to Redis and other
 * replicas' writes back within a fraction of a second. When Redis is down the router keeps serving on
 * its local state, degraded, and catches up when Redis returns; no Redis error ever reaches a caller.
 */
import { randomBytes } from "node:crypto"
import {
  invalidConfig,
  makeMinuteQuotas,
  type InvalidConfig,
  RouterState,
  type RouterSettings,
  type RouterStateShape
} from "@switchyard/core"
import { Clock, Context, Effect, Layer, Redacted, type Scope } from "effect"
import { makeConnection, type RedisTarget } from "./Connection.ts"
import { LocalView } from "./LocalView.ts"
import { quotaArgs, quotaResetIn, quotaScript, quotaScriptSha } from "./QuotaScript.ts"
import { redisTargetFromSettings, wantsRedis } from "./Settings.ts"
import { startSyncer } from "./Sync.ts"

/** Where Redis is and how the state uses it; every field but the target has a default. */
export interface RedisStateOptions {
  /** `redis://[user:password@]host:port[/db]`; wins over host and port. */
  readonly url?: string | Redacted.Redacted<string> | undefined
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly password?: string | Redacted.Redacted<string> | undefined
  /** Namespace of every key (default `switchyard:`): several routers can share one Redis. */
  readonly prefix?: string | undefined
  /** The longest a replica goes without a fresh snapshot (default 200 ms). */
  readonly refreshMillis?: number | undefined
  /** The shortest gap between two syncs, which batches bursts of writes (default 20 ms). */
  readonly minSyncGapMillis?: number | undefined
  /** A Redis command slower than this counts as an outage (default 250 ms). */
  readonly commandTimeoutMillis?: number | undefined
  /** How long an in-flight lease outlives the last refresh of a replica that stopped (default 15 s). */
  readonly leaseTtlMillis?: number | undefined
  /** How long Redis keeps a deployment's latency average and registry entry after its last write (default 1 hour). */
  readonly retentionMillis?: number | undefined
  /** How long startup waits for Redis before it goes on degraded (default 1 s). */
  readonly startupWaitMillis?: number | undefined
}

/** The Redis state: a RouterState whose `health` turns `degraded` while Redis is unreachable. */
export type RedisStateShape = RouterStateShape

const redacted = (value: string | Redacted.Redacted<string> | undefined) =>
  value === undefined || Redacted.isRedacted(value) ? value : Redacted.make(value)

/** Builds the Redis-backed state for the scope's lifetime; it never fails, Redis down only degrades it. */
export const makeRedisState = (options: RedisStateOptions): Effect.Effect<RedisStateShape, never, Scope.Scope> =>
  Effect.gen(function*() {
    const target: RedisTarget = {
      url: redacted(options.url),
      host: options.host,
      port: options.port,
      password: redacted(options.password)
    }
    const commandTimeoutMillis = options.commandTimeoutMillis ?? 250
    const prefix = options.prefix ?? "switchyard:"
    const leaseTtlMillis = options.leaseTtlMillis ?? 15_000
    const view = new LocalView(randomBytes(6).toString("hex"), leaseTtlMillis)
    const connection = yield* makeConnection(target, {
      commandTimeoutMillis,
      connectTimeoutMillis: Math.max(1_000, commandTimeoutMillis)
    })
    const syncer = yield* startSyncer(view, connection, {
      prefix,
      refreshMillis: options.refreshMillis ?? 200,
      minGapMillis: options.minSyncGapMillis ?? 20,
      leaseTtlMillis,
      retentionMillis: options.retentionMillis ?? 3_600_000,
      startupWaitMillis: options.startupWaitMillis ?? 1_000
    })
    const withNow = <A>(f: (now: number) => A) => Effect.map(Clock.currentTimeMillis, f)
    // Every write lands in the local view at once; the wake only schedules the push.
    const written = <A>(a: A) => {
      syncer.wake()
      return a
    }
    // While Redis is unreachable a replica keeps its own count: degraded, like the rest of its view.
    const localQuotas = makeMinuteQuotas()
    // Unlike the rest of the state, a quota is one round trip: a limit read from a view a sync behind
    // lets N replicas admit up to N times the limit.
    const take: RedisStateShape["take"] = (key, limit, amount) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const local = () => localQuotas(key, limit, amount, now)
        // Known down: no request waits on a command timeout for it.
        if (syncer.status() === "degraded") return Effect.sync(local)
        return connection.evalScript(quotaScript, quotaScriptSha, quotaArgs(prefix, key, amount, limit, now)).pipe(
          Effect.map((reply) => ({ admitted: Number(reply) === 1, resetInMillis: quotaResetIn(now) })),
          Effect.orElseSucceed(local)
        )
      })
    const shape: RedisStateShape = {
      take,
      stats: (ids) =>
        withNow((now) =>
          ids.map((id) => {
            // A deployment seen for the first time is fetched now rather than at the next tick.
            if (view.learn(id)) syncer.wake()
            return view.stats(id, now)
          })
        ),
      recordFailure: (id, windowMillis) => withNow((now) => written(view.recordFailure(id, windowMillis, now))),
      coolDown: (id, untilMillis, options) => Effect.sync(() => written(view.coolDown(id, untilMillis, options))),
      acquire: (id) => withNow((now) => written(view.acquire(id, now))),
      release: (id, lease, outcome) =>
        withNow((now) => {
          if (view.release(id, lease, outcome, now)) syncer.wake()
        }),
      health: Effect.sync(syncer.status)
    }
    return shape
  })

/** A Redis-backed RouterState for the layer's lifetime. */
const layer = (options: RedisStateOptions): Layer.Layer<RouterState> => Layer.effect(RouterState, makeRedisState(options))

/** The Redis state `router_settings` names; fails with the field's path when it names none or a bad one. */
const layerFromSettings = (
  settings: RouterSettings | undefined,
  options: Omit<RedisStateOptions, "url" | "host" | "port" | "password"> = {}
): Layer.Layer<RouterState, InvalidConfig> =>
  Layer.unwrap(Effect.gen(function*() {
    const target = yield* redisTargetFromSettings(settings)
    if (target === undefined) {
      return yield* invalidConfig([{ path: "router_settings.redis_url", message: "no redis_url or redis_host is set" }])
    }
    return layer({ ...options, ...target })
  }))

/** The Redis-backed router state. */
export const RedisState = {
  /** Builds the state in a scope (see `makeRedisState`). */
  make: makeRedisState,
  /** A layer providing RouterState over Redis. */
  layer,
  /** The layer for the Redis that `router_settings` names (`redis_url`, or host/port/password). */
  layerFromSettings
} as const

/**
 * The state a router should use for its settings: Redis when `router_settings` names one, else the
 * in-memory state. This is the one hook a proxy needs to run as one of several replicas.
 */
export const routerStateFromSettings = (
  settings: RouterSettings | undefined,
  options: Omit<RedisStateOptions, "url" | "host" | "port" | "password"> = {}
): Layer.Layer<RouterState, InvalidConfig> =>
  wantsRedis(settings)
    ? layerFromSettings(settings, options)
    : RouterState.memory
