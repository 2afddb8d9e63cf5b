/**
 * Decoding a config the way LiteLLM reads it: YAML 1.1 numbers, empty values as unset, `litellm_settings`'
 * routing keys merged with LiteLLM's precedence (SettingsMerge), and model references checked against
 * groups, ids, aliases and wildcards.
 */
import { assert, describe, it } from "@effect/vitest"
import { mergeLitellmSettings, parseConfig } from "@switchyard/core"
import { Effect } from "effect"

describe("YAML as LiteLLM reads it", () => {
  it.effect("20_000 is a number, a date-like api_version stays a string, an empty api_key is unset, `y` is a string", () =>
    Effect.gen(function*() {
      const { config } = yield* parseConfig(`
model_list:
  - model_name: y
    litellm_params:
      model: azure/chatgpt
      tpm: 20_000
      rpm: 1_000
      api_version: 2023-07-01-preview
      api_key:
      api_base: ""
`)
      const p = config.model_list[0]!.litellm_params
      assert.deepStrictEqual([p.tpm, p.rpm, p.api_version, p.api_key, p.api_base], [20_000, 1_000, "2023-07-01-preview", undefined, undefined])
      assert.strictEqual(config.model_list[0]!.model_name, "y")
    }))
})

describe("litellm_settings and router_settings, LiteLLM's precedence", () => {
  it("the router's own values win when set (0 retries included); litellm_settings fill the rest", () => {
    const merged = mergeLitellmSettings(
      { num_retries: 0, fallbacks: [], timeout: 30 },
      {
        num_retries: 5,
        fallbacks: [{ a: ["b"] }],
        context_window_fallbacks: [{ a: ["c"] }],
        request_timeout: 10,
        allowed_fails: 1,
        cooldown_time: 30,
        default_fallbacks: ["d"]
      }
    )
    assert.deepStrictEqual(merged.settings, {
      num_retries: 0,
      fallbacks: [{ a: ["b"] }],
      context_window_fallbacks: [{ a: ["c"] }],
      timeout: 30,
      allowed_fails: 1,
      cooldown_time: 30,
      default_fallbacks: ["d"]
    })
    assert.sameMembers(merged.warnings.map((w) => w.path), ["litellm_settings.num_retries", "litellm_settings.request_timeout"])
    assert.match(merged.warnings[0]!.message, /overridden by router_settings/)
  })

  it.effect("a config with fallbacks only under litellm_settings routes by them, and --check says nothing was ignored", () =>
    Effect.gen(function*() {
      const { config, warnings } = yield* parseConfig(`
model_list:
  - { model_name: primary, litellm_params: { model: openai/a } }
  - { model_name: backup, litellm_params: { model: openai/b } }
litellm_settings:
  num_retries: 1
  request_timeout: 12
  fallbacks: [{ primary: [backup] }]
  content_policy_fallbacks: [{ "*": [backup] }]
  drop_params: true
`)
      assert.deepStrictEqual(config.router_settings, {
        num_retries: 1,
        timeout: 12,
        fallbacks: [{ primary: ["backup"] }],
        content_policy_fallbacks: [{ "*": ["backup"] }]
      })
      assert.deepStrictEqual(warnings.map((w) => w.path), ["litellm_settings.drop_params"])
    }))
})

describe("model references", () => {
  it.effect("fallbacks may name an id, an alias or a wildcard-served name; other names are errors with their path", () =>
    Effect.gen(function*() {
      const ok = yield* parseConfig(`
model_list:
  - { model_name: gpt-4, litellm_params: { model: openai/gpt-4 }, model_info: { id: pinned } }
  - { model_name: "azure/*", litellm_params: { model: "azure/*" } }
router_settings:
  model_group_alias: { big: gpt-4 }
  fallbacks: [{ gpt-4: [pinned, azure/gpt-4o] }, { "*": [big] }]
`)
      assert.strictEqual(ok.config.router_settings?.fallbacks?.length, 2)
      const bad = yield* Effect.flip(parseConfig(`
model_list:
  - { model_name: gpt-4, litellm_params: { model: openai/gpt-4 } }
router_settings:
  model_group_alias: { big: { model: gpt-5, hidden: true } }
  fallbacks: [{ gpt-4: [nowhere] }]
`))
      assert.sameMembers(bad.issues.map((i) => i.path), ["router_settings.fallbacks[0].gpt-4[0]", "router_settings.model_group_alias.big"])
    }))
})
