/**
 * Clients cannot create metric series: a model name that is not configured is labelled `other`, a name
 * over 256 characters is a 400, and `/metrics` asks for the master key under `metrics_auth`.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { postJson, startWithMock } from "./harness.ts"

const MASTER = "sk-master-metrics-1"
let env: Awaited<ReturnType<typeof startWithMock>>

beforeAll(async () => {
  env = await startWithMock((mock) => `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("gpt")}" }
general_settings:
  master_key: ${MASTER}
  metrics_auth: true
  virtual_keys:
    - { key: sk-team-metrics-1 }
`)
})
afterAll(() => env.close())

const chat = (model: string) =>
  postJson(`${env.gateway.url}/v1/chat/completions`, { model, messages: [{ role: "user", content: "hi" }] }, {
    authorization: `Bearer ${MASTER}`
  })

const scrape = (key?: string) =>
  fetch(`${env.gateway.url}/metrics`, { headers: key === undefined ? {} : { authorization: `Bearer ${key}` } })

describe("metric labels and /metrics access", () => {
  it("labels unknown model names `other`, one series however many names", async () => {
    for (let i = 0; i < 20; i++) expect((await chat(`invented-${i}`)).status).toBe(404)
    expect((await chat("gpt")).status).toBe(200)
    const text = await (await scrape(MASTER)).text()
    expect(text).not.toContain("invented-")
    const requests = text.split("\n").filter((l) => l.startsWith("switchyard_requests_total{"))
    expect(requests.filter((l) => l.includes(`model="other"`) && l.includes(`status="404"`))).toEqual([
      expect.stringMatching(/ 20$/)
    ])
    expect(requests.some((l) => l.includes(`model="gpt"`) && l.includes(`status="200"`))).toBe(true)
  })

  it("refuses a model name over 256 characters with a 400 that does not echo it", async () => {
    const long = "m".repeat(10_000)
    const r = await chat(long)
    expect(r.status).toBe(400)
    expect(r.json.error).toMatchObject({ type: "invalid_request_error", param: "model" })
    expect(r.text).not.toContain("m".repeat(300))
    expect(env.gateway.logs.some((l) => l.includes("m".repeat(300)))).toBe(false)
  })

  it("serves /metrics to the master key only", async () => {
    const anonymous = await scrape()
    expect(anonymous.status).toBe(401)
    expect(((await anonymous.json()) as any).error.code).toBe("invalid_api_key")
    const team = await scrape("sk-team-metrics-1")
    expect(team.status).toBe(403)
    expect(((await team.json()) as any).error.type).toBe("permission_error")
    expect((await scrape(MASTER)).status).toBe(200)
  })
})
