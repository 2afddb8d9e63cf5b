/**
 * Embeddings with weighted routing, and a cooldown you can watch happen.
 *
 * The group `embed` has two deployments with `weight: 3` and `weight: 1`: about three calls in four go
 * to the first. Then embed-big starts failing. Each failure is retried on embed-small at once, so no
 * call fails; at its second failure (allowed_fails: 1) embed-big cools down for one second and is not
 * tried at all. It is fixed meanwhile, and takes its share again when the cooldown ends.
 *
 *   npx tsx examples/embeddings-cooldown.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Router, RouterState } from "@switchyard/core"
import { ProvidersLive } from "@switchyard/providers"
import { Behave, type MockServer, MockUpstream } from "@switchyard/testkit/mock"
import { Clock, Console, Effect, Layer } from "effect"

const configFor = (mock: MockServer) => `
model_list:
  - model_name: embed
    litellm_params: { model: openai/text-embedding-3-small, api_base: ${mock.apiBase("big")}, weight: 3 }
    model_info: { id: embed-big }
  - model_name: embed
    litellm_params: { model: openai/text-embedding-3-small, api_base: ${mock.apiBase("small")}, weight: 1 }
    model_info: { id: embed-small }
router_settings:
  allowed_fails: 1      # failures a deployment may have in a minute; the next one cools it down
  cooldown_time: 1      # seconds
`

// RouterState is kept in the context (provideMerge) so the example can ask it about cooldowns.
const RouterLive = Layer.unwrap(Effect.map(MockUpstream, (mock) => Router.layerYaml(configFor(mock)))).pipe(
  Layer.provide(ProvidersLive),
  Layer.provideMerge(RouterState.memory),
  Layer.provideMerge(MockUpstream.layer())
)

const program = Effect.gen(function*() {
  const router = yield* Router
  const state = yield* RouterState
  const mock = yield* MockUpstream
  const embed = (input: string) => router.embedding({ model: "embed", input })

  yield* Console.log("1. 40 calls, weights 3 : 1")
  const served: Record<string, number> = {}
  for (let i = 0; i < 40; i++) {
    const reply = yield* embed(`text ${i}`)
    served[reply.deployment] = (served[reply.deployment] ?? 0) + 1
  }
  for (const { id, weight } of router.deployments) {
    const n = served[id] ?? 0
    yield* Console.log(`  ${id} (weight ${weight}): ${n} calls (${Math.round((n / 40) * 100)}%)`)
  }

  yield* Console.log("\n2. embed-big starts answering 500; a call every 50 ms")
  mock.otherwise("big", Behave.status(500))
  const start = yield* Clock.currentTimeMillis
  const at = Effect.map(Clock.currentTimeMillis, (now) => `  t=${((now - start) / 1000).toFixed(2)}s`)
  let cooling = false
  let skipped = 0
  let servedAgain = 0
  // Until embed-big has served twice after its cooldown (at most 100 calls, about 5 s).
  for (let call = 0; servedAgain < 2 && call < 100; call++) {
    const reply = yield* embed("hello")
    const failure = reply.attempts.find((a) => a.error !== undefined)
    if (failure) {
      yield* Console.log(`${yield* at} ${failure.deployment} failed (${failure.error}); served by ${reply.deployment}`)
    } else if (cooling) {
      skipped++
    } else if (reply.deployment === "embed-big") {
      servedAgain++
      yield* Console.log(`${yield* at} served by embed-big again`)
    }

    const [big] = yield* state.stats(["embed-big"])
    if (!cooling && big!.cooldownUntil > 0) {
      cooling = true
      const left = big!.cooldownUntil - (yield* Clock.currentTimeMillis)
      yield* Console.log(`${yield* at} embed-big cools down for ${left} ms; meanwhile it is fixed`)
      mock.otherwise("big", Behave.ok())
    } else if (cooling && big!.cooldownUntil === 0) {
      cooling = false
      yield* Console.log(`  (${skipped} calls during the cooldown, all served by embed-small without trying embed-big)`)
      yield* Console.log(`${yield* at} embed-big's cooldown is over: it is back in the rotation`)
    }
    yield* Effect.sleep("50 millis")
  }
})

NodeRuntime.runMain(program.pipe(Effect.provide(RouterLive)))
