/**
 * Loading a config file and checking it the way the gateway will use it: YAML decode, then every
 * deployment compiled against the real providers (provider prefixes, `os.environ/` references) and the
 * gateway's own keys resolved. A config that passes `check` starts.
 */
import { type InvalidConfig, invalidConfig, type LoadedConfig, parseConfig, type Providers, Router, RouterState } from "@switchyard/core"
// The settings module alone: the package index loads the Redis client.
import { redisTargetFromSettings } from "@switchyard/redis/settings"
import { Effect, Layer } from "effect"
import { readFile } from "node:fs/promises"
import { Auth } from "./Auth.ts"

/** Reads and decodes a config file; an unreadable file is reported like any other config issue. */
export const loadConfigFile = (path: string): Effect.Effect<LoadedConfig, InvalidConfig> =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (e) => invalidConfig([{ path: "", message: `cannot read ${path}: ${(e as Error).message}` }])
  }).pipe(Effect.flatMap(parseConfig))

/** Builds everything the config describes once, without serving, and reports what is wrong with it. */
export const checkConfig = (loaded: LoadedConfig): Effect.Effect<void, InvalidConfig, Providers> =>
  Effect.gen(function*() {
    // Both parts are checked, so one run reports every issue.
    const issuesOf = <A, R>(layer: Layer.Layer<A, InvalidConfig, R>) =>
      Layer.build(layer).pipe(Effect.scoped, Effect.flip, Effect.map((e) => e.issues), Effect.orElseSucceed(() => []))
    const issues = [
      ...yield* issuesOf(Router.layer(loaded).pipe(Layer.provide(RouterState.memory))),
      ...yield* issuesOf(Auth.layer(loaded.config.general_settings)),
      ...yield* issuesOf(Layer.effectDiscard(redisTargetFromSettings(loaded.config.router_settings)))
    ]
    if (issues.length > 0) return yield* invalidConfig(issues)
  })

/** The report of a bad config: one `path: message` line per issue. */
export const formatIssues = (error: InvalidConfig): string =>
  error.issues.map((i) => `  ${i.path || "(root)"}: ${i.message}`).join("\n")
