/**
 * Streams that survive: whatever the break position, the fault and the number of breaks, the client
 * assembles the reference text exactly once.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  MalformedResponse,
  MidStream,
  type Operation,
  operations,
  type StreamSummary,
  type TextStreamSpec
} from "@switchyard/core"
import {
  makeScriptedProvider,
  openingChunks,
  Outcome,
  partialOf,
  REFERENCE_TEXT,
  continuationFor,
  textChunks,
  words
} from "@switchyard/testkit"
import { Effect, Schema, Stream } from "effect"
import { routerFor, runToEnd, successOf } from "./harness.ts"

const config = `
model_list:
  - { model_name: main, litellm_params: { model: scripted/a } }
  - { model_name: main, litellm_params: { model: scripted/b } }
  - { model_name: backup, litellm_params: { model: scripted/c } }
  - { model_name: backup, litellm_params: { model: scripted/d } }
router_settings:
  num_retries: 3
  stream_timeout: 5
  fallbacks: [{ main: [backup] }]
`

type TextOperation = "chat" | "completion" | "responses"
type Fault = { readonly k: number; readonly kind: "error" | "malformed" | "stall" }

/** The n-th upstream call breaks as `faults[n]` says; later calls stream the rest of the reference. */
const breakingProvider = (operation: TextOperation, faults: ReadonlyArray<Fault>) => {
  const provider = Object.assign(makeScriptedProvider(), { cutAfterContent: 0 })
  let calls = 0
  const respond = Outcome.dynamic((request) => {
    const fault = faults[calls++]
    const chunks = textChunks(operation, continuationFor(partialOf(operation, request)))
    if (fault === undefined) return Outcome.chunks(chunks)
    const cut = chunks.slice(0, Math.min(openingChunks[operation] + fault.k, chunks.length - 2))
    if (cut.length > 0) provider.cutAfterContent++
    switch (fault.kind) {
      case "error":
        return Outcome.chunks(cut, new MidStream({ message: "connection reset", received: "" }))
      case "malformed":
        return Outcome.chunks(cut, new MalformedResponse({ message: "bad chunk" }))
      case "stall":
        return Outcome.stall(cut)
    }
  })
  for (const id of ["main#1", "main#2", "backup#1", "backup#2"]) provider.otherwise(id, respond)
  return provider
}

const textOf = (operation: TextOperation, chunks: ReadonlyArray<unknown>) => {
  const spec = operations[operation].stream as TextStreamSpec<unknown, unknown>
  return chunks.map((c) => spec.text(c)).join("")
}

/** Streams a request to its end under the TestClock; returns the chunks and the summary. */
const streamAll = (router: Effect.Success<ReturnType<typeof routerFor>>["router"], operation: TextOperation, request: unknown) =>
  runToEnd(Effect.scoped(Effect.gen(function*() {
    const routed = yield* router.open(operations[operation] as Operation, request)
    const chunks = yield* Stream.runCollect(routed.stream)
    return { chunks: chunks as ReadonlyArray<unknown>, summary: routed.summary() as StreamSummary }
  })))

const requestFor = (operation: TextOperation): unknown =>
  operation === "chat"
    ? { model: "main", messages: [{ role: "user", content: "tell me" }], stream: true }
    : operation === "completion"
    ? { model: "main", prompt: "Once: ", stream: true }
    : { model: "main", input: "tell me", stream: true }

describe("mid-stream continuation", () => {
  it.effect.prop(
    "the client assembles the reference text exactly, for any break position, fault and number of breaks",
    {
      operation: Schema.Literals(["chat", "completion", "responses"]),
      faults: Schema.Array(Schema.Struct({
        k: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: words(REFERENCE_TEXT).length })),
        kind: Schema.Literals(["error", "malformed", "stall"])
      })).check(Schema.isMinLength(1), Schema.isMaxLength(3))
    },
    ({ faults, operation }) =>
      Effect.gen(function*() {
        const provider = breakingProvider(operation, faults)
        const { router } = yield* routerFor(config, [provider])
        const { chunks, summary } = successOf(yield* streamAll(router, operation, requestFor(operation)))
        assert.strictEqual(textOf(operation, chunks), REFERENCE_TEXT)
        // A fault before the first chunk is an ordinary retry; after it, a break that was survived.
        const breaks = provider.cutAfterContent
        assert.strictEqual(summary.breaks, breaks)
        assert.strictEqual(summary.deployments.length, breaks + 1)
        assert.strictEqual(provider.received.length, faults.length + 1)
      }),
    { arbitrary: { runs: 150 }, timeout: 30_000 }
  )

  it.effect("when every deployment breaks, the stream fails typed instead of ending as if complete", () =>
    Effect.gen(function*() {
      const faults = Array.from({ length: 20 }, () => ({ k: 2, kind: "error" as const }))
      const { router } = yield* routerFor(config, [breakingProvider("chat", faults)])
      const exit = yield* streamAll(router, "chat", requestFor("chat"))
      assert.strictEqual(exit._tag, "Failure")
      const error = exit._tag === "Failure" ? exit.cause.reasons[0] : undefined
      assert.strictEqual((error as { error?: { _tag: string } })?.error?._tag, "AllAttemptsFailed")
    }))
})
