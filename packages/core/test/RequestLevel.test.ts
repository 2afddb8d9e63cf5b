/**
 * Request-level routing controls (RequestControls) and the deployment filters (DeploymentFilter): what a
 * request asks of the router is read once and never forwarded upstream.
 */
import { assert, describe, it } from "@effect/vitest"
import { byContextWindow, byTags, contentFiltered, type Deployment, knownWindow, readControls, upstreamRequest } from "@switchyard/core"
import { deploymentOf } from "@switchyard/testkit"
import { Effect, Exit } from "effect"

describe("request controls", () => {
  it("reads both fallback forms, timeouts in seconds, retries and tags from both places", () => {
    const list = readControls({ model: "a", fallbacks: ["b", "c"], timeout: 1.5, stream_timeout: 2, num_retries: 0 }, "a")
    assert.deepInclude(list, { fallbacks: ["b", "c"], timeoutMillis: 1500, streamTimeoutMillis: 2000, numRetries: 0 })
    const map = readControls({ model: "a", fallbacks: [{ x: ["y"] }, { a: ["b"] }] }, "a")
    assert.deepStrictEqual(typeof map === "string" ? map : map.fallbacks, ["b"])
    const star = readControls({ model: "z", fallbacks: [{ "*": ["w"] }] }, "z")
    assert.deepStrictEqual(typeof star === "string" ? star : star.fallbacks, ["w"])
    const tags = readControls({ model: "a", tags: ["paid"], metadata: { tags: ["team-a"], user: "u" } }, "a")
    assert.deepStrictEqual(typeof tags === "string" ? tags : tags.tags, ["paid", "team-a"])
    // A Responses API metadata value is a string: it is the operation's own, not routing tags.
    const own = readControls({ model: "a", metadata: { tags: "a,b" } }, "a")
    assert.deepStrictEqual(typeof own === "string" ? own : own.tags, [])
    assert.deepStrictEqual(upstreamRequest({ model: "a", metadata: { tags: "a,b" } }), { model: "a", metadata: { tags: "a,b" } })
  })

  it("reads null as not set", () => {
    const nulls = readControls({ model: "a", fallbacks: null, timeout: null, tags: null }, "a")
    assert.deepInclude(nulls, { fallbacks: undefined, timeoutMillis: undefined, tags: [] })
  })

  it("names what is invalid", () => {
    assert.match(String(readControls({ model: "a", timeout: "soon" }, "a")), /timeout/)
    assert.match(String(readControls({ model: "a", fallbacks: [{ model: "b", messages: [] }] }, "a")), /fallbacks/)
  })

  it("strips every control field, and only the tags of metadata", () => {
    assert.deepStrictEqual(
      upstreamRequest({ model: "a", messages: [], fallbacks: ["b"], timeout: 3, num_retries: 1, tags: ["x"], metadata: { tags: ["y"], user: "u" } }),
      { model: "a", messages: [], metadata: { user: "u" } }
    )
    assert.deepStrictEqual(upstreamRequest({ model: "a", metadata: { tags: ["y"] } }), { model: "a" })
    const plain = { model: "a", messages: [] }
    assert.strictEqual(upstreamRequest(plain), plain, "a request without controls is passed as it is")
  })
})

const deployment = (id: string, tags: ReadonlyArray<string>, info: Deployment["info"] = {}, model = "gpt-4"): Deployment =>
  deploymentOf({ id, group: "g", provider: "openai", model, tags, info })

describe("tag routing", () => {
  const members = [deployment("free", ["free"]), deployment("paid", ["paid"]), deployment("fallback", ["default"])]
  const ids = (r: ReturnType<typeof byTags>) => (Array.isArray(r) ? r.map((d) => d.id) : r)
  it("a request tag picks the deployments that carry it; else the default ones; untagged requests get the default", () => {
    assert.deepStrictEqual(ids(byTags(members, { group: "g", request: {}, tags: ["paid", "other"] })), ["paid"])
    assert.deepStrictEqual(ids(byTags(members, { group: "g", request: {}, tags: ["unknown"] })), ["fallback"])
    assert.deepStrictEqual(ids(byTags(members, { group: "g", request: {}, tags: [] })), ["fallback"])
    assert.deepStrictEqual(ids(byTags(members.slice(0, 2), { group: "g", request: {}, tags: [] })), ["free", "paid"])
  })
  it("a tag no deployment carries, without a default, is the client's error", () => {
    const r = byTags(members.slice(0, 2), { group: "g", request: {}, tags: ["gold"] })
    assert.isFalse(Array.isArray(r))
    assert.match((r as { message: string }).message, /gold/)
  })
})

describe("pre-call checks", () => {
  it("knows the windows of well-known models by their longest prefix", () => {
    assert.strictEqual(knownWindow("gpt-4"), 8_192)
    assert.strictEqual(knownWindow("openai/gpt-4o-2024-08-06"), 128_000)
    assert.strictEqual(knownWindow("azure/gpt-4-1106-preview"), 128_000)
    assert.strictEqual(knownWindow("claude-3-haiku-20240307"), 200_000)
    assert.isUndefined(knownWindow("my-model"))
  })

  it.effect("skips deployments whose window the prompt is over, and fails as ContextWindowExceeded when none fits", () =>
    Effect.gen(function*() {
      const small = deployment("small", [], { max_input_tokens: 20 })
      const based = deployment("based", [], { base_model: "azure/gpt-4-1106-preview" }, "my-azure-name")
      const unknown = deployment("unknown", [], {}, "my-model")
      const long = { messages: [{ role: "user", content: "word ".repeat(200) }] }
      const short = { messages: [{ role: "user", content: "hi" }] }
      const kept = yield* byContextWindow([small, based, unknown], { group: "g", request: long, tags: [] })
      assert.deepStrictEqual(kept.map((d) => d.id), ["based", "unknown"])
      const all = yield* byContextWindow([small], { group: "g", request: short, tags: [] })
      assert.deepStrictEqual(all.map((d) => d.id), ["small"])
      const none = yield* Effect.exit(byContextWindow([small], { group: "g", request: long, tags: [] }))
      assert.isTrue(Exit.isFailure(none))
      if (Exit.isFailure(none)) assert.include(String(none.cause), "ContextWindowExceeded")
    }))
})

describe("content_filter", () => {
  it("a filtered choice is a content-policy failure; any other reply is not", () => {
    assert.strictEqual(contentFiltered({ choices: [{ finish_reason: "content_filter" }] })?._tag, "ContentPolicy")
    assert.isUndefined(contentFiltered({ choices: [{ finish_reason: "stop" }] }))
    assert.isUndefined(contentFiltered(new Uint8Array(3)))
    assert.isUndefined(contentFiltered(null))
  })

  it("an opened stream is a content-policy failure only when its first chunks end filtered without text", () => {
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({ choices: [{ index: 0, delta, finish_reason: finish }] })
    assert.strictEqual(contentFiltered({ first: [chunk({ role: "assistant", content: "" }, null), chunk({}, "content_filter")] })?._tag, "ContentPolicy")
    assert.isUndefined(contentFiltered({ first: [chunk({ content: "Hello" }, null), chunk({}, "content_filter")] }))
    assert.isUndefined(contentFiltered({ first: [chunk({ role: "assistant" }, null)] }))
  })
})
