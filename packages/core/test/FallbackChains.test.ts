/**
 * Fallback chains, as tables: which groups a failure leads to (depth first, each group once, at most
 * `max_fallbacks` deep, as LiteLLM means it), how a class-specific failure falls through to the generic
 * lists, and what the client is told when a fallback group cannot do the operation.
 */
import { assert, describe, it } from "@effect/vitest"
import { AllAttemptsFailed, type FallbackList, makePolicy, type ProviderErrorTag, type RouterSettings } from "@switchyard/core"
import { makeScriptedProvider, Outcome } from "@switchyard/testkit"
import { Effect } from "effect"
import { callsInSequence, failureOf, failureOfExit, operationCall, routerFor, successOf } from "./harness.ts"

type Fallbacks = Record<string, ReadonlyArray<string>>
const entries = (map: Fallbacks) => Object.entries(map).map(([k, v]) => ({ [k]: v }))

interface ChainCase {
  readonly name: string
  readonly fallbacks: Fallbacks
  readonly settings?: RouterSettings
  readonly list?: FallbackList
  readonly first?: ReadonlyArray<string>
  readonly chain: ReadonlyArray<string>
}

const chains: ReadonlyArray<ChainCase> = [
  { name: "a fallback's own fallbacks are followed", fallbacks: { a: ["b"], b: ["c"] }, chain: ["b", "c"] },
  { name: "depth first, as LiteLLM recurses", fallbacks: { a: ["b", "c"], b: ["d"], c: ["e"] }, chain: ["b", "d", "c", "e"] },
  { name: "a cycle back to the primary ends there", fallbacks: { a: ["b"], b: ["a"] }, chain: ["b"] },
  { name: "a cycle among fallbacks visits each once", fallbacks: { a: ["b"], b: ["c", "a"], c: ["b", "d"] }, chain: ["b", "c", "d"] },
  { name: "a group listed twice is tried once", fallbacks: { a: ["b", "b", "c"], c: ["b"] }, chain: ["b", "c"] },
  {
    name: "max_fallbacks is the depth: 2 stops the chain after two levels",
    fallbacks: { a: ["b"], b: ["c"], c: ["d"] },
    settings: { max_fallbacks: 2 },
    chain: ["b", "c"]
  },
  { name: "max_fallbacks: 0 turns fallbacks off", fallbacks: { a: ["b"] }, settings: { max_fallbacks: 0 }, chain: [] },
  {
    name: "max_fallbacks never cuts the first list",
    fallbacks: { a: ["b", "c", "d", "e", "f", "g", "h"] },
    settings: { max_fallbacks: 1 },
    chain: ["b", "c", "d", "e", "f", "g", "h"]
  },
  {
    name: "by default the chain goes 5 deep",
    fallbacks: { a: ["b"], b: ["c"], c: ["d"], d: ["e"], e: ["f"], f: ["g"] },
    chain: ["b", "c", "d", "e", "f"]
  },
  {
    name: "a group met deep first keeps the depth it has nearer the top",
    fallbacks: { a: ["b", "c"], b: ["c"], c: ["e"] },
    settings: { max_fallbacks: 2 },
    chain: ["b", "c", "e"]
  },
  {
    name: "default_fallbacks serve every group without a list of its own",
    fallbacks: { a: ["b"] },
    settings: { default_fallbacks: ["z"] },
    chain: ["b", "z"]
  },
  {
    name: "a request's fallbacks replace the primary's list, not its fallbacks' lists",
    fallbacks: { a: ["b"], c: ["d"] },
    first: ["c"],
    chain: ["c", "d"]
  },
  {
    name: "context window, no class list: the generic fallbacks",
    fallbacks: { a: ["b"] },
    list: "context_window",
    chain: ["b"]
  },
  {
    name: "context window, no class list and no generic one: default_fallbacks",
    fallbacks: {},
    settings: { default_fallbacks: ["z"] },
    list: "context_window",
    chain: ["z"]
  },
  {
    name: "content policy with a class list: only that list (and its chain)",
    fallbacks: { a: ["b"] },
    settings: { content_policy_fallbacks: [{ a: ["safe"] }, { safe: ["safer"] }] },
    list: "content_policy",
    chain: ["safe", "safer"]
  },
  { name: "a client's bad request goes nowhere", fallbacks: { a: ["b"] }, list: "none", chain: [] }
]

describe("fallback chains", () => {
  for (const c of chains) {
    it(c.name, () => {
      const policy = makePolicy({ fallbacks: entries(c.fallbacks), ...c.settings })
      assert.deepStrictEqual(policy.fallbackChain("a", c.list ?? "general", c.first), c.chain)
    })
  }
})

/** Groups a, b, c (one scripted deployment each), a → b → c, and one request to a. */
const chainOf = (settings: Record<string, unknown>) =>
  Effect.gen(function*() {
    const provider = makeScriptedProvider()
    const yaml = JSON.stringify({
      model_list: ["a", "b", "c"].map((g) => ({ model_name: g, litellm_params: { model: `scripted/${g}` } })),
      router_settings: { num_retries: 0, ...settings }
    })
    const { router } = yield* routerFor(yaml, [provider])
    return { provider, router }
  })

describe("through the router", () => {
  it.effect("a → b → c: the third group serves when the first two fail", () =>
    Effect.gen(function*() {
      const { provider, router } = yield* chainOf({ fallbacks: [{ a: ["b"] }, { b: ["c"] }] })
      provider.otherwise("a#1", Outcome.fail(failureOf("ServerError")))
      provider.otherwise("b#1", Outcome.fail(failureOf("Overloaded")))
      const [exit] = yield* callsInSequence(1, () => operationCall(router, "chat", "a"))
      const routed = successOf(exit!)
      assert.deepInclude(routed, { group: "c", fallbacks: 2 })
      assert.deepStrictEqual(routed.attempts.map((x) => x.deployment), ["a#1", "b#1", "c#1"])
    }))

  const fallThrough: ReadonlyArray<[ProviderErrorTag, Record<string, unknown>, string]> = [
    ["ContextWindowExceeded", { fallbacks: [{ a: ["b"] }] }, "b"],
    ["ContentPolicy", { fallbacks: [{ a: ["b"] }] }, "b"],
    ["ContextWindowExceeded", { default_fallbacks: ["c"] }, "c"],
    ["ContextWindowExceeded", { fallbacks: [{ a: ["b"] }], context_window_fallbacks: [{ a: ["c"] }] }, "c"]
  ]
  for (const [tag, settings, served] of fallThrough) {
    it.effect(`${tag} with ${JSON.stringify(settings)} is served by ${served}`, () =>
      Effect.gen(function*() {
        const { provider, router } = yield* chainOf(settings)
        provider.otherwise("a#1", Outcome.fail(failureOf(tag)))
        const [exit] = yield* callsInSequence(1, () => operationCall(router, "chat", "a"))
        assert.strictEqual(successOf(exit!).group, served)
      }))
  }

  it.effect("a fallback group that cannot do the operation: the client sees the upstream's failure", () =>
    Effect.gen(function*() {
      const speech = makeScriptedProvider({ name: "voice", operations: ["speech"] })
      const chat = makeScriptedProvider({ name: "text", operations: ["chat"] })
      const yaml = JSON.stringify({
        model_list: [
          { model_name: "tts", litellm_params: { model: "voice/tts" } },
          { model_name: "llm", litellm_params: { model: "text/llm" } }
        ],
        router_settings: { num_retries: 0, fallbacks: [{ tts: ["llm"] }] }
      })
      const { router } = yield* routerFor(yaml, [speech, chat])
      speech.otherwise("tts#1", Outcome.fail(failureOf("ServerError")))
      const [exit] = yield* callsInSequence(1, () => operationCall(router, "speech", "tts"))
      const failure = failureOfExit(exit!)
      assert.instanceOf(failure, AllAttemptsFailed)
      assert.strictEqual(failure.lastError._tag, "ServerError")
      assert.strictEqual(chat.received.length, 0)
    }))
})
