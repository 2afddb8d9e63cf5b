/**
 * What a continuation looks like from both sides: the request the fallback receives, stall detection,
 * usage, tool calls, byte streams, and story 3 (a Responses API stream that breaks half way).
 */
import { assert, describe, it } from "@effect/vitest"
import { Connection, MidStream, type Operation, operations, type ProviderError } from "@switchyard/core"
import { makeScriptedProvider, Outcome, REFERENCE_TEXT, continuationFor, textChunks, toolCallChunk, toolCallsFinish, words } from "@switchyard/testkit"
import { Effect, Fiber, Stream } from "effect"
import { Tiktoken } from "js-tiktoken/lite"
import cl100k from "js-tiktoken/ranks/cl100k_base"
import { TestClock } from "effect/testing"
import { routerFor, runToEnd, successOf } from "./harness.ts"

const cut = new MidStream({ message: "connection reset", received: "" })
const firstWords = (n: number) => words(REFERENCE_TEXT).slice(0, n).join("")

/** A two-group config whose primary has one deployment, so every continuation lands on the fallback. */
const twoGroups = (primary: string, fallback: string, extra = "") => `
model_list:
  - { model_name: first, litellm_params: { model: ${primary}/p } }
  - { model_name: second, litellm_params: { model: ${fallback}/f } }
router_settings:
  num_retries: 0
  stream_timeout: 5
  fallbacks: [{ first: [second] }]
${extra}`

const collect = (router: Effect.Success<ReturnType<typeof routerFor>>["router"], operation: Operation, request: unknown) =>
  Effect.scoped(Effect.gen(function*() {
    const routed = yield* router.open(operation, request)
    const chunks: ReadonlyArray<any> = yield* Stream.runCollect(routed.stream)
    return { chunks, summary: routed.summary() }
  }))

describe("the continuation request, as the fallback receives it", () => {
  const chat = { model: "first", messages: [{ role: "user", content: "tell me" }], stream: true }

  it.effect("chat: the partial reply as an assistant message, with the instruction for a target without prefill", () =>
    Effect.gen(function*() {
      const p = makeScriptedProvider({ name: "prim" })
      const f = makeScriptedProvider({ name: "fall", supportsPrefill: false })
      p.script("first#1", [Outcome.chunks(textChunks("chat", firstWords(3)).slice(0, 4), cut)])
      f.otherwise("second#1", Outcome.chunks(textChunks("chat", continuationFor(firstWords(3)))))
      const { router } = yield* routerFor(twoGroups("prim", "fall"), [p, f])
      yield* collect(router, operations.chat as Operation, chat)
      const sent = f.received[0]!.request as { messages: Array<{ role: string; content: string }> }
      assert.deepStrictEqual(sent.messages.slice(1).map((m) => m.role), ["assistant", "user"])
      assert.strictEqual(sent.messages[1]!.content, firstWords(3))
      assert.match(sent.messages[2]!.content, /Continue/)
    }))

  it.effect("chat: prefill only, when the target continues a trailing assistant message", () =>
    Effect.gen(function*() {
      const p = makeScriptedProvider({ name: "prim" })
      const f = makeScriptedProvider({ name: "fall", supportsPrefill: true })
      p.script("first#1", [Outcome.chunks(textChunks("chat", firstWords(3)).slice(0, 4), cut)])
      const { router } = yield* routerFor(twoGroups("prim", "fall"), [p, f])
      yield* collect(router, operations.chat as Operation, chat)
      const sent = f.received[0]!.request as { messages: Array<{ role: string; content: string }> }
      assert.deepStrictEqual(sent.messages.map((m) => m.role), ["user", "assistant"])
    }))

  it.effect("chat: continuation_prompt: null turns the instruction off", () =>
    Effect.gen(function*() {
      const p = makeScriptedProvider({ name: "prim" })
      const f = makeScriptedProvider({ name: "fall", supportsPrefill: false })
      p.script("first#1", [Outcome.chunks(textChunks("chat", firstWords(3)).slice(0, 4), cut)])
      const { router } = yield* routerFor(twoGroups("prim", "fall", "  continuation_prompt: null"), [p, f])
      yield* collect(router, operations.chat as Operation, chat)
      const sent = f.received[0]!.request as { messages: Array<{ role: string }> }
      assert.deepStrictEqual(sent.messages.map((m) => m.role), ["user", "assistant"])
    }))

  it.effect("completion: the prompt with the partial text appended", () =>
    Effect.gen(function*() {
      const p = makeScriptedProvider({ name: "prim" })
      const f = makeScriptedProvider({ name: "fall" })
      p.script("first#1", [Outcome.chunks(textChunks("completion", firstWords(4)).slice(0, 4), cut)])
      const { router } = yield* routerFor(twoGroups("prim", "fall"), [p, f])
      yield* collect(router, operations.completion as Operation, { model: "first", prompt: "Story: ", stream: true })
      assert.strictEqual((f.received[0]!.request as { prompt: string }).prompt, "Story: " + firstWords(4))
    }))

  it.effect("responses: the input items plus an assistant item holding the partial text", () =>
    Effect.gen(function*() {
      const p = makeScriptedProvider({ name: "prim" })
      const f = makeScriptedProvider({ name: "fall", supportsPrefill: true })
      p.script("first#1", [Outcome.chunks(textChunks("responses", firstWords(2)).slice(0, 5), cut)])
      const { router } = yield* routerFor(twoGroups("prim", "fall"), [p, f])
      yield* collect(router, operations.responses as Operation, { model: "first", input: "tell me", stream: true })
      assert.deepStrictEqual((f.received[0]!.request as { input: unknown }).input, [
        { role: "user", content: "tell me" },
        { role: "assistant", content: firstWords(2) }
      ])
    }))
})

describe("router_settings.mid_stream_fallback", () => {
  const request = { model: "first", messages: [{ role: "user", content: "tell me" }] }
  const broken = Outcome.chunks(textChunks("chat", firstWords(4)).slice(0, 5), cut)

  it.effect("off: a break fails the stream, typed, without calling the fallback", () =>
    Effect.gen(function*() {
      const p = makeScriptedProvider({ name: "prim" })
      const f = makeScriptedProvider({ name: "fall" })
      p.script("first#1", [broken])
      const { router } = yield* routerFor(twoGroups("prim", "fall", "  mid_stream_fallback: \"off\""), [p, f])
      const exit = yield* Effect.exit(collect(router, operations.chat as Operation, request))
      assert.strictEqual(exit._tag, "Failure")
      assert.strictEqual(f.received.length, 0)
    }))

  it.effect("restart: the fallback gets the original request and the text it repeats is trimmed", () =>
    Effect.gen(function*() {
      const p = makeScriptedProvider({ name: "prim" })
      const f = makeScriptedProvider({ name: "fall" })
      p.script("first#1", [broken])
      f.otherwise("second#1", Outcome.chunks(textChunks("chat", REFERENCE_TEXT)))
      const { router } = yield* routerFor(twoGroups("prim", "fall", "  mid_stream_fallback: restart"), [p, f])
      const { chunks } = yield* collect(router, operations.chat as Operation, request)
      assert.deepStrictEqual(f.received[0]!.request, request)
      assert.strictEqual(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), REFERENCE_TEXT)
    }))
})

describe("stall detection", () => {
  it.effect("a stream silent for stream_timeout is a break, continued at that moment and not before", () =>
    Effect.gen(function*() {
      const p = makeScriptedProvider({ name: "prim" })
      const f = makeScriptedProvider({ name: "fall" })
      p.script("first#1", [Outcome.stall(textChunks("chat", firstWords(3)).slice(0, 4))])
      f.otherwise("second#1", Outcome.chunks(textChunks("chat", continuationFor(firstWords(3)))))
      const { router } = yield* routerFor(twoGroups("prim", "fall"), [p, f])
      const fiber = yield* Effect.forkChild(collect(router, operations.chat as Operation, {
        model: "first",
        messages: [{ role: "user", content: "x" }]
      }))
      yield* TestClock.adjust("4999 millis")
      assert.strictEqual(f.received.length, 0, "no continuation before the idle timeout")
      yield* TestClock.adjust("1 millis")
      const { chunks, summary } = yield* Fiber.join(fiber)
      assert.strictEqual(f.received.length, 1)
      assert.strictEqual(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), REFERENCE_TEXT)
      assert.strictEqual(summary.breaks, 1)
    }))
})

describe("usage", () => {
  it.effect("adds the parts up; a broken part that never reported usage is estimated with a tokenizer", () =>
    Effect.gen(function*() {
      const p = makeScriptedProvider({ name: "prim" })
      const f = makeScriptedProvider({ name: "fall" })
      p.script("first#1", [Outcome.chunks(textChunks("chat", firstWords(5)).slice(0, 6), cut)])
      f.otherwise("second#1", Outcome.chunks(textChunks("chat", continuationFor(firstWords(5)))))
      const { router } = yield* routerFor(twoGroups("prim", "fall"), [p, f])
      const { chunks, summary } = yield* collect(router, operations.chat as Operation, {
        model: "first",
        messages: [{ role: "user", content: "tell me" }],
        stream_options: { include_usage: true }
      })
      const reported = chunks.at(-1)!.usage
      const second = words(continuationFor(firstWords(5))).length
      const partTokens = new Tiktoken(cl100k).encode(firstWords(5)).length
      assert.strictEqual(summary.usage!.estimated, true)
      assert.strictEqual(summary.usage!.completionTokens, partTokens + second)
      assert.strictEqual(reported.completion_tokens, partTokens + second)
      assert.strictEqual(reported.estimated, true)
      assert.isAbove(summary.usage!.promptTokens, 10)
    }))

  it.effect("a client that did not ask for usage gets no usage chunk; the gateway still counts it", () =>
    Effect.gen(function*() {
      const p = makeScriptedProvider({ name: "prim" })
      p.script("first#1", [Outcome.chunks(textChunks("chat", REFERENCE_TEXT))])
      const { router } = yield* routerFor(twoGroups("prim", "prim"), [p])
      const { chunks, summary } = yield* collect(router, operations.chat as Operation, {
        model: "first",
        messages: [{ role: "user", content: "x" }]
      })
      assert.isTrue(chunks.every((c) => c.usage === undefined))
      assert.strictEqual(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), REFERENCE_TEXT)
      assert.isAbove(summary.usage!.totalTokens, 0)
    }))

  it.effect("an unbroken stream reports the upstream's usage unchanged and not estimated", () =>
    Effect.gen(function*() {
      const p = makeScriptedProvider({ name: "prim" })
      p.script("first#1", [Outcome.chunks(textChunks("chat", REFERENCE_TEXT))])
      const { router } = yield* routerFor(twoGroups("prim", "prim"), [p])
      const { chunks, summary } = yield* collect(router, operations.chat as Operation, {
        model: "first",
        messages: [{ role: "user", content: "x" }],
        stream_options: { include_usage: true }
      })
      const expected = (textChunks("chat", REFERENCE_TEXT).at(-1) as { usage: unknown }).usage
      assert.deepStrictEqual(chunks.at(-1)!.usage, expected)
      assert.isUndefined(summary.usage!.estimated)
    }))
})

describe("tool calls", () => {
  const toolChunk = toolCallChunk
  const finish = toolCallsFinish

  it.effect("a break inside a tool call sends none of it; the fallback's complete call arrives once", () =>
    Effect.gen(function*() {
      const p = makeScriptedProvider({ name: "prim" })
      const f = makeScriptedProvider({ name: "fall" })
      const opening = { id: "t", choices: [{ index: 0, delta: { role: "assistant", content: "Let me check. " } }] }
      p.script("first#1", [Outcome.chunks([opening, toolChunk('{"ci', true), toolChunk('ty": "Par')], cut)])
      f.otherwise("second#1", Outcome.chunks([toolChunk('{"city": ', true), toolChunk('"Paris"}'), finish]))
      const { router } = yield* routerFor(twoGroups("prim", "fall"), [p, f])
      const { chunks } = yield* collect(router, operations.chat as Operation, {
        model: "first",
        messages: [{ role: "user", content: "weather in Paris?" }]
      })
      const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
      assert.strictEqual(calls.filter((t: { id?: string }) => t.id !== undefined).length, 1, "one call, started once")
      assert.strictEqual(calls.map((t: { function: { arguments: string } }) => t.function.arguments).join(""), '{"city": "Paris"}')
      assert.strictEqual(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), "Let me check. ")
    }))
})

describe("speech, a byte stream", () => {
  const speech = { model: "first", input: "hello", voice: "alloy" }
  const bytes = (s: string) => ({ contentType: "audio/mpeg", data: new TextEncoder().encode(s) })

  it.effect("falls back before the first byte", () =>
    Effect.gen(function*() {
      const p = makeScriptedProvider({ name: "prim" })
      const f = makeScriptedProvider({ name: "fall" })
      p.script("first#1", [Outcome.fail(new Connection({ message: "refused" }))])
      f.otherwise("second#1", Outcome.chunks([bytes("ab"), bytes("cd")]))
      const { router } = yield* routerFor(twoGroups("prim", "fall"), [p, f])
      const { chunks } = yield* collect(router, operations.speech as Operation, speech)
      assert.strictEqual(chunks.map((c) => new TextDecoder().decode(c.data)).join(""), "abcd")
    }))

  it.effect("fails with a typed MidStream error after the first byte, without calling anyone else", () =>
    Effect.gen(function*() {
      const p = makeScriptedProvider({ name: "prim" })
      const f = makeScriptedProvider({ name: "fall" })
      p.script("first#1", [Outcome.chunks([bytes("ab")], cut)])
      const { router } = yield* routerFor(twoGroups("prim", "fall"), [p, f])
      const exit = yield* Effect.exit(collect(router, operations.speech as Operation, speech))
      assert.strictEqual(exit._tag, "Failure")
      const error = exit._tag === "Failure" ? (exit.cause.reasons[0] as { error: any }).error : undefined
      assert.strictEqual(error._tag, "AllAttemptsFailed")
      assert.strictEqual(error.lastError._tag, "MidStream")
      assert.strictEqual(f.received.length, 0)
    }))
})

describe("story 3: a Responses API stream breaks, and the cross-provider fallback runs", () => {
  const story = `
model_list:
  - model_name: anthropic/claude-sonnet-4-6
    litellm_params: { model: anthropic/claude-sonnet-4-6, api_key: sk-a }
  - model_name: vertex_ai/claude-sonnet-4-6
    litellm_params: { model: vertex_ai/claude-sonnet-4-6, api_key: sk-v }
router_settings:
  fallbacks:
    - anthropic/claude-sonnet-4-6: [vertex_ai/claude-sonnet-4-6]
`
  const request = { model: "anthropic/claude-sonnet-4-6", input: "hi", stream: true }
  const setup = (primary: Outcome) =>
    Effect.gen(function*() {
      const anthropic = makeScriptedProvider({ name: "anthropic" })
      const vertex = makeScriptedProvider({ name: "vertex_ai" })
      anthropic.otherwise("anthropic/claude-sonnet-4-6#1", primary)
      vertex.otherwise("vertex_ai/claude-sonnet-4-6#1", Outcome.chunks(textChunks("responses", "<fallback output>")))
      const { router } = yield* routerFor(story, [anthropic, vertex])
      const result = yield* runToEnd(collect(router, operations.responses as Operation, request))
      return { ...successOf(result), vertex }
    })
  const assembled = (chunks: ReadonlyArray<any>) =>
    chunks.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join("")

  it.effect("a break before the first chunk: the fallback gets the original input", () =>
    Effect.gen(function*() {
      const { chunks, vertex } = yield* setup(Outcome.fail(new Connection({ message: "socket timed out" }) as ProviderError))
      assert.strictEqual(assembled(chunks), "<fallback output>")
      assert.strictEqual((vertex.received[0]!.request as { input: unknown }).input, "hi")
    }))

  it.effect("a break after partial content: one stream with the whole answer once, usage added up", () =>
    Effect.gen(function*() {
      const partial = textChunks("responses", "from-primary ", { usage: false }).slice(0, 4)
      const { chunks, summary, vertex } = yield* setup(Outcome.chunks(partial, cut))
      assert.strictEqual(assembled(chunks), "from-primary <fallback output>")
      assert.deepStrictEqual((vertex.received[0]!.request as { input: unknown }).input, [
        { role: "user", content: "hi" },
        { role: "assistant", content: "from-primary " }
      ])
      const types = chunks.map((e) => e.type)
      assert.strictEqual(types.filter((t) => t === "response.created").length, 1, "one response, not two")
      const completed = chunks.find((e) => e.type === "response.completed")
      assert.strictEqual(completed.response.output[0].content[0].text, "from-primary <fallback output>")
      assert.strictEqual(completed.response.usage.output_tokens, summary.usage!.completionTokens)
      assert.isAbove(summary.usage!.completionTokens, words("<fallback output>").length)
      // The primary keeps breaking: its retry budget (num_retries, default 2) is spent on continuations
      // there before the fallback group takes over.
      assert.deepStrictEqual(summary.deployments, [
        "anthropic/claude-sonnet-4-6#1",
        "anthropic/claude-sonnet-4-6#1",
        "anthropic/claude-sonnet-4-6#1",
        "vertex_ai/claude-sonnet-4-6#1"
      ])
      assert.strictEqual(summary.breaks, 3)
    }))
})
