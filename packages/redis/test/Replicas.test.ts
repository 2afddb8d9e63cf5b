/**
 * Two RouterState instances on one Redis behave as one router's state: what one replica writes, the
 * other reads within a second. These run on the real clock, because the one-second bound is real time
 * by nature; no test sleeps for a fixed time: each wait polls a condition (in a replica's view or in
 * Redis itself) and stops as soon as it holds. The file's timeout covers a cold start of the fixture
 * process (tsx compiling on a fresh clone), not the bounds, which each `within` asserts on its own.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, type Scope } from "effect"
import { makeRedisState, type RedisStateOptions } from "../src/index.ts"
import { freshPrefix, sharedRedisUp, testRedisUrl, withClient, within } from "./redis.ts"

/** A live test that fails, rather than skips, without the shared Redis (the state alone would just degrade). */
const live = (name: string, body: () => Effect.Effect<void, never, Scope.Scope>) =>
  it.live(name, () => Effect.andThen(sharedRedisUp, body()))

const noOutcome = { latencyMillis: undefined, tokens: 0 }

/** Two replicas sharing one namespace. */
const replicas = (options: Partial<RedisStateOptions> = {}) =>
  Effect.gen(function*() {
    const shared = { url: testRedisUrl, prefix: freshPrefix(), ...options }
    return { a: yield* makeRedisState(shared), b: yield* makeRedisState(shared), prefix: shared.prefix }
  })

/** The scores (expiry times) of the leases of deployment `id` in Redis. */
const leaseExpiries = (prefix: string, id: string) =>
  Effect.promise(() =>
    withClient(testRedisUrl, async (c) => (await c.zRangeWithScores(`${prefix}{${id}}:lease`, 0, -1)).map((m) => m.score))
  )

describe("two replicas on one Redis", { timeout: 30_000 }, () => {
  live("a cooldown set through one replica is honoured by the other within a second", () =>
    Effect.gen(function*() {
      const { a, b } = yield* replicas()
      const until = (yield* Clock.currentTimeMillis) + 30_000
      assert.strictEqual((yield* b.stats(["d"]))[0]!.cooldownUntil, 0)
      yield* a.coolDown("d", until)
      const took = yield* within("B sees A's cooldown", 1_000, Effect.map(b.stats(["d"]), ([s]) => s!.cooldownUntil === until))
      assert.isBelow(took, 1_000)
      assert.strictEqual((yield* b.stats(["other"]))[0]!.cooldownUntil, 0, "only that deployment")
    }))

  live("a replica knows another's cooldown before its own first request to that deployment", () =>
    Effect.gen(function*() {
      const { a, b } = yield* replicas()
      const until = (yield* Clock.currentTimeMillis) + 30_000
      yield* a.coolDown("d", until)
      yield* a.coolDown("marker", until)
      // B never asks about "d" before its one read below. It waits for a later write of A's instead: once
      // B's view has that, B has synced after "d" reached Redis, and every sync brings all deployments.
      yield* within("B sees A's later cooldown", 1_000, Effect.map(b.stats(["marker"]), ([s]) => s!.cooldownUntil === until))
      assert.strictEqual((yield* b.stats(["d"]))[0]!.cooldownUntil, until)
    }))

  live("a replica that starts later has the others' cooldowns from its first read", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const a = yield* makeRedisState({ url: testRedisUrl, prefix })
      const until = (yield* Clock.currentTimeMillis) + 30_000
      yield* a.coolDown("d", until)
      yield* within("the cooldown is in Redis", 1_000, Effect.promise(() =>
        withClient(testRedisUrl, async (c) => (await c.get(`${prefix}{d}:cd`)) === String(until))))
      const late = yield* makeRedisState({ url: testRedisUrl, prefix })
      assert.strictEqual((yield* late.stats(["d"]))[0]!.cooldownUntil, until)
    }))

  live("requests and tokens are counted across both replicas", () =>
    Effect.gen(function*() {
      const { a, b } = yield* replicas()
      for (let i = 0; i < 3; i++) yield* a.release("d", yield* a.acquire("d"), { latencyMillis: 10, tokens: 100 })
      for (let i = 0; i < 2; i++) yield* b.release("d", yield* b.acquire("d"), { latencyMillis: 10, tokens: 50 })
      const both = Effect.map(Effect.all([a.stats(["d"]), b.stats(["d"])]), ([[x], [y]]) => [x!, y!] as const)
      yield* within("both replicas count 5 requests and 400 tokens", 1_000, Effect.map(both, (ss) =>
        ss.every((s) => s.rpm === 5 && s.tpm === 400)))
    }))

  live("failures in the window count across replicas, and a cooldown resets them for both", () =>
    Effect.gen(function*() {
      const { a, b } = yield* replicas()
      assert.strictEqual(yield* a.recordFailure("d", 60_000), 1)
      // B's count includes A's failure once A's push reached B; each probe adds one of B's own.
      let seen = 0
      yield* within("B counts A's failure", 1_000, Effect.gen(function*() {
        yield* Effect.sleep(50)
        const count = yield* b.recordFailure("d", 60_000)
        seen++
        return count === seen + 1
      }))
      yield* b.coolDown("d", (yield* Clock.currentTimeMillis) + 100)
      // Without the reset A would count its own failure and all of B's; with it, only its probes since.
      let probes = 0
      yield* within("A's window was reset by B's cooldown", 1_000, Effect.gen(function*() {
        yield* Effect.sleep(50)
        probes++
        return (yield* a.recordFailure("d", 60_000)) <= probes
      }))
    }))

  live("in-flight leases and latency are shared", () =>
    Effect.gen(function*() {
      const { a, b } = yield* replicas()
      const leases = [yield* a.acquire("d"), yield* a.acquire("d")]
      yield* b.acquire("d")
      yield* within("both see 3 calls in flight", 1_000, Effect.map(Effect.all([a.stats(["d"]), b.stats(["d"])]), (ss) =>
        ss.every(([s]) => s!.inFlight === 3)))
      yield* a.release("d", leases[0]!, { latencyMillis: 120, tokens: 0 })
      yield* a.release("d", leases[1]!, noOutcome)
      yield* within("B sees A's releases and latency", 1_000, Effect.map(b.stats(["d"]), ([s]) =>
        s!.inFlight === 1 && s!.latencyMillis === 120))
    }))

  live("a held lease is refreshed, so it outlives its TTL while the call runs", () =>
    Effect.gen(function*() {
      const ttl = 300
      const prefix = freshPrefix()
      const { a, b } = yield* replicas({ leaseTtlMillis: ttl, prefix })
      yield* a.acquire("d")
      yield* within("B sees the lease", 1_000, Effect.map(b.stats(["d"]), ([s]) => s!.inFlight === 1))
      // The lease's first expiry in Redis; then wait until Redis shows a refresh made a whole TTL after it
      // (without refreshes the lease would be long gone by then), and B still counts it.
      let firstExpiry = 0
      yield* within("the lease is in Redis", 1_000, Effect.map(leaseExpiries(prefix, "d"), ([e]) => (firstExpiry = e ?? 0) > 0))
      yield* within("A refreshed its lease past two TTLs", 3_000, Effect.map(leaseExpiries(prefix, "d"), (expiries) =>
        expiries.some((e) => e >= firstExpiry + 2 * ttl)))
      assert.strictEqual((yield* b.stats(["d"]))[0]!.inFlight, 1)
    }))

  live("the leases of a replica that crashed expire, and every key it wrote has a TTL", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const b = yield* makeRedisState({ url: testRedisUrl, prefix })
      const holder = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("fixtures/leaseHolder.ts", import.meta.url))], {
        env: { ...process.env, HOLDER_PREFIX: prefix, HOLDER_LEASES: "2", HOLDER_LEASE_TTL: "800", SWITCHYARD_TEST_REDIS_URL: testRedisUrl },
        stdio: ["ignore", "pipe", "inherit"]
      })
      yield* Effect.addFinalizer(() => Effect.sync(() => holder.kill("SIGKILL")))
      const line = yield* Effect.promise(() =>
        new Promise<string>((resolve) => holder.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim())))
      )
      assert.strictEqual(line, "holding ok")
      yield* within("B sees the holder's 2 leases", 1_000, Effect.map(b.stats(["d"]), ([s]) => s!.inFlight === 2))
      const ttls = yield* Effect.promise(() =>
        withClient(testRedisUrl, async (c) => {
          const keys = await c.keys(`${prefix}*`)
          return Promise.all(keys.map(async (k) => [k, await c.pTTL(k)] as const))
        })
      )
      assert.isAbove(ttls.length, 0)
      for (const [key, ttl] of ttls) assert.isAbove(ttl, 0, `${key} has a TTL`)
      holder.kill("SIGKILL")
      // 800 ms of lease TTL after the last refresh, plus B's next refresh.
      yield* within("the crashed replica's leases expire", 2_000, Effect.map(b.stats(["d"]), ([s]) => s!.inFlight === 0))
    }))

  live("a replica that shuts down cleanly hands its leases back at once", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const b = yield* makeRedisState({ url: testRedisUrl, prefix })
      yield* Effect.scoped(Effect.gen(function*() {
        const a = yield* makeRedisState({ url: testRedisUrl, prefix })
        yield* a.acquire("d")
        yield* within("B sees the lease", 1_000, Effect.map(b.stats(["d"]), ([s]) => s!.inFlight === 1))
      }))
      yield* within("the lease is gone right after A stopped", 500, Effect.map(b.stats(["d"]), ([s]) => s!.inFlight === 0))
    }))
})
