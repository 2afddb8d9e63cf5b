/**
 * Test helpers: the shared test Redis (which must be running: a test fails, never skips, without it),
 * fresh key namespaces, a raw client to look inside Redis, and a dedicated redis-server child process
 * for the tests that stop Redis in the middle.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { createServer } from "node:net"
import { Clock, Effect } from "effect"
import { createClient } from "redis"

/** The shared test Redis: `SWITCHYARD_TEST_REDIS_URL`, by default the one `ci-setup.sh` starts. */
export const testRedisUrl = process.env.SWITCHYARD_TEST_REDIS_URL ?? "redis://127.0.0.1:6399"

/** A key namespace no other test uses. */
export const freshPrefix = () => `switchyard-test:${randomBytes(4).toString("hex")}:`

/** A plain node-redis client. */
export type RawClient = ReturnType<typeof createClient<{}, {}, {}, 2>>

/** Runs `f` with a short-lived raw client (no reconnects: a dead Redis fails fast). */
export const withClient = async <A>(url: string, f: (client: RawClient) => Promise<A>) => {
  const client: RawClient = createClient({ url, RESP: 2, socket: { connectTimeout: 1_000, reconnectStrategy: false } })
  client.on("error", () => {})
  await client.connect()
  try {
    return await f(client)
  } finally {
    client.destroy()
  }
}

/** Throws (failing the test file) unless Redis answers PING at `url`. */
export const requireRedis = async (url: string = testRedisUrl) => {
  try {
    await withClient(url, (c) => c.ping())
  } catch (e) {
    throw new Error(
      `Redis is not reachable at ${url} (${String(e)}). Start it with packages/redis/ci-setup.sh ` +
        `or point SWITCHYARD_TEST_REDIS_URL at one.`
    )
  }
}

/** Dies, failing the test that runs it, unless the shared test Redis answers. */
export const sharedRedisUp = Effect.promise(() => requireRedis())

/** Polls `check` (real time) until it returns true or `millis` pass; returns how long it took, or throws. */
export const eventually = async (what: string, check: () => Promise<boolean>, millis = 1_000, step = 20) => {
  const start = Date.now()
  while (true) {
    if (await check()) return Date.now() - start
    if (Date.now() - start > millis) throw new Error(`not within ${millis} ms: ${what}`)
    await new Promise((r) => setTimeout(r, step))
  }
}

/**
 * Resolves once `replicas` distinct clients have each run the sync script twice since this call (watched
 * with MONITOR): a replica syncs one call at a time, so its second sync proves it took in the answer of
 * one that Redis ran after this moment. Call it once a write is in Redis, to know every replica's view
 * has it: an event to wait on instead of the replicas' refresh period.
 */
export const syncedTwiceSince = async (url: string, replicas: number, millis = 2_000): Promise<void> => {
  const client: RawClient = createClient({ url, RESP: 2, socket: { connectTimeout: 1_000, reconnectStrategy: false } })
  client.on("error", () => {})
  await client.connect()
  const syncs = new Map<string, number>()
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not within ${millis} ms: ${replicas} replicas synced twice`)), millis)
      client.monitor((line) => {
        // `1700000000.123456 [0 127.0.0.1:35740] "EVALSHA" "…" …`: the client's address, then the command.
        const match = /\[\d+ ([^\]]+)\] "(?:EVALSHA|EVAL)"/i.exec(String(line))
        if (match === null) return
        syncs.set(match[1]!, (syncs.get(match[1]!) ?? 0) + 1)
        if ([...syncs.values()].filter((n) => n >= 2).length >= replicas) {
          clearTimeout(timer)
          resolve()
        }
      }).catch(reject)
    })
  } finally {
    client.destroy()
  }
}

/** A loopback port nobody listens on right now. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject()))
    })
  })

/** A redis-server of its own on a loopback port, which a test can stop and start again. */
export interface RedisProcess {
  readonly port: number
  readonly url: string
  /** Starts the server and waits until it answers. */
  readonly start: () => Promise<void>
  /** Kills the server (SIGKILL: an outage, not a clean shutdown) and waits until it is gone. */
  readonly stop: () => Promise<void>
  /** Freezes (SIGSTOP) or thaws (SIGCONT) the server: connected, but answering nothing. */
  readonly freeze: (frozen: boolean) => void
}

/** Prepares (does not start) a dedicated redis-server; `redis-server` must be on PATH. */
export const redisProcess = async (extraArgs: ReadonlyArray<string> = []): Promise<RedisProcess> => {
  const port = await freePort()
  const url = `redis://127.0.0.1:${port}`
  let child: ChildProcess | undefined
  // A NOAUTH error still means the server is up.
  const answers = () =>
    withClient(url, (c) => c.ping()).then(() => true, (e: unknown) => String(e).includes("NOAUTH"))
  return {
    port,
    url,
    start: async () => {
      const proc = spawn("redis-server", [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        ...extraArgs
      ], {
        stdio: "ignore"
      })
      child = proc
      const failed = new Promise<never>((_, reject) => proc.once("error", (e) => reject(new Error(`redis-server: ${e.message}`))))
      await Promise.race([eventually(`redis-server on ${port} answers`, answers, 5_000, 25), failed])
    },
    stop: async () => {
      const proc = child
      child = undefined
      if (proc === undefined || proc.exitCode !== null) return
      const exited = new Promise((r) => proc.once("exit", r))
      proc.kill("SIGKILL")
      await exited
    },
    freeze: (frozen) => {
      child?.kill(frozen ? "SIGSTOP" : "SIGCONT")
    }
  }
}

/** Polls an effect on the live clock until it yields true; dies after `millis`. Returns the time it took. */
export const within = <E, R>(what: string, millis: number, check: Effect.Effect<boolean, E, R>) =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    while (!(yield* check)) {
      const elapsed = (yield* Clock.currentTimeMillis) - start
      if (elapsed > millis) return yield* Effect.die(new Error(`not within ${millis} ms: ${what}`))
      yield* Effect.sleep(10)
    }
    return (yield* Clock.currentTimeMillis) - start
  })
