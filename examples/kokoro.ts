/**
 * Speech fallbacks between model groups (story 2 of STORIES.md), from a YAML file.
 *
 * examples/kokoro.yaml is the reporter's config: `kokoro` is a placeholder that answers
 * 400 "could not find real modelID for kokoro", with fallbacks to server1/kokoro and server2/kokoro.
 * Switchyard reads that 400 as NotFound (the model is missing at that deployment, not the client's
 * fault), so the request moves on to the fallbacks, for speech exactly as for chat.
 *
 *   npx tsx examples/kokoro.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { parseConfig, Router, RouterState } from "@switchyard/core"
import { ProvidersLive } from "@switchyard/providers"
import { Behave, MockUpstream } from "@switchyard/testkit/mock"
import { Console, Effect, Layer } from "effect"
import { readFileSync } from "node:fs"

const yamlText = readFileSync(new URL("kokoro.yaml", import.meta.url), "utf8")

// The placeholder answers like the reporter's did; the two servers answer normally for now.
const MockLive = MockUpstream.layer({
  scripts: { "kokoro-placeholder": { behaviors: [], otherwise: Behave.modelIdNotFound("kokoro") } }
})

// Fill in the mock's URL, then decode. A bad field fails here, with its path, before any request.
const RouterLive = Layer.unwrap(Effect.gen(function*() {
  const mock = yield* MockUpstream
  const loaded = yield* parseConfig(yamlText.replaceAll("${MOCK}", mock.url))
  return Router.layer(loaded)
})).pipe(Layer.provide([ProvidersLive, RouterState.memory]), Layer.provideMerge(MockLive))

const speech = { model: "kokoro", input: "Hello from Kokoro.", voice: "af_heart" }

/** One speech call; prints every attempt and who served. */
const speak = Effect.gen(function*() {
  const router = yield* Router
  const reply = yield* router.speech(speech)
  const tried = reply.attempts.map((a) => `${a.deployment} (${a.error ?? "ok"})`).join(" → ")
  yield* Console.log(`  ${reply.attempts.length} attempts: ${tried}`)
  const audio = reply.response // a plain call collects the whole audio body; see speech-failover.ts to stream it
  yield* Console.log(`  served by ${reply.deployment} after ${reply.fallbacks} fallback(s)`)
  yield* Console.log(`  ${audio.data.length} bytes of ${audio.contentType}`)
})

const program = Effect.gen(function*() {
  const router = yield* Router
  const mock = yield* MockUpstream

  yield* Console.log("1. what the reporter saw, here with fallbacks switched off for this one request:")
  yield* router.speech({ ...speech, disable_fallbacks: true }).pipe(
    Effect.catchTag("AllAttemptsFailed", (e) => Console.log(`  failed: ${e.lastError._tag}: ${e.lastError.message}`))
  )

  yield* Console.log("\n2. with the configured fallbacks:")
  yield* speak

  yield* Console.log("\n3. server1 is overloaded too (503): it is retried, then server2/kokoro takes over:")
  mock.otherwise("kokoro-server1", Behave.status(503))
  yield* speak
})

NodeRuntime.runMain(program.pipe(Effect.provide(RouterLive)))
