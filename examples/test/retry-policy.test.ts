/**
 * The rules examples/retry-policy.ts shows, as properties over random policies and random failures. The
 * scripted provider runs in process and stamps each request with the Clock time, so under TestClock the
 * waits the router chose are read exactly and no test sleeps.
 */
import { assert, describe, it } from "@effect/vitest"
import { makeRouter, parseConfig, Providers, RateLimited, RouterState } from "@switchyard/core"
import { makeScriptedProvider, Outcome, type ScriptedProvider } from "@switchyard/testkit"
import { type Duration, Effect, Exit, Schema } from "effect"
import { TestClock } from "effect/testing"

const between = (minimum: number, maximum: number) => Schema.Int.check(Schema.isBetween({ minimum, maximum }))

/** A router over one group `g` of `size` scripted deployments (`g#1`, `g#2`, …, in that order of preference). */
const routerFor = (provider: ScriptedProvider, size: number, settings: object) =>
  Effect.gen(function*() {
    const model_list = Array.from({ length: size }, (_, i) => ({
      model_name: "g",
      litellm_params: { model: `scripted/${i}`, order: i + 1 }
    }))
    const loaded = yield* parseConfig(JSON.stringify({ model_list, router_settings: settings }))
    return yield* makeRouter(loaded).pipe(
      Effect.provideService(Providers, Providers.fromList([provider])),
      Effect.provide(RouterState.memory)
    )
  })

/** Runs an effect to its end, moving the TestClock forward in steps while it waits. */
const runSettled = <A, E>(effect: Effect.Effect<A, E>, step: Duration.Input = "100 millis") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(effect)
    yield* TestClock.adjust(0)
    while (true) {
      const exit = fiber.pollUnsafe()
      if (exit) return exit
      yield* TestClock.adjust(step)
    }
  })

const rateLimited = (retryAfterMillis: number | undefined) =>
  new RateLimited({ message: "slow down", status: 429, ...(retryAfterMillis === undefined ? {} : { retryAfterMillis }) })

describe("retry_policy and retry_after", () => {
  it.effect.prop(
    "RateLimitErrorRetries: N ⇒ at most N+1 attempts, and every wait ≥ retry_after and ≥ the 429's Retry-After",
    {
      retries: between(0, 5),
      numRetries: between(0, 3),
      retryAfterSeconds: between(0, 3),
      /** The 429s the deployment answers before it succeeds, each with or without a Retry-After. */
      faults: Schema.Array(Schema.UndefinedOr(between(0, 5_000))).check(Schema.isMaxLength(8))
    },
    ({ faults, numRetries, retries, retryAfterSeconds }) =>
      Effect.gen(function*() {
        const provider = makeScriptedProvider()
        const router = yield* routerFor(provider, 1, {
          num_retries: numRetries, // the class's own budget wins over this
          retry_after: retryAfterSeconds,
          retry_policy: { RateLimitErrorRetries: retries }
        })
        provider.script("g#1", faults.map((ms) => Outcome.fail(rateLimited(ms))))
        const exit = yield* runSettled(router.chat({ model: "g", messages: [{ role: "user", content: "Hi" }] }))

        const attempts = provider.received.length
        assert.strictEqual(attempts, Math.min(faults.length, retries) + 1, "attempts")
        assert.strictEqual(Exit.isSuccess(exit), faults.length <= retries, "succeeds when the budget covers the 429s")
        provider.received.slice(1).forEach((r, i) => {
          const wait = r.at - provider.received[i]!.at
          const floor = Math.max(retryAfterSeconds * 1000, faults[i] ?? 0)
          // Jittered waits make the clock fractional; a wait equal to its floor may read 1e-12 short.
          assert.isAtLeast(wait, floor - 1e-6, `wait ${i + 1} was ${wait} ms, below ${floor} ms`)
        })
      }),
    { arbitrary: { runs: 200, seed: 6 } }
  )
})

describe("allowed_fails_policy", () => {
  it.effect.prop(
    "RateLimitErrorAllowedFails: F ⇒ a deployment that keeps answering 429 is tried in F+1 requests, then cools down",
    { allowedFails: between(0, 5), extraCalls: between(1, 4) },
    ({ allowedFails, extraCalls }) =>
      Effect.gen(function*() {
        const provider = makeScriptedProvider()
        const router = yield* routerFor(provider, 2, {
          allowed_fails_policy: { RateLimitErrorAllowedFails: allowedFails },
          cooldown_time: 60
        })
        provider.otherwise("g#1", Outcome.fail(rateLimited(undefined)))
        for (let call = 0; call < allowedFails + 1 + extraCalls; call++) {
          const exit = yield* runSettled(router.chat({ model: "g", messages: [{ role: "user", content: "Hi" }] }))
          // g#2 takes over at once every time, so no call fails and none waits.
          assert.isTrue(Exit.isSuccess(exit) && exit.value.deployment === "g#2", `call ${call + 1} served by g#2`)
        }
        assert.strictEqual(provider.requestsTo("g#1").length, allowedFails + 1, "g#1 tried until its cooldown")
        const times = provider.received.map((r) => r.at)
        assert.strictEqual(Math.max(...times), Math.min(...times), "nothing waited")
      }),
    { arbitrary: { runs: 50, seed: 6 } }
  )
})
