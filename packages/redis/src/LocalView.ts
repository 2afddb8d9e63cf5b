/**
 * The replica's local view of the shared state: the last snapshot Redis sent, overlaid with the writes
 * made here that Redis has not confirmed yet. Routing reads only this view, so a decision never waits on
 * the network; the syncer moves writes out (`take`), and folds Redis's answer back in (`confirm`).
 * Everything here is synchronous and takes `now` from the caller, so it is exact under TestClock.
 */
import type { CallOutcome, CooldownOptions, DeploymentStats } from "@switchyard/core"

const MINUTE = 60_000
/** Weight of the newest sample in the latency average (the same as the in-memory state's). */
export const LATENCY_ALPHA = 0.3
/** Older unsent latency samples weigh less than 0.7^64 ≈ 1e-10: keeping them only grows memory. */
const MAX_PENDING_LATENCIES = 64
/** The failure window assumed for a deployment before the router names one. */
const DEFAULT_FAILURE_WINDOW = MINUTE

/** Requests and tokens of one deployment in one minute. */
export interface Usage {
  requests: number
  tokens: number
}

/** What Redis said about one deployment at the last sync. */
export interface RemoteEntry {
  readonly cooldownUntil: number
  /** The end of a strict cooldown (one a panicking group still honours); 0 when none. */
  readonly strictUntil: number
  /** Times of the failures inside the deployment's window, from every replica. */
  readonly failures: ReadonlyArray<number>
  /** Usage by minute number (the sync's minute and the one before), from every replica. */
  readonly usage: ReadonlyMap<number, Usage>
  /** Live leases held by other replicas. */
  readonly othersInFlight: number
  readonly latencyMillis: number | undefined
}

/** A failure recorded here: its time, the window it counts in, and a member id unique across replicas. */
export interface PendingFailure {
  readonly at: number
  readonly windowMillis: number
  readonly member: string
}

/** Writes to one deployment not yet confirmed by Redis, in the order that matters for replay. */
export class PendingEntry {
  cooldownUntil = 0
  strictUntil = 0
  /** A cooldown cleared the failure window: Redis must drop its failures before adding `failures`. */
  resetFailures = false
  failures: Array<PendingFailure> = []
  readonly usage = new Map<number, Usage>()
  latencies: Array<number> = []
  /** Leases to add (or refresh) in Redis. */
  readonly held = new Set<string>()
  /** Leases to remove from Redis. */
  readonly dropped = new Set<string>()

  /** Puts the writes of `newer` after the ones here (used when a push failed and must be retried). */
  absorb(newer: PendingEntry) {
    this.cooldownUntil = Math.max(this.cooldownUntil, newer.cooldownUntil)
    this.strictUntil = Math.max(this.strictUntil, newer.strictUntil)
    if (newer.resetFailures) {
      this.resetFailures = true
      this.failures = [...newer.failures]
    } else {
      this.failures.push(...newer.failures)
    }
    for (const [minute, u] of newer.usage) addUsage(this.usage, minute, u.requests, u.tokens)
    this.latencies = [...this.latencies, ...newer.latencies].slice(-MAX_PENDING_LATENCIES)
    for (const lease of newer.held) this.held.add(lease)
    for (const lease of newer.dropped) {
      // Added and removed before Redis ever saw it: nothing to tell Redis.
      if (!this.held.delete(lease)) this.dropped.add(lease)
    }
  }
}

/** The writes of one push, by deployment. */
export type Batch = ReadonlyMap<string, PendingEntry>

const addUsage = (usage: Map<number, Usage>, minute: number, requests: number, tokens: number) => {
  const u = usage.get(minute)
  if (u === undefined) usage.set(minute, { requests, tokens })
  else {
    u.requests += requests
    u.tokens += tokens
  }
}

/** Folds latency samples into an exponentially weighted average. */
export const ewma = (start: number | undefined, samples: ReadonlyArray<number>): number | undefined =>
  samples.reduce<number | undefined>((avg, s) => (avg === undefined ? s : avg + LATENCY_ALPHA * (s - avg)), start)

/** The local view of one replica. `replicaId` makes its lease and failure ids unique across replicas. */
export class LocalView {
  private remote: ReadonlyMap<string, RemoteEntry> = new Map()
  /** When the snapshot was taken: other replicas' leases in an old snapshot may be long gone. */
  private remoteAt = 0
  private pending = new Map<string, PendingEntry>()
  /** The batch of the push in progress: still overlaid on reads until Redis answers. */
  private sending: Map<string, PendingEntry> | undefined
  /** Leases this replica holds, by deployment: the exact local part of `inFlight`. */
  private readonly leases = new Map<string, Set<string>>()
  private readonly windows = new Map<string, number>()
  /** Every deployment the router has asked about; each sync reads them all. */
  readonly known = new Set<string>()
  private seq = 0

  /** `leaseTtlMillis`: how long other replicas' leases are trusted without a fresh snapshot. */
  constructor(readonly replicaId: string, private readonly leaseTtlMillis: number) {}

  /** Whether a deployment is new to this view (its first read should not wait for the next tick). */
  learn(id: string): boolean {
    if (this.known.has(id)) return false
    this.known.add(id)
    return true
  }

  private pendingOf(id: string): PendingEntry {
    let p = this.pending.get(id)
    if (p === undefined) {
      p = new PendingEntry()
      this.pending.set(id, p)
    }
    return p
  }

  /** The unconfirmed writes for `id`, oldest first. */
  private overlays(id: string): Array<PendingEntry> {
    const out: Array<PendingEntry> = []
    const s = this.sending?.get(id)
    if (s !== undefined) out.push(s)
    const p = this.pending.get(id)
    if (p !== undefined) out.push(p)
    return out
  }

  /** The snapshot routing reads: Redis's last word plus every write made here since (the hot path). */
  stats(id: string, now: number): DeploymentStats {
    const r = this.remote.get(id)
    const sending = this.sending?.get(id)
    const pending = this.pending.get(id)
    const minute = Math.floor(now / MINUTE)
    let cooldown = r?.cooldownUntil ?? 0
    let strict = r?.strictUntil ?? 0
    let latency = r?.latencyMillis
    const current = r?.usage.get(minute)
    const previous = r?.usage.get(minute - 1)
    let requests = current?.requests ?? 0
    let tokens = current?.tokens ?? 0
    let previousRequests = previous?.requests ?? 0
    let previousTokens = previous?.tokens ?? 0
    for (const o of [sending, pending]) {
      if (o === undefined) continue
      cooldown = Math.max(cooldown, o.cooldownUntil)
      strict = Math.max(strict, o.strictUntil)
      if (o.latencies.length > 0) latency = ewma(latency, o.latencies)
      const c = o.usage.get(minute)
      const p = o.usage.get(minute - 1)
      if (c !== undefined) {
        requests += c.requests
        tokens += c.tokens
      }
      if (p !== undefined) {
        previousRequests += p.requests
        previousTokens += p.tokens
      }
    }
    // The in-memory state's rolling minute: this minute in full plus the unexpired share of the last.
    const remaining = 1 - (now % MINUTE) / MINUTE
    return {
      cooldownUntil: cooldown > now ? cooldown : 0,
      inFlight: (this.leases.get(id)?.size ?? 0) +
        (r !== undefined && now - this.remoteAt < this.leaseTtlMillis ? r.othersInFlight : 0),
      latencyMillis: latency,
      rpm: requests + Math.round(previousRequests * remaining),
      tpm: tokens + Math.round(previousTokens * remaining),
      failures: this.failuresInWindow(id, now),
      strictUntil: strict > now ? strict : 0
    }
  }

  /** The failures of `id` inside its window, across every replica as far as known. */
  private failuresInWindow(id: string, now: number): number {
    const overlays = this.overlays(id)
    // A reset still on its way to Redis makes the failures in the snapshot stale.
    const reset = overlays.some((o) => o.resetFailures)
    const since = now - (this.windows.get(id) ?? DEFAULT_FAILURE_WINDOW)
    let count = 0
    if (!reset) for (const t of this.remote.get(id)?.failures ?? []) if (t > since) count++
    for (const o of overlays) for (const f of o.failures) if (f.at > since) count++
    return count
  }

  /** Records a failure and returns the count in the window, across every replica as far as known. */
  recordFailure(id: string, windowMillis: number, now: number): number {
    this.learn(id)
    this.windows.set(id, windowMillis)
    const p = this.pendingOf(id)
    p.failures = p.failures.filter((f) => f.at > now - f.windowMillis)
    p.failures.push({ at: now, windowMillis, member: `${this.replicaId}:${++this.seq}` })
    return this.failuresInWindow(id, now)
  }

  /** Cools a deployment down (never shortening a cooldown) and, unless `keepFailures`, clears its failure window. */
  coolDown(id: string, untilMillis: number, options?: CooldownOptions) {
    this.learn(id)
    const p = this.pendingOf(id)
    p.cooldownUntil = Math.max(p.cooldownUntil, untilMillis)
    if (options?.strict === true) p.strictUntil = Math.max(p.strictUntil, untilMillis)
    if (options?.keepFailures === true) return
    p.resetFailures = true
    p.failures = []
    // The batch on its way was taken before this reset: its failures are history too.
    const s = this.sending?.get(id)
    if (s !== undefined) s.failures = []
  }

  /** Takes a lease and counts a request. */
  acquire(id: string, now: number): string {
    this.learn(id)
    const lease = `${this.replicaId}:${++this.seq}`
    let own = this.leases.get(id)
    if (own === undefined) {
      own = new Set()
      this.leases.set(id, own)
    }
    own.add(lease)
    const p = this.pendingOf(id)
    p.held.add(lease)
    addUsage(p.usage, Math.floor(now / MINUTE), 1, 0)
    return lease
  }

  /** Releases a lease held here and records the outcome; returns false (and does nothing) for any other. */
  release(id: string, lease: string, outcome: CallOutcome, now: number): boolean {
    if (this.leases.get(id)?.delete(lease) !== true) return false
    const p = this.pendingOf(id)
    if (!p.held.delete(lease)) p.dropped.add(lease)
    if (outcome.tokens > 0) addUsage(p.usage, Math.floor(now / MINUTE), 0, outcome.tokens)
    if (outcome.latencyMillis !== undefined) {
      p.latencies.push(outcome.latencyMillis)
      if (p.latencies.length > MAX_PENDING_LATENCIES) p.latencies.shift()
    }
    return true
  }

  /** Gives up every lease held here (shutdown): Redis drops them at the next push. */
  abandonLeases() {
    for (const [id, own] of this.leases) {
      const p = this.pendingOf(id)
      for (const lease of own) if (!p.held.delete(lease)) p.dropped.add(lease)
      own.clear()
    }
  }

  /** Whether writes are waiting to be pushed. */
  get dirty(): boolean {
    return this.pending.size > 0
  }

  /** Moves the pending writes into the batch of a push; usage older than the previous minute is dropped. */
  take(now: number): Batch {
    const oldest = Math.floor(now / MINUTE) - 1
    for (const p of this.pending.values()) {
      for (const minute of p.usage.keys()) if (minute < oldest) p.usage.delete(minute)
    }
    const batch = this.pending
    this.sending = batch
    this.pending = new Map()
    return batch
  }

  /** Redis applied the batch and answered with a snapshot taken after it: the snapshot replaces the overlay. */
  confirm(snapshot: ReadonlyMap<string, RemoteEntry>, at: number) {
    // The snapshot also brings deployments other replicas wrote to: from now on they are read too.
    for (const id of snapshot.keys()) this.known.add(id)
    this.remote = snapshot
    this.remoteAt = at
    this.sending = undefined
  }

  /** The push failed: its writes go back in front of the newer pending ones, to be sent again. */
  restore() {
    const sent = this.sending
    this.sending = undefined
    if (sent === undefined) return
    for (const [id, newer] of this.pending) {
      const older = sent.get(id)
      if (older === undefined) sent.set(id, newer)
      else older.absorb(newer)
    }
    this.pending = sent
  }

  /** The deployments to read with their failure windows. */
  reads(): Array<readonly [string, number]> {
    return [...this.known].map((id) => [id, this.windows.get(id) ?? DEFAULT_FAILURE_WINDOW] as const)
  }

  /** Every lease held here, by deployment: refreshed in Redis while held, so a crashed replica leaks none. */
  heldLeases(): ReadonlyMap<string, ReadonlySet<string>> {
    return this.leases
  }

  /** The cooldowns this view knows of that are still running (end, strict end): pushed again after Redis lost its data. */
  activeCooldowns(now: number): Array<readonly [string, number, number]> {
    const out: Array<readonly [string, number, number]> = []
    for (const id of this.known) {
      const stats = this.stats(id, now)
      if (stats.cooldownUntil > 0) out.push([id, stats.cooldownUntil, stats.strictUntil])
    }
    return out
  }
}
