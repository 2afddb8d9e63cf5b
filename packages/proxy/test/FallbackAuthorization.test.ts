/**
 * A virtual key's `models` hold on the route a request takes: a configured fallback group the key may
 * not use is skipped, so a key limited to `gpt` is never served by `premium`.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Behave } from "@switchyard/testkit/mock"
import { postJson, startWithMock } from "./harness.ts"

let env: Awaited<ReturnType<typeof startWithMock>>

beforeAll(async () => {
  env = await startWithMock((mock) => `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("gpt")}" }
  - model_name: premium
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("premium")}" }
router_settings:
  num_retries: 0
  fallbacks: [{ gpt: [premium] }]
general_settings:
  master_key: sk-master-fallback-1
  virtual_keys:
    - { key: sk-only-gpt-000001, models: [gpt] }
`)
})
afterAll(() => env.close())

const chat = (key: string) =>
  postJson(`${env.gateway.url}/v1/chat/completions`, { model: "gpt", messages: [{ role: "user", content: "hi" }] }, {
    authorization: `Bearer ${key}`
  })

describe("authorization on fallback routes", () => {
  it("skips a configured fallback group the key may not use; the master key still falls back", async () => {
    env.mock.script("gpt", [Behave.status(500)])
    const limited = await chat("sk-only-gpt-000001")
    expect(limited.status).toBe(502)
    expect(limited.json.error.code).toBe("upstream_server_error")
    expect(limited.headers.get("x-switchyard-fallbacks")).toBe("0")
    expect(env.mock.requests("premium")).toHaveLength(0)

    env.mock.script("gpt", [Behave.status(500)])
    const master = await chat("sk-master-fallback-1")
    expect(master.status).toBe(200)
    expect(master.headers.get("x-switchyard-fallbacks")).toBe("1")
    expect(env.mock.requests("premium")).toHaveLength(1)
  })
})
