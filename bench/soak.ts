/**
 * Soak: does the router hold under real traffic? The proxy over the mock upstream, two model groups of
 * two deployments each with fallbacks both ways, CONCURRENCY clients, and random upstream faults at a
 * given rate on every deployment (500, 503, 429 with `retry-after: 0`, a cut mid-reply, a stall). Half
 * the requests are plain chat, half SSE streams; a reply counts as served only if its text is exactly the
 * reference text. The baseline, measured in the same run, is the same proxy with LiteLLM's per-minute
 * count set explicitly (`allowed_fails: 3`, the old default) against the same faults.
 * Each run starts a fresh mock and proxy and warms the proxy up on a fault-free group of its own first.
 * Run: npm run bench:soak   (SOAK_REQUESTS=4000 per run, SOAK_RATES=0,0.01,0.05, SOAK_CONCURRENCY=32,
 * SOAK_WARMUP=1000)
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave, type MockBehavior, type MockServer, startMockUpstream } from "@switchyard/testkit/mock"
import { Agent, request } from "undici"
import { cpuMicros, freePort, hasTaskset, pin, ready, startTs, table } from "./harness.ts"

const REQUESTS = Number(process.env.SOAK_REQUESTS ?? 4000)
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 32)
const WARMUP = Number(process.env.SOAK_WARMUP ?? 1000)
const RATES = (process.env.SOAK_RATES ?? "0,0.01,0.05").split(",").map(Number)
/** A stall must end somewhere: the attempt timeout (seconds), the one setting the soak changes. */
const TIMEOUT_SECONDS = 2

const deployments = ["a1", "a2", "b1", "b2"] as const
const groupOf = (d: string) => (d.startsWith("a") ? "alpha" : "beta")

/** The faults drawn from, equally likely. */
const faults: ReadonlyArray<MockBehavior> = [
  Behave.status(500),
  Behave.status(503),
  Behave.rateLimited(0),
  Behave.cutAfter(2),
  Behave.stallAfter(2)
]

/** A deterministic generator (mulberry32), so two runs at one rate meet the same faults. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** A queue of `n` behaviours where each request fails with probability `rate`; runs of successes are folded. */
const faultQueue = (n: number, rate: number, random: () => number): Array<MockBehavior> => {
  const queue: Array<MockBehavior> = []
  let oks = 0
  const flush = () => {
    if (oks > 0) queue.push(Behave.ok({ times: oks }))
    oks = 0
  }
  for (let i = 0; i < n; i++) {
    if (random() < rate) {
      flush()
      queue.push(faults[Math.floor(random() * faults.length)]!)
    } else oks++
  }
  flush()
  return queue
}

const configFor = (mock: MockServer, settings: string) => `
model_list:
${deployments.map((d) => `  - { model_name: ${groupOf(d)}, litellm_params: { model: openai/${d}, api_base: "${mock.apiBase(d)}", api_key: sk-soak } }`).join("\n")}
  - { model_name: warm, litellm_params: { model: openai/warm, api_base: "${mock.apiBase("warm")}", api_key: sk-soak } }
router_settings:
  timeout: ${TIMEOUT_SECONDS}
  fallbacks: [{ alpha: [beta] }, { beta: [alpha] }]
${settings}`

/** The text of a chat reply, plain or SSE; undefined when it is not a whole reply (a stream ending in an error event). */
const replyText = (body: string, stream: boolean): string | undefined => {
  try {
    if (!stream) return JSON.parse(body).choices[0].message.content
    let text = ""
    for (const line of body.split("\n")) {
      if (!line.startsWith("data: ") || line === "data: [DONE]") continue
      const event = JSON.parse(line.slice(6))
      if (event.error !== undefined) return undefined
      text += event.choices?.[0]?.delta?.content ?? ""
    }
    return body.includes("data: [DONE]") ? text : undefined
  } catch {
    return undefined
  }
}

interface Outcome {
  served: number
  inexact: number
  statuses: Map<string, number>
  upstreamCalls: number
  cpuPerRequest: number
  seconds: number
}

/** Requests to a fault-free group of its own, so the measured run meets a warmed-up proxy. */
const warmUp = async (base: string, agent: Agent) => {
  const body = JSON.stringify({ model: "warm", messages: [{ role: "user", content: "hi" }] })
  let left = WARMUP
  const worker = async () => {
    while (left-- > 0) {
      const res = await request(`${base}/v1/chat/completions`, { method: "POST", body, headers: { "content-type": "application/json" }, dispatcher: agent })
      await res.body.dump()
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
}

/** One soak: a fresh mock and proxy, `REQUESTS` requests at `CONCURRENCY`, faults at `rate`. */
const soak = async (dir: string, name: string, settings: string, rate: number): Promise<Outcome> => {
  const mock = await startMockUpstream()
  const random = seeded(Math.round(rate * 1e6) + 7)
  for (const d of deployments) mock.script(d, faultQueue(REQUESTS * 2, rate, random))
  const config = join(dir, `${name}-${rate}.yaml`)
  writeFileSync(config, configFor(mock, settings))
  const port = await freePort()
  const proxy = startTs(1, ["packages/proxy/src/cli.ts", "--config", config, "--port", String(port)], join(dir, `${name}-${rate}.log`))
  const base = `http://127.0.0.1:${port}`
  await ready(`${base}/health/liveliness`)
  const agent = new Agent({ connections: CONCURRENCY })
  await warmUp(base, agent)
  const outcome: Outcome = { served: 0, inexact: 0, statuses: new Map(), upstreamCalls: 0, cpuPerRequest: 0, seconds: 0 }
  const count = (key: string) => outcome.statuses.set(key, (outcome.statuses.get(key) ?? 0) + 1)
  let next = 0
  const worker = async () => {
    while (next < REQUESTS) {
      const i = next++
      const stream = i % 2 === 1
      const body = JSON.stringify({ model: i % 4 < 2 ? "alpha" : "beta", stream, messages: [{ role: "user", content: "hi" }] })
      try {
        const res = await request(`${base}/v1/chat/completions`, {
          method: "POST",
          body,
          headers: { "content-type": "application/json" },
          dispatcher: agent
        })
        const text = await res.body.text()
        if (res.statusCode !== 200) {
          const code = (() => {
            try {
              return JSON.parse(text).error.code as string
            } catch {
              return "?"
            }
          })()
          count(`${res.statusCode} ${code}`)
        } else if (replyText(text, stream) === REFERENCE_TEXT) outcome.served++
        else outcome.inexact++
      } catch (e) {
        count(`client error ${(e as Error).name}`)
      }
    }
  }
  const cpu0 = cpuMicros(proxy.pid!)
  const t0 = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  outcome.seconds = (performance.now() - t0) / 1000
  outcome.cpuPerRequest = (cpuMicros(proxy.pid!) - cpu0) / REQUESTS
  outcome.upstreamCalls = mock.requests().filter((r) => r.deployment !== "warm").length
  await agent.close()
  proxy.kill("SIGTERM")
  await mock.close()
  return outcome
}

const pct = (n: number) => `${((100 * n) / REQUESTS).toFixed(2)}%`

const main = async () => {
  pin(0)
  const dir = mkdtempSync(join(tmpdir(), "switchyard-soak-"))
  const runs = [
    { name: "default", settings: "" },
    { name: "allowed_fails: 3", settings: "  allowed_fails: 3\n" }
  ]
  const rows: Array<Array<string>> = []
  for (const rate of RATES) {
    const results = []
    for (const run of runs) results.push({ run, o: await soak(dir, run.name.replace(/\W+/g, "-"), run.settings, rate) })
    const baseline = results[1]!.o
    for (const { run, o } of results) {
      const failures = [...o.statuses].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ×${v}`).join(", ")
      rows.push([
        `${(rate * 100).toFixed(1)}%`,
        run.name,
        pct(o.served),
        o.inexact === 0 ? "all exact" : `${o.inexact} broken or inexact`,
        (o.served / Math.max(1, baseline.served)).toFixed(2) + "×",
        `${o.upstreamCalls}`,
        `${Math.round(REQUESTS / o.seconds)}`,
        `${Math.round(o.cpuPerRequest)}`,
        failures || "-"
      ])
    }
  }
  table(
    `Soak: ${REQUESTS} requests per run (half SSE), ${CONCURRENCY} concurrent, 2 groups × 2 deployments, fallbacks both ways, ` +
      `faults 500/503/429 retry-after 0/cut/stall on every deployment, timeout ${TIMEOUT_SECONDS}s; ` +
      `${hasTaskset ? "client + mock on core 0, proxy on core 1" : "unpinned"}; node ${process.version}`,
    ["fault rate", "cooldowns", "served exact", "exactness", "served vs allowed_fails: 3", "upstream calls", "req/s", "proxy CPU µs/req", "not served"],
    rows
  )
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
