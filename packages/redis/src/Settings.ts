/**
 * Where Redis is, from `router_settings`: `redis_url`, or `redis_host` / `redis_port` / `redis_password`,
 * each possibly an `os.environ/NAME` reference resolved through effect's `Config` (so any ConfigProvider
 * works). The URL and the password stay Redacted from here on; a problem names the field, never a value.
 */
import { type ConfigIssue, invalidConfig, type InvalidConfig, type RouterSettings } from "@switchyard/core"
import { Config, Effect, Redacted } from "effect"
import type { RedisTarget } from "./Connection.ts"

const ENV_PREFIX = "os.environ/"

/** Whether the settings ask for a shared state on Redis. */
export const wantsRedis = (settings: RouterSettings | undefined): boolean =>
  settings?.redis_url !== undefined || settings?.redis_host !== undefined

/** Resolves one setting: an `os.environ/NAME` reference through Config, any other value as written. */
const resolve = (value: string | number | undefined, field: string, issues: Array<ConfigIssue>) => {
  if (value === undefined) return Effect.succeed(undefined)
  const text = String(value)
  if (!text.startsWith(ENV_PREFIX)) return Effect.succeed(Redacted.make(text))
  const name = text.slice(ENV_PREFIX.length)
  return Config.Redacted(name).pipe(
    Effect.catch(() => {
      issues.push({ path: `router_settings.${field}`, message: `environment variable ${name} is not set` })
      return Effect.succeed(undefined)
    })
  )
}

/** The Redis target the settings name, or undefined when they name none; fails with the path of a bad field. */
export const redisTargetFromSettings = (
  settings: RouterSettings | undefined
): Effect.Effect<RedisTarget | undefined, InvalidConfig> =>
  Effect.gen(function*() {
    if (settings === undefined || !wantsRedis(settings)) return undefined
    const issues: Array<ConfigIssue> = []
    // A URL carries everything, credentials included; LiteLLM also lets it win over host and port.
    if (settings.redis_url !== undefined) {
      const url = yield* resolve(settings.redis_url, "redis_url", issues)
      if (url !== undefined && !/^rediss?:\/\//.test(Redacted.value(url))) {
        issues.push({ path: "router_settings.redis_url", message: "must start with redis:// or rediss://" })
      }
      const password = yield* resolve(settings.redis_password, "redis_password", issues)
      if (issues.length > 0) return yield* invalidConfig(issues)
      return { url, password }
    }
    const host = yield* resolve(settings.redis_host, "redis_host", issues)
    const portText = yield* resolve(settings.redis_port, "redis_port", issues)
    const password = yield* resolve(settings.redis_password, "redis_password", issues)
    const port = portText === undefined ? 6379 : Number(Redacted.value(portText))
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      issues.push({ path: "router_settings.redis_port", message: "must be a port number between 1 and 65535" })
    }
    if (issues.length > 0) return yield* invalidConfig(issues)
    return { host: host === undefined ? undefined : Redacted.value(host), port, password }
  })
