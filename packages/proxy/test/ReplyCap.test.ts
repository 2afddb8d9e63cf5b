/**
 * Upstream replies are capped (`max_response_body_mb`): a declared oversize `Content-Length` is refused
 * before the body arrives and an undeclared one as it passes the cap, each a MalformedResponse that
 * fails over. A request declaring a body over the request limit gets its 413 before sending it.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { connect } from "node:net"
import { postJson, startWithMock } from "./harness.ts"

/** A reply as big as `bytes`, valid JSON once whole. */
const chatReply = (bytes: number) =>
  JSON.stringify({
    id: "x",
    object: "chat.completion",
    created: 0,
    model: "gpt-4o",
    choices: [{ index: 0, message: { role: "assistant", content: "a".repeat(bytes) }, finish_reason: "stop" }]
  })

/** Upstreams that answer too much: one declares 100 MB and stalls, one streams 2 MB undeclared. */
const hostile = async () => {
  const server: Server = createServer((req, res) => {
    req.resume()
    req.on("end", () => {
      if (req.url?.startsWith("/declared")) {
        res.writeHead(200, { "content-type": "application/json", "content-length": String(100 * 1024 * 1024) })
        res.write("{\"id\":")
        return
      }
      // Written in two parts, so Node sends it chunked, with no length declared.
      const reply = chatReply(2 * 1024 * 1024)
      res.writeHead(200, { "content-type": "application/json" })
      res.write(reply.slice(0, 1000))
      res.end(reply.slice(1000))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { base, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) }
}

let upstream: Awaited<ReturnType<typeof hostile>>
let env: Awaited<ReturnType<typeof startWithMock>>

beforeAll(async () => {
  upstream = await hostile()
  env = await startWithMock((mock) => `
model_list:
  - model_name: declared
    litellm_params: { model: openai/gpt-4o, api_base: "${upstream.base}/declared/v1" }
  - model_name: chunked
    litellm_params: { model: openai/gpt-4o, api_base: "${upstream.base}/chunked/v1" }
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("gpt")}" }
router_settings:
  num_retries: 0
  fallbacks: [{ declared: [gpt] }, { chunked: [gpt] }]
general_settings:
  max_response_body_mb: 1
`)
})
afterAll(async () => {
  await env.close()
  await upstream.close()
})

const chat = (model: string) =>
  postJson(`${env.gateway.url}/v1/chat/completions`, { model, messages: [{ role: "user", content: "hi" }] })

describe("reply size cap", () => {
  it("refuses a declared oversize reply before its body and fails over", async () => {
    const r = await chat("declared")
    expect(r.status).toBe(200)
    expect(r.headers.get("x-switchyard-fallbacks")).toBe("1")
  })

  it("refuses an undeclared reply once it passes the cap and fails over", async () => {
    const r = await chat("chunked")
    expect(r.status).toBe(200)
    expect(r.headers.get("x-switchyard-fallbacks")).toBe("1")
    const metrics = await (await fetch(`${env.gateway.url}/metrics`)).text()
    const failures = metrics.split("\n").filter((l) => l.startsWith("switchyard_deployment_failures_total{"))
    expect(failures.filter((l) => l.includes(`error="MalformedResponse"`))).toHaveLength(2)
  })

  it("answers 413 to a request declaring an oversize body, without waiting for it", async () => {
    const socket = connect(Number(new URL(env.gateway.url).port), "127.0.0.1")
    let received = ""
    socket.on("data", (d) => (received += d.toString()))
    socket.on("error", () => {})
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()))
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${100 * 1024 * 1024}\r\n\r\n{`
    )
    await closed
    expect(received).toMatch(/^HTTP\/1\.1 413/)
    expect(received).toContain("request_too_large")
  })
})
