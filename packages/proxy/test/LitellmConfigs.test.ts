/**
 * LiteLLM configs mean what they mean there, end to end: the gateway over the real providers and the
 * HTTP mock upstream. Wildcard groups send the requested name upstream, aliases and `model_info.id`s
 * are models, `litellm_settings` chains fallbacks and retries, tags pick deployments, pre-call checks
 * skip a deployment whose window the prompt is over, and a request's own timeout and fallbacks steer it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import { Behave } from "@switchyard/testkit/mock"
import { postJson, startWithMock } from "./harness.ts"

let env: Awaited<ReturnType<typeof startWithMock>>

beforeAll(async () => {
  env = await startWithMock((mock) => `
model_list:
  - model_name: gpt-4o
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("gpt4o")}", api_key: sk-test-a }
    model_info: { id: gpt-4o-main }
  - model_name: "openai/*"
    litellm_params: { model: "openai/*", api_base: "${mock.apiBase("wild-openai")}", api_key: sk-test-b }
  - model_name: "*"
    litellm_params: { model: "openai/*", api_base: "${mock.apiBase("catch-all")}", api_key: sk-test-c }
  - model_name: primary
    litellm_params: { model: openai/primary-model, api_base: "${mock.apiBase("primary")}", api_key: sk-test-d }
  - model_name: backup
    litellm_params: { model: openai/backup-model, api_base: "${mock.apiBase("backup")}", api_key: sk-test-e }
    model_info: { id: backup-pinned }
  - model_name: tiered
    litellm_params: { model: openai/m, api_base: "${mock.apiBase("free")}", api_key: sk-test-f, tags: [free] }
  - model_name: tiered
    litellm_params: { model: openai/m, api_base: "${mock.apiBase("paid")}", api_key: sk-test-g, tags: [paid] }
  - model_name: tiered
    litellm_params: { model: openai/m, api_base: "${mock.apiBase("untagged")}", api_key: sk-test-h, tags: [default] }
  - model_name: small
    litellm_params: { model: openai/small-model, api_base: "${mock.apiBase("small")}", api_key: sk-test-i }
    model_info: { max_input_tokens: 40 }
  - model_name: large
    litellm_params: { model: openai/large-model, api_base: "${mock.apiBase("large")}", api_key: sk-test-j }
  - model_name: slow
    litellm_params: { model: openai/slow-model, api_base: "${mock.apiBase("slow")}", api_key: sk-test-k }
router_settings:
  model_group_alias: { gpt-4: gpt-4o, internal-name: { model: gpt-4o, hidden: true } }
  enable_tag_filtering: true
  enable_pre_call_checks: true
  disable_cooldowns: true
litellm_settings:
  num_retries: 0
  fallbacks: [{ primary: [backup-pinned] }]
  context_window_fallbacks: [{ small: [large] }]
`)
})
afterAll(() => env.close())
beforeEach(() => env.mock.reset())

const chat = (model: string, extra: Record<string, unknown> = {}, content = "hi") =>
  postJson(`${env.gateway.url}/v1/chat/completions`, { model, messages: [{ role: "user", content }], ...extra })

const sentTo = (deployment: string) => env.mock.requests(deployment).map((r) => r.body as Record<string, unknown>)

describe("wildcard groups", () => {
  it("a name no group has is routed by the most specific pattern, and goes upstream as requested", async () => {
    expect((await chat("openai/gpt-4.1-mini")).status).toBe(200)
    expect(sentTo("wild-openai").map((b) => b.model)).toEqual(["gpt-4.1-mini"])
    expect((await chat("some-unlisted-model")).status).toBe(200)
    expect(sentTo("catch-all").map((b) => b.model)).toEqual(["some-unlisted-model"])
  })

  it("an explicit group still wins over the patterns", async () => {
    const r = await chat("gpt-4o")
    expect(r.status).toBe(200)
    expect(r.headers.get("x-switchyard-deployment")).toBe("gpt-4o-main")
    expect(sentTo("catch-all")).toEqual([])
  })
})

describe("aliases and deployment ids", () => {
  it("model_group_alias, in both forms, routes to its group", async () => {
    for (const alias of ["gpt-4", "internal-name"]) {
      const r = await chat(alias)
      expect(r.status).toBe(200)
      expect(r.headers.get("x-switchyard-deployment")).toBe("gpt-4o-main")
    }
    expect(sentTo("gpt4o").map((b) => b.model)).toEqual(["gpt-4o", "gpt-4o"])
  })

  it("/v1/models lists the aliases not marked hidden", async () => {
    const ids = ((await (await fetch(`${env.gateway.url}/v1/models`)).json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)
    expect(ids).toContain("gpt-4")
    expect(ids).not.toContain("internal-name")
  })

  it("a model_info.id is a model: only that deployment serves", async () => {
    const r = await chat("backup-pinned")
    expect(r.status).toBe(200)
    expect(r.headers.get("x-switchyard-deployment")).toBe("backup-pinned")
  })
})

describe("chains through litellm_settings", () => {
  it("fallbacks and num_retries written under litellm_settings apply; the fallback may be a deployment id", async () => {
    env.mock.otherwise("primary", Behave.status(500))
    const r = await chat("primary")
    expect(r.status).toBe(200)
    expect(r.headers.get("x-switchyard-deployment")).toBe("backup-pinned")
    expect(r.headers.get("x-switchyard-fallbacks")).toBe("1")
    expect(env.mock.requests("primary")).toHaveLength(1)
  })

  it("a request's own fallbacks, in the map form, replace the configured ones and are not sent upstream", async () => {
    env.mock.otherwise("primary", Behave.status(500))
    const r = await chat("primary", { fallbacks: [{ primary: ["gpt-4"] }] })
    expect(r.status).toBe(200)
    expect(r.headers.get("x-switchyard-deployment")).toBe("gpt-4o-main")
    expect(sentTo("gpt4o")[0]).not.toHaveProperty("fallbacks")
    expect(env.mock.requests("backup")).toHaveLength(0)
  })
})

describe("tag routing", () => {
  it("request tags pick the tagged deployment; untagged requests go to the default one; tags stay here", async () => {
    await chat("tiered", { tags: ["paid"] })
    await chat("tiered", { metadata: { tags: ["free"] } })
    await chat("tiered")
    await chat("tiered", { tags: ["gold"] })
    expect(env.mock.requests("paid")).toHaveLength(1)
    expect(env.mock.requests("free")).toHaveLength(1)
    expect(env.mock.requests("untagged")).toHaveLength(2)
    for (const body of [...sentTo("paid"), ...sentTo("free")]) {
      expect(body).not.toHaveProperty("tags")
      expect(body).not.toHaveProperty("metadata")
    }
  })
})

describe("pre-call checks", () => {
  it("a prompt over the deployment's window goes to the context-window fallback without calling it", async () => {
    const long = await chat("small", {}, "a long prompt ".repeat(40))
    expect(long.status).toBe(200)
    expect(long.headers.get("x-switchyard-deployment")).toBe("large#1")
    expect(env.mock.requests("small")).toHaveLength(0)
    const short = await chat("small")
    expect(short.headers.get("x-switchyard-deployment")).toBe("small#1")
  })
})

describe("per-request timeout", () => {
  it("a request's timeout bounds the attempt and is not sent upstream", async () => {
    env.mock.otherwise("slow", Behave.ok({ delayMillis: 1500 }))
    const started = Date.now()
    const r = await chat("slow", { timeout: 0.2 })
    expect(r.status).toBe(504)
    expect(Date.now() - started).toBeLessThan(1400)
    expect(sentTo("slow")[0]).not.toHaveProperty("timeout")
  })

  it("an invalid control value is the client's error, before any upstream call", async () => {
    const r = await chat("slow", { timeout: "soon" })
    expect(r.status).toBe(400)
    expect(r.json.error.message).toMatch(/timeout/)
    expect(env.mock.requests("slow")).toHaveLength(0)
  })
})
