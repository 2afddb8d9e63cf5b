/**
 * Two real proxy processes sharing one Redis, in front of the HTTP mock upstream: they route as one
 * router. A deployment that fails through replica A is avoided by replica B within a second; an rpm
 * limit holds across both; and with Redis killed mid-test every request is still served. No fixed
 * sleeps: each wait is on an event, in Redis (a write landed, a replica synced) or in a replica's output.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type MockServer, startMockUpstream } from "@switchyard/testkit/mock"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually, type RawClient, type RedisProcess, redisProcess, syncedTwiceSince, withClient } from "./redis.ts"

// The real gateway CLI, exactly as users run it.
const cli = fileURLToPath(new URL("../../proxy/src/cli.ts", import.meta.url))

/** Resolves once `check` holds in the replicas' Redis (their keys have the default prefix, `switchyard:`). */
const inRedis = (url: string, what: string, check: (c: RawClient) => Promise<boolean>) =>
  eventually(what, () => withClient(url, check), 1_000)

/** A running replica and everything it printed. */
interface Replica {
  readonly url: string
  readonly output: Array<string>
  readonly process: ChildProcess
}

const startReplica = (configPath: string, redisUrl: string) =>
  new Promise<Replica>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", cli, "--config", configPath, "--port", "0", "--drain-timeout", "1"], {
      env: { ...process.env, SY_TEST_REDIS_URL: redisUrl },
      stdio: ["ignore", "pipe", "pipe"]
    })
    const output: Array<string> = []
    // Generous: on a fresh machine tsx compiles every source file of the gateway before it can listen.
    const timer = setTimeout(() => reject(new Error(`replica did not start:\n${output.join("")}`)), 45_000)
    const onData = (data: Buffer) => {
      output.push(data.toString())
      const ready = /switchyard listening on (\S+)/.exec(output.join(""))
      if (ready) {
        clearTimeout(timer)
        resolve({ url: ready[1]!, output, process: child })
      }
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.once("exit", (code) => reject(new Error(`replica exited (${code}):\n${output.join("")}`)))
  })

const chat = async (replica: Replica, model: string) => {
  const response = await fetch(`${replica.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }] })
  })
  await response.text()
  return response.status
}

const configFor = (mock: MockServer) => {
  const deployment = (group: string, id: string, extra = "") => `
  - model_name: ${group}
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase(id)}", api_key: sk-test-key${extra} }
    model_info: { id: ${id} }`
  return `
model_list:${deployment("cool", "cool-bad")}${deployment("cool", "cool-good")}${
    deployment("limited", "limited-1", ", rpm: 4")
  }${deployment("steady", "steady-1")}${deployment("steady", "steady-2")}
router_settings:
  allowed_fails: 0
  cooldown_time: 60
  redis_url: os.environ/SY_TEST_REDIS_URL
`
}

describe("two proxy processes on one Redis", () => {
  let redis: RedisProcess
  let mock: MockServer
  let a: Replica
  let b: Replica

  // Every test awaits the setup itself, so a missing redis-server fails each test instead of skipping it.
  let ready: Promise<void>
  beforeAll(() => {
    ready = (async () => {
      redis = await redisProcess()
      await redis.start()
      mock = await startMockUpstream()
      const dir = mkdtempSync(join(tmpdir(), "switchyard-redis-"))
      const configPath = join(dir, "config.yaml")
      writeFileSync(configPath, configFor(mock))
      ;[a, b] = await Promise.all([startReplica(configPath, redis.url), startReplica(configPath, redis.url)])
    })()
    return ready.catch(() => {})
  }, 60_000)

  afterAll(async () => {
    a?.process.kill("SIGTERM")
    b?.process.kill("SIGTERM")
    await mock?.close()
    await redis?.stop()
  })

  it("a deployment failing through replica A is no longer tried by replica B a second later", async () => {
    await ready
    mock.otherwise("cool-bad", { kind: "error", status: 500, message: "upstream broke" })
    // A picks at random: until it has tried the bad deployment once (retrying on the good one), and cooled it.
    for (let i = 0; i < 40 && mock.requests("cool-bad").length === 0; i++) expect(await chat(a, "cool")).toBe(200)
    expect(mock.requests("cool-bad")).toHaveLength(1)
    // The propagation bound under test, as events: A's cooldown is in Redis, then both replicas synced
    // after it (so B's view has it), within a second.
    const started = Date.now()
    await inRedis(redis.url, "A's cooldown is in Redis", async (c) => (await c.exists("switchyard:{cool-bad}:cd")) === 1)
    await syncedTwiceSince(redis.url, 2)
    expect(Date.now() - started).toBeLessThan(1_000)
    // Without the shared cooldown B would pick it about every other request: 0.5^20 that it never would.
    for (let i = 0; i < 20; i++) expect(await chat(b, "cool")).toBe(200)
    expect(mock.requests("cool-bad")).toHaveLength(1)
    expect(mock.requests("cool-good").length).toBeGreaterThanOrEqual(21)
  }, 30_000)

  it("an rpm limit holds across both replicas", async () => {
    await ready
    // rpm: 4 in total. Each replica alone would still see room after its own two.
    for (const replica of [a, b, a, b]) expect(await chat(replica, "limited")).toBe(200)
    // Both replicas' counts are in Redis, then both synced after that: each view has all 4 requests.
    const started = Date.now()
    await inRedis(redis.url, "4 requests counted in Redis", async (c) => {
      const minutes = await c.keys("switchyard:{limited-1}:use:*")
      const counts = await Promise.all(minutes.map((key) => c.hGet(key, "r")))
      return counts.reduce((sum, r) => sum + Number(r ?? 0), 0) === 4
    })
    await syncedTwiceSince(redis.url, 2)
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(await chat(a, "limited")).toBe(429)
    expect(await chat(b, "limited")).toBe(429)
    expect(mock.requests("limited-1")).toHaveLength(4)
  }, 30_000)

  it("with Redis killed mid-run every request is still served, and both replicas recover", async () => {
    await ready
    // What each replica logs from the outage on: a sync slowed past the command timeout earlier (a loaded
    // machine) is an outage of its own, logged as one, and must not count as this one.
    const logged = new Map([a, b].map((replica) => [replica, replica.output.join("").length] as const))
    const since = (replica: Replica) => replica.output.join("").slice(logged.get(replica))
    await redis.stop()
    for (let i = 0; i < 10; i++) expect(await chat(i % 2 === 0 ? a : b, "steady")).toBe(200)
    for (const replica of [a, b]) {
      await eventually("the outage is logged", async () => since(replica).includes("unreachable"), 2_000)
      // Degraded, not down: still ready (200), and both readiness and /metrics say so.
      const readiness = await fetch(`${replica.url}/health/readiness`)
      expect(readiness.status).toBe(200)
      expect(((await readiness.json()) as { state: string }).state).toBe("degraded")
      expect(await (await fetch(`${replica.url}/metrics`)).text()).toMatch(/switchyard_state_backend_up(\{[^}]*\})? 0/)
    }
    await redis.start()
    for (const replica of [a, b]) {
      await eventually("the recovery is logged", async () => since(replica).includes("reachable again"), 5_000)
      const log = since(replica)
      expect(log.match(/is unreachable/g)).toHaveLength(1)
      expect(log.match(/reachable again/g)).toHaveLength(1)
    }
    for (let i = 0; i < 4; i++) expect(await chat(i % 2 === 0 ? a : b, "steady")).toBe(200)
    for (const replica of [a, b]) {
      expect(((await (await fetch(`${replica.url}/health/readiness`)).json()) as { state: string }).state).toBe("ok")
      expect(await (await fetch(`${replica.url}/metrics`)).text()).toMatch(/switchyard_state_backend_up(\{[^}]*\})? 1/)
    }
  }, 30_000)
})
