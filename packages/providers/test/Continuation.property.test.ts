/**
 * The mid-stream promise over real HTTP: the router, the real providers and the mock upstream, which
 * breaks streams where the property says and continues the reference text from any partial it is sent.
 * Whatever the break positions and kinds, the client assembles the reference text exactly once.
 */
import { assert, layer } from "@effect/vitest"
import { type Operation, operations, parseConfig, Router, RouterState, type TextStreamSpec } from "@switchyard/core"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave, MockUpstream } from "@switchyard/testkit/mock"
import { Effect, Layer, Schema, Stream } from "effect"
import { TestLayer } from "./fixtures.ts"

/** Groups g0 → g1 → g2 → g3, one deployment each, so the n-th fault lands on the n-th group. */
const routerOn = (apiBase: (name: string, wire: "openai" | "anthropic") => string, firstWire: "openai" | "anthropic") =>
  Effect.flatMap(
    parseConfig(`
model_list:
${[0, 1, 2, 3].map((i) => {
      const wire = i === 0 ? firstWire : "openai"
      return `  - { model_name: g${i}, litellm_params: { model: ${wire}/m, api_base: "${apiBase(`g${i}`, wire)}", api_key: sk-test, num_retries: 0 } }`
    }).join("\n")}
router_settings:
  fallbacks: [{ g0: [g1, g2, g3] }]
`),
    (loaded) => Router.pipe(Effect.provide(Router.layer(loaded).pipe(Layer.provide(RouterState.memory))))
  )

layer(TestLayer, { excludeTestServices: true })("continuation over HTTP", (it) => {
  it.effect.prop(
    "cut or error-event breaks at any position, across providers: the reference text arrives exactly once",
    {
      operation: Schema.Literals(["chat", "completion", "responses"]),
      anthropicFirst: Schema.Boolean,
      faults: Schema.Array(Schema.Struct({
        k: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 12 })),
        kind: Schema.Literals(["cut", "sseError"])
      })).check(Schema.isMinLength(1), Schema.isMaxLength(3))
    },
    ({ anthropicFirst, faults, operation }) =>
      Effect.gen(function*() {
        const mock = yield* MockUpstream
        mock.reset()
        // Anthropic's wire serves chat and responses (translated), not completion.
        const firstWire = anthropicFirst && operation !== "completion" ? "anthropic" : "openai"
        faults.forEach((f, i) =>
          mock.script(`g${i}`, [f.kind === "cut" ? Behave.cutAfter(f.k) : Behave.sseErrorAfter(f.k)])
        )
        const router = yield* routerOn(mock.apiBase, firstWire)
        const op = operations[operation] as Operation
        const request = operation === "chat"
          ? { model: "g0", messages: [{ role: "user", content: "tell me" }] }
          : operation === "completion"
          ? { model: "g0", prompt: "Once: " }
          : { model: "g0", input: "tell me" }
        const chunks = yield* Stream.runCollect(router.stream(op, request))
        const spec = op.stream as TextStreamSpec<unknown, unknown>
        assert.strictEqual(chunks.map((c) => spec.text(c)).join(""), REFERENCE_TEXT)
        // Every fault was served: one request per group up to the one that finished the reply.
        assert.deepStrictEqual(mock.requests().map((r) => r.deployment), [...faults.map((_, i) => `g${i}`), `g${faults.length}`])
      }),
    { arbitrary: { runs: 40 }, timeout: 30_000 }
  )
})
