/**
 * What the gateway tells its operator: Prometheus metrics (requests, attempts, failures, retries,
 * fallbacks, continuations, latency and overhead), health, readiness, and request spans over OTLP.
 */
import { describe, expect, it } from "@effect/vitest"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave } from "@switchyard/testkit/mock"
import { ConfigProvider, Layer } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import OpenAI from "openai"
import { telemetryLayer } from "../src/Telemetry.ts"
import { postJson, startWithMock } from "./harness.ts"

const metricValue = (text: string, name: string, labels: Record<string, string>) => {
  const line = text.split("\n").find((l) =>
    l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))
  )
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1))
}

describe("metrics", () => {
  it("count requests, attempts, failures, fallbacks and continuations", async () => {
    const env = await startWithMock((mock) => `
model_list:
  - model_name: primary
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("primary")}" }
  - model_name: backup
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("backup")}" }
router_settings:
  num_retries: 0
  fallbacks: [{ primary: [backup] }]
`)
    try {
      env.mock.script("primary", [Behave.status(500), Behave.cutAfter(4)])
      const messages = [{ role: "user" as const, content: "hi" }]
      expect((await postJson(`${env.gateway.url}/v1/chat/completions`, { model: "primary", messages })).status).toBe(200)
      const client = new OpenAI({ baseURL: `${env.gateway.url}/v1`, apiKey: "x", maxRetries: 0 })
      let text = ""
      for await (const c of await client.chat.completions.create({ model: "primary", messages, stream: true })) {
        text += c.choices[0]?.delta.content ?? ""
      }
      expect(text).toBe(REFERENCE_TEXT)
      expect((await postJson(`${env.gateway.url}/v1/chat/completions`, { model: "nope", messages: [] })).status).toBe(400)

      const response = await fetch(`${env.gateway.url}/metrics`)
      expect(response.headers.get("content-type")).toContain("text/plain")
      const text2 = await response.text()
      expect(metricValue(text2, "switchyard_requests_total", { model: "primary", operation: "chat", status: "200" })).toBe(2)
      expect(metricValue(text2, "switchyard_requests_total", { operation: "chat", status: "400" })).toBe(1)
      expect(metricValue(text2, "switchyard_attempts_total", { deployment: "primary#1" })).toBe(2)
      expect(metricValue(text2, "switchyard_attempts_total", { deployment: "backup#1" })).toBe(2)
      expect(metricValue(text2, "switchyard_deployment_failures_total", { deployment: "primary#1", error: "ServerError" })).toBe(1)
      expect(metricValue(text2, "switchyard_deployment_failures_total", { deployment: "primary#1", error: "MidStream" })).toBe(1)
      expect(metricValue(text2, "switchyard_fallbacks_total", { model: "primary" })).toBe(2)
      expect(metricValue(text2, "switchyard_stream_continuations_total", { model: "primary" })).toBe(1)
      expect(metricValue(text2, "switchyard_request_duration_seconds_count", { operation: "chat" })).toBe(3)
      expect(metricValue(text2, "switchyard_overhead_seconds_count", { operation: "chat" })).toBe(3)
      // The health estimate: primary#1 failed 2 of its 2 requests (too few to cool it); backup#1 none of 2.
      expect(metricValue(text2, "switchyard_deployment_failure_rate", { deployment: "primary#1", group: "primary" })).toBe(1)
      expect(metricValue(text2, "switchyard_deployment_failure_rate", { deployment: "backup#1", group: "backup" })).toBe(0)
      expect(metricValue(text2, "switchyard_deployment_cooldown_seconds", { deployment: "primary#1" })).toBe(0)
      expect(metricValue(text2, "switchyard_deployment_cooldown_strict", { deployment: "primary#1" })).toBe(0)
    } finally {
      await env.close()
    }
    // The continuation's first usage estimate loads the tokenizer, which takes seconds on a busy machine.
  }, 20_000)
})

describe("health", () => {
  it("answers liveliness and readiness without auth", async () => {
    const env = await startWithMock((mock) => `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("gpt")}" }
general_settings: { master_key: sk-health-master-00 }
`)
    try {
      const live = await fetch(`${env.gateway.url}/health/liveliness`)
      expect(live.status).toBe(200)
      const ready = await fetch(`${env.gateway.url}/health/readiness`)
      expect(ready.status).toBe(200)
      expect(await ready.json()).toMatchObject({ status: "ready", model_groups: 1, deployments: 1 })
    } finally {
      await env.close()
    }
  })
})

describe("tracing", () => {
  it("exports a span per request over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set", async () => {
    const received: Array<unknown> = []
    const collector = createServer((req, res) => {
      let body = ""
      req.on("data", (c) => (body += c))
      req.on("end", () => {
        if (req.url === "/v1/traces") received.push(JSON.parse(body))
        res.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve))
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`
    const env = ConfigProvider.fromEnv({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: "switchyard-test" } })
    const tracing = telemetryLayer.pipe(Layer.provide(ConfigProvider.layer(env)))
    const started = await startWithMock((mock) => `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("gpt")}" }
`, { extra: tracing as Layer.Layer<never> })
    try {
      await postJson(`${started.gateway.url}/v1/chat/completions`, { model: "gpt", messages: [{ role: "user", content: "hi" }] }, {
        authorization: "Bearer sk-client-key-in-span-0"
      })
    } finally {
      await started.close()
      collector.close()
    }
    const spans = JSON.stringify(received)
    expect(spans).toContain("switchyard.request")
    expect(spans).toContain("switchyard-test")
    expect(spans).toContain("switchyard.operation")
    expect(spans).toContain("switchyard.attempt")
    expect(spans).not.toContain("sk-client-key-in-span-0")
  })
})
