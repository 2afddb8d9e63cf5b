/**
 * A user's own Effect service on the published packages: `Assistant` asks the Switchyard `Router`, which
 * falls back from a failing group to another. The consumer test copies this file into a project outside
 * the repository, type-checks it with `tsc` against the installed declarations and runs it with plain
 * `node` (type stripping), so only the packages' built JavaScript is loaded from node_modules.
 */
import { type RouterCallError, Router, RouterState } from "@switchyard/core"
import { ProvidersLive } from "@switchyard/providers"
import { Behave, type MockServer, MockUpstream } from "@switchyard/testkit/mock"
import { Console, Context, Effect, Layer } from "effect"

/** Two groups on the mock upstream: the primary answers 500 to everything, the backup answers. */
const configFor = (mock: MockServer) => `
model_list:
  - model_name: primary
    litellm_params: { model: openai/gpt-4o, api_base: ${mock.apiBase("primary")}, api_key: sk-consumer }
  - model_name: backup
    litellm_params: { model: anthropic/claude-sonnet-4-6, api_base: ${mock.apiBase("backup", "anthropic")}, api_key: sk-consumer }
router_settings: { num_retries: 0, fallbacks: [{ primary: [backup] }] }
`

/** The app's service: a question in, the answer and who served it out. */
class Assistant extends Context.Service<Assistant, {
  readonly ask: (question: string, model: string) => Effect.Effect<{ text: string; servedBy: string }, RouterCallError>
}>()("consumer/Assistant") {
  static readonly layer = Layer.effect(
    Assistant,
    Effect.gen(function*() {
      const router = yield* Router
      return Assistant.of({
        ask: (question, model) =>
          router.chat({ model, messages: [{ role: "user", content: question }] }).pipe(
            Effect.map((reply) => ({ text: reply.response.choices[0]?.message.content ?? "", servedBy: reply.deployment }))
          )
      })
    })
  )
}

/** The installed declarations are real types, not `any`: a wrong request does not type-check. */
export const wrongRequest = Effect.gen(function*() {
  const router = yield* Router
  // @ts-expect-error `model` must be a string
  return yield* router.chat({ model: 1, messages: [] })
})

const MockLive = MockUpstream.layer({ scripts: { primary: { behaviors: [], otherwise: Behave.status(500) } } })
const RouterLive = Layer.unwrap(Effect.map(MockUpstream, (mock) => Router.layerYaml(configFor(mock)))).pipe(
  Layer.provide([ProvidersLive, RouterState.memory])
)

const program = Effect.gen(function*() {
  const assistant = yield* Assistant
  const answer = yield* assistant.ask("Hello", "primary")
  yield* Console.log(`consumer: served by ${answer.servedBy}: ${answer.text.length > 0 ? "text" : "empty"}`)
  yield* assistant.ask("Hello", "no-such-group").pipe(
    Effect.catchTag("UnknownModel", () => Console.log("consumer: handled UnknownModel"))
  )
})

await Effect.runPromise(program.pipe(Effect.provide(Assistant.layer.pipe(Layer.provide(RouterLive), Layer.provide(MockLive)))))
