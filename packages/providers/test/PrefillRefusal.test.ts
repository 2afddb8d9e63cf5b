/**
 * Continuation without prefill where the model refuses it. A deployment whose config claims prefill
 * support (so the family rule is overridden) serves a 4.6-generation Claude through the mock, which
 * refuses a trailing assistant turn as Anthropic does. The refusal is no failure: the same deployment is
 * asked again at once in the instruction form, and the router remembers it for the next stream.
 */
import { assert, layer } from "@effect/vitest"
import { operations, parseConfig, Router, RouterState, type Wire } from "@switchyard/core"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave, MockUpstream } from "@switchyard/testkit/mock"
import { Effect, Layer, Stream } from "effect"
import { TestLayer } from "./fixtures.ts"

const lastRole = (body: unknown) => {
  const messages = (body as { readonly messages?: ReadonlyArray<{ readonly role?: string }> }).messages ?? []
  return messages.at(-1)?.role
}

layer(TestLayer, { excludeTestServices: true })("a prefill the model refuses", (it) => {
  it.effect("is asked again in the instruction form on the same deployment, once per router", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      mock.reset()
      const loaded = yield* parseConfig(`
model_list:
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-6
      api_base: "${mock.apiBase("c", "anthropic")}"
      api_key: sk-ant-test
      supports_prefill: true
      num_retries: 1
`)
      const router = yield* Router.pipe(Effect.provide(Router.layer(loaded).pipe(Layer.provide(RouterState.memory))))
      const request: Wire.ChatRequest = { model: "claude", messages: [{ role: "user", content: "tell me" }] }
      const textOf = (chunks: ReadonlyArray<Wire.ChatChunk>) => chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")

      mock.script("c", [Behave.cutAfter(4)])
      const first = yield* router.open(operations.chat, request)
      assert.strictEqual(textOf(yield* Stream.runCollect(first.stream)), REFERENCE_TEXT)
      // The first reply, the refused prefill, the instruction form.
      assert.deepStrictEqual(mock.requests("c").map((r) => lastRole(r.body)), ["user", "assistant", "user"])
      assert.deepStrictEqual(first.attempts.map((a) => a.error), ["MidStream", undefined], "the refusal is not an attempt")

      mock.reset()
      mock.script("c", [Behave.cutAfter(4)])
      const second = yield* router.open(operations.chat, request)
      assert.strictEqual(textOf(yield* Stream.runCollect(second.stream)), REFERENCE_TEXT)
      assert.deepStrictEqual(mock.requests("c").map((r) => lastRole(r.body)), ["user", "user"], "remembered: no prefill again")
    }).pipe(Effect.scoped))
})
