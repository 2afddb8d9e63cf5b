/**
 * Switchyard as a library, inside your own Effect service.
 *
 * `Assistant` is an app service that depends on `Router`; the layers wire it to the real providers and
 * to a mock upstream running in this process (no keys, no network). The primary chat group is down, so
 * the router falls back to another group on another wire format (Anthropic). Then two typed failures
 * are handled with `Effect.catchTag`: a model that is not configured, and a group that fails everywhere.
 *
 *   npx tsx examples/library-service.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { type RouterCallError, Router, RouterState } from "@switchyard/core"
import { ProvidersLive } from "@switchyard/providers"
import { Behave, type MockServer, MockUpstream } from "@switchyard/testkit/mock"
import { Console, Context, Effect, Layer } from "effect"

/** The config. In production the api_base values are your upstreams; here they point at the mock. */
const configFor = (mock: MockServer) => `
model_list:
  - model_name: assistant
    litellm_params: { model: openai/gpt-4o, api_base: ${mock.apiBase("gpt-4o")}, api_key: sk-example }
  - model_name: assistant-backup
    litellm_params: { model: anthropic/claude-sonnet-4-6, api_base: ${mock.apiBase("claude", "anthropic")}, api_key: sk-example }
  - model_name: legacy
    litellm_params: { model: openai/gpt-3.5-turbo, api_base: ${mock.apiBase("legacy")}, api_key: sk-example }
router_settings:
  num_retries: 1
  fallbacks:
    - assistant: [assistant-backup]
`

/** What the mock does: gpt-4o answers 500 to everything, legacy rejects our key (401); the rest answer. */
const MockLive = MockUpstream.layer({
  scripts: {
    "gpt-4o": { behaviors: [], otherwise: Behave.status(500) },
    legacy: { behaviors: [], otherwise: Behave.status(401) }
  }
})

/** The app's own service. It knows nothing about deployments: it asks a model group and gets text. */
class Assistant extends Context.Service<Assistant, {
  readonly ask: (question: string, model?: string) => Effect.Effect<string, RouterCallError>
}>()("example/Assistant") {
  static readonly layer = Layer.effect(
    Assistant,
    Effect.gen(function*() {
      const router = yield* Router
      return Assistant.of({
        ask: Effect.fn("Assistant.ask")(function*(question: string, model = "assistant") {
          const reply = yield* router.chat({ model, messages: [{ role: "user", content: question }] })
          // Routed tells how the answer was obtained: who served, every attempt, how many fallbacks.
          const tried = reply.attempts.map((a) => `${a.deployment}${a.error ? ` (${a.error})` : " (ok)"}`)
          yield* Console.log(`  served by ${reply.deployment} in group "${reply.group}"`)
          yield* Console.log(`  ${reply.attempts.length} attempts: ${tried.join(" → ")}; fallbacks: ${reply.fallbacks}`)
          return reply.response.choices[0]?.message.content ?? ""
        })
      })
    })
  )
}

// The router is built from the config once the mock is up (its port is only known then).
const RouterLive = Layer.unwrap(Effect.map(MockUpstream, (mock) => Router.layerYaml(configFor(mock)))).pipe(
  Layer.provide([ProvidersLive, RouterState.memory])
)
const AppLive = Assistant.layer.pipe(Layer.provide(RouterLive), Layer.provide(MockLive))

const program = Effect.gen(function*() {
  const assistant = yield* Assistant

  yield* Console.log(`1. ask "assistant" (its only deployment answers 500):`)
  const answer = yield* assistant.ask("Hello")
  yield* Console.log(`  answer: "${answer.slice(0, 60)}…"`)

  yield* Console.log(`\n2. ask "gpt-5", which the config does not have:`)
  yield* assistant.ask("Hello", "gpt-5").pipe(
    Effect.catchTag("UnknownModel", (e) => Console.log(`  handled UnknownModel: ${e.message}`))
  )

  yield* Console.log(`\n3. ask "legacy", whose deployment rejects our key and has no fallback:`)
  yield* assistant.ask("Hello", "legacy").pipe(
    Effect.catchTag("AllAttemptsFailed", (e) =>
      Console.log(
        `  handled AllAttemptsFailed after ${e.attempts.length} attempt(s): ${e.lastError._tag}: ${e.lastError.message}`
      ))
  )
})

NodeRuntime.runMain(program.pipe(Effect.provide(AppLive)))
