/**
 * No door held open: an early error reply closes the connection instead of reading a trickled body,
 * slow headers hit a configured timeout, and on shutdown connections without a request in flight
 * (silent ones, half-sent headers) are closed at once rather than after the drain deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { connect, type Socket } from "node:net"
import { startWithMock } from "./harness.ts"

const config = (apiBase: string) => `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${apiBase}" }
general_settings:
  master_key: sk-master-conn-1
`

/** A raw connection, with everything it received and a promise of its close. */
const open = async (url: string) => {
  const { port } = new URL(url)
  const socket: Socket = connect(Number(port), "127.0.0.1")
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()))
  let received = ""
  socket.on("data", (d) => (received += d.toString()))
  socket.on("error", () => {})
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()))
  return { socket, closed, received: () => received }
}

let env: Awaited<ReturnType<typeof startWithMock>>

beforeAll(async () => {
  env = await startWithMock((mock) => config(mock.apiBase("gpt")), { timeouts: { headersMillis: 200 } })
})
afterAll(() => env.close())

describe("connections", () => {
  it("closes the connection after a 401 instead of reading the rest of a trickled body", async () => {
    const c = await open(env.gateway.url)
    c.socket.write(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{\"model\""
    )
    await c.closed
    expect(c.received()).toMatch(/^HTTP\/1\.1 401/)
    expect(c.received().toLowerCase()).toContain("connection: close")
  })

  it("drops a client that never finishes its headers once the headers timeout passes", async () => {
    const c = await open(env.gateway.url)
    c.socket.write("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    await c.closed
    expect(c.received()).not.toContain("200 OK")
  })

  it("on shutdown closes silent and half-sent connections at once, not after the drain deadline", async () => {
    const own = await startWithMock((mock) => config(mock.apiBase("gpt")), { drainTimeoutMillis: 600_000 })
    const silent = await open(own.gateway.url)
    const half = await open(own.gateway.url)
    half.socket.write("GET /health/liveness HTTP/1.1\r\n")
    await own.close()
    await Promise.all([silent.closed, half.closed])
  })
})
