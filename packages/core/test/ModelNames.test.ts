/**
 * Model names as LiteLLM reads them: provider inference for bare names (ProviderInference) and what a
 * requested name resolves to (ModelResolution): a group, an alias, a deployment id, or a wildcard group
 * whose `*` carries the requested name upstream.
 */
import { assert, describe, it } from "@effect/vitest"
import { bindDeployment, compileDeployments, inferProvider, makeResolver, parseConfig, qualify, splitModel } from "@switchyard/core"
import { Effect } from "effect"

describe("provider inference", () => {
  it("infers LiteLLM's provider for bare names, and nothing for names it does not know", () => {
    const cases: ReadonlyArray<readonly [string, string | undefined]> = [
      ["gpt-3.5-turbo", "openai"],
      ["gpt-4o-mini", "openai"],
      ["o1-preview", "openai"],
      ["o3-mini", "openai"],
      ["text-embedding-ada-002", "openai"],
      ["dall-e-3", "openai"],
      ["tts-1-hd", "openai"],
      ["whisper-1", "openai"],
      ["claude-3-opus-20240229", "anthropic"],
      ["mistral-large-latest", "mistral"],
      ["command-r-plus", "cohere"],
      ["gemini-1.5-pro", "vertex_ai"],
      ["my-private-model", undefined],
      ["llama3", undefined]
    ]
    for (const [name, provider] of cases) assert.strictEqual(inferProvider(name), provider, name)
  })

  it("qualifies bare names and leaves prefixed ones and `*` alone", () => {
    assert.strictEqual(qualify("gpt-4o"), "openai/gpt-4o")
    assert.strictEqual(qualify("azure/my-deployment"), "azure/my-deployment")
    assert.strictEqual(qualify("openai/llava-hf/llava-v1.6"), "openai/llava-hf/llava-v1.6")
    assert.strictEqual(qualify("*"), "*")
    assert.isUndefined(qualify("zephyr"))
    assert.deepStrictEqual(splitModel("openai/llava-hf/llava"), { provider: "openai", model: "llava-hf/llava" })
  })
})

const deployments = (yaml: string) =>
  Effect.flatMap(parseConfig(yaml), (loaded) => Effect.map(compileDeployments(loaded.config), (ds) => ({ ds, loaded })))

describe("model-name resolution", () => {
  const yaml = `
model_list:
  - { model_name: gpt-4o, litellm_params: { model: openai/gpt-4o }, model_info: { id: east } }
  - { model_name: gpt-4o, litellm_params: { model: openai/gpt-4o }, model_info: { id: west } }
  - { model_name: "*", litellm_params: { model: "*" } }
  - { model_name: "openai/*", litellm_params: { model: "openai/*" } }
  - { model_name: "anthropic/claude-*", litellm_params: { model: "anthropic/claude-*" } }
router_settings:
  model_group_alias:
    gpt-4: gpt-4o
    secret: { model: gpt-4o, hidden: true }
`

  const addressable = (ds: ReadonlyArray<{ id: string; group: string; provider: string; model: string }>) =>
    ds.map((d) => ({ id: d.id, group: d.group, model: `${d.provider}/${d.model}` }))

  it.effect("an alias first (both forms), then a group, a model_info.id, a deployment's model, the most specific wildcard", () =>
    Effect.gen(function*() {
      const { ds, loaded } = yield* deployments(yaml)
      const resolver = makeResolver(addressable(ds), loaded.config.router_settings)
      assert.deepStrictEqual(resolver.resolve("gpt-4o"), { group: "gpt-4o", deploymentId: undefined, captures: undefined })
      assert.strictEqual(resolver.resolve("gpt-4")?.group, "gpt-4o")
      assert.strictEqual(resolver.resolve("secret")?.group, "gpt-4o")
      assert.deepStrictEqual(resolver.resolve("west"), { group: "gpt-4o", deploymentId: "west", captures: undefined })
      assert.deepStrictEqual(resolver.resolve("openai/gpt-4o"), { group: "gpt-4o", deploymentId: "east", captures: undefined })
      assert.deepStrictEqual(resolver.resolve("anthropic/claude-3-haiku")?.group, "anthropic/claude-*")
      assert.deepStrictEqual(resolver.resolve("openai/gpt-4.1")?.captures, ["gpt-4.1"])
      assert.deepStrictEqual(resolver.resolve("anything-else"), { group: "*", deploymentId: undefined, captures: ["anything-else"] })
    }))

  it.effect("an alias is replaced before the name is looked up, as in LiteLLM, even when a group has its name", () =>
    Effect.gen(function*() {
      const { ds, loaded } = yield* deployments(`
model_list:
  - { model_name: gpt-4, litellm_params: { model: openai/gpt-4 } }
  - { model_name: gpt-4o, litellm_params: { model: openai/gpt-4o } }
router_settings: { model_group_alias: { gpt-4: gpt-4o } }
`)
      assert.strictEqual(makeResolver(addressable(ds), loaded.config.router_settings).resolve("gpt-4")?.group, "gpt-4o")
    }))

  it.effect("without a catch-all, an unknown name resolves to nothing", () =>
    Effect.gen(function*() {
      const { ds } = yield* deployments(`model_list: [{ model_name: "groq/*", litellm_params: { model: "groq/*" } }]`)
      const resolver = makeResolver(addressable(ds), undefined)
      assert.isUndefined(resolver.resolve("gpt-4o"))
      assert.strictEqual(resolver.resolve("groq/llama3-70b")?.group, "groq/*")
    }))

  it.effect("a wildcard deployment sends the requested name upstream; a bare `*` takes the name's provider", () =>
    Effect.gen(function*() {
      const { ds, loaded } = yield* deployments(yaml)
      const resolver = makeResolver(addressable(ds), loaded.config.router_settings)
      const bound = (name: string) => {
        const target = resolver.resolve(name)!
        const d = ds.find((x) => x.group === target.group)!
        const b = bindDeployment(d, target)
        return [b.provider, b.model]
      }
      assert.deepStrictEqual(bound("openai/gpt-4.1-mini"), ["openai", "gpt-4.1-mini"])
      assert.deepStrictEqual(bound("anthropic/claude-3-haiku"), ["anthropic", "claude-3-haiku"])
      assert.deepStrictEqual(bound("claude-3-5-sonnet"), ["anthropic", "claude-3-5-sonnet"])
      assert.deepStrictEqual(bound("gpt-4o-mini-tts"), ["openai", "gpt-4o-mini-tts"])
      assert.deepStrictEqual(bound("gpt-4o"), ["openai", "gpt-4o"], "an explicit group is not rewritten")
    }))
})
