/**
 * Properties of the retry schedule and the fallback plan, over random policies and random fault
 * sequences, under TestClock. The scripted provider stamps each request with the Clock time, so the
 * delays the router chose are read off `received[i].at`.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  AllAttemptsFailed,
  failurePolicies,
  type ProviderErrorTag,
  type Routed,
  type RouterCallError
} from "@switchyard/core"
import { makeScriptedProvider, Outcome } from "@switchyard/testkit"
import { Effect, Exit, Random, Schema } from "effect"
import { chatCall, failureOf, failureOfExit, gapsOf, routerFor, runSettled } from "./harness.ts"

const optional = Schema.optionalKey
const between = (minimum: number, maximum: number) => Schema.Int.check(Schema.isBetween({ minimum, maximum }))
/** Up to 7 retries: enough for the backoff to reach its 10 s cap (the 6th retry would be 16 s). */
const Count = between(0, 7)

const tags = Object.keys(failurePolicies) as ReadonlyArray<ProviderErrorTag>
/** The failures a retry on the same deployment, or on another one, may fix. */
const retryableTags = tags.filter((t) => failurePolicies[t].retry !== "never")

const Fault = (tagSet: ReadonlyArray<ProviderErrorTag>) =>
  Schema.Struct({ tag: Schema.Literals(tagSet), retryAfterMillis: optional(between(0, 20_000)) })
type Fault = { readonly tag: ProviderErrorTag; readonly retryAfterMillis?: number }

const RetryPolicy = Schema.Struct({
  BadRequestErrorRetries: optional(Count),
  AuthenticationErrorRetries: optional(Count),
  TimeoutErrorRetries: optional(Count),
  RateLimitErrorRetries: optional(Count),
  ContentPolicyViolationErrorRetries: optional(Count),
  InternalServerErrorRetries: optional(Count)
})
type RetryPolicy = typeof RetryPolicy.Type
const RetrySettings = Schema.Struct({
  num_retries: optional(Count),
  retry_policy: optional(RetryPolicy),
  /** Seconds. */
  retry_after: optional(between(0, 3))
})
type RetrySettings = typeof RetrySettings.Type

/** LiteLLM's exception class of each failure, which `retry_policy` counts by. */
const exceptionClass: Partial<Record<ProviderErrorTag, string>> = {
  BadRequest: "BadRequestError",
  Authentication: "AuthenticationError",
  Timeout: "TimeoutError",
  RateLimited: "RateLimitError",
  ContentPolicy: "ContentPolicyViolationError",
  ServerError: "InternalServerError",
  Overloaded: "InternalServerError"
}
const explicitBudget = (settings: RetrySettings, tag: ProviderErrorTag) =>
  settings.retry_policy?.[`${exceptionClass[tag]}Retries` as keyof RetryPolicy]

/** The retries a failure allows: its class's `retry_policy`, else the deployment's, else the router's, else 2. */
const budget = (settings: RetrySettings, deploymentRetries: number | undefined, tag: ProviderErrorTag) =>
  explicitBudget(settings, tag) ?? deploymentRetries ?? settings.num_retries ?? 2

/** Whether a failure may be retried on the deployment that just failed (an explicit budget opts a class in). */
const retriesOnSame = (settings: RetrySettings, tag: ProviderErrorTag) =>
  failurePolicies[tag].retry === "same" ||
  (failurePolicies[tag].retry === "never" && (explicitBudget(settings, tag) ?? 0) > 0)

/** The exponential bound of the n-th retry (n from 1): 500 ms doubling, capped at 10 s, before jitter. */
const backoff = (n: number) => Math.min(500 * 2 ** (n - 1), 10_000)

/** The delay before the retry that follows `fault` must lie in these bounds: jittered backoff, Retry-After as a floor. */
const assertDelay = (gap: number, n: number, fault: Fault, settings: RetrySettings) => {
  const retryAfter = fault.tag === "RateLimited" || fault.tag === "Overloaded" ? fault.retryAfterMillis ?? 0 : 0
  const floor = Math.max((settings.retry_after ?? 0) * 1000, retryAfter)
  const low = Math.max(0.8 * backoff(n), floor)
  const high = Math.max(1.2 * backoff(n), floor)
  const message = `retry ${n} after ${fault.tag}: waited ${gap} ms, not in [${low}, ${high}]`
  assert.isTrue(gap >= low - 1 && gap <= high + 1, message)
}

const groupYaml = (size: number, settings: object, params: object = {}) =>
  JSON.stringify({
    model_list: Array.from({ length: size }, (_, i) => ({
      model_name: "g",
      litellm_params: { model: `scripted/${i}`, ...params }
    })),
    router_settings: settings
  })

/** The error of every attempt a routed call made (undefined for the one that succeeded). */
const attemptErrors = (exit: Exit.Exit<Routed<unknown>, RouterCallError>) =>
  (Exit.isSuccess(exit) ? exit.value.attempts : (failureOfExit(exit) as AllAttemptsFailed).attempts).map((a) => a.error)

describe("retries within one deployment", () => {
  it.effect.prop(
    "attempts follow the budget of each failure, delays the backoff, and a success within the budget is found",
    {
      settings: RetrySettings,
      deploymentRetries: Schema.UndefinedOr(Count),
      faults: Schema.Array(Fault(tags)).check(Schema.isMaxLength(9))
    },
    ({ deploymentRetries, faults, settings }) =>
      Effect.gen(function*() {
        const provider = makeScriptedProvider()
        const params = deploymentRetries === undefined ? {} : { num_retries: deploymentRetries }
        const { router } = yield* routerFor(groupYaml(1, settings, params), [provider])
        provider.script("g#1", faults.map((f) => Outcome.fail(failureOf(f.tag, f.retryAfterMillis))))
        const exit = yield* runSettled(chatCall(router, "g"), "1 second")

        // What the policy says: attempt k is followed by another while its failure allows a retry here.
        let attempts = 1
        while (attempts <= faults.length) {
          const tag = faults[attempts - 1]!.tag
          if (!retriesOnSame(settings, tag) || attempts > budget(settings, deploymentRetries, tag)) break
          attempts++
        }
        const succeeds = attempts > faults.length
        assert.strictEqual(provider.received.length, attempts, "attempts")
        assert.strictEqual(Exit.isSuccess(exit), succeeds, "success exactly when an attempt within the budget succeeds")
        const failed = faults.slice(0, succeeds ? attempts - 1 : attempts).map((f) => f.tag)
        assert.deepStrictEqual(attemptErrors(exit), succeeds ? [...failed, undefined] : failed)
        gapsOf(provider.received).forEach((gap, i) => assertDelay(gap, i + 1, faults[i]!, settings))
      }),
    { arbitrary: { runs: 300, seed: 20_261_122 } }
  )
})

describe("the backoff", () => {
  it.effect("is jittered: successive waits spread around the exponential, and reach the 10 s cap", () =>
    Effect.gen(function*() {
      const provider = makeScriptedProvider()
      const { router } = yield* routerFor(groupYaml(1, { num_retries: 7 }), [provider])
      provider.script("g#1", Array.from({ length: 7 }, () => Outcome.fail(failureOf("ServerError"))))
      const exit = yield* runSettled(chatCall(router, "g"), "1 second").pipe(Random.withSeed(3))
      assert.isTrue(Exit.isSuccess(exit))
      const gaps = gapsOf(provider.received)
      const nominal = gaps.map((_, i) => backoff(i + 1))
      assert.deepStrictEqual(nominal, [500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000])
      gaps.forEach((gap, i) => assertDelay(gap, i + 1, { tag: "ServerError" }, {}))
      const percents = new Set(gaps.map((g, i) => Math.round(g / nominal[i]! * 100)))
      assert.isAbove(percents.size, 3, `jittered: ${gaps.join(", ")}`)
    }))
})

describe("retries across the deployments of a group", () => {
  it.effect.prop(
    "untried deployments are tried first and at once; only then does the router wait",
    {
      /** One entry per deployment: how it always fails, or null when it is healthy. */
      deployments: Schema.Array(Schema.NullOr(Fault(retryableTags))).check(Schema.isBetweenLength(2, 4)),
      numRetries: between(0, 8),
      retryAfter: optional(between(0, 3))
    },
    ({ deployments, numRetries, retryAfter }) =>
      Effect.gen(function*() {
        const provider = makeScriptedProvider()
        const settings = { num_retries: numRetries, ...(retryAfter === undefined ? {} : { retry_after: retryAfter }) }
        const { router } = yield* routerFor(groupYaml(deployments.length, settings), [provider])
        const faultOf = (id: string) => deployments[Number(id.slice("g#".length)) - 1]
        deployments.forEach((f, i) =>
          f && provider.otherwise(`g#${i + 1}`, Outcome.fail(failureOf(f.tag, f.retryAfterMillis)))
        )
        const exit = yield* runSettled(chatCall(router, "g"), "1 second")

        const tried = provider.received.map((r) => r.deployment)
        assert.isAtMost(tried.length, numRetries + 1, "never more attempts than the budget")
        const firstRound = tried.slice(0, deployments.length)
        assert.strictEqual(new Set(firstRound).size, firstRound.length, "each deployment once before any twice")
        const gaps = gapsOf(provider.received)
        const firstGaps = gaps.slice(0, deployments.length - 1)
        firstGaps.forEach((gap) => assert.strictEqual(gap, 0, "no wait while another is untried"))
        gaps.slice(deployments.length - 1).forEach((gap, i) =>
          assertDelay(gap, deployments.length + i, faultOf(tried[deployments.length - 1 + i]!)!, settings)
        )

        const healthy = deployments.some((f) => f === null)
        const reached = tried.some((id) => faultOf(id) === null)
        assert.strictEqual(Exit.isSuccess(exit), reached, "success exactly when a healthy deployment was reached")
        if (reached) assert.isNull(faultOf(tried.at(-1)!), "and it was the last one tried")
        if (healthy && !reached) {
          assert.strictEqual(tried.length, numRetries + 1, "a healthy one is missed only when the budget ran out")
        }
      }),
    { arbitrary: { runs: 300, seed: 7 } }
  )
})

/** Seven groups, so that the default max_fallbacks (5) can bind. */
const groupNames = ["g0", "g1", "g2", "g3", "g4", "g5", "g6"] as const
const GroupName = Schema.Literals(groupNames)

describe("fallbacks", () => {
  it.effect.prop(
    "groups are tried in the declared order, none twice, within max_fallbacks; request fields steer and are stripped",
    {
      healthy: Schema.Array(Schema.Boolean).check(Schema.isBetweenLength(7, 7)),
      fallbacks: Schema.Array(GroupName).check(Schema.isMaxLength(10)),
      maxFallbacks: Schema.UndefinedOr(between(0, 6)),
      requested: Schema.UndefinedOr(Schema.Array(GroupName).check(Schema.isMaxLength(8))),
      disable: Schema.UndefinedOr(Schema.Boolean),
      numRetries: between(0, 2)
    },
    ({ disable, fallbacks, healthy, maxFallbacks, numRetries, requested }) =>
      Effect.gen(function*() {
        const provider = makeScriptedProvider()
        const settings = {
          num_retries: numRetries,
          fallbacks: [{ g0: fallbacks }],
          ...(maxFallbacks === undefined ? {} : { max_fallbacks: maxFallbacks })
        }
        const yaml = JSON.stringify({
          model_list: groupNames.map((g, i) => ({ model_name: g, litellm_params: { model: `scripted/${i}` } })),
          router_settings: settings
        })
        const { router } = yield* routerFor(yaml, [provider])
        groupNames.forEach((g, i) => healthy[i] || provider.otherwise(`${g}#1`, Outcome.fail(failureOf("ServerError"))))
        const control = {
          ...(requested === undefined ? {} : { fallbacks: requested }),
          ...(disable === undefined ? {} : { disable_fallbacks: disable })
        }
        const exit = yield* runSettled(chatCall(router, "g0", control), "1 second")

        const declared = disable === true ? [] : requested ?? fallbacks
        // max_fallbacks is LiteLLM's depth of the chain: 0 turns fallbacks off; a flat list is never cut.
        const plan = ["g0", ...(maxFallbacks === 0 ? [] : [...new Set(declared)].filter((g) => g !== "g0"))]
        const servedAt = plan.findIndex((g) => healthy[groupNames.indexOf(g as typeof groupNames[number])])
        const tried = servedAt === -1 ? plan : plan.slice(0, servedAt + 1)
        const expected = tried.flatMap((g, i) => Array(i === servedAt ? 1 : numRetries + 1).fill(g))
        assert.deepStrictEqual(provider.received.map((r) => r.deployment.split("#")[0]), expected)
        if (servedAt === -1) {
          assert.isTrue(Exit.isFailure(exit))
        } else {
          assert.isTrue(Exit.isSuccess(exit))
          if (Exit.isSuccess(exit)) assert.deepInclude(exit.value, { group: plan[servedAt]!, fallbacks: servedAt })
        }
        for (const r of provider.received) {
          assert.notProperty(r.request, "fallbacks")
          assert.notProperty(r.request, "disable_fallbacks")
        }
      }),
    { arbitrary: { runs: 300, seed: 99 } }
  )

  it.effect("without max_fallbacks, a chain of fallbacks is followed at most 5 deep", () =>
    Effect.gen(function*() {
      const provider = makeScriptedProvider()
      const yaml = JSON.stringify({
        model_list: groupNames.map((g, i) => ({ model_name: g, litellm_params: { model: `scripted/${i}` } })),
        // g0 → g1 → … → g6, each group's fallback the next one
        router_settings: { num_retries: 0, fallbacks: groupNames.slice(1).map((g, i) => ({ [groupNames[i]!]: [g] })) }
      })
      const { router } = yield* routerFor(yaml, [provider])
      groupNames.forEach((g) => provider.otherwise(`${g}#1`, Outcome.fail(failureOf("Overloaded"))))
      assert.isTrue(Exit.isFailure(yield* runSettled(chatCall(router, "g0"))))
      assert.deepStrictEqual(provider.received.map((r) => r.deployment), ["g0#1", "g1#1", "g2#1", "g3#1", "g4#1", "g5#1"])
    }))

  it.effect("a request's fallbacks must name configured groups", () =>
    Effect.gen(function*() {
      const provider = makeScriptedProvider()
      const { router } = yield* routerFor(groupYaml(1, {}).replaceAll('"g"', '"g0"'), [provider])
      const error = failureOfExit(yield* runSettled(chatCall(router, "g0", { fallbacks: ["nowhere"] })))
      assert.strictEqual(error._tag, "UnknownModel")
      assert.strictEqual(provider.received.length, 0)
    }))
})
