/**
 * The gateway as a Layer: the routes over the core Router, auth and metrics, served by Node's HTTP
 * server. On shutdown the server stops accepting at once and lets in-flight requests and open streams
 * finish for up to `drainTimeoutMillis` before they are cut.
 */
// The module itself, not the package index: the index loads every platform module (redis, ws, workers, …).
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { type InvalidConfig, type LoadedConfig, type Providers, Router, type RouterState } from "@switchyard/core"
import { Duration, Effect, Layer } from "effect"
import { HttpRouter, type HttpServer, type HttpServerError } from "effect/http"
import { Auth } from "./Auth.ts"
import { type GatewaySockets, makeGatewaySockets, type ServerTimeouts } from "./Connections.ts"
import { GatewayMetrics } from "./Metrics.ts"
import { routes } from "./Routes.ts"

/** Where to listen and how long to drain. */
export interface ServeOptions {
  readonly port: number
  readonly host: string
  /** How long open requests and streams may run on after a shutdown signal (default 10 s). */
  readonly drainTimeoutMillis?: number
  /** The client timeouts (defaults in `DEFAULT_TIMEOUTS`). */
  readonly timeouts?: Partial<ServerTimeouts>
}

/** The default drain deadline on SIGTERM. */
export const DEFAULT_DRAIN_TIMEOUT_MILLIS = 10_000

/** The gateway's services over a loaded config: the router, auth from `general_settings`, metrics. */
export const gatewayServices = (
  loaded: LoadedConfig
): Layer.Layer<Router | Auth | GatewayMetrics, InvalidConfig, Providers | RouterState> =>
  Layer.mergeAll(Router.layer(loaded), Auth.layer(loaded.config.general_settings), GatewayMetrics.layer)

/** How often idle keep-alive connections are closed while draining. */
const SWEEP_MILLIS = 50

/**
 * On shutdown every connection without a request in flight is closed at once (a silent one would hold
 * the process for the whole drain); one whose stream finishes later is closed as it becomes idle.
 */
const closeIdleWhileDraining = ({ closeIdle, server }: GatewaySockets) =>
  Layer.effectDiscard(Effect.addFinalizer(() =>
    Effect.sync(() => {
      closeIdle()
      const timer = setInterval(closeIdle, SWEEP_MILLIS)
      timer.unref()
      server.once("close", () => clearInterval(timer))
    })
  ))

/** The running gateway: its HTTP server, bound and serving. Needs the providers and the router state. */
export const gatewayServer = (
  loaded: LoadedConfig,
  options: ServeOptions
): Layer.Layer<HttpServer.HttpServer, InvalidConfig | HttpServerError.ServeError, Providers | RouterState> =>
  Layer.unwrap(Effect.sync(() => {
    const sockets = makeGatewaySockets(options.timeouts)
    const app = HttpRouter.serve(routes(loaded.config.general_settings, options.host), { disableLogger: true, disableListenLog: true })
      .pipe(Layer.provide(gatewayServices(loaded)))
    // Built after the app, so on shutdown the sweep starts before the app waits for open requests.
    return closeIdleWhileDraining(sockets).pipe(
      Layer.provide(app),
      Layer.provideMerge(NodeHttpServer.layer(() => sockets.server, {
        port: options.port,
        host: options.host,
        gracefulShutdownTimeout: Duration.millis(options.drainTimeoutMillis ?? DEFAULT_DRAIN_TIMEOUT_MILLIS)
      }))
    )
  }))
