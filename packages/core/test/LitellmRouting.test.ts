/**
 * LiteLLM's routing keys through the router (scripted providers, TestClock): a `content_filter` reply goes
 * to `content_policy_fallbacks`, a `"*"` fallback key covers every group, `model_group_retry_policy`
 * overrides `retry_policy` for its group, and a request's own `num_retries` and map-form `fallbacks` steer it.
 */
import { assert, describe, it } from "@effect/vitest"
import { makeScriptedProvider, Outcome } from "@switchyard/testkit"
import { operations } from "@switchyard/core"
import { Effect, Stream } from "effect"
import { chatCall, failureOf, routerFor, runToEnd, successOf } from "./harness.ts"

const config = (settings: string) => `
model_list:
  - { model_name: primary, litellm_params: { model: openai/a }, model_info: { id: p } }
  - { model_name: backup, litellm_params: { model: openai/b }, model_info: { id: b } }
  - { model_name: other, litellm_params: { model: openai/c }, model_info: { id: o } }
${settings}`

const filtered = { id: "x", object: "chat.completion", created: 0, model: "a", choices: [{ index: 0, message: { role: "assistant", content: "" }, finish_reason: "content_filter" }] }

describe("LiteLLM's routing keys", () => {
  it.effect("a content_filter reply is a content-policy failure: content_policy_fallbacks, not the client", () =>
    Effect.gen(function*() {
      const provider = makeScriptedProvider({ name: "openai" })
      provider.otherwise("p", Outcome.succeed(filtered))
      const { router } = yield* routerFor(config(`litellm_settings: { content_policy_fallbacks: [{ primary: [other] }], fallbacks: [{ primary: [backup] }] }`), [provider])
      const routed = successOf(yield* runToEnd(chatCall(router, "primary")))
      assert.strictEqual(routed.group, "other")
      assert.deepStrictEqual(routed.attempts.map((a) => [a.deployment, a.error]), [["p", "ContentPolicy"], ["o", undefined]])
    }))

  it.effect("a stream that opens filtered, before any text, goes to content_policy_fallbacks too", () =>
    Effect.gen(function*() {
      const provider = makeScriptedProvider({ name: "openai" })
      const chunk = (delta: Record<string, unknown>, finish: string | null) =>
        ({ id: "c", object: "chat.completion.chunk", created: 0, model: "a", choices: [{ index: 0, delta, finish_reason: finish }] })
      provider.otherwise("p", Outcome.chunks([chunk({ role: "assistant", content: "" }, null), chunk({}, "content_filter")]))
      const { router } = yield* routerFor(config(`router_settings: { content_policy_fallbacks: [{ primary: [other] }] }`), [provider])
      const chunks = yield* runToEnd(Stream.runCollect(router.stream(operations.chat, { model: "primary", messages: [{ role: "user", content: "hi" }], stream: true })))
      const text = successOf(chunks).map((c) => c.choices[0]?.delta.content ?? "").join("")
      assert.isNotEmpty(text)
      assert.strictEqual(provider.requestsTo("o").length, 1)
    }))

  it.effect("a \"*\" key in fallbacks applies to every group that has no entry of its own", () =>
    Effect.gen(function*() {
      const provider = makeScriptedProvider({ name: "openai" })
      provider.otherwise("p", Outcome.fail(failureOf("ServerError")))
      provider.otherwise("o", Outcome.fail(failureOf("ServerError")))
      const { router } = yield* routerFor(config(`router_settings: { num_retries: 0, fallbacks: [{ other: [primary] }, { "*": [backup] }] }`), [provider])
      assert.strictEqual(successOf(yield* runToEnd(chatCall(router, "primary"))).group, "backup")
      const fromOther = yield* runToEnd(chatCall(router, "other"))
      assert.isTrue(fromOther._tag === "Failure", "other's own entry wins over \"*\"")
    }))

  it.effect("a \"*\" entry comes before default_fallbacks, which serve groups when there is none", () =>
    Effect.gen(function*() {
      const provider = makeScriptedProvider({ name: "openai" })
      provider.otherwise("p", Outcome.fail(failureOf("ServerError")))
      const withStar = yield* routerFor(config(`router_settings: { num_retries: 0, fallbacks: [{ "*": [backup] }], default_fallbacks: [other] }`), [provider])
      assert.strictEqual(successOf(yield* runToEnd(chatCall(withStar.router, "primary"))).group, "backup")
      const defaults = yield* routerFor(config(`litellm_settings: { num_retries: 0, default_fallbacks: [other] }`), [provider])
      assert.strictEqual(successOf(yield* runToEnd(chatCall(defaults.router, "primary"))).group, "other")
    }))

  it.effect("model_group_retry_policy gives its group its own budget per failure class", () =>
    Effect.gen(function*() {
      const provider = makeScriptedProvider({ name: "openai" })
      provider.otherwise("p", Outcome.fail(failureOf("RateLimited")))
      provider.otherwise("b", Outcome.fail(failureOf("RateLimited")))
      const { router } = yield* routerFor(config(`router_settings:
  retry_policy: { RateLimitErrorRetries: 1 }
  model_group_retry_policy: { primary: { RateLimitErrorRetries: 3 } }
  disable_cooldowns: true`), [provider])
      yield* runToEnd(chatCall(router, "primary"))
      yield* runToEnd(chatCall(router, "backup"))
      assert.strictEqual(provider.requestsTo("p").length, 4)
      assert.strictEqual(provider.requestsTo("b").length, 2)
    }))

  it.effect("a request's num_retries and its map-form fallbacks steer it, and neither goes upstream", () =>
    Effect.gen(function*() {
      const provider = makeScriptedProvider({ name: "openai" })
      provider.otherwise("p", Outcome.fail(failureOf("ServerError")))
      const { router } = yield* routerFor(config(`router_settings: { num_retries: 3, disable_cooldowns: true }`), [provider])
      const routed = successOf(yield* runToEnd(chatCall(router, "primary", { num_retries: 0, fallbacks: [{ primary: ["other"] }] })))
      assert.strictEqual(routed.group, "other")
      assert.strictEqual(provider.requestsTo("p").length, 1)
      const sent = provider.requestsTo("o")[0]!.request as Record<string, unknown>
      assert.notProperty(sent, "num_retries")
      assert.notProperty(sent, "fallbacks")
    }))

  it.effect("a request that names an unknown fallback, or an invalid control value, fails before any attempt", () =>
    Effect.gen(function*() {
      const provider = makeScriptedProvider({ name: "openai" })
      const { router } = yield* routerFor(config(""), [provider])
      const unknown = yield* Effect.flip(chatCall(router, "primary", { fallbacks: [{ primary: ["nowhere"] }] }))
      assert.strictEqual(unknown._tag, "UnknownModel")
      assert.include(unknown.message, "nowhere")
      const invalid = yield* Effect.flip(chatCall(router, "primary", { timeout: "soon" }))
      assert.strictEqual(invalid._tag, "AllAttemptsFailed")
      if (invalid._tag === "AllAttemptsFailed") assert.strictEqual(invalid.lastError._tag, "BadRequest")
      assert.strictEqual(provider.received.length, 0)
    }))
})
