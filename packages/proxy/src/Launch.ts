/**
 * The gateway as a process runs it: the server over the real providers and the router state the config
 * names (in memory, or shared on Redis),
 * with OTLP export when configured, logs on stdout, and a ready line once the socket is bound. Bad
 * command lines and configs exit 2 with the reason before anything starts.
 */
// The module itself, not the package index: the index loads every platform module (redis, ws, workers, …).
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { type InvalidConfig, type LoadedConfig, RouterState, type RouterSettings } from "@switchyard/core"
import { ProvidersLive } from "@switchyard/providers"
import { wantsRedis } from "@switchyard/redis/settings"
import { Cause, Effect, Exit, Layer, Logger, Runtime } from "effect"
import { HttpServer, type HttpServerError } from "effect/http"
import { type CliArgs, parseCliArgs, usage, UsageError, wantsHelp } from "./CliArgs.ts"
import { checkConfigFile, formatIssues } from "./ConfigFile.ts"
import { flushLogs, processLogger } from "./ProcessLogger.ts"
import { DEFAULT_DRAIN_TIMEOUT_MILLIS, gatewayServer, type ServeOptions } from "./Server.ts"
import { telemetryLayer } from "./Telemetry.ts"

/** How the process logs and serves. */
export interface LaunchOptions extends ServeOptions {
  readonly logFormat?: "logfmt" | "json"
}

/** The URL a bound server answers on. */
export const serverUrl = HttpServer.addressFormattedWith(Effect.succeed)

/** Prints the ready line (tools wait for it) and, on shutdown, that open requests are draining. */
const announce = (loaded: LoadedConfig, drainMillis: number) =>
  Layer.effectDiscard(Effect.gen(function*() {
    const url = yield* serverUrl
    const groups = new Set(loaded.config.model_list.map((m) => m.model_name)).size
    // Log lines are written in batches: the ones logged before this line go out before it.
    flushLogs()
    console.log(`switchyard listening on ${url} (${groups} model groups)`)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => (flushLogs(), console.log(`switchyard shutting down: draining open requests for up to ${drainMillis / 1000}s`)))
    )
  }))

/** The router state the config asks for: shared on Redis (whose client loads only then), else in memory. */
const routerState = (settings: RouterSettings | undefined): Layer.Layer<RouterState, InvalidConfig> =>
  wantsRedis(settings)
    ? Layer.unwrap(Effect.map(Effect.promise(() => import("@switchyard/redis")), (redis) =>
      redis.RedisState.layerFromSettings(settings)))
    : RouterState.memory

/** The whole gateway process as one Layer, ready for `Layer.launch`. */
export const gatewayProcess = (
  loaded: LoadedConfig,
  options: LaunchOptions
): Layer.Layer<never, InvalidConfig | HttpServerError.ServeError> =>
  announce(loaded, options.drainTimeoutMillis ?? DEFAULT_DRAIN_TIMEOUT_MILLIS).pipe(
    Layer.provide(gatewayServer(loaded, options)),
    Layer.provide(Layer.mergeAll(ProvidersLive, routerState(loaded.config.router_settings))),
    Layer.provide(telemetryLayer),
    Layer.provide(Logger.layer([processLogger(options.logFormat ?? "logfmt")]))
  )

/** Parses the command line, or exits 2 with the usage (0 when `--help` asked for it). */
export const argsOrExit = (argv: ReadonlyArray<string>, usageText: string = usage): CliArgs => {
  if (wantsHelp(argv)) {
    console.log(usageText)
    return process.exit(0)
  }
  try {
    return parseCliArgs(argv)
  } catch (e) {
    console.error(e instanceof UsageError ? `${e.message}\n\n${usageText}` : String(e))
    return process.exit(2)
  }
}

/** Loads a config file and checks every stage against the real providers, or exits 2 naming every issue. */
export const configOrExit = async (path: string): Promise<LoadedConfig> => {
  const report = await Effect.runPromise(checkConfigFile(path).pipe(Effect.provide(ProvidersLive)))
  if (report.loaded !== undefined) return report.loaded
  for (const w of report.warnings) console.error(`warning: ${w.path}: ${w.message}`)
  console.error(`invalid config ${path}:\n${formatIssues(report)}`)
  return process.exit(2)
}

/** Runs a gateway process until SIGTERM/SIGINT; a signal that ends in a clean drain exits 0. */
export const runGateway = <E>(layer: Layer.Layer<never, E>): void =>
  NodeRuntime.runMain(Layer.launch(layer), {
    teardown: (exit, onExit) =>
      Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)
  })
