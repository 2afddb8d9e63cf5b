/**
 * Loading a config: the three story configs decode (keys resolved through a ConfigProvider and kept
 * Redacted), every kind of bad config fails at load time with the path of the bad field, and unknown
 * keys only warn.
 */
import { assert, describe, it } from "@effect/vitest"
import { compileDeployments, type Deployment, InvalidConfig, makePolicy, parseConfig } from "@switchyard/core"
import { makeScriptedProvider } from "@switchyard/testkit"
import { ConfigProvider, Effect, Redacted, type Scope } from "effect"
import { inspect } from "node:util"
import { routerFor, stories, withEnv } from "./harness.ts"

const keys = {
  OPENAI_KEY: "sk-openai-0123456789abcdef",
  AZURE_KEY: "az-key-fedcba9876543210",
  ANTHROPIC_KEY: "sk-ant-4242424242",
  VERTEX_KEY: "vx-1313131313"
}

/** Loads and compiles a config with `env` as the only environment. */
const load = (yaml: string, env: Record<string, string> = keys) =>
  Effect.gen(function*() {
    const loaded = yield* parseConfig(yaml)
    const deployments = yield* compileDeployments(loaded.config).pipe(withEnv(env))
    return { ...loaded, deployments }
  })

/** Every rendering of a deployment a log line, an error report or a debugger could produce. */
const renderings = (d: Deployment) => [
  String(d),
  String(d.apiKey),
  `${d.apiKey}`,
  JSON.stringify(d),
  JSON.stringify({ deployments: [d] }),
  inspect(d, { depth: Infinity }),
  inspect(d.apiKey, { depth: Infinity })
]

describe("the story configs", () => {
  it.effect("story 1: two TTS deployments, keys from the environment, never printed", () =>
    Effect.gen(function*() {
      const { deployments, warnings, config } = yield* load(stories.tts)
      assert.deepStrictEqual(warnings, [])
      assert.deepStrictEqual(config.model_list.map((m) => m.model_name), ["tts", "tts"])
      const [openai, azure] = deployments
      assert.deepInclude(openai!, { id: "tts#1", provider: "openai", model: "tts-1", apiBase: "http://primary.example/v1" })
      assert.deepInclude(azure!, { id: "tts#2", provider: "azure", model: "tts", apiVersion: "2025-03-01-preview" })
      assert.strictEqual(Redacted.value(openai!.apiKey!), keys.OPENAI_KEY)
      assert.strictEqual(Redacted.value(azure!.apiKey!), keys.AZURE_KEY)
      for (const d of deployments) {
        for (const text of renderings(d)) {
          assert.notInclude(text, keys.OPENAI_KEY)
          assert.notInclude(text, keys.AZURE_KEY)
        }
      }
    }))

  it.effect("story 1 also resolves from an env-style ConfigProvider", () =>
    Effect.gen(function*() {
      const loaded = yield* parseConfig(stories.tts)
      const deployments = yield* compileDeployments(loaded.config).pipe(
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { OPENAI_KEY: "env-1", AZURE_KEY: "env-2" } })))
      )
      assert.deepStrictEqual(deployments.map((d) => Redacted.value(d.apiKey!)), ["env-1", "env-2"])
    }))

  it.effect("story 2: the kokoro placeholder falls back to both servers, in order", () =>
    Effect.gen(function*() {
      const { deployments, warnings, config } = yield* load(stories.kokoro, {})
      assert.deepStrictEqual(warnings, [])
      assert.deepStrictEqual(deployments.map((d) => d.id), ["kokoro#1", "server1/kokoro#1", "server2/kokoro#1"])
      assert.deepStrictEqual(deployments.map((d) => d.model), ["dummy", "kokoro", "kokoro"])
      const fallbacks = makePolicy(config.router_settings).fallbacks("kokoro", "general")
      assert.deepStrictEqual(fallbacks, ["server1/kokoro", "server2/kokoro"])
      // A key written in the file is as secret as one from the environment.
      for (const text of renderings(deployments[0]!)) assert.notInclude(text, "sk-llama")
      assert.strictEqual(Redacted.value(deployments[0]!.apiKey!), "sk-llama")
    }))

  it.effect("story 3: group names with a slash, two providers, a cross-provider fallback", () =>
    Effect.gen(function*() {
      const { deployments, warnings, config } = yield* load(stories.responses)
      assert.deepStrictEqual(warnings, [])
      assert.deepStrictEqual(deployments.map((d) => [d.group, d.provider, d.model]), [
        ["anthropic/claude-sonnet-4-6", "anthropic", "claude-sonnet-4-6"],
        ["vertex_ai/claude-sonnet-4-6", "vertex_ai", "claude-sonnet-4-6"]
      ])
      assert.deepStrictEqual(makePolicy(config.router_settings).fallbacks("anthropic/claude-sonnet-4-6", "general"), [
        "vertex_ai/claude-sonnet-4-6"
      ])
      for (const d of deployments) for (const text of renderings(d)) assert.notInclude(text, Redacted.value(d.apiKey!))
    }))

  it.effect("each story config builds a router over providers of those names", () =>
    Effect.gen(function*() {
      const provider = makeScriptedProvider()
      const aliases = { openai: "scripted", azure: "scripted", anthropic: "scripted", vertex_ai: "scripted" }
      for (const [yaml, groups] of [
        [stories.tts, ["tts"]],
        [stories.kokoro, ["kokoro", "server1/kokoro", "server2/kokoro"]],
        [stories.responses, ["anthropic/claude-sonnet-4-6", "vertex_ai/claude-sonnet-4-6"]]
      ] as const) {
        const { router } = yield* routerFor(yaml, [provider], aliases).pipe(withEnv(keys))
        assert.deepStrictEqual(router.groups, groups)
      }
    }))
})

type Stage = "load" | "router"
/** A bad config, the stage that must reject it, and the path the rejection must name. */
const badConfigs: ReadonlyArray<{ name: string; yaml: string; path: string; message: RegExp; stage?: Stage }> = [
  {
    name: "a number field given a string",
    yaml: `model_list: [{ model_name: a, litellm_params: { model: openai/x, rpm: "x" } }]`,
    path: "model_list[0].litellm_params.rpm",
    message: /number/
  },
  {
    name: "a missing model",
    yaml: `model_list: [{ model_name: a, litellm_params: { api_base: http://x } }]`,
    path: "model_list[0].litellm_params.model",
    message: /missing/i
  },
  {
    name: "a model without a provider prefix whose provider cannot be inferred",
    yaml: `model_list: [{ model_name: a, litellm_params: { model: my-private-model } }]`,
    path: "model_list[0].litellm_params.model",
    message: /provider\/model/
  },
  {
    name: "a fallback naming an unknown group",
    yaml: stories.kokoro.replace("[server1/kokoro, server2/kokoro]", "[server1/kokoro, server3/kokoro]"),
    path: "router_settings.fallbacks[0].kokoro[1]",
    message: /server3\/kokoro/
  },
  {
    name: "a fallback from an unknown group",
    yaml: stories.kokoro.replace("- kokoro: [", "- kokoro2: ["),
    path: "router_settings.fallbacks[0].kokoro2",
    message: /kokoro2/
  },
  {
    name: "an unknown routing_strategy",
    yaml: `${stories.kokoro}  routing_strategy: fastest-first\n`,
    path: "router_settings.routing_strategy",
    message: /simple-shuffle/
  },
  {
    name: "a negative retry count",
    yaml: `${stories.kokoro}  num_retries: -1\n`,
    path: "router_settings.num_retries",
    message: /greater than or equal to 0/
  },
  {
    name: "an empty model_list",
    yaml: `model_list: []`,
    path: "model_list",
    message: /at least 1/
  },
  {
    name: "an unset environment variable",
    yaml: `${stories.tts}  - model_name: tts\n    litellm_params: { model: openai/tts-1, api_key: os.environ/NOT_SET_ANYWHERE }\n`,
    path: "model_list[2].litellm_params.api_key",
    message: /NOT_SET_ANYWHERE is not set/
  },
  {
    name: "a duplicate model_info.id",
    yaml: `model_list:
  - { model_name: a, litellm_params: { model: openai/x }, model_info: { id: same } }
  - { model_name: b, litellm_params: { model: openai/y }, model_info: { id: same } }`,
    path: "model_list[1].model_info.id",
    message: /duplicate/
  },
  {
    name: "an unknown provider prefix",
    yaml: `model_list:
  - { model_name: a, litellm_params: { model: openai/x } }
  - { model_name: a, litellm_params: { model: nosuchvendor/x } }`,
    path: "model_list[1].litellm_params.model",
    message: /unknown provider "nosuchvendor"/,
    stage: "router"
  }
]

/** Runs a config through `stage` and returns how it was rejected. */
const rejection = (yaml: string, stage: Stage): Effect.Effect<InvalidConfig, unknown, Scope.Scope> =>
  stage === "load"
    ? Effect.flip(load(yaml))
    : Effect.flip(routerFor(yaml, [makeScriptedProvider({ name: "openai" })]).pipe(withEnv(keys)))

describe("a bad config fails at load time, naming the field", () => {
  for (const bad of badConfigs) {
    it.effect(bad.name, () =>
      Effect.gen(function*() {
        const error = yield* rejection(bad.yaml, bad.stage ?? "load")
        assert.instanceOf(error, InvalidConfig)
        const issue = error.issues.find((i) => i.path === bad.path)
        assert.isDefined(issue, `no issue at ${bad.path}: ${error.message}`)
        assert.match(issue!.message, bad.message)
        assert.include(error.message, `${bad.path}: `, "the message names the path too")
      }))
  }

  it.effect("every problem is reported at once, each with its path", () =>
    Effect.gen(function*() {
      const error = yield* rejection(
        `model_list:
  - { model_name: a, litellm_params: { model: openai/x, rpm: "x", weight: 0 } }
  - { model_name: "", litellm_params: { model: y } }
router_settings: { routing_strategy: nope, cooldown_time: "5" }`,
        "load"
      )
      assert.sameMembers(error.issues.map((i) => i.path), [
        "model_list[0].litellm_params.rpm",
        "model_list[0].litellm_params.weight",
        "model_list[1].model_name",
        "model_list[1].litellm_params.model",
        "router_settings.routing_strategy",
        "router_settings.cooldown_time"
      ])
    }))

  it.effect("text that is not YAML is rejected as such", () =>
    Effect.gen(function*() {
      const error = yield* rejection("model_list: [unclosed", "load")
      assert.match(error.message, /not valid YAML/)
    }))
})

describe("unknown keys", () => {
  it.effect("warn with their path and do not stop the config from loading", () =>
    Effect.gen(function*() {
      const yaml = `
model_list:
  - model_name: a
    litellm_params: { model: openai/x, max_parallel_requests: 4 }
    model_info: { id: a1, supports_vision: true }
    extra: true
router_settings: { routing_strategy: least-busy, enable_health_check_routing: true }
general_settings: { master_key: sk-master, database_url: postgres://x }
litellm_settings: { drop_params: true }
server_port: 4000
`
      const { warnings, deployments, config } = yield* load(yaml)
      assert.sameMembers(warnings.map((w) => w.path), [
        "model_list[0].litellm_params.max_parallel_requests",
        "model_list[0].model_info.supports_vision",
        "model_list[0].extra",
        "router_settings.enable_health_check_routing",
        "general_settings.database_url",
        "litellm_settings.drop_params",
        "server_port"
      ])
      assert.deepStrictEqual(deployments.map((d) => d.id), ["a1"])
      assert.strictEqual(config.router_settings?.routing_strategy, "least-busy")
      const provider = makeScriptedProvider({ name: "openai" })
      const { router } = yield* routerFor(yaml, [provider])
      assert.deepStrictEqual(router.groups, ["a"], "and a router builds from it")
    }))
})
