/**
 * Test harness: a real gateway on 127.0.0.1 (port 0) over given providers (in-process scripted ones, or
 * the real providers against the HTTP mock upstream), with its log lines captured for assertions.
 */
import { type LoadedConfig, parseConfig, type Provider, Providers, RouterState } from "@switchyard/core"
import { ProvidersLive } from "@switchyard/providers"
import { type MockServer, startMockUpstream } from "@switchyard/testkit/mock"
import { Context, Effect, Exit, Layer, Logger, Scope } from "effect"
import { HttpServer } from "effect/http"
import type { ServerTimeouts } from "../src/Connections.ts"
import { gatewayServer } from "../src/Server.ts"

/** A running test gateway. */
export interface TestGateway {
  readonly url: string
  /** Every log line written while it ran (logfmt). */
  readonly logs: Array<string>
  /** Resolves once a log line containing `text` has been written (at once if one was). */
  readonly logged: (text: string) => Promise<void>
  readonly close: () => Promise<void>
}

/** Extra options of a test gateway. */
export interface GatewayOptions {
  readonly drainTimeoutMillis?: number
  /** Small client timeouts for slow-client tests. */
  readonly timeouts?: Partial<ServerTimeouts>
  /** The router state (default: in memory); replicas share one on Redis. */
  readonly state?: Layer.Layer<RouterState>
  /** Layers provided to the whole gateway (a tracer, a ConfigProvider, …). */
  readonly extra?: Layer.Layer<never>
}

/** Starts a gateway over `yaml`, with scripted providers or a Providers layer; close it when done. */
export const startGateway = async (
  yaml: string,
  providers: ReadonlyArray<Provider> | Layer.Layer<Providers> = ProvidersLive,
  options: GatewayOptions = {}
): Promise<TestGateway> => {
  const loaded: LoadedConfig = await Effect.runPromise(parseConfig(yaml))
  const logs: Array<string> = []
  const waiting: Array<{ readonly text: string; readonly resolve: () => void }> = []
  const capture = Logger.map(Logger.formatLogFmt, (line) => {
    logs.push(line)
    for (const w of waiting.filter((w) => line.includes(w.text))) {
      waiting.splice(waiting.indexOf(w), 1)
      w.resolve()
    }
  })
  const logged = (text: string) =>
    logs.some((l) => l.includes(text)) ? Promise.resolve() : new Promise<void>((resolve) => void waiting.push({ text, resolve }))
  const providersLayer = Array.isArray(providers)
    ? Layer.succeed(Providers, Providers.fromList(providers))
    : providers as Layer.Layer<Providers>
  const { extra, state, ...serve } = options
  const layer = gatewayServer(loaded, { port: 0, host: "127.0.0.1", ...serve }).pipe(
    Layer.provide(Layer.mergeAll(providersLayer, state ?? RouterState.memory)),
    Layer.provide(Logger.layer([capture])),
    Layer.provide(extra ?? Layer.empty)
  )
  const scope = await Effect.runPromise(Scope.make())
  const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
  const address = Context.get(context, HttpServer.HttpServer).address
  if (address._tag === "UnixPathAddress") throw new Error("expected a TCP address")
  return {
    url: `http://127.0.0.1:${address.port}`,
    logs,
    logged,
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

/** A mock upstream and a gateway over it with the real providers; `config` gets the mock to build the YAML. */
export const startWithMock = async (config: (mock: MockServer) => string, options: GatewayOptions = {}) => {
  const mock = await startMockUpstream()
  const gateway = await startGateway(config(mock), ProvidersLive, options).catch(async (e) => {
    await mock.close()
    throw e
  })
  return {
    mock,
    gateway,
    close: async () => {
      await gateway.close()
      await mock.close()
    }
  }
}

/** POSTs JSON (or a raw string) and returns status, headers, the text and the parsed body. */
export const postJson = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })
  const text = await response.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers, text, json }
}
