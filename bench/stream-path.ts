/**
 * The stream path, measured (issue 19): a gateway's CPU per request and per chunk and its throughput
 * against the upstream direct, beside the floor of its stack, all in one run. Load generator and upstream
 * share core 0, the gateway under test has core 1 alone (taskset). Each load runs BENCH_REPEATS times;
 * the tables give the median, with every run's value in brackets.
 *   - CPU µs per request of the gateway process, read from /proc over the measured run.
 *   - Per stream a + b × chunks, fitted from the 20- and 200-chunk runs.
 *   - One request at a time: added latency and time to the first token.
 *   - 1,000 concurrent open streams: peak RSS (VmHWM) of a fresh gateway process.
 * Variants: `floor` (bench/stream-path/floor.ts: node:http + undici Pool, JSON in and out, no routing),
 * `switchyard` (this tree's CLI), and `baseline` when BENCH_BASELINE_CLI names another tree's
 * packages/proxy/src/cli.ts (e.g. main's, to put today's figures beside it).
 * Run: npx tsx bench/stream-path.ts   (BENCH_SECONDS=5 BENCH_REPEATS=3 BENCH_STREAMS=1000)
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Agent, request } from "undici"
import { CONNECTIONS, freePort, hasTaskset, load, percentile, pin, ready, rssOf, SECONDS, sequential, startTs, table } from "./harness.ts"

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3)
const STREAMS = Number(process.env.BENCH_STREAMS ?? 1000)
const BASELINE = process.env.BENCH_BASELINE_CLI

const chat = (extra: object = {}) =>
  JSON.stringify({ model: "bench", messages: [{ role: "user", content: "hi" }], ...extra })
const loads = [
  { name: "non-stream", body: chat() },
  { name: "20-chunk stream", body: chat({ stream: true, max_tokens: 20 }) },
  { name: "200-chunk stream", body: chat({ stream: true, max_tokens: 200 }) }
] as const

const median = (xs: ReadonlyArray<number>) => percentile(xs, 50)
const show = (xs: ReadonlyArray<number>, digits = 0) =>
  `${median(xs).toFixed(digits)} [${xs.map((x) => x.toFixed(digits)).join(", ")}]`

/** Opens `n` streams that stay open upstream, and reads the gateway's RSS and peak RSS while they are. */
const openStreams = async (url: string, pid: number, n: number) => {
  const agent = new Agent({ connections: n, pipelining: 0 })
  const controller = new AbortController()
  const body = JSON.stringify({ model: "stall", stream: true, messages: [{ role: "user", content: "hi" }] })
  let open = 0
  let allOpen: () => void = () => {}
  const opened = new Promise<void>((resolve) => (allOpen = resolve))
  const streams = Array.from({ length: n }, () =>
    request(url, { method: "POST", body, headers: { "content-type": "application/json" }, dispatcher: agent, signal: controller.signal })
      .then(async (res) => {
        let first = true
        for await (const _ of res.body) {
          if (first && ++open === n) allOpen()
          first = false
        }
      })
      .catch(() => {}))
  await Promise.race([opened, new Promise((r) => setTimeout(r, 60_000))])
  const during = rssOf(pid)
  controller.abort()
  await Promise.all(streams)
  await agent.close()
  return { open, rss: during.rss, peak: during.peak }
}

const main = async () => {
  pin(0)
  const dir = mkdtempSync(join(tmpdir(), "switchyard-stream-path-"))
  const upstreamPort = await freePort()
  const upstream = startTs(0, ["bench/stream-path/upstream.ts", String(upstreamPort)], join(dir, "upstream.log"))
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}`
  await ready(upstreamUrl)
  const config = join(dir, "gateway.yaml")
  writeFileSync(config, `
model_list:
  - { model_name: bench, litellm_params: { model: openai/bench, api_base: "${upstreamUrl}/v1", api_key: sk-bench } }
  - { model_name: stall, litellm_params: { model: openai/stall, api_base: "${upstreamUrl}/v1", api_key: sk-bench, stream_timeout: 300 } }
`)
  const variants: Array<{ name: string; args: (port: number) => Array<string> }> = [
    { name: "floor", args: (port) => ["bench/stream-path/floor.ts", String(port), upstreamUrl] },
    { name: "switchyard", args: (port) => ["packages/proxy/src/cli.ts", "--config", config, "--port", String(port)] },
    ...(BASELINE === undefined ? [] : [{ name: "baseline", args: (port: number) => [BASELINE, "--config", config, "--port", String(port)] }])
  ]
  const startVariant = async (v: typeof variants[number], tag: string) => {
    const port = await freePort()
    const child = startTs(1, v.args(port), join(dir, `${v.name}-${tag}.log`))
    const url = `http://127.0.0.1:${port}`
    await ready(`${url}/health/liveliness`)
    return { child, url: `${url}/v1/chat/completions` }
  }

  // results[variant][load] = { rps ratio, cpu } per repeat
  const cpu = new Map<string, Array<number>>()
  const ratio = new Map<string, Array<number>>()
  const direct = new Map<string, Array<number>>()
  const push = (m: Map<string, Array<number>>, k: string, x: number) => m.set(k, [...(m.get(k) ?? []), x])
  const running = await Promise.all(variants.map((v) => startVariant(v, "load")))
  for (let r = 0; r < REPEATS; r++) {
    for (const l of loads) {
      const d = await load(`${upstreamUrl}/v1/chat/completions`, l.body)
      push(direct, l.name, d.rps)
      for (const [i, v] of variants.entries()) {
        const p = await load(running[i]!.url, l.body, { pid: running[i]!.child.pid! })
        if (p.errors > 0) console.error(`${v.name} ${l.name}: ${p.errors} errors`)
        push(cpu, `${v.name}|${l.name}`, p.cpuPerRequest!)
        push(ratio, `${v.name}|${l.name}`, p.rps / d.rps)
      }
    }
  }
  const rows: Array<Array<string>> = []
  for (const v of variants) {
    for (const l of loads) {
      rows.push([v.name, l.name, show(ratio.get(`${v.name}|${l.name}`)!, 2), show(cpu.get(`${v.name}|${l.name}`)!)])
    }
  }
  table(
    `Throughput against the upstream direct, and the gateway's CPU per request; ${CONNECTIONS} connections × ${SECONDS} s ` +
      `after 2 s warm-up, ${REPEATS} runs; ${hasTaskset ? "load generator + upstream on core 0, gateway on core 1" : "unpinned"}; ` +
      `node ${process.version}; direct rps ${loads.map((l) => `${l.name} ${Math.round(median(direct.get(l.name)!))}`).join(", ")}`,
    ["gateway", "load", "rps / direct (median [runs])", "CPU µs per request (median [runs])"],
    rows
  )

  const fits: Array<Array<string>> = []
  for (const v of variants) {
    const c20 = cpu.get(`${v.name}|20-chunk stream`)!
    const c200 = cpu.get(`${v.name}|200-chunk stream`)!
    const b = c20.map((c, i) => (c200[i]! - c) / 180)
    const a = c20.map((c, i) => c - 20 * b[i]!)
    const perRequest = cpu.get(`${v.name}|non-stream`)!
    const floor = cpu.get("floor|non-stream")!
    fits.push([v.name, show(a), show(b, 2), show(perRequest.map((c, i) => c / floor[i]!), 2)])
  }
  table(
    "Per stream CPU = a + b × chunks (fitted per run from the 20- and 200-chunk runs); non-stream CPU against the floor's in the same run",
    ["gateway", "a µs per stream", "b µs per chunk", "non-stream CPU / floor"],
    fits
  )

  const latency: Array<Array<string>> = []
  const sd = await sequential(`${upstreamUrl}/v1/chat/completions`, loads[0].body)
  const td = await sequential(`${upstreamUrl}/v1/chat/completions`, loads[1].body)
  for (const [i, v] of variants.entries()) {
    const s = await sequential(running[i]!.url, loads[0].body)
    const t = await sequential(running[i]!.url, loads[1].body)
    latency.push([v.name, `+${(s.p50 - sd.p50).toFixed(3)}`, `+${(t.ttft - td.ttft).toFixed(3)}`])
  }
  table(
    `One request at a time (p50 over ${process.env.BENCH_SEQUENTIAL ?? 400}); direct ${sd.p50.toFixed(3)} ms, first token ${td.ttft.toFixed(3)} ms`,
    ["gateway", "non-stream: ms added", "20-chunk stream: first token ms added"],
    latency
  )
  for (const r of running) r.child.kill("SIGTERM")

  const memory: Array<Array<string>> = []
  for (const v of variants) {
    // A fresh process: its peak is the open streams' own, not a load phase's.
    const fresh = await startVariant(v, "memory")
    const idle = rssOf(fresh.child.pid!).rss
    const m = await openStreams(fresh.url, fresh.child.pid!, STREAMS)
    memory.push([v.name, idle.toFixed(0), `${m.open}`, m.rss.toFixed(0), m.peak.toFixed(0)])
    fresh.child.kill("SIGTERM")
  }
  table(`${STREAMS} concurrent open streams, each gateway a fresh process`, ["gateway", "RSS MB at start", "streams open", "RSS MB while open", "peak RSS MB"], memory)
  upstream.kill("SIGTERM")
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
