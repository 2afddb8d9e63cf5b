/**
 * The one-pipeline guarantee: for every operation in the registry and every failure class, retry,
 * cooldown and fallback behave as the class's policy says. A new operation is covered by being registered.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  Authentication,
  BadRequest,
  Connection,
  ContentPolicy,
  ContextWindowExceeded,
  failurePolicies,
  MalformedResponse,
  MidStream,
  NotFound,
  type Operation,
  operationNames,
  operations,
  Overloaded,
  type ProviderError,
  type ProviderErrorTag,
  RateLimited,
  ServerError,
  Timeout,
  UnsupportedOperation
} from "@switchyard/core"
import { makeScriptedProvider, Outcome, sampleRequest } from "@switchyard/testkit"
import { Effect, Exit } from "effect"
import { routerFor, runToEnd, successOf, withoutSleeping } from "./harness.ts"

/** One instance of every failure class; the `satisfies` makes a new class a compile error until listed. */
const errors = {
  RateLimited: new RateLimited({ message: "slow down", status: 429 }),
  Timeout: new Timeout({ message: "too slow" }),
  Connection: new Connection({ message: "reset" }),
  ServerError: new ServerError({ message: "boom", status: 500 }),
  Overloaded: new Overloaded({ message: "busy", status: 529 }),
  BadRequest: new BadRequest({ message: "bad param", status: 400 }),
  Authentication: new Authentication({ message: "bad key", status: 401 }),
  NotFound: new NotFound({ message: "could not find real modelID", status: 400 }),
  ContextWindowExceeded: new ContextWindowExceeded({ message: "too long", status: 400 }),
  ContentPolicy: new ContentPolicy({ message: "refused", status: 400 }),
  MalformedResponse: new MalformedResponse({ message: "not json" }),
  MidStream: new MidStream({ message: "cut", received: "" }),
  UnsupportedOperation: new UnsupportedOperation({ message: "no", operation: "x" })
} satisfies { readonly [K in ProviderErrorTag]: ProviderError }

const config = `
model_list:
  - { model_name: primary, litellm_params: { model: scripted/a } }
  - { model_name: primary, litellm_params: { model: scripted/b } }
  - { model_name: backup, litellm_params: { model: scripted/c } }
  - { model_name: long, litellm_params: { model: scripted/d } }
  - { model_name: safe, litellm_params: { model: scripted/e } }
router_settings:
  allowed_fails: 0
  fallbacks: [{ primary: [backup] }]
  context_window_fallbacks: [{ primary: [long] }]
  content_policy_fallbacks: [{ primary: [safe] }]
`
/** Where each fallback list leads from `primary` in the config above. */
const fallbackTarget = { general: "backup", context_window: "long", content_policy: "safe", none: undefined }

describe("every operation × every failure class goes through the same pipeline", () => {
  for (const name of operationNames) {
    const operation = operations[name]
    for (const [tag, error] of Object.entries(errors) as Array<[ProviderErrorTag, ProviderError]>) {
      const policy = failurePolicies[tag]
      it.effect(`${name} / ${tag}`, () =>
        Effect.gen(function*() {
          // 1. Retry on the other deployment of the group, with no sleep.
          const p = makeScriptedProvider()
          const { router, state } = yield* routerFor(config, [p])
          p.script("primary#1", [Outcome.fail(error)])
          p.script("primary#2", [Outcome.fail(error)])
          const first = yield* runToEnd(router.call(operation as Operation, sampleRequest(name, "primary")))
          const inPrimary = p.received.filter((r) => r.deployment.startsWith("primary"))
          if (policy.retry === "never") {
            assert.strictEqual(inPrimary.length, 1, "a class that retrying cannot help is tried once")
          } else {
            // Both deployments failed and (allowed_fails: 0) cooled down, so the group is exhausted after two.
            assert.strictEqual(inPrimary.length, policy.retry === "same" && policy.cooldown === "never" ? 3 : 2)
            assert.notStrictEqual(inPrimary[0]!.deployment, inPrimary[1]!.deployment, "the retry went elsewhere")
            assert.strictEqual(inPrimary[0]!.at, inPrimary[1]!.at, "and did not sleep first")
          }

          // 2. Cooldown of the deployment that failed, as the class says.
          const failed = p.received[0]!.deployment
          const [stats] = yield* state.stats([failed])
          assert.strictEqual(stats!.cooldownUntil > 0, policy.cooldown !== "never", "cooldown")

          // 3. Fallback to the list the class routes to, once the group is exhausted.
          const target = fallbackTarget[policy.fallback]
          if (target === undefined) {
            assert.isTrue(Exit.isFailure(first))
            assert.strictEqual(p.received.length, 1, "a client error goes nowhere else")
          } else {
            const routed = successOf(first)
            assert.strictEqual(routed.group, target)
            assert.strictEqual(routed.fallbacks, 1)
            assert.strictEqual(routed.attempts[0]!.error, tag)
            assert.strictEqual(p.received.at(-1)!.operation, name)
          }
        }))
    }
  }

  it.effect("the first deployment fails, the other serves, for every operation", () =>
    Effect.gen(function*() {
      for (const name of operationNames) {
        const p = makeScriptedProvider()
        // Whichever primary is picked first fails once; the other one is healthy.
        let first: string | undefined
        const flaky = {
          ...p,
          call: ((operation, deployment, request) => {
            first ??= deployment.id
            return deployment.id === first ? Effect.fail(errors.Connection) : p.call(operation, deployment, request)
          }) as typeof p.call
        }
        const { router } = yield* routerFor(config, [flaky])
        const routed = successOf(yield* withoutSleeping(router.call(operations[name] as Operation, sampleRequest(name, "primary"))))
        assert.strictEqual(routed.group, "primary")
        assert.deepStrictEqual(routed.attempts.map((a) => a.error), ["Connection", undefined])
        assert.notStrictEqual(routed.deployment, first)
      }
    }))
})
