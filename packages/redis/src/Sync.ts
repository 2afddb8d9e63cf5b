/**
 * The syncer keeps a replica's local view and Redis in step, on a fiber of its own. It pushes the
 * pending writes and pulls a fresh snapshot in one script call, every `refreshMillis` and soon after any
 * local write, so a cooldown set by one replica reaches the others well within a second. It is also
 * where an outage is noticed: the status flips to degraded and is logged once, the writes are kept for
 * later, and on the first good sync after it the replica pushes again what Redis may have lost.
 */
import { Clock, Effect, Latch, Metric, Result, type Scope } from "effect"
import { type RedisConnection, RedisUnavailable } from "./Connection.ts"
import type { StateHealth } from "@switchyard/core"
import { gaugeValue, stateBackendUp } from "./Health.ts"
import type { LocalView } from "./LocalView.ts"
import { decodeSnapshot, syncArguments, syncScript, syncScriptSha } from "./SyncScript.ts"

/** How often and how eagerly to sync. */
export interface SyncOptions {
  readonly prefix: string
  /** The longest a replica goes without a fresh snapshot. */
  readonly refreshMillis: number
  /** The shortest gap between two syncs, so a burst of writes is sent as one batch. */
  readonly minGapMillis: number
  readonly leaseTtlMillis: number
  /** How long Redis keeps latency averages and the deployment registry after the last write. */
  readonly retentionMillis: number
  /** How long startup waits for a first connection before going on degraded. */
  readonly startupWaitMillis: number
}

/** A running syncer. */
export interface Syncer {
  /** Asks for a sync soon; synchronous and cheap, so writes can call it on the hot path. */
  readonly wake: () => void
  /** The current status (no I/O). */
  readonly status: () => StateHealth
}

const noLeases: ReadonlyMap<string, ReadonlySet<string>> = new Map()

/** Starts syncing `view` through `connection` for the scope's lifetime, after a first sync (or a failed one). */
export const startSyncer = (
  view: LocalView,
  connection: RedisConnection,
  options: SyncOptions
): Effect.Effect<Syncer, never, Scope.Scope> =>
  Effect.gen(function*() {
    let status: StateHealth = "ok"
    // Set while Redis is (or was) unreachable: the next good sync must also restore what Redis may have lost.
    let needsRepair = false
    let lastLeaseRefresh = -Infinity
    const wakeUp = Latch.makeUnsafe(false)

    const markOk = Effect.suspend(() => {
      if (status === "ok") return Effect.void
      status = "ok"
      return Effect.andThen(
        Effect.logInfo(`router state: Redis at ${connection.where} is reachable again; shared state resumed`),
        Metric.update(stateBackendUp, gaugeValue(status))
      )
    })
    const markDegraded = (reason: string) =>
      Effect.suspend(() => {
        if (status === "degraded") return Effect.void
        status = "degraded"
        return Effect.andThen(
          Effect.logWarning(
            `router state: Redis at ${connection.where} is unreachable (${reason}); serving from local state until it returns`
          ),
          Metric.update(stateBackendUp, gaugeValue(status))
        )
      })

    const syncOnce = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      // Leases are refreshed at a third of their TTL, so one late sync never lets a held lease expire.
      const refreshLeases = needsRepair || now - lastLeaseRefresh >= options.leaseTtlMillis / 3
      const repair = needsRepair ? view.activeCooldowns(now) : []
      const batch = view.take(now)
      const reads = view.reads()
      const args = syncArguments({
        now,
        prefix: options.prefix,
        replicaId: view.replicaId,
        leaseTtlMillis: options.leaseTtlMillis,
        retentionMillis: options.retentionMillis,
        batch,
        refresh: refreshLeases ? view.heldLeases() : noLeases,
        repair,
        reads
      })
      const result = yield* connection.evalScript(syncScript, syncScriptSha, args).pipe(
        Effect.flatMap((reply) =>
          Effect.try({
            try: () => decodeSnapshot(reply, now),
            catch: (e) => new RedisUnavailable({ reason: `unexpected reply: ${String(e)}` })
          })
        ),
        Effect.result
      )
      if (Result.isSuccess(result)) {
        view.confirm(result.success, now)
        if (refreshLeases) lastLeaseRefresh = now
        needsRepair = false
        yield* markOk
      } else {
        view.restore()
        needsRepair = true
        yield* markDegraded(result.failure.reason)
      }
    }).pipe(
      // A sync cut short (the scope closing) must not lose its batch.
      Effect.onInterrupt(() => Effect.sync(() => view.restore())),
      // A bug here must not end the loop for good and leave the replica silently unshared.
      Effect.catchDefect((defect) =>
        Effect.andThen(Effect.sync(() => view.restore()), markDegraded(`sync failed: ${String(defect)}`))
      )
    )

    const loop = Effect.gen(function*() {
      while (true) {
        yield* Effect.timeoutOption(wakeUp.await, options.refreshMillis)
        wakeUp.closeUnsafe()
        yield* syncOnce
        yield* Effect.sleep(options.minGapMillis)
      }
    })

    yield* Metric.update(stateBackendUp, gaugeValue(status))
    yield* connection.awaitReady(options.startupWaitMillis)
    yield* syncOnce
    // Runs after the loop is interrupted (finalizers run last-added first): hand back this replica's leases
    // and push what is left, so a clean shutdown leaves nothing for the TTLs to clean up.
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        view.abandonLeases()
        return status === "ok" && view.dirty ? syncOnce : Effect.void
      })
    )
    yield* Effect.forkScoped(loop)
    return {
      wake: () => {
        wakeUp.openUnsafe()
      },
      status: () => status
    }
  })
