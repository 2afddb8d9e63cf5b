/**
 * What a stream leaves behind and what ends it: its tokens reach the deployments' tpm like a call's, and
 * an error inside an open stream is classified as it would be at the start (a break is continued, the
 * reply's own 400-class answer reaches the client).
 */
import { assert, describe, it } from "@effect/vitest"
import { breaksStream, type Operation, operations, type ProviderErrorTag } from "@switchyard/core"
import { continuationFor, makeScriptedProvider, Outcome, REFERENCE_TEXT, textChunks, words } from "@switchyard/testkit"
import { Effect, Stream } from "effect"
import { failureOf, failureOfExit, routerFor, runToEnd, successOf } from "./harness.ts"

const config = `
model_list:
  - { model_name: first, litellm_params: { model: prim/p } }
  - { model_name: second, litellm_params: { model: fall/f } }
router_settings:
  num_retries: 0
  stream_timeout: 5
  fallbacks: [{ first: [second] }]
`
const request = { model: "first", messages: [{ role: "user", content: "tell me" }], stream: true }
const firstWords = (n: number) => words(REFERENCE_TEXT).slice(0, n).join("")

const setup = Effect.gen(function*() {
  const p = makeScriptedProvider({ name: "prim" })
  const f = makeScriptedProvider({ name: "fall" })
  const { router, state } = yield* routerFor(config, [p, f])
  const collect = runToEnd(Effect.scoped(Effect.gen(function*() {
    const routed = yield* router.open(operations.chat as Operation, request)
    const chunks: ReadonlyArray<any> = yield* Stream.runCollect(routed.stream)
    return { chunks, summary: routed.summary() }
  })))
  const tpm = (id: string) => Effect.map(state.stats([id]), ([s]) => s!.tpm)
  const inFlight = (id: string) => Effect.map(state.stats([id]), ([s]) => s!.inFlight)
  return { p, f, collect, tpm, inFlight }
})

describe("a stream's tokens reach the deployment's tpm", () => {
  it.effect("an unbroken stream counts the usage its upstream reported", () =>
    Effect.gen(function*() {
      const { collect, inFlight, p, tpm } = yield* setup
      p.script("first#1", [Outcome.chunks(textChunks("chat", REFERENCE_TEXT))])
      const { summary } = successOf(yield* collect)
      assert.strictEqual(yield* tpm("first#1"), summary.usage!.totalTokens)
      assert.strictEqual(yield* tpm("first#1"), 10 + words(REFERENCE_TEXT).length)
      assert.strictEqual(yield* inFlight("first#1"), 0)
    }))

  it.effect("a continued stream counts each part on the deployment that sent it", () =>
    Effect.gen(function*() {
      const { collect, f, inFlight, p, tpm } = yield* setup
      p.script("first#1", [Outcome.chunks(textChunks("chat", firstWords(5)).slice(0, 6), failureOf("ServerError"))])
      f.otherwise("second#1", Outcome.chunks(textChunks("chat", continuationFor(firstWords(5)))))
      const { summary } = successOf(yield* collect)
      const broken = yield* tpm("first#1")
      const fallback = yield* tpm("second#1")
      assert.isAbove(broken, 0, "the broken part is estimated and counted")
      assert.strictEqual(fallback, 10 + words(continuationFor(firstWords(5))).length)
      assert.strictEqual(broken + fallback, summary.usage!.totalTokens)
      assert.strictEqual((yield* inFlight("first#1")) + (yield* inFlight("second#1")), 0)
    }))
})

describe("an error inside an open stream, by class", () => {
  const tags: ReadonlyArray<ProviderErrorTag> = [
    "RateLimited",
    "Timeout",
    "Connection",
    "ServerError",
    "Overloaded",
    "MalformedResponse",
    "MidStream",
    "BadRequest",
    "Authentication",
    "NotFound",
    "ContextWindowExceeded",
    "ContentPolicy",
    "UnsupportedOperation"
  ]
  const continued = new Set<ProviderErrorTag>([
    "RateLimited",
    "Timeout",
    "Connection",
    "ServerError",
    "Overloaded",
    "MalformedResponse",
    "MidStream"
  ])

  for (const tag of tags) {
    const breaks = continued.has(tag)
    it.effect(`${tag}: ${breaks ? "a break, continued on the fallback" : "the client's answer: no continuation, no fallback"}`, () =>
      Effect.gen(function*() {
        const { collect, f, p } = yield* setup
        assert.strictEqual(breaksStream(failureOf(tag)), breaks)
        p.script("first#1", [Outcome.chunks(textChunks("chat", firstWords(3)).slice(0, 4), failureOf(tag))])
        f.otherwise("second#1", Outcome.chunks(textChunks("chat", continuationFor(firstWords(3)))))
        const exit = yield* collect
        if (breaks) {
          const { chunks } = successOf(exit)
          assert.strictEqual(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), REFERENCE_TEXT)
          assert.strictEqual(f.received.length, 1)
        } else {
          const error = failureOfExit(exit)
          assert.strictEqual(error._tag, "AllAttemptsFailed")
          assert.strictEqual(error._tag === "AllAttemptsFailed" ? error.lastError._tag : undefined, tag)
          assert.strictEqual(f.received.length, 0)
        }
      }))
  }
})
