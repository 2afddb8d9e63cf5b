import { assert, describe, it } from "@effect/vitest"
import { Providers, Router, RouterState, parseConfig, ServerError } from "@switchyard/core"
import { makeScriptedProvider, Outcome } from "@switchyard/testkit"
import { Effect, Layer } from "effect"

describe("smoke", () => {
  it.effect("retries on the other deployment", () => Effect.gen(function*() {
    const p = makeScriptedProvider({ name: "openai" })
    const loaded = yield* parseConfig(`
model_list:
  - model_name: g
    litellm_params: { model: openai/a }
  - model_name: g
    litellm_params: { model: openai/b }
`)
    p.script("g#1", [Outcome.fail(new ServerError({ message: "boom" }))])
    p.script("g#2", [Outcome.fail(new ServerError({ message: "boom" }))])
    const router = yield* Router.pipe(Effect.provide(Router.layer(loaded).pipe(Layer.provide([Layer.succeed(Providers, Providers.fromList([p])), RouterState.memory]))))
    const r = yield* router.chat({ model: "g", messages: [{ role: "user", content: "x" }] })
    console.log(r.attempts, r.deployment)
    assert.strictEqual(r.attempts.length, 3)
  }))
})
