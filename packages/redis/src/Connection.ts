/**
 * The Redis connection of one replica, over node-redis. It is built never to hold up a request: commands
 * fail at once while the socket is down (no offline queue) and after a timeout otherwise, the client
 * reconnects by itself with capped exponential backoff, and connecting happens in the background so a
 * replica starts (degraded) even when Redis is down.
 */
import { Data, Effect, Redacted, type Scope } from "effect"
import { createClient } from "redis"

/** Where Redis is. The URL and password are Redacted: they may carry credentials and are never logged. */
export interface RedisTarget {
  readonly url?: Redacted.Redacted<string> | undefined
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly password?: Redacted.Redacted<string> | undefined
}

/** Redis could not answer: down, unreachable, too slow, or it replied with an error. */
export class RedisUnavailable extends Data.TaggedError("RedisUnavailable")<{ readonly reason: string }> {}

/** A connected (or reconnecting) client. */
export interface RedisConnection {
  /** Runs a script by its SHA, loading it with EVAL once if Redis does not have it cached. */
  readonly evalScript: (
    source: string,
    sha: string,
    args: ReadonlyArray<string>
  ) => Effect.Effect<unknown, RedisUnavailable>
  /** `host:port` without credentials, for logs. */
  readonly where: string
  /** Waits (real time: connecting is real I/O) until the client is ready or `millis` have passed. */
  readonly awaitReady: (millis: number) => Effect.Effect<boolean>
}

/** Timeouts of the connection. */
export interface ConnectionOptions {
  readonly commandTimeoutMillis: number
  readonly connectTimeoutMillis: number
}

/** Capped exponential backoff with jitter, so replicas do not reconnect in lockstep after an outage. */
const reconnectDelay = (retries: number) => Math.min(50 * 2 ** retries, 2_000) + Math.floor(Math.random() * 100)

/** `host:port` of a target, without user or password. */
export const describeTarget = (target: RedisTarget): string => {
  if (target.url !== undefined) {
    try {
      const url = new URL(Redacted.value(target.url))
      return `${url.hostname}:${url.port || "6379"}`
    } catch {
      return "(invalid url)"
    }
  }
  return `${target.host ?? "127.0.0.1"}:${target.port ?? 6379}`
}

const reasonOf = (cause: unknown) => (cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause))

/** The error of a command that got no reply in time. */
class CommandTimeout extends Error {
  override readonly name = "CommandTimeout"
}

/** Opens a connection for the scope's lifetime; it is destroyed (not drained) when the scope closes. */
export const makeConnection = (
  target: RedisTarget,
  options: ConnectionOptions
): Effect.Effect<RedisConnection, never, Scope.Scope> =>
  Effect.gen(function*() {
    const open = () => {
      const password = target.password === undefined ? {} : { password: Redacted.value(target.password) }
      const c = createClient({
        ...(target.url === undefined ? {} : { url: Redacted.value(target.url) }),
        ...password,
        socket: {
          ...(target.url === undefined ? { host: target.host ?? "127.0.0.1", port: target.port ?? 6379 } : {}),
          connectTimeout: options.connectTimeoutMillis,
          reconnectStrategy: reconnectDelay
        },
        // A command sent while the socket is down fails at once instead of waiting for a reconnect.
        disableOfflineQueue: true
      })
      // node-redis rethrows `error` events nobody listens to, which would crash the process. The state
      // reports outages itself (once), so the client's own errors are dropped here.
      c.on("error", () => {})
      // connect() settles only once connected (or destroyed): it must not be awaited.
      c.connect().catch(() => {})
      return c
    }
    let client = open()
    yield* Effect.addFinalizer(() => Effect.sync(() => client.destroy()))

    // node-redis's own command timeout stops at the socket: a command already written to a Redis that
    // hangs (frozen, overloaded, a half-open TCP link) waits forever. So the timeout is ours, in real time
    // like the socket it guards (an Effect timeout follows the Clock and, under TestClock, would fire on
    // replies that did arrive), and a client that timed out is replaced: its queue may hold writes Redis
    // has not run yet, and they must not land late, after the replica re-sent them.
    const sendOnce = (args: ReadonlyArray<string>) =>
      new Promise<unknown>((resolve, reject) => {
        const used = client
        const timer = setTimeout(() => {
          reject(new CommandTimeout(`no reply within ${options.commandTimeoutMillis} ms`))
          if (used === client) {
            client = open()
            used.destroy()
          }
        }, options.commandTimeoutMillis)
        used.sendCommand(args).then(
          (reply) => {
            clearTimeout(timer)
            resolve(reply)
          },
          (cause: unknown) => {
            clearTimeout(timer)
            reject(cause)
          }
        )
      })

    const send = (args: ReadonlyArray<string>) =>
      Effect.tryPromise({
        try: () => sendOnce(args),
        catch: (cause) => new RedisUnavailable({ reason: reasonOf(cause) })
      })

    return {
      where: describeTarget(target),
      evalScript: (source, sha, args) =>
        send(["EVALSHA", sha, "0", ...args]).pipe(
          Effect.catchIf(
            (e) => e.reason.includes("NOSCRIPT"),
            () => send(["EVAL", source, "0", ...args])
          )
        ),
      awaitReady: (millis) =>
        Effect.promise(() => {
          const c = client
          return c.isReady ? Promise.resolve(true) : new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => {
              c.off("ready", onReady)
              resolve(false)
            }, millis)
            const onReady = () => {
              clearTimeout(timer)
              resolve(true)
            }
            c.once("ready", onReady)
          })
        })
    }
  })
