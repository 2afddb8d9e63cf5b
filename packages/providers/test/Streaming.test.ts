import { assert, describe, it, layer } from "@effect/vitest"
import { type Operation, operations as Op, type Provider, usageFromWire } from "@switchyard/core"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave, type MockBehavior, MockUpstream, referencePrefix } from "@switchyard/testkit/mock"
import { Effect, Stream } from "effect"
import { HttpClient, HttpClientResponse } from "effect/http"
import { makeOpenAi } from "../src/index.ts"
import { collectUntilFailure, makeDeployment, mockDeployment, providerFor, TestLayer } from "./fixtures.ts"

interface Case {
  readonly label: string
  readonly provider: "openai" | "anthropic"
  readonly operation: Operation<string, any, any, any>
  readonly request: Record<string, unknown>
  /** Chunks a stream sends before its first word. */
  readonly opening: number
}

const cases: ReadonlyArray<Case> = [
  { label: "openai chat", provider: "openai", operation: Op.chat, request: { messages: [{ role: "user", content: "hi" }] }, opening: 1 },
  { label: "openai completion", provider: "openai", operation: Op.completion, request: { prompt: "Say hi" }, opening: 0 },
  { label: "openai responses", provider: "openai", operation: Op.responses, request: { input: "hi" }, opening: 4 },
  { label: "anthropic chat", provider: "anthropic", operation: Op.chat, request: { messages: [{ role: "user", content: "hi" }] }, opening: 1 }
]

/** The text a stream's chunks carry, read with the operation's own rule. */
const textOf = (operation: Operation, chunks: ReadonlyArray<unknown>) => {
  const spec = operation.stream
  return spec?.kind === "text" ? chunks.map((c) => spec.text(c)).join("") : ""
}

let n = 0
/** A fresh mock deployment of the case's provider with a script, and the stream of one request to it. */
const scripted = (c: Case, behaviors: ReadonlyArray<MockBehavior>) =>
  Effect.gen(function*() {
    const name = `stream-${n++}`
    ;(yield* MockUpstream).script(name, behaviors)
    const provider: Provider = yield* providerFor(c.provider)
    const d = yield* mockDeployment(name, c.provider)
    return provider.stream(c.operation, d, { model: "group", ...c.request })
  })

layer(TestLayer, { excludeTestServices: true })("SSE streams against the mock upstream", (it) => {
  for (const c of cases) {
    describe(c.label, () => {
      it.effect("decodes the whole stream: every word, then usage", () =>
        Effect.gen(function*() {
          const chunks = yield* Stream.runCollect(yield* scripted(c, []))
          assert.strictEqual(textOf(c.operation, chunks), REFERENCE_TEXT)
          const spec = c.operation.stream as { usage: (chunk: unknown) => unknown }
          const usage = chunks.map(spec.usage).filter((u) => u !== undefined).at(-1)
          assert.strictEqual((usage as { completionTokens: number }).completionTokens, REFERENCE_TEXT.split(" ").length)
        }))

      it.effect("a socket cut after 3 words is MidStream carrying exactly those words", () =>
        Effect.gen(function*() {
          const { chunks, error } = yield* collectUntilFailure(yield* scripted(c, [Behave.cutAfter(3)]))
          assert.strictEqual(error?._tag, "MidStream")
          assert.strictEqual(error?._tag === "MidStream" ? error.received : undefined, referencePrefix(3))
          assert.strictEqual(textOf(c.operation, chunks), referencePrefix(3))
        }))

      it.effect("an SSE error event after 2 words is MidStream with the upstream's message", () =>
        Effect.gen(function*() {
          const { error } = yield* collectUntilFailure(yield* scripted(c, [Behave.sseErrorAfter(2, { message: "backend exploded" })]))
          assert.strictEqual(error?._tag, "MidStream")
          assert.strictEqual(error?._tag === "MidStream" ? error.received : undefined, referencePrefix(2))
          assert.include(error?.message, "backend exploded")
        }))

      it.effect("a stalled stream delivers what was sent as it arrives (nothing is buffered to the end)", () =>
        Effect.gen(function*() {
          const stream = yield* scripted(c, [Behave.stallAfter(2)])
          const chunks = yield* Stream.runCollect(Stream.take(stream, c.opening + 2))
          assert.strictEqual(textOf(c.operation, chunks), referencePrefix(2))
        }))

      it.effect("a failure status before the first chunk is that status's class, not MidStream", () =>
        Effect.gen(function*() {
          const { chunks, error } = yield* collectUntilFailure(yield* scripted(c, [Behave.status(503, { headers: { "retry-after": "1" } })]))
          assert.strictEqual(chunks.length, 0)
          assert.strictEqual(error?._tag, "Overloaded")
          assert.strictEqual(error?.status, 503)
          assert.strictEqual(error?._tag === "Overloaded" ? error.retryAfterMillis : undefined, 1000)
        }))

      it.effect("a cut right after the headers is Connection", () =>
        Effect.gen(function*() {
          const { error } = yield* collectUntilFailure(yield* scripted(c, [Behave.cutAfter(0)]))
          assert.strictEqual(error?._tag, "Connection")
        }))
    })
  }

  it.effect("an error event before any chunk classifies by its type (Anthropic overloaded_error → Overloaded)", () =>
    Effect.gen(function*() {
      const { error } = yield* collectUntilFailure(yield* scripted(cases[3]!, [Behave.sseErrorAfter(0)]))
      assert.strictEqual(error?._tag, "Overloaded")
    }))

  for (const c of cases) {
    it.effect(`${c.label}: a client's 400-class error event after 2 words keeps its class (no MidStream to continue)`, () =>
      Effect.gen(function*() {
        const { chunks, error } = yield* collectUntilFailure(yield* scripted(c, [Behave.sseErrorAfter(2, { type: "invalid_request_error", message: "bad tool schema" })]))
        assert.strictEqual(error?._tag, "BadRequest")
        assert.include(error?.message, "bad tool schema")
        assert.strictEqual(textOf(c.operation, chunks), referencePrefix(2))
      }))
  }

  it.effect("an OpenAI error event before any chunk is ServerError", () =>
    Effect.gen(function*() {
      const { error } = yield* collectUntilFailure(yield* scripted(cases[0]!, [Behave.sseErrorAfter(0)]))
      assert.strictEqual(error?._tag, "ServerError")
    }))

  it.effect("chat streams ask for usage (stream_options.include_usage) and keep the client's other options", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("stream-options", "openai", { model: "gpt-4o" })
      yield* Stream.runDrain(openai.stream(Op.chat, d, {
        model: "g",
        messages: [{ role: "user", content: "hi" }],
        stream_options: { include_obfuscation: false }
      }))
      const body = mock.requests("stream-options")[0]!.body as Record<string, unknown>
      assert.strictEqual(body.stream, true)
      assert.strictEqual(body.model, "gpt-4o")
      assert.deepStrictEqual(body.stream_options, { include_obfuscation: false, include_usage: true })
      assert.strictEqual(mock.requests("stream-options")[0]!.headers.accept, "text/event-stream")
    }))

  for (const c of cases.filter((c) => c.provider === "openai")) {
    it.effect(`${c.label}: a continuation request built by core gets exactly the rest of the reply`, () =>
      Effect.gen(function*() {
        const spec = c.operation.stream as { continueWith: (req: unknown, partial: string, o: unknown) => unknown }
        const partial = referencePrefix(5)
        const request = spec.continueWith({ model: "group", ...c.request }, partial, { prefill: false, instruction: "Continue." })
        const openai = yield* providerFor("openai")
        const d = yield* mockDeployment(`continue-${c.label.replace(/\s/g, "-")}`, "openai")
        const chunks = yield* Stream.runCollect(openai.stream(c.operation, d, request))
        assert.strictEqual(partial + textOf(c.operation, chunks), REFERENCE_TEXT)
      }))
  }
})

/** An HttpClient that answers every request with one fixed SSE body, cleanly closed. */
const fixedSse = (body: string) =>
  HttpClient.make((request) =>
    Effect.succeed(HttpClientResponse.fromWeb(request, new Response(body, { headers: { "content-type": "text/event-stream" } })))
  )

const chatChunk = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`

describe("a stream that closes cleanly before its end marker", () => {
  const deployment = makeDeployment({ id: "fixed", provider: "openai", model: "m", apiBase: "http://127.0.0.1:9/v1" })
  const run = (body: string) =>
    collectUntilFailure(makeOpenAi(fixedSse(body)).stream(Op.chat, deployment, { model: "g", messages: [{ role: "user", content: "x" }] }))

  it.effect("after content, is MidStream: a clean close is not proof of a complete reply", () =>
    Effect.gen(function*() {
      const { error } = yield* run(chatChunk("The ") + chatChunk("quick "))
      assert.strictEqual(error?._tag, "MidStream")
      assert.strictEqual(error?._tag === "MidStream" ? error.received : undefined, "The quick ")
    }))

  it.effect("with a finish reason but no [DONE], is complete", () =>
    Effect.gen(function*() {
      const { chunks, error } = yield* run(chatChunk("Hi.") + chatChunk("", "stop"))
      assert.isUndefined(error)
      assert.strictEqual(chunks.length, 2)
    }))

  it.effect("with nothing at all, is Connection", () =>
    Effect.gen(function*() {
      const { error } = yield* run("")
      assert.strictEqual(error?._tag, "Connection")
    }))

  it.effect("a frame that is not JSON is MalformedResponse", () =>
    Effect.gen(function*() {
      const { error } = yield* run("data: {not json\n\n")
      assert.strictEqual(error?._tag, "MalformedResponse")
    }))

  it.effect("usage is read from the final chunk", () =>
    Effect.gen(function*() {
      const usage = `data: ${JSON.stringify({ id: "c", choices: [], usage: { prompt_tokens: 2, completion_tokens: 1 } })}\n\n`
      const { chunks } = yield* run(chatChunk("Hi.", "stop") + usage + "data: [DONE]\n\n")
      assert.strictEqual(usageFromWire(chunks.at(-1)!.usage)?.totalTokens, 3)
    }))
})
