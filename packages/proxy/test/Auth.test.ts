/**
 * Who may call: the master key (here from `os.environ/`), virtual keys limited to their models and to
 * their rpm, and 401 for everyone else. Every refusal is OpenAI-shaped and costs no upstream request.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import OpenAI from "openai"
import { postJson, startWithMock } from "./harness.ts"

const MASTER = "sk-master-test-7f3a9c"
let env: Awaited<ReturnType<typeof startWithMock>>

beforeAll(async () => {
  process.env.SWITCHYARD_TEST_MASTER_KEY = MASTER
  env = await startWithMock((mock) => `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("gpt")}" }
  - model_name: other
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("other")}" }
general_settings:
  master_key: os.environ/SWITCHYARD_TEST_MASTER_KEY
  virtual_keys:
    - { key: sk-team-a-000001, alias: team-a, models: [gpt], rpm_limit: 3 }
    - { key: sk-team-b-000001, alias: team-b }
`)
})
afterAll(() => env.close())

const chat = (key: string | undefined, body: Record<string, unknown> = {}) =>
  postJson(
    `${env.gateway.url}/v1/chat/completions`,
    { model: "gpt", messages: [{ role: "user", content: "hi" }], ...body },
    key === undefined ? {} : { authorization: `Bearer ${key}` }
  )

describe("auth", () => {
  it("rejects a missing or wrong key with 401, before any upstream call", async () => {
    const before = env.mock.requests().length
    for (const key of [undefined, "sk-wrong", `${MASTER}x`, MASTER.slice(0, -1)]) {
      const r = await chat(key)
      expect(r.status).toBe(401)
      expect(r.json.error.type).toBe("authentication_error")
      expect(r.json.error.code).toBe("invalid_api_key")
    }
    expect(env.mock.requests().length).toBe(before)
  })

  it("accepts the master key (resolved from the environment)", async () => {
    expect((await chat(MASTER)).status).toBe(200)
    expect((await chat(MASTER, { model: "other" })).status).toBe(200)
  })

  it("limits a virtual key to its models (403), including requested fallbacks", async () => {
    const before = env.mock.requests().length
    const denied = await chat("sk-team-a-000001", { model: "other" })
    expect(denied.status).toBe(403)
    expect(denied.json.error).toMatchObject({ type: "permission_error", code: "model_not_allowed", param: "model" })
    const viaFallback = await chat("sk-team-a-000001", { fallbacks: ["other"] })
    expect(viaFallback.status).toBe(403)
    expect(env.mock.requests().length).toBe(before)
    // A key without a model list may use every group.
    expect((await chat("sk-team-b-000001", { model: "other" })).status).toBe(200)
  })

  it("shows a virtual key only its models", async () => {
    const team = new OpenAI({ baseURL: `${env.gateway.url}/v1`, apiKey: "sk-team-a-000001", maxRetries: 0 })
    expect((await team.models.list()).data.map((m) => m.id)).toEqual(["gpt"])
    const master = new OpenAI({ baseURL: `${env.gateway.url}/v1`, apiKey: MASTER, maxRetries: 0 })
    expect((await master.models.list()).data.map((m) => m.id)).toEqual(["gpt", "other"])
    expect((await fetch(`${env.gateway.url}/v1/models`)).status).toBe(401)
  })

  it("limits a virtual key to its rpm (429 with retry-after)", async () => {
    // team-a already made requests above; use up what is left of its minute.
    let r = await chat("sk-team-a-000001")
    while (r.status === 200) r = await chat("sk-team-a-000001")
    expect(r.status).toBe(429)
    expect(r.json.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" })
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0)
    // Other keys are not affected.
    expect((await chat("sk-team-b-000001")).status).toBe(200)
  })

  it("health and metrics need no key", async () => {
    expect((await fetch(`${env.gateway.url}/health/liveliness`)).status).toBe(200)
    expect((await fetch(`${env.gateway.url}/health/readiness`)).status).toBe(200)
    expect((await fetch(`${env.gateway.url}/metrics`)).status).toBe(200)
  })

  it("never logs a key", () => {
    for (const line of env.gateway.logs) {
      expect(line).not.toContain(MASTER)
      expect(line).not.toContain("sk-team-a-000001")
    }
    expect(env.gateway.logs.some((l) => l.includes("key_alias=team-a"))).toBe(true)
  })
})
