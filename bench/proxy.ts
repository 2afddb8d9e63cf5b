/**
 * Proxy on loopback: the mock upstream direct against the same load through the proxy, measured in the
 * same run. Load generator (autocannon, in this process) and mock share core 0; the proxy gets core 1.
 * Also: one request at a time (added latency, time to first token), 1,000 concurrent SSE streams (peak
 * RSS of the proxy), and failover latency (primary answers 500 at once, the fallback serves).
 * Run: npm run bench:proxy   (BENCH_SECONDS=10 BENCH_CONNECTIONS=32 by default; BENCH_PROXY_FLAGS adds node
 * flags to the proxy only, e.g. BENCH_PROXY_FLAGS=--max-semi-space-size=16)
 */
import autocannon from "autocannon"
import { execFileSync, spawn } from "node:child_process"
import { mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Agent, request } from "undici"
import { REFERENCE_TEXT, words } from "@switchyard/testkit"

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32)
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 400)
const STREAMS = Number(process.env.BENCH_STREAMS ?? 1000)
const root = new URL("..", import.meta.url).pathname

const hasTaskset = (() => {
  try {
    execFileSync("taskset", ["-c", "0", "true"])
    return true
  } catch {
    return false
  }
})()

/** Extra node flags for the proxy only (e.g. `--max-semi-space-size=16`), to measure V8 heap settings. */
const PROXY_FLAGS = (process.env.BENCH_PROXY_FLAGS ?? "").split(" ").filter((f) => f !== "")

/** Starts a child on one core, its output going to `log` (a file: a pipe to this busy process would throttle it). */
const start = (core: number, args: ReadonlyArray<string>, log: string, flags: ReadonlyArray<string> = []) => {
  const argv = [process.execPath, ...flags, "--import", "tsx", ...args]
  const out = openSync(log, "w")
  return hasTaskset
    ? spawn("taskset", ["-c", String(core), ...argv], { cwd: root, stdio: ["ignore", out, out] })
    : spawn(argv[0]!, argv.slice(1), { cwd: root, stdio: ["ignore", out, out] })
}

/** Waits until `url` answers. */
const ready = async (url: string) => {
  for (let i = 0; i < 300; i++) {
    try {
      const res = await request(url)
      await res.body.dump()
      return
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  throw new Error(`${url} did not come up`)
}

/** A free loopback port. */
const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })

const pin = (core: number) => {
  if (hasTaskset) execFileSync("taskset", ["-cp", String(core), String(process.pid)], { stdio: "ignore" })
}

// A 20-chunk stream: the request carries the first words of the reference as an assistant prefill, and the
// mock continues with exactly the last 20 words.
const all = words(REFERENCE_TEXT)
const prefill = all.slice(0, all.length - 20).join("")
const bodies = {
  chat: JSON.stringify({ model: "bench", messages: [{ role: "user", content: "hi" }] }),
  stream: JSON.stringify({
    model: "bench",
    stream: true,
    messages: [{ role: "user", content: "hi" }, { role: "assistant", content: prefill }]
  })
}

/** CPU time (user + system) a process has used so far, in microseconds. */
const cpuMicros = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[11]) + Number(fields[12])) * 1e6 / 100
}

/** Loads `url` (after a warm-up); with `pid`, also the CPU that process spent per request in the measured run. */
const load = async (url: string, body: string, pid?: number) => {
  const options = {
    url,
    method: "POST" as const,
    connections: CONNECTIONS,
    headers: { "content-type": "application/json" },
    body
  }
  await autocannon({ ...options, duration: 2 })
  const cpu0 = pid === undefined ? 0 : cpuMicros(pid)
  const r = await autocannon({ ...options, duration: SECONDS })
  const cpuPerRequest = pid === undefined ? undefined : (cpuMicros(pid) - cpu0) / r.requests.total
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx, cpuPerRequest }
}

const percentile = (xs: Array<number>, p: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/** One request at a time: total time and time to the first content byte after the headers. */
const sequential = async (url: string, body: string, n = SEQUENTIAL) => {
  const agent = new Agent({ connections: 1 })
  const total: Array<number> = []
  const first: Array<number> = []
  for (let i = 0; i < n + 50; i++) {
    const t0 = performance.now()
    const res = await request(url, { method: "POST", body, headers: { "content-type": "application/json" }, dispatcher: agent })
    let t1 = 0
    for await (const chunk of res.body) {
      if (t1 === 0 && (chunk as Buffer).includes("content")) t1 = performance.now()
    }
    if (i >= 50) {
      total.push(performance.now() - t0)
      first.push((t1 || performance.now()) - t0)
    }
  }
  await agent.close()
  return { p50: percentile(total, 50), p99: percentile(total, 99), ttft: percentile(first, 50) }
}

const rssOf = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const kb = (key: string) => Number(status.match(new RegExp(`${key}:\\s+(\\d+)`))?.[1] ?? 0)
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 }
}

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
  const mock = start(0, ["packages/testkit/src/mock/main.ts", "--port", String(mockPort), "--script", script], join(dir, "mock.log"))
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
  const proxy = start(1, ["packages/proxy/src/cli.ts", "--config", config, "--port", String(proxyPort)], join(dir, "proxy.log"), PROXY_FLAGS)
  const proxyUrl = `http://127.0.0.1:${proxyPort}`
  await ready(`${proxyUrl}/health/liveliness`)
  const startRss = rssOf(proxy.pid!).rss
  const direct = `${base("bench")}/chat/completions`
  const through = `${proxyUrl}/v1/chat/completions`

  const rows: Array<[string, string, string, string]> = []
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`
  for (const [name, body] of [["chat, non-stream", bodies.chat], ["chat, 20-chunk SSE", bodies.stream]] as const) {
    const d = await load(direct, body)
    const p = await load(through, body, proxy.pid!)
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
  const mem = await concurrentStreams(through, proxy.pid!, STREAMS)
  rows.push(["proxy RSS MB right after start", startRss.toFixed(0), "", ""])
  rows.push([`${STREAMS} concurrent SSE streams: proxy RSS MB idle / during / peak`, `${mem.before.toFixed(0)} / ${mem.during.toFixed(0)} / ${mem.peak.toFixed(0)}`, `${mem.open} open`, ""])

  console.log(`\nProxy on loopback, ${CONNECTIONS} connections × ${SECONDS} s after a 2 s warm-up; ` +
    `${hasTaskset ? "load generator + mock on core 0, proxy on core 1 (taskset)" : "no taskset: unpinned"}; node ${process.version}` +
    `${PROXY_FLAGS.length > 0 ? `; proxy flags: ${PROXY_FLAGS.join(" ")}` : ""}\n`)
  console.log("| measure | value | ratio / added | note |\n|---|---:|---:|---|")
  for (const r of rows) console.log(`| ${r.join(" | ")} |`)
  proxy.kill("SIGTERM")
  mock.kill("SIGTERM")
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
