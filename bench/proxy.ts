/**
 * Proxy on loopback: the mock upstream direct against the same load through the proxy, measured in the
 * same run. Load generator (autocannon, in this process) and mock share core 0; the proxy gets core 1.
 * Also: one request at a time (added latency, time to first token), 1,000 concurrent SSE streams (peak
 * RSS of the proxy), and failover latency (primary answers 500 at once, the fallback serves).
 * Run: npm run bench:proxy   (BENCH_SECONDS=10 BENCH_CONNECTIONS=32 by default; BENCH_PROXY_FLAGS adds node
 * flags to the proxy only, e.g. BENCH_PROXY_FLAGS=--max-semi-space-size=16)
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Agent, request } from "undici"
import {
  chatBodies,
  CONNECTIONS,
  freePort,
  hasTaskset,
  load,
  pin,
  ready,
  rssOf,
  SECONDS,
  sequential,
  startTs,
  table
} from "./harness.ts"

const STREAMS = Number(process.env.BENCH_STREAMS ?? 1000)
/** A Redis to compare the gateway's state on (`npm run bench:proxy` starts one on 6399); "" skips it. */
const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6399"
/** Extra node flags for the proxy only (e.g. `--max-semi-space-size=16`), to measure V8 heap settings. */
const PROXY_FLAGS = (process.env.BENCH_PROXY_FLAGS ?? "").split(" ").filter((f) => f !== "")

const bodies = chatBodies

/** Opens `n` SSE streams at once through the proxy (they stall upstream), then reads the proxy's peak RSS. */
const concurrentStreams = async (url: string, pid: number, n: number) => {
  const agent = new Agent({ connections: n, pipelining: 0 })
  const before = rssOf(pid).rss
  const controller = new AbortController()
  const body = JSON.stringify({ model: "stall", stream: true, messages: [{ role: "user", content: "hi" }] })
  let open = 0
  const streams = Array.from({ length: n }, () =>
    request(url, { method: "POST", body, headers: { "content-type": "application/json" }, dispatcher: agent, signal: controller.signal })
      .then(async (res) => {
        open++
        for await (const _ of res.body) { /* hold the stream open */ }
      })
      .catch(() => {}))
  const deadline = Date.now() + 30_000
  while (open < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  await new Promise((r) => setTimeout(r, 1000))
  const during = rssOf(pid)
  controller.abort()
  await Promise.all(streams)
  await agent.close()
  return { open, before, during: during.rss, peak: during.peak }
}

const main = async () => {
  pin(0)
  const dir = mkdtempSync(join(tmpdir(), "switchyard-bench-"))
  const script = join(dir, "mock.json")
  writeFileSync(script, JSON.stringify({
    failing: { behaviors: [], otherwise: { kind: "error", status: 500, message: "primary down" } },
    stall: { behaviors: [], otherwise: { kind: "stall", after: 3 } }
  }))
  const mockPort = await freePort()
  const mock = startTs(0, ["packages/testkit/src/mock/main.ts", "--port", String(mockPort), "--script", script], join(dir, "mock.log"))
  const mockUrl = `http://127.0.0.1:${mockPort}`
  await ready(`${mockUrl}/_mock/requests`)
  const base = (name: string) => `${mockUrl}/d/${name}/v1`
  const config = join(dir, "bench.yaml")
  writeFileSync(config, `
model_list:
  - { model_name: bench, litellm_params: { model: openai/bench, api_base: "${base("bench")}", api_key: sk-bench } }
  - { model_name: failover, litellm_params: { model: openai/failing, api_base: "${base("failing")}", api_key: sk-bench, num_retries: 0 } }
  - { model_name: stall, litellm_params: { model: openai/stall, api_base: "${base("stall")}", api_key: sk-bench, stream_timeout: 120 } }
router_settings:
  fallbacks: [{ failover: [bench] }]
`)
  const proxyPort = await freePort()
  const proxy = startTs(1, ["packages/proxy/src/cli.ts", "--config", config, "--port", String(proxyPort)], join(dir, "proxy.log"), PROXY_FLAGS)
  const proxyUrl = `http://127.0.0.1:${proxyPort}`
  await ready(`${proxyUrl}/health/liveliness`)
  const startRss = rssOf(proxy.pid!).rss
  const direct = `${base("bench")}/chat/completions`
  const through = `${proxyUrl}/v1/chat/completions`

  const rows: Array<[string, string, string, string]> = []
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`
  for (const [name, body] of [["chat, non-stream", bodies.chat], ["chat, 20-chunk SSE", bodies.stream]] as const) {
    const d = await load(direct, body)
    const p = await load(through, body, { pid: proxy.pid! })
    rows.push([
      `${name}: rps direct / proxy`,
      `${Math.round(d.rps)} / ${Math.round(p.rps)}`,
      ratio(p.rps, d.rps),
      `errors ${d.errors}/${p.errors}; proxy CPU ${Math.round(p.cpuPerRequest!)} µs/request`
    ])
    rows.push([`${name}: p50 ms direct / proxy`, `${d.p50} / ${p.p50}`, ratio(p.p50, d.p50), ""])
    rows.push([`${name}: p99 ms direct / proxy`, `${d.p99} / ${p.p99}`, ratio(p.p99, d.p99), ""])
  }
  const sd = await sequential(direct, bodies.chat)
  const sp = await sequential(through, bodies.chat)
  rows.push(["one at a time, non-stream: p50 ms direct / proxy", `${sd.p50.toFixed(3)} / ${sp.p50.toFixed(3)}`, `+${(sp.p50 - sd.p50).toFixed(3)} ms`, ""])
  const td = await sequential(direct, bodies.stream)
  const tp = await sequential(through, bodies.stream)
  rows.push(["one at a time, SSE: first token ms direct / proxy", `${td.ttft.toFixed(3)} / ${tp.ttft.toFixed(3)}`, `+${(tp.ttft - td.ttft).toFixed(3)} ms`, ""])
  const fallbackOnly = await sequential(through, bodies.chat, 200)
  const failover = await sequential(through, bodies.chat.replace('"bench"', '"failover"'), 200)
  rows.push(["failover (500 then fallback) vs fallback alone: p50 ms", `${failover.p50.toFixed(3)} / ${fallbackOnly.p50.toFixed(3)}`, `+${(failover.p50 - fallbackOnly.p50).toFixed(3)} ms`, ""])
  if (REDIS_URL !== "") {
    // The same gateway with its router state on Redis, against the in-memory one measured above.
    const redisConfig = join(dir, "bench-redis.yaml")
    writeFileSync(redisConfig, `${readFileSync(config, "utf8")}  redis_url: "${REDIS_URL}"\n`)
    const redisPort = await freePort()
    const shared = startTs(1, ["packages/proxy/src/cli.ts", "--config", redisConfig, "--port", String(redisPort)], join(dir, "proxy-redis.log"), PROXY_FLAGS)
    await ready(`http://127.0.0.1:${redisPort}/health/liveliness`)
    const viaRedis = `http://127.0.0.1:${redisPort}/v1/chat/completions`
    const m = await load(through, bodies.chat, { pid: proxy.pid! })
    const r = await load(viaRedis, bodies.chat, { pid: shared.pid! })
    rows.push([
      "non-stream rps: in-memory state / Redis state",
      `${Math.round(m.rps)} / ${Math.round(r.rps)}`,
      ratio(r.rps, m.rps),
      `proxy CPU ${Math.round(m.cpuPerRequest!)} / ${Math.round(r.cpuPerRequest!)} µs/request`
    ])
    const sm = await sequential(through, bodies.chat, 200)
    const sr = await sequential(viaRedis, bodies.chat, 200)
    rows.push(["one at a time p50 ms: in-memory / Redis state", `${sm.p50.toFixed(3)} / ${sr.p50.toFixed(3)}`, `+${(sr.p50 - sm.p50).toFixed(3)} ms`, ""])
    shared.kill("SIGTERM")
  }
  const mem = await concurrentStreams(through, proxy.pid!, STREAMS)
  rows.push(["proxy RSS MB right after start", startRss.toFixed(0), "", ""])
  rows.push([`${STREAMS} concurrent SSE streams: proxy RSS MB idle / during / peak`, `${mem.before.toFixed(0)} / ${mem.during.toFixed(0)} / ${mem.peak.toFixed(0)}`, `${mem.open} open`, ""])

  table(
    `Proxy on loopback, ${CONNECTIONS} connections × ${SECONDS} s after a 2 s warm-up; ` +
      `${hasTaskset ? "load generator + mock on core 0, proxy on core 1 (taskset)" : "no taskset: unpinned"}; node ${process.version}` +
      `${PROXY_FLAGS.length > 0 ? `; proxy flags: ${PROXY_FLAGS.join(" ")}` : ""}`,
    ["measure", "value", "ratio / added", "note"],
    rows
  )
  proxy.kill("SIGTERM")
  mock.kill("SIGTERM")
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
