/**
 * Account problems over the real wire: an upstream whose account cannot pay or is switched off answers
 * in its own shape (Anthropic's 400 "credit balance is too low", OpenAI's 429 `insufficient_quota`), and
 * only another deployment can help. The router fails over at once and keeps the deployment out strictly.
 */
import { assert, describe, it } from "@effect/vitest"
import { Router, RouterState } from "@switchyard/core"
import { REFERENCE_TEXT, sampleRequest } from "@switchyard/testkit"
import { Behave, type MockBehavior, MockUpstream } from "@switchyard/testkit/mock"
import { Effect, Layer } from "effect"
import { ProvidersLive } from "../src/index.ts"
import { TEST_KEY } from "./fixtures.ts"

const cases: ReadonlyArray<readonly [string, "anthropic" | "openai", MockBehavior]> = [
  [
    "Anthropic 400: credit balance too low",
    "anthropic",
    Behave.status(400, {
      type: "invalid_request_error",
      message: "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."
    })
  ],
  [
    "OpenAI 429: insufficient_quota",
    "openai",
    Behave.status(429, {
      code: "insufficient_quota",
      type: "insufficient_quota",
      message: "You exceeded your current quota, please check your plan and billing details."
    })
  ]
]

describe("account problems fail over like a refused key", () => {
  for (const [name, wire, behavior] of cases) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const mock = yield* MockUpstream
        mock.reset()
        const yaml = JSON.stringify({
          model_list: ["broke", "paid"].map((id, i) => ({
            model_name: "g",
            litellm_params: { model: `${wire}/m`, api_base: mock.apiBase(id, wire), api_key: TEST_KEY, order: i + 1 },
            model_info: { id }
          }))
        })
        const context = yield* Layer.build(Router.layerYaml(yaml).pipe(Layer.provideMerge(RouterState.memory)))
        const router = yield* Router.pipe(Effect.provide(context))
        const state = yield* RouterState.pipe(Effect.provide(context))
        mock.otherwise("broke", behavior)
        const first = yield* router.chat(sampleRequest("chat", "g") as never)
        assert.strictEqual(first.deployment, "paid")
        assert.deepStrictEqual(first.attempts.map((a) => `${a.deployment}:${a.error ?? "ok"}`), ["broke:Authentication", "paid:ok"])
        const content = (first.response as { choices: ReadonlyArray<{ message: { content: string } }> }).choices[0]!.message.content
        assert.strictEqual(content, REFERENCE_TEXT)
        const [broke] = yield* state.stats(["broke"])
        assert.isAbove(broke!.strictUntil, 0, "kept out strictly: even a panicking group skips it")
        const second = yield* router.chat(sampleRequest("chat", "g") as never)
        assert.deepStrictEqual(second.attempts.map((a) => a.deployment), ["paid"], "no second try while it is out")
        assert.strictEqual(mock.requests("broke").length, 1)
      }).pipe(Effect.provide(Layer.mergeAll(MockUpstream.layer(), ProvidersLive))))
  }
})
