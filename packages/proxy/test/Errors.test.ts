/**
 * The error table end to end: each upstream failure class reaches the client with OpenAI's error shape
 * and the status the table gives it; keys an upstream echoes never reach the client or the log.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import { Behave, type MockBehavior } from "@switchyard/testkit/mock"
import { postJson, startWithMock } from "./harness.ts"

let env: Awaited<ReturnType<typeof startWithMock>>
const UPSTREAM_KEY = "sk-upstream-echoed-key-42"

beforeAll(async () => {
  env = await startWithMock((mock) => `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("gpt")}", api_key: ${UPSTREAM_KEY} }
  - model_name: limited
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("limited")}", api_key: ${UPSTREAM_KEY}, rpm: 1 }
router_settings:
  num_retries: 0
  timeout: 0.3
  disable_cooldowns: true
`)
})
afterAll(() => env.close())
beforeEach(() => env.mock.reset())

const chat = (model = "gpt") =>
  postJson(`${env.gateway.url}/v1/chat/completions`, { model, messages: [{ role: "user", content: "hi" }] })

const cases: ReadonlyArray<{
  readonly name: string
  readonly behavior: MockBehavior
  readonly status: number
  readonly type: string
  readonly code?: string
  readonly retryAfter?: string
}> = [
  { name: "a bad request (400) passes through", behavior: Behave.status(400, { message: "temperature is too high", param: "temperature" }), status: 400, type: "invalid_request_error" },
  { name: "context window exceeded", behavior: Behave.contextLengthExceeded(), status: 400, type: "invalid_request_error", code: "context_length_exceeded" },
  { name: "content policy", behavior: Behave.contentFilter(), status: 400, type: "invalid_request_error", code: "content_policy_violation" },
  { name: "rate limited, with retry-after", behavior: Behave.rateLimited(7), status: 429, type: "rate_limit_error", code: "rate_limit_exceeded", retryAfter: "7" },
  { name: "a server error", behavior: Behave.status(500), status: 502, type: "upstream_error" },
  { name: "overloaded", behavior: Behave.status(503), status: 503, type: "service_unavailable_error" },
  { name: "a connection reset", behavior: Behave.reset(), status: 502, type: "upstream_error" },
  { name: "a malformed reply", behavior: Behave.malformed(), status: 502, type: "upstream_error" },
  { name: "a timeout", behavior: Behave.ok({ delayMillis: 1000 }), status: 504, type: "timeout_error" },
  { name: "the operator's key rejected upstream", behavior: Behave.status(401), status: 502, type: "upstream_error" },
  { name: "the model missing upstream", behavior: Behave.modelNotFound(), status: 502, type: "upstream_error" }
]

describe("upstream failures reach the client as the table says", () => {
  for (const c of cases) {
    it(c.name, async () => {
      env.mock.otherwise("gpt", c.behavior)
      const r = await chat()
      expect(r.status).toBe(c.status)
      expect(Object.keys(r.json.error).sort()).toEqual(["code", "message", "param", "type"])
      expect(r.json.error.type).toBe(c.type)
      if (c.code !== undefined) expect(r.json.error.code).toBe(c.code)
      if (c.retryAfter !== undefined) expect(r.headers.get("retry-after")).toBe(c.retryAfter)
      expect(r.headers.get("x-switchyard-attempts")).toBe("1")
      expect(r.text).not.toContain(UPSTREAM_KEY)
    })
  }

  it("a bad request names the parameter the upstream named", async () => {
    env.mock.otherwise("gpt", Behave.status(400, { message: "temperature is too high", param: "temperature" }))
    const r = await chat()
    expect(r.json.error.message).toContain("temperature is too high")
    expect(r.json.error.param).toBe("temperature")
  })

  it("a key an upstream quotes in a message the client sees is blanked", async () => {
    env.mock.otherwise("gpt", Behave.status(400, { message: `header carried ${UPSTREAM_KEY}, which is not allowed here` }))
    const r = await chat()
    expect(r.status).toBe(400)
    expect(r.text).not.toContain(UPSTREAM_KEY)
    expect(r.json.error.message).toContain("which is not allowed here")
  })

  it("no deployment available: 429 with retry-after in whole seconds", async () => {
    expect((await chat("limited")).status).toBe(200)
    const r = await chat("limited")
    expect(r.status).toBe(429)
    expect(r.json.error.code).toBe("no_deployment_available")
    const seconds = Number(r.headers.get("retry-after"))
    expect(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60).toBe(true)
  })

  it("no upstream key ever reaches a log line", () => {
    for (const line of env.gateway.logs) expect(line).not.toContain(UPSTREAM_KEY)
  })
})
