/**
 * The health estimate under TestClock, with the scripted provider: sporadic failures never take a
 * deployment out, a deployment failing all its traffic is out within a bounded number of requests, and
 * when every deployment cools down the group still tries the healthiest one (the panic threshold), but
 * never one the upstream told to wait while another is there.
 */
import { assert, describe, it } from "@effect/vitest"
import { AllAttemptsFailed, Health, NoDeploymentAvailable, type ProviderErrorTag, type Routed } from "@switchyard/core"
import { makeScriptedProvider, Outcome } from "@switchyard/testkit"
import { Effect, Exit, Schema } from "effect"
import { TestClock } from "effect/testing"
import { callsInSequence, chatCall, failureOf, failureOfExit, routerFor, runSettled, successOf, withoutSleeping } from "./harness.ts"

const between = (minimum: number, maximum: number) => Schema.Int.check(Schema.isBetween({ minimum, maximum }))
/** Failures the health estimate counts (none of them carries a Retry-After). */
const counted = ["ServerError", "Overloaded", "Connection", "Timeout", "MalformedResponse", "RateLimited"] as const
const Counted = Schema.Literals(counted)

/** A group `g` of `n` scripted deployments, default router settings but `extra`. */
const groupOf = (n: number, extra: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    const provider = makeScriptedProvider()
    const yaml = JSON.stringify({
      model_list: Array.from({ length: n }, (_, i) => ({ model_name: "g", litellm_params: { model: `scripted/${i}` } })),
      router_settings: extra
    })
    const { router, state } = yield* routerFor(yaml, [provider])
    const ids = Array.from({ length: n }, (_, i) => `g#${i + 1}`)
    const cooldowns = Effect.map(state.stats(ids), (s) => s.map((x) => x.cooldownUntil))
    return { provider, router, state, ids, cooldowns }
  })

describe("sporadic failures", () => {
  it.effect.prop(
    "at a fault rate of at most 5% over 2 to 4 deployments, no request is refused and nothing cools down",
    {
      deployments: between(2, 4),
      /** Per deployment, per block of 20 of its requests: where in the block it fails (null: it does not). */
      faults: Schema.Array(Schema.Array(Schema.NullOr(Schema.Struct({ at: between(0, 19), tag: Counted }))).check(
        Schema.isBetweenLength(8, 8)
      )).check(Schema.isBetweenLength(4, 4)),
      /** Milliseconds between two requests, cycled. */
      gaps: Schema.Array(between(0, 3_000)).check(Schema.isBetweenLength(1, 8))
    },
    ({ deployments, faults, gaps }) =>
      Effect.gen(function*() {
        const { provider, router, ids, cooldowns } = yield* groupOf(deployments)
        ids.forEach((id, d) => {
          const script = faults[d]!.flatMap((block) =>
            Array.from({ length: 20 }, (_, i) => block !== null && block.at === i ? Outcome.fail(failureOf(block.tag)) : Outcome.succeed())
          )
          provider.script(id, script)
        })
        for (let i = 0; i < 120; i++) {
          yield* TestClock.adjust(gaps[i % gaps.length]!)
          const exit = yield* runSettled(chatCall(router, "g"), "1 second")
          if (Exit.isFailure(exit)) {
            // Only the upstreams can fail a request: every retry of the budget (2) went to one of them.
            const failure = failureOfExit(exit)
            assert.instanceOf(failure, AllAttemptsFailed)
            assert.notStrictEqual(failure.lastError._tag, "NoDeploymentAvailable")
            assert.strictEqual(failure.attempts.length, 3)
          }
          assert.deepStrictEqual(yield* cooldowns, ids.map(() => 0), `request ${i}: sporadic failures cool nothing`)
        }
        assert.isAtLeast(provider.received.length, 120)
      }),
    { timeout: 60_000, arbitrary: { runs: 40, seed: 11 } }
  )
})

describe("a deployment failing all its traffic", () => {
  it.effect.prop(
    "is cooling down from its MIN_REQUESTS-th request on, and every request is still served",
    {
      deployments: between(2, 4),
      failing: between(0, 3),
      tag: Counted,
      gaps: Schema.Array(between(0, 200)).check(Schema.isBetweenLength(1, 8))
    },
    ({ deployments, failing, gaps, tag }) =>
      Effect.gen(function*() {
        const { provider, router, state, ids } = yield* groupOf(deployments)
        const bad = ids[failing % deployments]!
        provider.otherwise(bad, Outcome.fail(failureOf(tag)))
        // 60 requests 0–200 ms apart stay inside one failure window.
        for (let i = 0; i < 60; i++) {
          yield* TestClock.adjust(gaps[i % gaps.length]!)
          const routed: Routed<unknown> = successOf(yield* withoutSleeping(chatCall(router, "g")))
          assert.notStrictEqual(routed.deployment, bad)
          if (provider.requestsTo(bad).length >= Health.MIN_REQUESTS && routed.attempts.some((a) => a.deployment === bad)) {
            const [stats] = yield* state.stats([bad])
            assert.isAbove(stats!.cooldownUntil, 0, `cooling after ${provider.requestsTo(bad).length} failures`)
          }
        }
        assert.isAtLeast(provider.requestsTo(bad).length, 1)
      }),
    { timeout: 60_000, arbitrary: { runs: 40, seed: 5 } }
  )

  it.effect("a single failure at low traffic cools nothing; the MIN_REQUESTS-th failure in a row does", () =>
    Effect.gen(function*() {
      const { provider, router, cooldowns } = yield* groupOf(2, { num_retries: 1 })
      provider.otherwise("g#1", Outcome.fail(failureOf("ServerError")))
      provider.otherwise("g#2", Outcome.fail(failureOf("ServerError")))
      // With both failing and one retry, every request tries both once: one failure on each per request.
      for (let i = 1; i < Health.MIN_REQUESTS; i++) {
        yield* callsInSequence(1, () => chatCall(router, "g", { disable_fallbacks: true }))
        assert.deepStrictEqual(yield* cooldowns, [0, 0], `after ${i} failing request(s)`)
      }
      yield* callsInSequence(1, () => chatCall(router, "g"))
      assert.isTrue((yield* cooldowns).every((c) => c > 0))
    }))
})

const Cooldown = Schema.Struct({
  kind: Schema.Literals(["none", "estimate", "strict"]),
  /** Milliseconds until it ends. */
  millis: between(1_000, 60_000)
})

describe("the panic threshold", () => {
  it.effect.prop(
    "never sends traffic to a deployment under an unexpired Retry-After while another is there; picks the one back first",
    {
      cooldowns: Schema.Array(Cooldown).check(Schema.isBetweenLength(2, 4)),
      steps: Schema.Array(between(0, 20_000)).check(Schema.isBetweenLength(1, 6))
    },
    ({ cooldowns, steps }) =>
      Effect.gen(function*() {
        const { provider, router, state, ids } = yield* groupOf(cooldowns.length)
        const start = 1_000
        yield* TestClock.adjust(start)
        for (const [i, c] of cooldowns.entries()) {
          if (c.kind !== "none") yield* state.coolDown(ids[i]!, start + c.millis, { strict: c.kind === "strict", keepFailures: true })
        }
        let now = start
        for (const step of steps) {
          yield* TestClock.adjust(step)
          now += step
          const before = provider.received.length
          const exit = yield* withoutSleeping(chatCall(router, "g"))
          const out = (i: number) => cooldowns[i]!.kind !== "none" && start + cooldowns[i]!.millis > now
          const strictOut = (i: number) => cooldowns[i]!.kind === "strict" && out(i)
          const available = ids.filter((_, i) => !strictOut(i))
          if (available.length === 0) {
            assert.instanceOf(failureOfExit(exit), NoDeploymentAvailable, "every deployment told to wait: refused")
            assert.strictEqual(provider.received.length, before, "and no upstream is called")
            continue
          }
          const served = ids.indexOf(successOf(exit).deployment)
          assert.isFalse(strictOut(served), `${ids[served]} is under a Retry-After`)
          if (ids.every((_, i) => out(i))) {
            const soonest = Math.min(...available.map((id) => cooldowns[ids.indexOf(id)]!.millis))
            assert.strictEqual(cooldowns[served]!.millis, soonest, "all out: the one back first serves")
          } else {
            assert.isFalse(out(served), "a healthy deployment serves while there is one")
          }
        }
      }),
    { timeout: 60_000, arbitrary: { runs: 150, seed: 3 } }
  )

  it.effect("a group that is really down fails fast with the upstream's last error", () =>
    Effect.gen(function*() {
      const { provider, router, cooldowns } = yield* groupOf(2)
      provider.otherwise("g#1", Outcome.fail(failureOf("Overloaded")))
      provider.otherwise("g#2", Outcome.fail(failureOf("Overloaded")))
      yield* callsInSequence(Health.MIN_REQUESTS, () => chatCall(router, "g"))
      assert.isTrue((yield* cooldowns).every((c) => c > 0), "both cooled down")
      const before = provider.received.length
      const failure = failureOfExit(yield* withoutSleeping(chatCall(router, "g")))
      assert.instanceOf(failure, AllAttemptsFailed)
      assert.strictEqual(failure.lastError._tag, "Overloaded")
      assert.strictEqual(provider.received.length - before, 2, "each deployment tried once, without waiting")
      assert.isAbove(failure.retryAfterMillis ?? 0, 0, "and when the first comes back")
      assert.isAtMost(failure.retryAfterMillis ?? 0, 5_000)
    }))

  it.effect("with an explicit allowed_fails there is no panic: LiteLLM's refusal", () =>
    Effect.gen(function*() {
      const { provider, router } = yield* groupOf(2, { allowed_fails: 0 })
      provider.script("g#1", [Outcome.fail(failureOf("ServerError"))])
      provider.script("g#2", [Outcome.fail(failureOf("ServerError"))])
      yield* callsInSequence(1, () => chatCall(router, "g"))
      assert.instanceOf(failureOfExit(yield* withoutSleeping(chatCall(router, "g"))), NoDeploymentAvailable)
    }))
})

describe("explicit allowed_fails", () => {
  for (const tag of ["ServerError", "RateLimited", "Authentication"] as const satisfies ReadonlyArray<ProviderErrorTag>) {
    it.effect(`applies to a group with a single deployment too (${tag})`, () =>
      Effect.gen(function*() {
        const { provider, router, cooldowns } = yield* groupOf(1, { allowed_fails: 1, num_retries: 0 })
        provider.script("g#1", [Outcome.fail(failureOf(tag)), Outcome.fail(failureOf(tag))])
        yield* callsInSequence(1, () => chatCall(router, "g"))
        // The classes LiteLLM cools at once do so here too; the others after allowed_fails.
        assert.deepStrictEqual(yield* cooldowns, [tag === "ServerError" ? 0 : 5_000])
        yield* callsInSequence(1, () => chatCall(router, "g"))
        assert.isAbove((yield* cooldowns)[0]!, 0)
      }))
  }
})

describe("a Retry-After", () => {
  it.effect("cools the deployment for exactly that long, strictly", () =>
    Effect.gen(function*() {
      const { provider, router, state } = yield* groupOf(2)
      provider.script("g#1", [Outcome.fail(failureOf("RateLimited", 12_000))])
      for (let i = 0; i < 50 && provider.requestsTo("g#1").length === 0; i++) yield* callsInSequence(1, () => chatCall(router, "g"))
      const [stats] = yield* state.stats(["g#1"])
      assert.deepStrictEqual([stats!.cooldownUntil, stats!.strictUntil], [12_000, 12_000])
    }))

  it.effect("of 0 cools nothing: the failure only feeds the rate", () =>
    Effect.gen(function*() {
      const { provider, router, cooldowns } = yield* groupOf(2)
      provider.script("g#1", [Outcome.fail(failureOf("RateLimited", 0))])
      provider.script("g#2", [Outcome.fail(failureOf("RateLimited", 0))])
      yield* callsInSequence(3, () => chatCall(router, "g"))
      assert.deepStrictEqual(yield* cooldowns, [0, 0])
    }))
})
