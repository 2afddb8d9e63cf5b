/**
 * Routing: which deployment takes the next attempt. First `pick`, `isHealthy` and `byPriority` on
 * hand-made state, then the same choices made by a router whose state was built by real calls.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  type Candidate,
  byPriority,
  type Deployment,
  type DeploymentStats,
  isHealthy,
  NoDeploymentAvailable,
  pick,
  RoutingStrategy
} from "@switchyard/core"
import { deploymentOf, makeScriptedProvider, Outcome, sampleResponse } from "@switchyard/testkit"
import { Effect, Exit, Fiber, Random } from "effect"
import { TestClock } from "effect/testing"
import { callsInSequence, chatCall, failureOf, failureOfExit, routerFor, runToEnd, successOf } from "./harness.ts"

const deployment = (id: string, fields: Partial<Deployment> = {}): Deployment =>
  deploymentOf({ id, group: "g", provider: "scripted", model: id, ...fields })
const idle: DeploymentStats = { cooldownUntil: 0, inFlight: 0, latencyMillis: undefined, rpm: 0, tpm: 0, failures: 0, strictUntil: 0 }
const candidate = (id: string, fields: Partial<Deployment> = {}, stats: Partial<DeploymentStats> = {}): Candidate => ({
  deployment: deployment(id, fields),
  stats: { ...idle, ...stats }
})

/** How often each deployment is picked in `n` seeded picks. */
const countPicks = (strategy: RoutingStrategy, candidates: ReadonlyArray<Candidate>, n = 4_000) =>
  Effect.gen(function*() {
    const counts: Record<string, number> = Object.fromEntries(candidates.map((c) => [c.deployment.id, 0]))
    for (let i = 0; i < n; i++) counts[(yield* pick(strategy, candidates)).deployment.id]!++
    return counts
  }).pipe(Random.withSeed(7))

/** Asserts that `counts` splits `n` picks in the proportions of `weights` (within 3 points). */
const assertShares = (counts: Record<string, number>, weights: Record<string, number>, n = 4_000) => {
  const total = Object.values(weights).reduce((a, b) => a + b, 0)
  for (const [id, w] of Object.entries(weights)) {
    assert.approximately(counts[id]! / n, w / total, 0.03, `${id}: ${counts[id]} of ${n}`)
  }
}

describe("isHealthy and byPriority", () => {
  it("a deployment is healthy unless cooling down or at its own rpm or tpm limit", () => {
    assert.isTrue(isHealthy(candidate("a")))
    assert.isFalse(isHealthy(candidate("a", {}, { cooldownUntil: 5_000 })))
    assert.isTrue(isHealthy(candidate("a", { rpm: 3 }, { rpm: 2, tpm: 10_000 })))
    assert.isFalse(isHealthy(candidate("a", { rpm: 3 }, { rpm: 3 })))
    assert.isTrue(isHealthy(candidate("a", { tpm: 100 }, { tpm: 99, rpm: 1_000 })))
    assert.isFalse(isHealthy(candidate("a", { tpm: 100 }, { tpm: 100 })))
    assert.isFalse(isHealthy(candidate("a", { rpm: 0 })), "rpm: 0 takes a deployment out")
  })

  it("byPriority keeps the lowest order; deployments without one come last", () => {
    const ids = (cs: ReadonlyArray<Candidate>) => cs.map((c) => c.deployment.id)
    const none = [candidate("a"), candidate("b")]
    assert.deepStrictEqual(ids(byPriority(none)), ["a", "b"])
    const mixed = [candidate("a"), candidate("b", { order: 2 }), candidate("c", { order: 1 }), candidate("d", { order: 1 })]
    assert.deepStrictEqual(ids(byPriority(mixed)), ["c", "d"])
    assert.deepStrictEqual(ids(byPriority([candidate("a"), candidate("b", { order: 5 })])), ["b"])
  })
})

describe("pick on scripted state", () => {
  it.effect("simple-shuffle spreads in proportion to weight, else rpm, else tpm, else evenly", () =>
    Effect.gen(function*() {
      const byWeight = [candidate("a", { weight: 1, rpm: 900 }), candidate("b", { weight: 3, rpm: 100 })]
      assertShares(yield* countPicks("simple-shuffle", byWeight), { a: 1, b: 3 })
      // A deployment without a weight counts as weight 1 once another has one.
      assertShares(yield* countPicks("simple-shuffle", [candidate("a", { weight: 4 }), candidate("b")]), { a: 4, b: 1 })
      const byRpm = [candidate("a", { rpm: 100, tpm: 1 }), candidate("b", { rpm: 300, tpm: 1_000 })]
      assertShares(yield* countPicks("simple-shuffle", byRpm), { a: 1, b: 3 })
      const byTpm = [candidate("a", { tpm: 2_000 }), candidate("b", { tpm: 1_000 }), candidate("c", { tpm: 1_000 })]
      assertShares(yield* countPicks("simple-shuffle", byTpm), { a: 2, b: 1, c: 1 })
      assertShares(yield* countPicks("simple-shuffle", [candidate("a"), candidate("b")]), { a: 1, b: 1 })
    }))

  const lowestWins: ReadonlyArray<[RoutingStrategy, ReadonlyArray<Candidate>, string]> = [
    ["least-busy", [candidate("a", {}, { inFlight: 3 }), candidate("b", {}, { inFlight: 1 }), candidate("c", {}, { inFlight: 2 })], "b"],
    ["latency-based-routing", [candidate("a", {}, { latencyMillis: 300 }), candidate("b", {}, { latencyMillis: 80 })], "b"],
    ["latency-based-routing", [candidate("a", {}, { latencyMillis: 80 }), candidate("b")], "b"],
    ["usage-based-routing", [candidate("a", {}, { tpm: 5_000 }), candidate("b", {}, { tpm: 200, rpm: 90 })], "b"],
    ["usage-based-routing-v2", [candidate("a", {}, { tpm: 5_000 }), candidate("b", {}, { tpm: 200 })], "b"],
    [
      "cost-based-routing",
      [
        candidate("a", { info: { input_cost_per_token: 0.00001, output_cost_per_token: 0.00003 } }),
        candidate("b", { info: { input_cost_per_token: 0.000002, output_cost_per_token: 0.000004 } }),
        candidate("c", { info: { input_cost_per_token: 0.000001, output_cost_per_token: 0.00003 } })
      ],
      "b"
    ]
  ]
  for (const [strategy, candidates, expected] of lowestWins) {
    it.effect(`${strategy} picks ${expected} every time`, () =>
      Effect.gen(function*() {
        const counts = yield* countPicks(strategy, candidates, 200)
        assert.strictEqual(counts[expected], 200)
      }))
  }

  it.effect("ties under a lowest-key strategy are spread at random", () =>
    Effect.gen(function*() {
      const tied = [candidate("a", {}, { inFlight: 1 }), candidate("b", {}, { inFlight: 1 }), candidate("c", {}, { inFlight: 4 })]
      const counts = yield* countPicks("least-busy", tied)
      assertShares(counts, { a: 1, b: 1, c: 0 })
    }))

  it.effect("order comes before every strategy", () =>
    Effect.gen(function*() {
      const strategies = RoutingStrategy.literals
      const first = candidate("first", { order: 1, weight: 1 }, { inFlight: 9, latencyMillis: 900, tpm: 9_000 })
      const second = candidate("second", { order: 2, weight: 100 })
      for (const strategy of strategies) {
        assert.strictEqual((yield* countPicks(strategy, [second, first], 100)).first, 100, strategy)
      }
    }))
})

/** A router over two or three deployments of group `g`, with each deployment's config fields. */
const groupOf = (strategy: RoutingStrategy, ...params: ReadonlyArray<Record<string, unknown>>) =>
  Effect.gen(function*() {
    const provider = makeScriptedProvider()
    const model_list = params.map((p, i) => ({ model_name: "g", litellm_params: { model: `scripted/${i + 1}`, ...p } }))
    const yaml = JSON.stringify({ model_list, router_settings: { routing_strategy: strategy } })
    const { router, state } = yield* routerFor(yaml, [provider])
    const served = () => provider.received.map((r) => r.deployment)
    return { router, state, provider, served, call: () => chatCall(router, "g") }
  })

describe("the router's choice on state built by real calls", () => {
  it.effect("simple-shuffle sends traffic in proportion to weight", () =>
    Effect.gen(function*() {
      const { call, served } = yield* groupOf("simple-shuffle", { weight: 1 }, { weight: 3 })
      yield* callsInSequence(800, call).pipe(Random.withSeed(11))
      const share = served().filter((d) => d === "g#2").length / 800
      assert.approximately(share, 0.75, 0.04)
    }))

  it.effect("least-busy avoids the deployment holding a call", () =>
    Effect.gen(function*() {
      const { call, provider, served } = yield* groupOf("least-busy", {}, {})
      provider.otherwise("g#1", Outcome.delay(60_000))
      // Calls to g#2 return at once; sooner or later one goes to g#1 and stays in flight.
      let slow: Fiber.Fiber<unknown, unknown> | undefined
      for (let i = 0; i < 100 && slow === undefined; i++) {
        const fiber = yield* Effect.forkChild(call())
        yield* TestClock.adjust(0)
        if (served().at(-1) === "g#1") slow = fiber
      }
      assert.isDefined(slow, "a call went to g#1")
      const before = served().length
      for (let i = 0; i < 5; i++) successOf(yield* runToEnd(call(), 0))
      assert.deepStrictEqual(served().slice(before), Array(5).fill("g#2"))
      yield* TestClock.adjust(60_000)
      assert.isTrue(Exit.isSuccess(yield* Fiber.await(slow)))
    }))

  it.effect("latency-based routing measures both deployments, then keeps to the faster", () =>
    Effect.gen(function*() {
      const { call, provider, served } = yield* groupOf("latency-based-routing", {}, {})
      provider.otherwise("g#1", Outcome.delay(100))
      provider.otherwise("g#2", Outcome.delay(700))
      yield* callsInSequence(7, call)
      assert.sameMembers(served().slice(0, 2), ["g#1", "g#2"], "an unmeasured deployment is tried first")
      assert.deepStrictEqual(served().slice(2), Array(5).fill("g#1"))
    }))

  for (const strategy of ["usage-based-routing", "usage-based-routing-v2"] as const) {
    it.effect(`${strategy} sends traffic to the deployment with the least tokens this minute`, () =>
      Effect.gen(function*() {
        const { call, provider, served, state } = yield* groupOf(strategy, {}, {})
        const heavy = { prompt_tokens: 900, completion_tokens: 100, total_tokens: 1_000 }
        provider.otherwise("g#1", Outcome.succeed({ ...(sampleResponse("chat", "g#1") as object), usage: heavy }))
        yield* callsInSequence(7, call)
        assert.sameMembers(served().slice(0, 2), ["g#1", "g#2"])
        assert.deepStrictEqual(served().slice(2), Array(5).fill("g#2"))
        assert.deepStrictEqual((yield* state.stats(["g#1", "g#2"])).map((s) => s.tpm), [1_000, 6 * 8])
      }))
  }

  it.effect("cost-based routing uses the cheapest healthy deployment", () =>
    Effect.gen(function*() {
      const cost = (input: number) => ({ input_cost_per_token: input, output_cost_per_token: input })
      const provider = makeScriptedProvider()
      const yaml = JSON.stringify({
        model_list: [3, 1, 2].map((c, i) => ({
          model_name: "g",
          litellm_params: { model: `scripted/${i}` },
          model_info: { id: `cost${c}`, ...cost(c / 1e6) }
        })),
        // LiteLLM's per-minute count, set explicitly: a 429 without Retry-After cools the deployment at once.
        router_settings: { routing_strategy: "cost-based-routing", cooldown_time: 30, allowed_fails: 3 }
      })
      const { router } = yield* routerFor(yaml, [provider])
      yield* callsInSequence(3, () => chatCall(router, "g"))
      provider.script("cost1", [Outcome.fail(failureOf("RateLimited"))])
      yield* callsInSequence(3, () => chatCall(router, "g"))
      yield* TestClock.adjust(30_000)
      yield* callsInSequence(1, () => chatCall(router, "g"))
      assert.deepStrictEqual(provider.received.map((r) => r.deployment), [
        "cost1", "cost1", "cost1", "cost1", "cost2", "cost2", "cost2", "cost1"
      ])
    }))

  it.effect("order is a priority: lower orders serve only while the first is cooling down", () =>
    Effect.gen(function*() {
      const { call, provider, served } = yield* groupOf("simple-shuffle", { order: 2 }, { order: 1 }, { weight: 100 })
      yield* callsInSequence(4, call)
      provider.script("g#2", [Outcome.fail(failureOf("Authentication"))])
      yield* callsInSequence(2, call)
      assert.deepStrictEqual(served(), ["g#2", "g#2", "g#2", "g#2", "g#2", "g#1", "g#1"])
    }))

  it.effect("a deployment at its rpm or tpm limit is skipped for the rest of the minute", () =>
    Effect.gen(function*() {
      const rpm = yield* groupOf("simple-shuffle", { order: 1, rpm: 2 }, { order: 2 })
      yield* callsInSequence(4, rpm.call)
      assert.deepStrictEqual(rpm.served(), ["g#1", "g#1", "g#2", "g#2"])
      // Each sample reply uses 8 tokens: the second call brings g#1 to 16 >= 10.
      const tpm = yield* groupOf("simple-shuffle", { order: 1, tpm: 10 }, { order: 2 })
      yield* callsInSequence(4, tpm.call)
      assert.deepStrictEqual(tpm.served(), ["g#1", "g#1", "g#2", "g#2"])
      yield* TestClock.adjust("2 minutes")
      yield* callsInSequence(1, tpm.call)
      assert.strictEqual(tpm.served().at(-1), "g#1", "back once the minute has rolled off")
    }))

  it.effect("every deployment at its limit: NoDeploymentAvailable, and service resumes later", () =>
    Effect.gen(function*() {
      const { call, served } = yield* groupOf("simple-shuffle", { rpm: 1 }, { rpm: 1 })
      yield* TestClock.adjust(15_000)
      yield* callsInSequence(2, call)
      const [refused] = yield* callsInSequence(1, call)
      const error = failureOfExit(refused!)
      assert.instanceOf(error, NoDeploymentAvailable)
      assert.strictEqual(error.group, "g")
      assert.isTrue(error.retryAfterMillis > 0 && error.retryAfterMillis <= 60_000, `${error.retryAfterMillis}`)
      assert.strictEqual(served().length, 2, "no upstream was called")
      yield* TestClock.adjust("2 minutes")
      assert.isTrue(Exit.isSuccess((yield* callsInSequence(1, call))[0]!))
    }))
})
