/**
 * A request abandoned before its first byte still ends in exactly one log line and one
 * `switchyard_requests_total` increment, with status 499, so a hung upstream shows.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { makeScriptedProvider, Outcome, type ScriptedProvider } from "@switchyard/testkit"
import { startGateway, type TestGateway } from "./harness.ts"

let provider: ScriptedProvider
let gateway: TestGateway

beforeAll(async () => {
  provider = makeScriptedProvider()
  gateway = await startGateway(`
model_list:
  - model_name: slow
    litellm_params: { model: scripted/slow }
`, [provider])
})
afterAll(() => gateway.close())

describe("abandoned requests", () => {
  it("logs and counts a request the client left before the first byte as 499, once", async () => {
    let reached!: () => void
    const upstreamReached = new Promise<void>((resolve) => (reached = resolve))
    // The upstream hangs (far longer than the test) once it has the request.
    provider.script("slow#1", [Outcome.dynamic(() => (reached(), Outcome.delay(600_000)))])
    const abort = new AbortController()
    const pending = fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "slow", messages: [{ role: "user", content: "hi" }] }),
      signal: abort.signal
    }).catch((e: unknown) => e)
    await upstreamReached
    abort.abort()
    await pending
    await gateway.logged("status=499")
    const lines = gateway.logs.filter((l) => l.includes("message=request") && l.includes("model=slow"))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain("status=499")
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text()
    const series = metrics.split("\n").filter((l) => l.startsWith("switchyard_requests_total") && l.includes(`model="slow"`))
    expect(series).toHaveLength(1)
    expect(series[0]).toContain(`status="499"`)
    expect(series[0]).toMatch(/ 1$/)
  })
})
