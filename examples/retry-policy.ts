/**
 * A retry policy per error class, with LiteLLM's keys: `retry_policy` (retries per class),
 * `allowed_fails_policy` (failures per class before a deployment cools down) and `retry_after` (the
 * shortest wait before any retry). examples/test/retry-policy.test.ts checks the same rules as properties.
 *
 *   npx tsx examples/retry-policy.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Router, RouterState } from "@switchyard/core"
import { ProvidersLive } from "@switchyard/providers"
import { Behave, type MockServer, MockUpstream } from "@switchyard/testkit/mock"
import { Clock, Console, Effect, Layer } from "effect"

const configFor = (mock: MockServer) => `
model_list:
  - model_name: chat
    litellm_params: { model: openai/gpt-4o, api_base: ${mock.apiBase("chat")}, api_key: sk-example }
    model_info: { id: chat-openai }
  # Two deployments: "order" makes pool-a the first choice while it is healthy.
  - model_name: pool
    litellm_params: { model: openai/gpt-4o, api_base: ${mock.apiBase("pool-a")}, api_key: sk-example, order: 1 }
    model_info: { id: pool-a }
  - model_name: pool
    litellm_params: { model: openai/gpt-4o, api_base: ${mock.apiBase("pool-b")}, api_key: sk-example, order: 2 }
    model_info: { id: pool-b }
router_settings:
  num_retries: 1                      # every class without its own entry below
  retry_after: 0.5                    # no retry on the same deployment sooner than 0.5 s
  retry_policy:
    RateLimitErrorRetries: 3          # a 429 passes: worth waiting for
    InternalServerErrorRetries: 0     # a 500 here means broken: fail fast
  allowed_fails_policy:
    RateLimitErrorAllowedFails: 2     # a deployment may answer 429 twice a minute; the third cools it down
  cooldown_time: 30
`

const MockLive = MockUpstream.layer()
const RouterLive = Layer.unwrap(Effect.map(MockUpstream, (mock) => Router.layerYaml(configFor(mock)))).pipe(
  Layer.provide([ProvidersLive, RouterState.memory]),
  Layer.provideMerge(MockLive)
)

const ask = (model: string) =>
  Effect.flatMap(Router, (router) => router.chat({ model, messages: [{ role: "user", content: "Hi" }] }))

type Attempts = ReadonlyArray<{ readonly deployment: string; readonly error?: string; readonly durationMillis: number }>

/** The route a call took: every attempt and how it ended. */
const route = (attempts: Attempts) => attempts.map((a) => `${a.deployment} (${a.error ?? "ok"})`).join(" → ")

/** How long a call waited between its attempts: the time it took minus the attempts themselves. */
const waited = (attempts: Attempts, elapsedMillis: number) =>
  ((elapsedMillis - attempts.reduce((sum, a) => sum + a.durationMillis, 0)) / 1000).toFixed(1)

const program = Effect.gen(function*() {
  const mock = yield* MockUpstream

  yield* Console.log("1. chat-openai answers 429 twice (the first with Retry-After: 1), then works:")
  mock.script("chat", [Behave.rateLimited(1), Behave.rateLimited()])
  const start = yield* Clock.currentTimeMillis
  const reply = yield* ask("chat")
  const elapsed = (yield* Clock.currentTimeMillis) - start
  yield* Console.log(`  served by ${reply.deployment}: ${route(reply.attempts)}`)
  yield* Console.log(`  ${reply.attempts.length} attempts, ${waited(reply.attempts, elapsed)} s waiting between them`)
  yield* Console.log("  (RateLimitErrorRetries: 3 allowed it; num_retries: 1 alone would have given up)")

  yield* Console.log("\n2. chat-openai answers 500:")
  mock.script("chat", [Behave.status(500)])
  yield* ask("chat").pipe(
    Effect.catchTag("AllAttemptsFailed", (e) =>
      Console.log(`  failed fast: ${e.attempts.length} attempt, ${e.lastError._tag} (InternalServerErrorRetries: 0)`))
  )

  yield* Console.log("\n3. pool-a answers 429 to everything; pool-b is healthy:")
  mock.otherwise("pool-a", Behave.rateLimited())
  for (let call = 1; call <= 4; call++) {
    const reply = yield* ask("pool")
    const note = reply.attempts.length === 1 ? " — pool-a is cooling down, it is not tried" : ""
    yield* Console.log(`  call ${call}: served by ${reply.deployment}: ${route(reply.attempts)}${note}`)
  }
  yield* Console.log("  (the other deployment is tried at once, without waiting; the 3rd 429 cooled pool-a down)")
})

NodeRuntime.runMain(program.pipe(Effect.provide(RouterLive)))
