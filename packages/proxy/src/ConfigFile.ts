/**
 * Loading a config file and checking it the way the gateway will use it: YAML, schema, model references,
 * then every deployment compiled against the real providers (provider prefixes, `os.environ/` references)
 * and the gateway's own keys resolved. Every stage runs, even after an earlier one failed, so one run
 * reports every problem; a config that passes `check` starts.
 */
import {
  type ConfigIssue,
  decodeConfig,
  type InvalidConfig,
  invalidConfig,
  type LoadedConfig,
  parseConfig,
  type Providers,
  readYaml,
  Router,
  RouterState,
  salvageConfig
} from "@switchyard/core"
// The settings module alone: the package index loads the Redis client.
import { redisTargetFromSettings } from "@switchyard/redis/settings"
import { ConfigProvider, Effect, Layer, Logger } from "effect"
import { readFile } from "node:fs/promises"
import { Auth } from "./Auth.ts"

const readText = (path: string): Effect.Effect<string, InvalidConfig> =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (e) => invalidConfig([{ path: "", message: `cannot read ${path}: ${(e as Error).message}` }])
  })

/** Reads and decodes a config file; an unreadable file is reported like any other config issue. */
export const loadConfigFile = (path: string): Effect.Effect<LoadedConfig, InvalidConfig> =>
  readText(path).pipe(Effect.flatMap(parseConfig))

/** Builds everything the config describes once, without serving, and reports what is wrong with it. */
export const checkConfig = (loaded: LoadedConfig): Effect.Effect<void, InvalidConfig, Providers> =>
  Effect.gen(function*() {
    // Both parts are checked, so one run reports every issue.
    const issuesOf = <A, R>(layer: Layer.Layer<A, InvalidConfig, R>) =>
      Layer.build(layer).pipe(Effect.scoped, Effect.flip, Effect.map((e) => e.issues), Effect.orElseSucceed(() => []))
    const issues = [
      ...yield* issuesOf(Router.layer(loaded).pipe(Layer.provide(RouterState.memory))),
      ...yield* issuesOf(Auth.layer(loaded.config.general_settings).pipe(Layer.provide(RouterState.memory))),
      ...yield* issuesOf(Layer.effectDiscard(redisTargetFromSettings(loaded.config.router_settings)))
    ]
    if (issues.length > 0) return yield* invalidConfig(issues)
  }).pipe(
    // The router logs the config's warnings when it is built; the check returns them instead, so the
    // gateway that starts afterwards prints each warning once.
    Effect.provide(Logger.layer([]))
  )

/** What `--check` found: the config when it is usable, every problem, and every warning once. */
export interface CheckReport {
  readonly loaded: LoadedConfig | undefined
  readonly issues: ReadonlyArray<ConfigIssue>
  readonly warnings: ReadonlyArray<ConfigIssue>
}

const issuesOf = <A, R>(effect: Effect.Effect<A, InvalidConfig, R>) =>
  effect.pipe(Effect.as([] as ReadonlyArray<ConfigIssue>), Effect.catch((e) => Effect.succeed(e.issues)))

const distinct = (issues: ReadonlyArray<ConfigIssue>) =>
  [...new Map(issues.map((i) => [`${i.path}\u0000${i.message}`, i])).values()]

/** Every variable is set: the router's later stages (providers, …) are checked past an unset one too. */
const everyVariableSet = ConfigProvider.layer(
  ConfigProvider.make((path) => Effect.succeed(ConfigProvider.makeValue(`placeholder-${path.join("_")}`)))
)

const unsetVariable = (issue: ConfigIssue) => /^environment variable \S+ is not set$/.test(issue.message)

/**
 * The issues of every later stage: with the real environment, and past its unset variables. A field
 * whose variable is unset is judged by the real run alone: its placeholder value says nothing about it.
 */
const laterStages = (loaded: LoadedConfig) =>
  Effect.map(
    Effect.all([issuesOf(checkConfig(loaded)), issuesOf(checkConfig(loaded).pipe(Effect.provide(everyVariableSet)))]),
    ([real, past]) => {
      const unset = new Set(real.filter(unsetVariable).map((i) => i.path))
      return distinct([...real, ...(unset.size === 0 ? [] : past.filter((i) => !unset.has(i.path)))])
    }
  )

/**
 * Every stage on a config file, reporting all problems at once: when decoding fails, what still decodes
 * (see `salvageConfig`) goes through the reference, provider, environment and auth checks anyway.
 */
export const checkConfigFile = (path: string): Effect.Effect<CheckReport, never, Providers> =>
  Effect.gen(function*() {
    const raw = yield* Effect.result(Effect.flatMap(readText(path), readYaml))
    if (raw._tag === "Failure") return { loaded: undefined, issues: raw.failure.issues, warnings: [] }
    const decoded = yield* Effect.result(decodeConfig(raw.success))
    if (decoded._tag === "Success") {
      const issues = yield* laterStages(decoded.success)
      return { loaded: issues.length === 0 ? decoded.success : undefined, issues, warnings: decoded.success.warnings }
    }
    const salvaged = salvageConfig(raw.success)
    const atPlaceholder = (i: ConfigIssue) => salvaged.placeholders.some((n) => i.path.startsWith(`model_list[${n}]`))
    // With the references they can be checked; without them, the stages after them can.
    const withReferences = yield* Effect.result(decodeConfig(salvaged.input))
    const partial = withReferences._tag === "Success"
      ? withReferences
      : yield* Effect.result(decodeConfig(salvageConfig(raw.success, false).input))
    const later = [
      ...(withReferences._tag === "Failure" ? withReferences.failure.issues : []),
      ...(partial._tag === "Success" ? yield* laterStages(partial.success) : partial.failure.issues)
    ]
    return {
      loaded: undefined,
      issues: distinct([...decoded.failure.issues, ...later.filter((i) => !atPlaceholder(i))]),
      warnings: partial._tag === "Success" ? partial.success.warnings.filter((w) => !atPlaceholder(w)) : []
    }
  })

/** The report of a bad config: one `path: message` line per issue. */
export const formatIssues = (error: { readonly issues: ReadonlyArray<ConfigIssue> }): string =>
  error.issues.map((i) => `  ${i.path || "(root)"}: ${i.message}`).join("\n")
