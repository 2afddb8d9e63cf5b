/**
 * Text-to-speech failover inside one model group (story 1 of STORIES.md).
 *
 * The group `tts` has an OpenAI deployment and an Azure one. The OpenAI one is down (500). The speech
 * stream is routed like any other call: the failure happens before the first byte, so the router moves
 * to the Azure deployment, and the audio is written to a file piece by piece as it arrives. The failing
 * deployment also cools down, so the next request goes straight to the healthy one.
 *
 *   npx tsx examples/speech-failover.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { operations, Router, RouterState } from "@switchyard/core"
import { ProvidersLive } from "@switchyard/providers"
import { Behave, type MockServer, MockUpstream } from "@switchyard/testkit/mock"
import { Console, Effect, Layer, Stream } from "effect"
import { closeSync, openSync, statSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/**
 * `order` makes the OpenAI deployment the first choice, so the failover is the same on every run (without
 * it, the router picks at random). `allowed_fails: 0` cools a deployment down at its first failure.
 */
const configFor = (mock: MockServer) => `
model_list:
  - model_name: tts
    litellm_params: { model: openai/tts-1, api_base: ${mock.apiBase("tts-openai")}, api_key: sk-example, order: 1 }
    model_info: { id: tts-openai }
  - model_name: tts
    litellm_params:
      model: azure/tts
      api_base: ${mock.apiBase("tts-azure", "azure")}
      api_key: azure-example
      api_version: "2025-03-01-preview"
      order: 2
    model_info: { id: tts-azure }
router_settings:
  allowed_fails: 0
  cooldown_time: 30
`

const MockLive = MockUpstream.layer({ scripts: { "tts-openai": { behaviors: [], otherwise: Behave.status(500) } } })
const RouterLive = Layer.unwrap(Effect.map(MockUpstream, (mock) => Router.layerYaml(configFor(mock)))).pipe(
  Layer.provide([ProvidersLive, RouterState.memory]),
  Layer.provideMerge(MockLive)
)

const request = { model: "tts", input: "Switchyard keeps talking when a server goes down.", voice: "alloy" }

/** Streams one speech request into `path` and reports who served it. */
const speakTo = (path: string) =>
  Effect.gen(function*() {
    const router = yield* Router
    // `open` returns once the first audio bytes arrived: by then the route is known, failover included.
    const speech = yield* router.open(operations.speech, request)
    const tried = speech.attempts.map((a) => `${a.deployment} (${a.error ?? "ok"})`).join(" → ")
    yield* Console.log(`  served by ${speech.deployment}; ${speech.attempts.length} attempt(s): ${tried}`)

    const file = yield* Effect.acquireRelease(
      Effect.sync(() => openSync(path, "w")),
      (fd) => Effect.sync(() => closeSync(fd))
    )
    let pieces = 0
    let contentType = ""
    yield* Stream.runForEach(speech.stream, (chunk) =>
      Effect.sync(() => {
        writeSync(file, chunk.data) // each piece goes to disk as it arrives; nothing is buffered
        pieces++
        contentType = chunk.contentType
      }))
    yield* Console.log(`  wrote ${statSync(path).size} bytes of ${contentType} in ${pieces} pieces to ${path}`)
  }).pipe(Effect.scoped) // the scope owns the upstream connection and the file; both close here

const program = Effect.gen(function*() {
  yield* Console.log("1. speech on `tts` (tts-openai answers 500):")
  yield* speakTo(join(tmpdir(), "switchyard-speech-1.mp3"))

  yield* Console.log("\n2. the same again: tts-openai is cooling down, so it is not even tried:")
  yield* speakTo(join(tmpdir(), "switchyard-speech-2.mp3"))

  const mock = yield* MockUpstream
  yield* Console.log(`\nthe mock saw ${mock.requests("tts-openai").length} request(s) at tts-openai, ` +
    `${mock.requests("tts-azure").length} at tts-azure`)
})

NodeRuntime.runMain(program.pipe(Effect.provide(RouterLive)))
