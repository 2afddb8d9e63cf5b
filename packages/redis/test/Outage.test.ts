/**
 * Redis going away never reaches a caller: every state call keeps answering from the local view, the
 * health turns degraded (logged once), and when Redis is back the replica pushes what Redis lost and
 * is ok again (logged once). Each test runs its own redis-server so it can kill, freeze and restart it.
 */
import { assert, describe, it } from "@effect/vitest"
import { RouterState, type RouterStateShape } from "@switchyard/core"
import { Clock, ConfigProvider, Context, Effect, Layer, Logger } from "effect"
import { makeRedisState, RedisState } from "../src/index.ts"
import { freshPrefix, redisProcess, withClient, within } from "./redis.ts"

/** Collects every log line, to check that an outage is logged once and no secret is. */
const collectLogs = () => {
  const lines: Array<{ readonly level: string; readonly text: string }> = []
  const logger = Logger.make(({ logLevel, message }) => {
    lines.push({ level: logLevel, text: Array.isArray(message) ? message.map(String).join(" ") : String(message) })
  })
  return { lines, layer: Logger.layer([logger]) }
}

/** A dedicated Redis, started, and killed when the test ends. */
const ownRedis = (args: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    const server = yield* Effect.promise(() => redisProcess(args))
    yield* Effect.promise(server.start)
    yield* Effect.addFinalizer(() => Effect.promise(server.stop))
    return server
  })

/** Every call of the state, once, timed: none may wait on Redis. */
const everyCall = (state: RouterStateShape, id: string) =>
  Effect.gen(function*() {
    const start = performance.now()
    const now = yield* Clock.currentTimeMillis
    yield* state.stats([id, "other"])
    yield* state.recordFailure(id, 60_000)
    const lease = yield* state.acquire(id)
    yield* state.release(id, lease, { latencyMillis: 5, tokens: 10 })
    yield* state.coolDown("never-cooled", now - 1)
    return performance.now() - start
  })

const PASSWORD = "s3cret-redis-pass"

describe("Redis outage", () => {
  it.live("killed mid-run and restarted empty: calls keep working, health degrades and recovers, state is pushed again", () =>
    Effect.gen(function*() {
      const server = yield* ownRedis(["--requirepass", PASSWORD])
      const logs = collectLogs()
      const prefix = freshPrefix()
      // Configured the way a proxy is: router_settings with the secrets behind os.environ references.
      const settings = { redis_host: "127.0.0.1", redis_port: "os.environ/SY_REDIS_PORT", redis_password: "os.environ/SY_REDIS_PASSWORD" }
      const env = ConfigProvider.fromUnknown({ SY_REDIS_PORT: String(server.port), SY_REDIS_PASSWORD: PASSWORD })
      const context = yield* Layer.build(
        RedisState.layerFromSettings(settings, { prefix, refreshMillis: 100 }).pipe(
          Layer.provide([ConfigProvider.layer(env), logs.layer])
        )
      )
      const state = Context.get(context, RouterState)
      const redisUrl = `redis://:${PASSWORD}@127.0.0.1:${server.port}`
      assert.strictEqual(yield* state.health, "ok")

      const held = yield* state.acquire("d")
      yield* within("the lease reached Redis", 1_000, Effect.promise(() =>
        withClient(redisUrl, async (c) => (await c.zScore(`${prefix}{d}:lease`, held)) !== null)))

      yield* Effect.promise(server.stop)
      assert.isBelow(yield* everyCall(state, "d"), 50, "no call waits on the dead Redis")
      yield* within("health degrades", 1_000, Effect.map(state.health, (s) => s === "degraded"))
      const until = (yield* Clock.currentTimeMillis) + 60_000
      yield* state.coolDown("x", until)
      for (let i = 0; i < 5; i++) {
        assert.isBelow(yield* everyCall(state, "d"), 50)
        yield* Effect.sleep(100)
      }
      assert.strictEqual((yield* state.stats(["x"]))[0]!.cooldownUntil, until, "the local view still routes")

      yield* Effect.promise(server.start)
      yield* within("health recovers", 5_000, Effect.map(state.health, (s) => s === "ok"))
      const inRedis = yield* Effect.promise(() =>
        withClient(redisUrl, async (c) => ({
          cooldown: await c.get(`${prefix}{x}:cd`),
          ttl: await c.pTTL(`${prefix}{x}:cd`),
          lease: await c.zScore(`${prefix}{d}:lease`, held)
        }))
      )
      assert.strictEqual(inRedis.cooldown, String(until), "the cooldown set during the outage is in Redis")
      assert.isAbove(inRedis.ttl, 50_000)
      assert.isNotNull(inRedis.lease, "the lease still held is in Redis again")

      const warnings = logs.lines.filter((l) => l.text.includes("unreachable"))
      const recoveries = logs.lines.filter((l) => l.text.includes("reachable again"))
      assert.strictEqual(warnings.length, 1, "the outage is logged once")
      assert.strictEqual(warnings[0]!.level, "Warn")
      assert.strictEqual(recoveries.length, 1, "the recovery is logged once")
      assert.isTrue(logs.lines.every((l) => !l.text.includes(PASSWORD)), "the password is never logged")
    }))

  it.live("a frozen Redis (connected, silent) times out instead of holding anything up", () =>
    Effect.gen(function*() {
      const server = yield* ownRedis()
      yield* Effect.addFinalizer(() => Effect.sync(() => server.freeze(false)))
      const state = yield* makeRedisState({ url: server.url, prefix: freshPrefix(), refreshMillis: 100, commandTimeoutMillis: 150 })
      assert.strictEqual(yield* state.health, "ok")
      server.freeze(true)
      yield* within("health degrades on timeouts", 1_000, Effect.map(state.health, (s) => s === "degraded"))
      assert.isBelow(yield* everyCall(state, "d"), 50)
      yield* state.coolDown("x", (yield* Clock.currentTimeMillis) + 60_000)
      server.freeze(false)
      yield* within("health recovers", 5_000, Effect.map(state.health, (s) => s === "ok"))
      const [x] = yield* state.stats(["x"])
      assert.isAbove(x!.cooldownUntil, 0)
    }))

  it.live("a replica starts while Redis is down, serves degraded, and joins when Redis comes up", () =>
    Effect.gen(function*() {
      const server = yield* Effect.promise(() => redisProcess())
      yield* Effect.addFinalizer(() => Effect.promise(server.stop))
      const prefix = freshPrefix()
      const started = performance.now()
      const state = yield* makeRedisState({ url: server.url, prefix, refreshMillis: 100, startupWaitMillis: 200 })
      assert.isBelow(performance.now() - started, 1_000, "startup does not hang on a dead Redis")
      assert.strictEqual(yield* state.health, "degraded")
      const until = (yield* Clock.currentTimeMillis) + 60_000
      yield* state.coolDown("x", until)
      assert.isBelow(yield* everyCall(state, "d"), 50)
      yield* Effect.promise(server.start)
      yield* within("health turns ok", 5_000, Effect.map(state.health, (s) => s === "ok"))
      const cooldown = yield* Effect.promise(() => withClient(server.url, (c) => c.get(`${prefix}{x}:cd`)))
      assert.strictEqual(cooldown, String(until))
    }))
})
