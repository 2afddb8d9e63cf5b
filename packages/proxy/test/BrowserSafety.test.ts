/**
 * Keyless mode is not reachable from a web page: a foreign `Origin` or `Host` and a body a form could
 * send (`text/plain`) are refused before any upstream call; an allowed origin gets a proper preflight.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { request as httpRequest } from "node:http"
import { startWithMock } from "./harness.ts"

let env: Awaited<ReturnType<typeof startWithMock>>

beforeAll(async () => {
  env = await startWithMock((mock) => `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("gpt")}" }
general_settings:
  allowed_origins: ["https://app.example"]
  allowed_hosts: ["gateway.internal"]
`)
})
afterAll(() => env.close())

/** A raw request, so `Host` can be anything. */
const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
  new Promise<{ status: number; headers: Record<string, unknown>; json: any }>((resolve, reject) => {
    const url = new URL(path, env.gateway.url)
    const req = httpRequest({ host: "127.0.0.1", port: url.port, path, method, headers }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (c) => (text += c))
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, json: text === "" ? undefined : JSON.parse(text) }))
    })
    req.on("error", reject)
    req.end(body)
  })

const chatBody = JSON.stringify({ model: "gpt", messages: [{ role: "user", content: "hi" }] })

describe("browser safety", () => {
  it("refuses a cross-site text/plain POST, a foreign Origin and a foreign Host without calling upstream", async () => {
    const before = env.mock.requests().length
    const plain = await send("POST", "/v1/chat/completions", { "content-type": "text/plain" }, chatBody)
    expect(plain.status).toBe(415)
    expect(plain.json.error).toMatchObject({ type: "invalid_request_error", code: "unsupported_media_type" })
    const origin = await send("POST", "/v1/chat/completions", {
      "content-type": "application/json",
      origin: "https://evil.example"
    }, chatBody)
    expect(origin.status).toBe(403)
    expect(origin.json.error.code).toBe("origin_not_allowed")
    const rebound = await send("POST", "/v1/chat/completions", {
      "content-type": "application/json",
      host: "evil.example:4000"
    }, chatBody)
    expect(rebound.status).toBe(403)
    expect(rebound.json.error.code).toBe("host_not_allowed")
    const models = await send("GET", "/v1/models", { host: "evil.example" })
    expect(models.status).toBe(403)
    expect(env.mock.requests().length).toBe(before)
  })

  it("serves loopback, configured hosts and allowed origins, with CORS", async () => {
    const local = await send("POST", "/v1/chat/completions", { "content-type": "application/json" }, chatBody)
    expect(local.status).toBe(200)
    const named = await send("POST", "/v1/chat/completions", {
      "content-type": "application/json; charset=utf-8",
      host: "gateway.internal:4000",
      origin: "https://app.example"
    }, chatBody)
    expect(named.status).toBe(200)
    expect(named.headers["access-control-allow-origin"]).toBe("https://app.example")
    const preflight = await send("OPTIONS", "/v1/chat/completions", {
      origin: "https://app.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type"
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers["access-control-allow-origin"]).toBe("https://app.example")
    expect(String(preflight.headers["access-control-allow-headers"])).toContain("authorization")
    const refused = await send("OPTIONS", "/v1/chat/completions", { origin: "https://evil.example" })
    expect(refused.status).toBe(403)
    expect(refused.headers["access-control-allow-origin"]).toBeUndefined()
  })
})
