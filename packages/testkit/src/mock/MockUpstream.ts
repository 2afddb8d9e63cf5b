/**
 * The mock upstream as an Effect resource: a `MockUpstream` service whose layer starts the server and
 * stops it (destroying stalled sockets) when the scope closes. Scripts use `startMockUpstream` instead.
 */
import { Context, Effect, Layer } from "effect"
import { type MockServer, type MockServerOptions, startMockServer } from "./MockServer.ts"

/** A running mock upstream (see `MockServer` for the operations). */
export class MockUpstream extends Context.Service<MockUpstream, MockServer>()("switchyard/testkit/MockUpstream") {
  /** Starts a mock upstream for the layer's lifetime. */
  static readonly layer = (options: MockServerOptions = {}): Layer.Layer<MockUpstream> =>
    Layer.effect(MockUpstream, startMockUpstreamScoped(options))
}

/** Starts a mock upstream inside the current scope; it is closed when the scope closes. */
export const startMockUpstreamScoped = (options: MockServerOptions = {}) =>
  Effect.acquireRelease(
    Effect.promise(() => startMockServer(options)),
    (server) => Effect.promise(() => server.close())
  )

/** Starts a mock upstream outside Effect (for scripts and examples); call `close()` when done. */
export const startMockUpstream = (options: MockServerOptions = {}): Promise<MockServer> => startMockServer(options)
