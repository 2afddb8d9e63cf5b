/**
 * What the loopback benchmarks share: processes pinned to a core, readiness, the load generator
 * (autocannon), and one-request-at-a-time timing.
 */
import autocannon from "autocannon"
import { execFileSync, spawn } from "node:child_process"
import { openSync, readFileSync } from "node:fs"
import { createServer } from "node:net"
import { REFERENCE_TEXT, words } from "@switchyard/testkit"
import { Agent, request } from "undici"

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32)
export const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 400)
export const root = new URL("..", import.meta.url).pathname

const reference = words(REFERENCE_TEXT)
/**
 * The two loads every benchmark uses: a plain chat, and a 20-chunk stream (the assistant prefill carries
 * all but the last 20 words of the reference text, and the mock continues with exactly those).
 */
export const chatBodies = {
  chat: JSON.stringify({ model: "bench", messages: [{ role: "user", content: "hi" }] }),
  stream: JSON.stringify({
    model: "bench",
    stream: true,
    messages: [
      { role: "user", content: "hi" },
      { role: "assistant", content: reference.slice(0, reference.length - 20).join("") }
    ]
  })
}

/** Whether `taskset` can pin processes here (the tables say which). */
export const hasTaskset = (() => {
  try {
    execFileSync("taskset", ["-c", "0", "true"])
    return true
  } catch {
    return false
  }
})()

/** Pins this process to one core. */
export const pin = (core: number) => {
  if (hasTaskset) execFileSync("taskset", ["-cp", String(core), String(process.pid)], { stdio: "ignore" })
}

/** Starts `command args` on one core, output to `log` (a file: a pipe to this busy process would throttle it). */
export const start = (core: number, command: string, args: ReadonlyArray<string>, log: string) => {
  const out = openSync(log, "w")
  return hasTaskset
    ? spawn("taskset", ["-c", String(core), command, ...args], { cwd: root, stdio: ["ignore", out, out] })
    : spawn(command, [...args], { cwd: root, stdio: ["ignore", out, out] })
}

/** Starts a TypeScript entry of this repository with tsx (and extra node `flags`). */
export const startTs = (core: number, args: ReadonlyArray<string>, log: string, flags: ReadonlyArray<string> = []) =>
  start(core, process.execPath, [...flags, "--import", "tsx", ...args], log)

/** Waits until `url` answers at all. */
export const ready = async (url: string) => {
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
export const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })

/** CPU time (user + system) a process has used so far, in microseconds. */
export const cpuMicros = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[11]) + Number(fields[12])) * 1e6 / 100
}

/**
 * Throughput and latency under CONNECTIONS connections for SECONDS, after a 2 s warm-up; with `pid`, also
 * the CPU that process spent per request in the measured run (steadier than rps on a shared machine).
 */
export const load = async (
  url: string,
  body: string,
  options: { readonly headers?: Record<string, string>; readonly pid?: number } = {}
) => {
  const request = {
    url,
    method: "POST" as const,
    connections: CONNECTIONS,
    headers: { "content-type": "application/json", ...options.headers },
    body
  }
  await autocannon({ ...request, duration: 2 })
  const cpu0 = options.pid === undefined ? 0 : cpuMicros(options.pid)
  const r = await autocannon({ ...request, duration: SECONDS })
  const cpuPerRequest = options.pid === undefined ? undefined : (cpuMicros(options.pid) - cpu0) / r.requests.total
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx, cpuPerRequest }
}

/** The p-th percentile of samples. */
export const percentile = (xs: ReadonlyArray<number>, p: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/** One request at a time: p50/p99 total time and p50 time to the first content byte. */
export const sequential = async (url: string, body: string, n = SEQUENTIAL, headers: Record<string, string> = {}) => {
  const agent = new Agent({ connections: 1 })
  const total: Array<number> = []
  const first: Array<number> = []
  for (let i = 0; i < n + 50; i++) {
    const t0 = performance.now()
    const res = await request(url, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...headers },
      dispatcher: agent
    })
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

/** Resident and peak resident memory of a process, in MB. */
export const rssOf = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const kb = (key: string) => Number(status.match(new RegExp(`${key}:\\s+(\\d+)`))?.[1] ?? 0)
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 }
}

/** Prints a markdown table. */
export const table = (title: string, header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) => {
  console.log(`\n${title}\n`)
  console.log(`| ${header.join(" | ")} |\n|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`)
  for (const r of rows) console.log(`| ${r.join(" | ")} |`)
}
