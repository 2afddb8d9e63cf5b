/**
 * The corpus: real LiteLLM configs, collected from LiteLLM's repository (`litellm/proxy/example_config_yaml/`)
 * and its docs' code blocks, each with its source in its first line, under
 * `packages/core/test/litellm-configs/`. Each goes through every stage of `switchyard --check` against the
 * real providers, as a new user would try it; each must load, or fail only for the named, deliberate reason
 * listed here. Every `os.environ/` reference resolves to a placeholder, as on a machine that has the keys.
 */
import { assert, describe, it } from "@effect/vitest"
import { ProvidersLive } from "@switchyard/providers"
import { ConfigProvider, Effect } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { checkConfigFile } from "../src/ConfigFile.ts"

const DIR = fileURLToPath(new URL("../../core/test/litellm-configs/", import.meta.url))

/** Why a config may fail, and what each of its issues must then say. */
const reasons = {
  /** `auto_router/…` is LiteLLM's in-process adaptive router posing as a model, not an upstream. */
  liteLlmInternalRouter: /unknown provider "auto_router"/,
  /** `mistralai/…` is no LiteLLM provider either (LiteLLM's own call fails); Mistral's prefix is `mistral/`. */
  notAProviderInLiteLlm: /unknown provider "mistralai"/,
  /** Docs blocks indented with tabs, which YAML forbids; LiteLLM's reader rejects them too. */
  tabsInDocsBlock: /not valid YAML: Tabs are not allowed/,
  /** An unterminated quote; LiteLLM's reader rejects it too. */
  brokenYamlInSource: /not valid YAML: Missing closing "quote/
} as const

type Reason = keyof typeof reasons

/** The expected outcome of every file: loads, or the reason it may not. */
const expected: Readonly<Record<string, "loads" | Reason>> = {
  "docs-configs-azure-embeddings.yaml": "loads",
  "docs-configs-load-balancing.yaml": "loads",
  "docs-configs-model-params.yaml": "loads",
  "docs-configs-openai-embeddings.yaml": "loads",
  "docs-configs-quick-start.yaml": "loads",
  "docs-reliability-default-fallbacks.yaml": "tabsInDocsBlock",
  "docs-reliability-fallbacks.yaml": "loads",
  "docs-reliability-model-id-fallback.yaml": "loads",
  "docs-reliability-pre-call-checks.yaml": "tabsInDocsBlock",
  "docs-reliability-retries-timeouts-cooldowns.yaml": "loads",
  "docs-reliability-wildcard-fallbacks.yaml": "loads",
  "docs-tag-routing.yaml": "loads",
  "example-_health_check_test_config.yaml": "loads",
  "example-adaptive_router_example.yaml": "liteLlmInternalRouter",
  "example-aliases_config.yaml": "loads",
  "example-azure_config.yaml": "loads",
  "example-azure_config_with_tpm.yaml": "loads",
  "example-china_domestic_free_sources.yaml": "loads",
  "example-disable_schema_update.yaml": "loads",
  "example-enterprise_config.yaml": "loads",
  "example-hosted_litellm.yaml": "brokenYamlInSource",
  "example-load_balancer.yaml": "notAProviderInLiteLlm",
  "example-macos_optimized_config.yaml": "loads",
  "example-multi_instance_simple_config.yaml": "loads",
  "example-oai_misc_config.yaml": "loads",
  "example-okta_jwt_auth_config.yaml": "loads",
  "example-otel_test_config.yaml": "loads",
  "example-pass_through_config.yaml": "loads",
  "example-prometheus_test_config.yaml": "loads",
  "example-queue.yaml": "loads",
  "example-reject_clientside_metadata_tags_config.yaml": "loads",
  "example-reject_metadata_tags_config.yaml": "loads",
  "example-simple_config.yaml": "loads",
  "example-spend_tracking_config.yaml": "loads",
  "example-store_model_db_config.yaml": "loads",
  "example-test_pipeline_config.yaml": "loads",
  "example-tool_permission_example.yaml": "loads",
  "example-websearch_interception_config.yaml": "loads"
}

/** Every variable is set, to a placeholder named after it. */
const anyEnvironment = ConfigProvider.layer(
  ConfigProvider.make((path) => Effect.succeed(ConfigProvider.makeValue(`placeholder-${path.join("_")}`)))
)

const check = (file: string) =>
  checkConfigFile(`${DIR}${file}`).pipe(Effect.provide(ProvidersLive), Effect.provide(anyEnvironment))

describe("the LiteLLM corpus", () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml")).sort()

  it("has at least 25 configs, each with its source and an expected outcome", () => {
    assert.isAtLeast(files.length, 25)
    assert.sameMembers(files, Object.keys(expected))
    for (const f of files) {
      const first = readFileSync(`${DIR}${f}`, "utf8").split("\n")[0]!
      assert.match(first, /^# source: https:\/\/github\.com\/BerriAI\/litellm\//, f)
    }
    const loads = Object.values(expected).filter((e) => e === "loads").length
    assert.isAtLeast(loads, 20, "most of the corpus loads")
  })

  for (const file of Object.keys(expected).sort()) {
    const outcome = expected[file]!
    it.effect(`${file}: ${outcome === "loads" ? "loads" : `fails only because ${outcome}`}`, () =>
      Effect.gen(function*() {
        const report = yield* check(file)
        if (outcome === "loads") {
          assert.deepStrictEqual(report.issues, [])
          assert.isDefined(report.loaded)
        } else {
          assert.isUndefined(report.loaded)
          assert.isNotEmpty(report.issues)
          for (const issue of report.issues) assert.match(issue.message, reasons[outcome], `${issue.path}: ${issue.message}`)
        }
        // Each warning names its key, once.
        const keys = report.warnings.map((w) => `${w.path}: ${w.message}`)
        assert.strictEqual(new Set(keys).size, keys.length)
      }))
  }
})

describe("what the loaded corpus means", () => {
  const load = (file: string) => Effect.map(check(file), (r) => r.loaded!)

  it.effect("YAML 1.1 numbers, LiteLLM's timeouts in seconds, max_retries named as read differently", () =>
    Effect.gen(function*() {
      const { config, warnings } = yield* load("example-azure_config.yaml")
      assert.deepStrictEqual(config.model_list.map((m) => m.litellm_params.tpm), [20_000, 100_000])
      assert.deepStrictEqual(config.model_list.map((m) => m.litellm_params.stream_timeout), [0.5, 0.5])
      const retries = warnings.filter((w) => w.path.endsWith(".max_retries"))
      assert.strictEqual(retries.length, 2)
      assert.match(retries[0]!.message, /Switchyard retries in the router/)
    }))

  it.effect("an empty api_key is unset; a bare name gets its provider", () =>
    Effect.gen(function*() {
      const { config } = yield* load("example-queue.yaml")
      assert.deepStrictEqual(config.model_list.map((m) => m.litellm_params.model), ["openai/gpt-3.5-turbo", "azure/chatgpt-v-2"])
      assert.deepStrictEqual(config.model_list.map((m) => m.litellm_params.api_key), [undefined, undefined])
      assert.strictEqual(config.model_list[1]!.litellm_params.api_version, "2023-07-01-preview")
      const embeddings = yield* load("docs-configs-openai-embeddings.yaml")
      assert.strictEqual(embeddings.config.model_list[0]!.litellm_params.model, "openai/text-embedding-ada-002")
    }))

  it.effect("litellm_settings' fallbacks reach the router settings, to a model_info.id or a wildcard group", () =>
    Effect.gen(function*() {
      const byId = yield* load("docs-reliability-model-id-fallback.yaml")
      assert.deepStrictEqual(byId.config.router_settings?.fallbacks, [{ "gpt-4": ["my-specific-model-id"] }])
      const wildcard = yield* load("docs-reliability-wildcard-fallbacks.yaml")
      assert.deepStrictEqual(wildcard.config.router_settings?.fallbacks, [{ "gpt-4o": ["azure/gpt-4o"] }])
    }))

  it.effect("settings LiteLLM does not use for routing are listed by name", () =>
    Effect.gen(function*() {
      const { warnings } = yield* load("example-prometheus_test_config.yaml")
      assert.sameMembers(warnings.map((w) => w.path), [
        "litellm_settings.cache",
        "litellm_settings.callbacks",
        "litellm_settings.success_callback",
        "litellm_settings.failure_callback"
      ])
    }))
})
