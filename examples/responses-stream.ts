/**
 * A Responses API stream that breaks half way and is continued by a fallback (story 3 of STORIES.md).
 *
 * The group `writer` (OpenAI wire) cuts its stream after 8 words. The router sends the input plus the
 * partial output to the fallback group `writer-backup` (Azure wire), trims any overlap, and appends
 * what comes back: the caller reads one stream with the whole answer, no word lost and none repeated.
 *
 *   npx tsx examples/responses-stream.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { operations, Router, RouterState } from "@switchyard/core"
import { ProvidersLive } from "@switchyard/providers"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave, type MockServer, MockUpstream } from "@switchyard/testkit/mock"
import { Console, Effect, Layer, Stream } from "effect"

/** `num_retries: 0`: after a break, go to the fallback group at once instead of retrying `writer` first. */
const configFor = (mock: MockServer) => `
model_list:
  - model_name: writer
    litellm_params: { model: openai/gpt-4o, api_base: ${mock.apiBase("writer")}, api_key: sk-example }
  - model_name: writer-backup
    litellm_params: { model: azure/gpt-4o, api_base: ${mock.apiBase("backup", "azure")}, api_key: azure-example }
router_settings:
  num_retries: 0
  fallbacks:
    - writer: [writer-backup]
`

// The mock's `writer` destroys the socket after 8 words of every stream.
const MockLive = MockUpstream.layer({ scripts: { writer: { behaviors: [], otherwise: Behave.cutAfter(8) } } })
const RouterLive = Layer.unwrap(Effect.map(MockUpstream, (mock) => Router.layerYaml(configFor(mock)))).pipe(
  Layer.provide([ProvidersLive, RouterState.memory])
)

const program = Effect.gen(function*() {
  const router = yield* Router
  // `open` streams (no `stream: true` needed) and returns once the first event arrived, naming who serves.
  const reply = yield* router.open(operations.responses, { model: "writer", input: "Tell me a story" })
  yield* Console.log(`stream opened on ${reply.deployment}; the reply as it arrives:\n`)

  let text = ""
  let breaks = 0
  yield* Stream.runForEach(reply.stream, (event) =>
    Effect.sync(() => {
      if (event.type !== "response.output_text.delta") return
      // summary() is live: a new break shows up before the first words of its continuation.
      const summary = reply.summary()
      if (summary.breaks > breaks) {
        breaks = summary.breaks
        process.stdout.write(`[⚡ break; continued by ${summary.deployments.at(-1)}] `)
      }
      process.stdout.write(String(event.delta))
      text += String(event.delta)
    }))

  const { deployments, usage } = reply.summary()
  yield* Console.log(`\n\nserved by ${deployments.join(" then ")} with ${breaks} break(s)`)
  // `attempts` is kept up to date as the stream goes: the attempt that opened it now shows its break.
  yield* Console.log(`attempts: ${reply.attempts.map((a) => `${a.deployment} (${a.error ?? "ok"})`).join(" → ")}`)
  if (usage !== undefined) {
    yield* Console.log(
      `usage of both parts: ${usage.promptTokens} prompt + ${usage.completionTokens} completion` +
        ` = ${usage.totalTokens} tokens` +
        (usage.estimated ? " (estimated: the broken part never reported its own usage)" : "")
    )
  }
  // The mock always answers with the testkit's REFERENCE_TEXT, so the joined deltas can be checked against it.
  yield* Console.log(`the whole answer arrived exactly once: ${text === REFERENCE_TEXT ? "yes" : "NO"}`)
}).pipe(Effect.scoped) // the scope owns the upstream connections of the stream

NodeRuntime.runMain(program.pipe(Effect.provide(RouterLive), Effect.provide(MockLive)))
