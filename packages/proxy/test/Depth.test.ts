/**
 * A body nested thousands deep, in any field, is a 400 from the decoder, never a 500 from a stack
 * overflow, and costs no upstream request; an ordinary deep tool schema still passes.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { postJson, startWithMock } from "./harness.ts"

let env: Awaited<ReturnType<typeof startWithMock>>

beforeAll(async () => {
  env = await startWithMock((mock) => `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("gpt")}" }
`)
})
afterAll(() => env.close())

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth)
const raw = (field: string, depth: number) =>
  `{"model":"gpt","messages":[{"role":"user","content":"hi"}],"${field}":${nested(depth)}}`

describe("nesting limits", () => {
  it("refuses 5,000-deep arrays in any field with an OpenAI-shaped 400", async () => {
    const before = env.mock.requests().length
    for (const field of ["metadata", "tools", "response_format", "user", "extra_body"]) {
      const r = await postJson(`${env.gateway.url}/v1/chat/completions`, raw(field, 5_000))
      expect(r.status).toBe(400)
      expect(r.json.error).toMatchObject({ type: "invalid_request_error", code: "invalid_json" })
    }
    const inMessage = `{"model":"gpt","messages":[{"role":"user","content":${nested(5_000)}}]}`
    expect((await postJson(`${env.gateway.url}/v1/chat/completions`, inMessage)).status).toBe(400)
    expect(env.mock.requests().length).toBe(before)
  })

  it("accepts a body nested an ordinary depth", async () => {
    let schema: Record<string, unknown> = { type: "string" }
    for (let i = 0; i < 20; i++) schema = { type: "object", properties: { child: schema } }
    const r = await postJson(`${env.gateway.url}/v1/chat/completions`, {
      model: "gpt",
      messages: [{ role: "user", content: "hi" }],
      tools: [{ type: "function", function: { name: "deep", parameters: schema } }]
    })
    expect(r.status).toBe(200)
  })
})
