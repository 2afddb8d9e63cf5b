/**
 * Limits hold across replicas: two gateways sharing one Redis admit a virtual key's `rpm_limit` and a
 * deployment's `rpm` in total, not each, even when the requests arrive at once. Needs the shared test Redis (`SWITCHYARD_TEST_REDIS_URL`, default port 6399).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { RedisState } from "@switchyard/redis"
import { ProvidersLive } from "@switchyard/providers"
import { type MockServer, startMockUpstream } from "@switchyard/testkit/mock"
import { randomBytes } from "node:crypto"
import { postJson, startGateway, type TestGateway } from "./harness.ts"

const redisUrl = process.env.SWITCHYARD_TEST_REDIS_URL ?? "redis://127.0.0.1:6399"
const prefix = `switchyard-test:${randomBytes(4).toString("hex")}:`

let mock: MockServer
/** The `metered` deployment's tpm. */
const TPM = 100
let replicas: Array<TestGateway> = []

beforeAll(async () => {
  mock = await startMockUpstream()
  const yaml = `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("gpt")}" }
  - model_name: limited
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("limited")}", rpm: 4 }
  - model_name: metered
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("metered")}", tpm: ${TPM} }
router_settings:
  num_retries: 0
general_settings:
  virtual_keys:
    - { key: sk-shared-limit-01, rpm_limit: 4 }
    - { key: sk-shared-nolimit-1 }
`
  // Each replica has its own state over the same Redis, as two processes would. Their snapshots sync
  // only at startup here, so a limit read from a replica's own view could never hold across both.
  const state = () => RedisState.layer({ url: redisUrl, prefix, refreshMillis: 600_000, minSyncGapMillis: 600_000 })
  replicas = [
    await startGateway(yaml, ProvidersLive, { state: state() }),
    await startGateway(yaml, ProvidersLive, { state: state() })
  ]
  // A replica counts alone while degraded: the tests start once both have reached Redis.
  for (const r of replicas) {
    while ((await (await fetch(`${r.url}/health/readiness`)).json() as { state: string }).state !== "ok") {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
})
afterAll(async () => {
  for (const r of replicas) await r.close()
  await mock.close()
})

const minuteOf = () => Math.floor(Date.now() / 60_000)

describe("limits across replicas", () => {
  it("admits a virtual key's rpm_limit once in total across two replicas", async () => {
    const statuses: Array<number> = []
    const firstMinute = minuteOf()
    for (let i = 0; i < 8; i++) {
      const r = await postJson(`${replicas[i % 2]!.url}/v1/chat/completions`, {
        model: "gpt",
        messages: [{ role: "user", content: "hi" }]
      }, { authorization: "Bearer sk-shared-limit-01" })
      statuses.push(r.status)
      if (r.status === 429) expect(r.json.error.code).toBe("rate_limit_exceeded")
    }
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([])
    // The windows are clock minutes: should the run straddle one, the new minute rightly admits more.
    if (minuteOf() === firstMinute) expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 429, 429])
    else expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(8)
  })

  it("admits a deployment's rpm once in total across two replicas, however the requests interleave", async () => {
    const firstMinute = minuteOf()
    // All at once, half through each replica: each replica's own view would admit the limit by itself.
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      postJson(`${replicas[i % 2]!.url}/v1/chat/completions`, {
        model: "limited",
        messages: [{ role: "user", content: "hi" }]
      }, { authorization: "Bearer sk-shared-nolimit-1" })))
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([])
    for (const r of results.filter((r) => r.status === 429)) expect(r.json.error.code).toBe("no_deployment_available")
    if (minuteOf() === firstMinute) {
      expect(statuses.filter((s) => s === 200)).toHaveLength(4)
      expect(mock.requests("limited")).toHaveLength(4)
    }
  })

  it("admits a deployment's tpm once in total across two replicas", async () => {
    const chat = (replica: TestGateway, model: string) =>
      postJson(`${replica.url}/v1/chat/completions`, { model, messages: [{ role: "user", content: "hi" }] }, {
        authorization: "Bearer sk-shared-nolimit-1"
      })
    const tokens: number = (await chat(replicas[0]!, "gpt")).json.usage.total_tokens
    expect(tokens).toBeGreaterThan(0)
    const firstMinute = minuteOf()
    const statuses: Array<number> = []
    for (let i = 0; i < 12; i++) statuses.push((await chat(replicas[i % 2]!, "metered")).status)
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([])
    // Requests pass while the minute's tokens are under the limit: the limit's worth, then 429s.
    const admitted = Math.min(12, Math.ceil(TPM / tokens))
    if (minuteOf() === firstMinute) {
      expect(statuses).toEqual([...Array(admitted).fill(200), ...Array(12 - admitted).fill(429)])
    }
  })
})
