/**
 * Cooldowns under TestClock: when a failing deployment is taken out of its group, for how long, and what
 * a request gets when every deployment is out. The deployment under test has `order: 1`, so it takes
 * every request while it is healthy and the backup (`order: 2`) serves only while it cools down.
 */
import { assert, describe, it } from "@effect/vitest"
import { AllAttemptsFailed, NoDeploymentAvailable, type ProviderErrorTag } from "@switchyard/core"
import { makeScriptedProvider, Outcome } from "@switchyard/testkit"
import { Clock, Effect, Exit } from "effect"
import { TestClock } from "effect/testing"
import { callsInSequence, chatCall, failureOf, failureOfExit, routerFor, successOf, withoutSleeping } from "./harness.ts"

interface Setup {
  readonly settings?: Record<string, unknown>
  /** Extra `litellm_params` of the deployment under test. */
  readonly params?: Record<string, unknown>
  /** What the deployment under test does with every request. */
  readonly fails: ProviderErrorTag
  readonly retryAfterMillis?: number
}

/** A group `g` of `g#1` (under test, always failing) and `g#2` (healthy), and how to observe them. */
const pair = (setup: Setup) =>
  Effect.gen(function*() {
    const provider = makeScriptedProvider()
    const yaml = JSON.stringify({
      model_list: [
        { model_name: "g", litellm_params: { model: "scripted/a", order: 1, ...setup.params } },
        { model_name: "g", litellm_params: { model: "scripted/b", order: 2 } }
      ],
      router_settings: setup.settings ?? {}
    })
    const { router, state } = yield* routerFor(yaml, [provider])
    provider.otherwise("g#1", Outcome.fail(failureOf(setup.fails, setup.retryAfterMillis)))
    /** Makes `n` requests; each must succeed (on g#2 when g#1 fails). */
    const serve = (n: number) =>
      Effect.map(callsInSequence(n, () => chatCall(router, "g")), (exits) => exits.forEach(successOf))
    /** How many requests g#1 has received. */
    const hits = () => provider.requestsTo("g#1").length
    /** Epoch millis until which g#1 cools down; 0 when it does not. */
    const cooldownUntil = Effect.map(state.stats(["g#1"]), ([s]) => s!.cooldownUntil)
    return { router, provider, serve, hits, cooldownUntil }
  })

describe("when a deployment cools down", () => {
  const counted: ReadonlyArray<ProviderErrorTag> = ["Timeout", "Connection", "ServerError", "Overloaded", "MalformedResponse"]
  for (const tag of counted) {
    it.effect(`${tag} is counted: the cooldown starts after allowed_fails failures in a minute`, () =>
      Effect.gen(function*() {
        const { serve, hits, cooldownUntil } = yield* pair({ fails: tag, settings: { allowed_fails: 2, cooldown_time: 10 } })
        yield* serve(2)
        assert.strictEqual(hits(), 2)
        assert.strictEqual(yield* cooldownUntil, 0, "allowed_fails failures are tolerated")
        yield* serve(1)
        assert.strictEqual(yield* cooldownUntil, 10_000, "the next one starts the cooldown")
        yield* serve(5)
        assert.strictEqual(hits(), 3, "no request reaches it while it cools down")
      }))
  }

  it.effect("failures older than a minute no longer count", () =>
    Effect.gen(function*() {
      const { serve, hits, cooldownUntil } = yield* pair({ fails: "ServerError", settings: { allowed_fails: 1 } })
      yield* serve(1)
      yield* TestClock.adjust("61 seconds")
      yield* serve(1)
      assert.strictEqual(yield* cooldownUntil, 0)
      yield* TestClock.adjust("59 seconds")
      yield* serve(1)
      assert.isAbove(yield* cooldownUntil, 0, "two failures within a minute")
      assert.strictEqual(hits(), 3)
    }))

  for (const tag of ["RateLimited", "Authentication", "NotFound"] as const) {
    it.effect(`${tag} cools the deployment down at once, whatever allowed_fails says`, () =>
      Effect.gen(function*() {
        const { serve, hits, cooldownUntil } = yield* pair({ fails: tag, settings: { allowed_fails: 5 } })
        yield* serve(4)
        assert.strictEqual(hits(), 1)
        assert.strictEqual(yield* cooldownUntil, 5_000, "for the default 5 s")
      }))
  }

  const perClass: ReadonlyArray<[ProviderErrorTag, string, number]> = [
    ["RateLimited", "RateLimitErrorAllowedFails", 2],
    ["Authentication", "AuthenticationErrorAllowedFails", 1],
    ["Timeout", "TimeoutErrorAllowedFails", 0],
    ["ServerError", "InternalServerErrorAllowedFails", 1],
    ["Overloaded", "InternalServerErrorAllowedFails", 0]
  ]
  for (const [tag, key, allowed] of perClass) {
    it.effect(`allowed_fails_policy.${key}: ${allowed} decides for ${tag}`, () =>
      Effect.gen(function*() {
        const settings = { allowed_fails: 3, allowed_fails_policy: { [key]: allowed } }
        const { serve, hits, cooldownUntil } = yield* pair({ fails: tag, settings })
        yield* serve(allowed)
        assert.strictEqual(yield* cooldownUntil, 0)
        yield* serve(1)
        assert.isAbove(yield* cooldownUntil, 0)
        yield* serve(3)
        assert.strictEqual(hits(), allowed + 1)
      }))
  }

  it.effect("failures that no deployment can fix do not cool anything down", () =>
    Effect.gen(function*() {
      for (const tag of ["BadRequest", "ContextWindowExceeded", "ContentPolicy", "UnsupportedOperation"] as const) {
        const { router, hits, cooldownUntil } = yield* pair({ fails: tag, settings: { allowed_fails: 0 } })
        yield* callsInSequence(3, () => chatCall(router, "g"))
        assert.strictEqual(hits(), 3, tag)
        assert.strictEqual(yield* cooldownUntil, 0, tag)
      }
    }))
})

describe("how long a cooldown lasts", () => {
  const lasts = (setup: Setup, millis: number) =>
    Effect.gen(function*() {
      const { serve, hits, cooldownUntil } = yield* pair(setup)
      yield* TestClock.adjust(1_000)
      yield* serve(1)
      assert.strictEqual(yield* cooldownUntil, 1_000 + millis)
      yield* TestClock.adjust(millis - 1)
      yield* serve(1)
      assert.strictEqual(hits(), 1, "still out 1 ms before the end")
      yield* TestClock.adjust(1)
      yield* serve(1)
      assert.strictEqual(hits(), 2, "back at its end")
    })

  it.effect("router_settings.cooldown_time", () =>
    lasts({ fails: "RateLimited", settings: { cooldown_time: 30, allowed_fails: 3 } }, 30_000))
  it.effect("the deployment's own cooldown_time wins over the router's", () =>
    lasts({ fails: "NotFound", settings: { cooldown_time: 30 }, params: { cooldown_time: 2.5 } }, 2_500))
  it.effect("a Retry-After longer than the cooldown extends it", () =>
    lasts({ fails: "RateLimited", retryAfterMillis: 45_000, settings: { cooldown_time: 10 } }, 45_000))
  it.effect("a Retry-After shorter than the cooldown does not shorten it", () =>
    lasts({ fails: "Overloaded", retryAfterMillis: 2_000, settings: { cooldown_time: 10, allowed_fails: 0 } }, 10_000))

  it.effect("after a cooldown the failure count starts again", () =>
    Effect.gen(function*() {
      const settings = { allowed_fails: 1, cooldown_time: 5 }
      const { serve, hits, cooldownUntil } = yield* pair({ fails: "ServerError", settings })
      yield* serve(2)
      assert.isAbove(yield* cooldownUntil, 0)
      yield* TestClock.adjust("5 seconds")
      yield* serve(1)
      assert.strictEqual(yield* cooldownUntil, 0, "one failure after the cooldown is within allowed_fails")
      assert.strictEqual(hits(), 3)
    }))
})

describe("no cooldown", () => {
  it.effect("with disable_cooldowns the deployment takes every request", () =>
    Effect.gen(function*() {
      const { serve, hits, cooldownUntil } = yield* pair({ fails: "RateLimited", settings: { disable_cooldowns: true } })
      yield* serve(6)
      assert.strictEqual(hits(), 6)
      assert.strictEqual(yield* cooldownUntil, 0)
    }))

  it.effect("a group with a single deployment never cools down", () =>
    Effect.gen(function*() {
      const provider = makeScriptedProvider()
      const yaml = `
model_list: [{ model_name: solo, litellm_params: { model: scripted/a } }]
router_settings: { num_retries: 0 }`
      const { router, state } = yield* routerFor(yaml, [provider])
      for (const tag of ["RateLimited", "Authentication", "NotFound", "ServerError"] as const) {
        provider.script("solo#1", [Outcome.fail(failureOf(tag, 60_000))])
        assert.isTrue(Exit.isFailure((yield* callsInSequence(1, () => chatCall(router, "solo")))[0]!))
        assert.strictEqual((yield* state.stats(["solo#1"]))[0]!.cooldownUntil, 0, tag)
      }
      successOf((yield* callsInSequence(1, () => chatCall(router, "solo")))[0]!)
      assert.strictEqual(provider.received.length, 5)
    }))
})

describe("every deployment cooling down", () => {
  const yaml = (fallbacks: boolean) =>
    JSON.stringify({
      model_list: [
        { model_name: "g", litellm_params: { model: "scripted/a", cooldown_time: 20 } },
        { model_name: "g", litellm_params: { model: "scripted/b", cooldown_time: 7 } },
        { model_name: "backup", litellm_params: { model: "scripted/c" } }
      ],
      // Without a fallback, LiteLLM's count (set explicitly) refuses once all cool; the default would panic.
      router_settings: fallbacks ? { fallbacks: [{ g: ["backup"] }] } : { allowed_fails: 3 }
    })

  it.effect("without a fallback: NoDeploymentAvailable, with the time until the first comes back", () =>
    Effect.gen(function*() {
      const provider = makeScriptedProvider()
      const { router, state } = yield* routerFor(yaml(false), [provider])
      provider.script("g#1", [Outcome.fail(failureOf("RateLimited"))])
      provider.script("g#2", [Outcome.fail(failureOf("RateLimited"))])
      const [first] = yield* callsInSequence(1, () => chatCall(router, "g"))
      const exhausted = failureOfExit(first!)
      assert.instanceOf(exhausted, AllAttemptsFailed)
      assert.deepStrictEqual(exhausted.attempts.map((a) => a.error), ["RateLimited", "RateLimited"])
      assert.deepStrictEqual((yield* state.stats(["g#1", "g#2"])).map((s) => s.cooldownUntil), [20_000, 7_000])
      const now = yield* Clock.currentTimeMillis
      const refused = failureOfExit(yield* withoutSleeping(chatCall(router, "g")))
      assert.instanceOf(refused, NoDeploymentAvailable)
      assert.strictEqual(refused.retryAfterMillis, 7_000 - now, "g#2 comes back first")
      assert.strictEqual(provider.received.length, 2, "a refused request reaches no upstream")
      yield* TestClock.adjust(refused.retryAfterMillis)
      const [third] = yield* callsInSequence(1, () => chatCall(router, "g"))
      assert.strictEqual(successOf(third!).deployment, "g#2", "the first to come back serves")
    }))

  it.effect("with a fallback: the fallback group serves", () =>
    Effect.gen(function*() {
      const provider = makeScriptedProvider()
      const { router } = yield* routerFor(yaml(true), [provider])
      provider.otherwise("g#1", Outcome.fail(failureOf("Authentication")))
      provider.otherwise("g#2", Outcome.fail(failureOf("Authentication")))
      const exits = yield* callsInSequence(3, () => chatCall(router, "g"))
      const routed = exits.map(successOf)
      assert.deepStrictEqual(routed.map((r) => r.group), ["backup", "backup", "backup"])
      assert.deepStrictEqual(routed[0]!.attempts.map((a) => a.deployment).sort(), ["backup#1", "g#1", "g#2"])
      assert.deepStrictEqual(routed[1]!.attempts.map((a) => a.deployment), ["backup#1"], "no attempt on g while it cools")
      assert.strictEqual(provider.received.length, 2 + 3)
    }))
})
