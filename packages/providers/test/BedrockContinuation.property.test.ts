/**
 * The mid-stream promise with Bedrock first: whatever the break (an exception frame of a class that
 * another deployment can fix, or a cut socket) and wherever it falls in a ConverseStream or
 * InvokeModelWithResponseStream reply, the router and the real providers over the mock deliver the
 * reference text exactly once. A client's error (validationException, a 400) in the stream is classified
 * as it would be at the start: the client sees it, and nothing is continued.
 */
import { assert, layer } from "@effect/vitest"
import { operations, parseConfig, Router, RouterState, type Wire } from "@switchyard/core"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave, MOCK_AWS_CREDENTIALS, type MockServer, MockUpstream } from "@switchyard/testkit/mock"
import { Effect, Layer, Schema, Stream } from "effect"
import { TestLayer } from "./fixtures.ts"

const routerOn = (mock: MockServer, model: string) =>
  Effect.flatMap(
    parseConfig(`
model_list:
  - model_name: g0
    litellm_params:
      model: "bedrock/${model}"
      api_base: "${mock.apiBase("g0", "bedrock")}"
      aws_access_key_id: ${MOCK_AWS_CREDENTIALS.accessKeyId}
      aws_secret_access_key: "${MOCK_AWS_CREDENTIALS.secretAccessKey}"
      num_retries: 0
${[1, 2].map((i) => `  - { model_name: g${i}, litellm_params: { model: openai/m, api_base: "${mock.apiBase(`g${i}`)}", api_key: sk-test, num_retries: 0 } }`).join("\n")}
router_settings:
  fallbacks: [{ g0: [g1, g2] }]
`),
    (loaded) => Router.pipe(Effect.provide(Router.layer(loaded).pipe(Layer.provide(RouterState.memory))))
  )

const exceptions = ["throttlingException", "modelStreamErrorException", "serviceUnavailableException", "internalServerException", "validationException"] as const

layer(TestLayer, { excludeTestServices: true })("bedrock continuation over HTTP", (it) => {
  it.effect.prop(
    "an exception frame or a cut at any position, Converse or Invoke: the reference text arrives exactly once",
    {
      invoke: Schema.Boolean,
      k: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 30 })),
      fault: Schema.Literals(["cut", ...exceptions])
    },
    ({ fault, invoke, k }) =>
      Effect.gen(function*() {
        const mock = yield* MockUpstream
        mock.reset()
        mock.script("g0", [fault === "cut" ? Behave.cutAfter(k) : Behave.sseErrorAfter(k, { type: fault })])
        const router = yield* routerOn(mock, invoke ? "anthropic.claude-3-haiku-20240307-v1:0" : "amazon.nova-pro-v1:0")
        const request: Wire.ChatRequest = { model: "g0", messages: [{ role: "user", content: "tell me" }] }
        const collected = Stream.runCollect(router.stream(operations.chat, request))
        if (fault === "validationException") {
          const error = yield* Effect.flip(collected)
          assert.strictEqual(error._tag === "AllAttemptsFailed" && error.lastError._tag, "BadRequest")
          assert.deepStrictEqual(mock.requests().map((r) => r.deployment), ["g0"])
          return
        }
        const chunks = yield* collected
        assert.strictEqual(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), REFERENCE_TEXT)
        assert.deepStrictEqual(mock.requests().map((r) => r.deployment), ["g0", "g1"])
      }),
    { timeout: 60_000, arbitrary: { runs: 25 } }
  )
})
