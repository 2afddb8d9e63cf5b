/**
 * The gateway's sockets: Node's server with deliberate timeouts (a slow or silent client cannot hold a
 * connection for Node's 300 s default), and a record of which connections carry a request, so that on
 * shutdown every other one (idle keep-alive, silent, half-sent headers) is closed at once. Node's own
 * `closeIdleConnections` leaves a connection that never completed a request open.
 */
import { createServer, type Server } from "node:http"
import type { Socket } from "node:net"

/** How long a client may take, in milliseconds. */
export interface ServerTimeouts {
  /** To send a request's headers (slowloris). */
  readonly headersMillis: number
  /** To send a whole request, body included (a trickled body). The response is not limited. */
  readonly requestMillis: number
  /** An idle keep-alive connection stays open this long between requests. */
  readonly keepAliveMillis: number
}

/** The defaults: headers in 15 s, a 25 MB upload in 2 minutes, keep-alive as Node's 5 s. */
export const DEFAULT_TIMEOUTS: ServerTimeouts = { headersMillis: 15_000, requestMillis: 120_000, keepAliveMillis: 5_000 }

/** A server and the way to close the connections that carry no request. */
export interface GatewaySockets {
  readonly server: Server
  /** Destroys every connection with no request in flight. */
  readonly closeIdle: () => void
}

/** Creates the server with `timeouts` and tracks its connections. */
export const makeGatewaySockets = (timeouts: Partial<ServerTimeouts> = {}): GatewaySockets => {
  const t = { ...DEFAULT_TIMEOUTS, ...timeouts }
  const server = createServer({
    headersTimeout: t.headersMillis,
    requestTimeout: t.requestMillis,
    keepAliveTimeout: t.keepAliveMillis,
    // How often Node checks the two timeouts above: fine enough for the smallest of them.
    connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(t.headersMillis / 4)))
  })
  // Requests in flight per connection.
  const inFlight = new Map<Socket, number>()
  server.on("connection", (socket: Socket) => {
    inFlight.set(socket, 0)
    socket.once("close", () => inFlight.delete(socket))
  })
  server.on("request", (request, response) => {
    const socket = request.socket
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1)
    response.once("close", () => {
      if (inFlight.has(socket)) inFlight.set(socket, inFlight.get(socket)! - 1)
    })
  })
  const closeIdle = () => {
    for (const [socket, n] of inFlight) if (n === 0) socket.destroy()
  }
  return { server, closeIdle }
}
