/** Reading the Redis target from `router_settings`: env references, Redacted secrets, field paths on errors. */
import { assert, describe, it } from "@effect/vitest"
import { RouterState } from "@switchyard/core"
import { ConfigProvider, Effect, Redacted } from "effect"
import { describeTarget, redisTargetFromSettings, routerStateFromSettings } from "../src/index.ts"

const withEnv = (env: Record<string, string>) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provide(effect, ConfigProvider.layer(ConfigProvider.fromUnknown(env)))

describe("redis settings", () => {
  it.effect("a URL, from the environment, stays Redacted and is described without its credentials", () =>
    Effect.gen(function*() {
      const target = yield* redisTargetFromSettings({ redis_url: "os.environ/REDIS_URL" }).pipe(
        withEnv({ REDIS_URL: "redis://user:hunter22@cache.internal:6380/2" })
      )
      assert.strictEqual(Redacted.value(target!.url!), "redis://user:hunter22@cache.internal:6380/2")
      assert.notInclude(String(target!.url), "hunter22")
      assert.strictEqual(describeTarget(target!), "cache.internal:6380")
    }))

  it.effect("host, port and password, each literal or from the environment", () =>
    Effect.gen(function*() {
      const target = yield* redisTargetFromSettings({
        redis_host: "os.environ/REDIS_HOST",
        redis_port: "os.environ/REDIS_PORT",
        redis_password: "os.environ/REDIS_PASSWORD"
      }).pipe(withEnv({ REDIS_HOST: "10.0.0.5", REDIS_PORT: "6390", REDIS_PASSWORD: "pw-1234567" }))
      assert.strictEqual(target!.host, "10.0.0.5")
      assert.strictEqual(target!.port, 6390)
      assert.strictEqual(Redacted.value(target!.password!), "pw-1234567")
      assert.strictEqual(describeTarget(target!), "10.0.0.5:6390")
      const literal = yield* redisTargetFromSettings({ redis_host: "127.0.0.1", redis_port: 6399 })
      assert.deepStrictEqual([literal!.host, literal!.port, literal!.password], ["127.0.0.1", 6399, undefined])
    }))

  it.effect("a missing variable or a bad port fails with the field's path, never its value", () =>
    Effect.gen(function*() {
      const error = yield* redisTargetFromSettings({
        redis_host: "cache",
        redis_port: "sixty",
        redis_password: "os.environ/NOT_SET_ANYWHERE"
      }).pipe(withEnv({}), Effect.flip)
      assert.deepStrictEqual(error.issues.map((i) => i.path), ["router_settings.redis_password", "router_settings.redis_port"])
      assert.notInclude(error.message, "sixty")
      const url = yield* redisTargetFromSettings({ redis_url: "http://cache:6379" }).pipe(Effect.flip)
      assert.strictEqual(url.issues[0]!.path, "router_settings.redis_url")
    }))

  it.effect("without Redis settings the router gets the in-memory state, always healthy", () =>
    Effect.gen(function*() {
      assert.isUndefined(yield* redisTargetFromSettings({ routing_strategy: "least-busy" }))
      const status = yield* Effect.gen(function*() {
        const state = yield* RouterState
        yield* state.coolDown("d", 1_000)
        return yield* state.health
      }).pipe(Effect.provide(routerStateFromSettings(undefined)))
      assert.strictEqual(status, "ok")
    }))
})
