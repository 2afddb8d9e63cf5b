/**
 * The HTTP mock upstream: a real node:http server on 127.0.0.1 that answers like the vendors do and breaks
 * on command at the socket level (resets, hang-ups, cuts and stalls mid-body), records every request, and
 * counts TCP connections. node:http is used directly because faults need the raw socket.
 */
import { createHash } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import { Schema } from "effect"
import { bedrockRejection, bedrockReply } from "./Bedrock.ts"
import { bedrockAuthRejection } from "./BedrockAuth.ts"
import { type MockBehavior, ScriptRequest } from "./Behavior.ts"
import { claudeBodyRejection } from "./ClaudeRules.ts"
import { cohereRejection, cohereReply } from "./Cohere.ts"
import { errorReply, sseErrorFrame } from "./ErrorBodies.ts"
import { type GoogleAuthMock, makeGoogleAuthMock } from "./GoogleAuthMock.ts"
import { googleRejection, replyOf } from "./GoogleRoutes.ts"
import { boundaryOf, parseMultipart } from "./Multipart.ts"
import type { Reply } from "./Replies.ts"
import { apiBaseOf, type MockRoute, resolveRoute, vertexBaseOf } from "./Routes.ts"

/** One request as the mock received it. Uploads record their fields as `body` and the file's metadata. */
export interface RecordedRequest {
  readonly deployment: string
  readonly method: string
  /** The full path, including the deployment prefix. */
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly headers: Readonly<Record<string, string>>
  readonly operation: string | undefined
  readonly body: unknown
  readonly file?: { readonly field: string; readonly filename: string; readonly contentType: string; readonly size: number; readonly sha256: string }
}

/** A running mock upstream. */
export interface MockServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** The api_base to configure for a mock deployment (OpenAI: `${url}/d/<name>/v1`; Azure, Anthropic: `${url}/d/<name>`). */
  readonly apiBase: (deployment: string, wire?: "openai" | "azure" | "anthropic" | "gemini" | "bedrock" | "cohere") => string
  /** LiteLLM's Vertex `api_base` for a mock deployment serving `model` (the whole model URL). */
  readonly vertexBase: (deployment: string, model: string, options?: { readonly project?: string; readonly location?: string }) => string
  /** Google's token endpoint and the TEST-ONLY service account whose tokens Vertex routes accept. */
  readonly google: GoogleAuthMock
  /** Replaces a deployment's queue of behaviours (and, if given, what it does once the queue is empty). */
  readonly script: (deployment: string, behaviors: ReadonlyArray<MockBehavior>, otherwise?: MockBehavior) => void
  /** Sets what a deployment does once its queue is empty (default: ok). */
  readonly otherwise: (deployment: string, behavior: MockBehavior) => void
  /** Every request received, or those of one deployment, in order. */
  readonly requests: (deployment?: string) => ReadonlyArray<RecordedRequest>
  /** How many TCP connections have been accepted since start or the last reset. */
  readonly connections: () => number
  /** Forgets scripts, requests and the connection count. */
  readonly reset: () => void
  /** Stops listening and destroys open sockets (stalled streams included). */
  readonly close: () => Promise<void>
}

/** Options for starting a mock upstream. */
export interface MockServerOptions {
  /** The port to listen on; 0 (the default) picks a free one. */
  readonly port?: number
  /** Initial scripts, by deployment. */
  readonly scripts?: Readonly<Record<string, { readonly behaviors: ReadonlyArray<MockBehavior>; readonly otherwise?: MockBehavior }>>
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Gap between audio writes, so a client sees the body arrive in several pieces as from a real TTS server. */
const AUDIO_PIECE_GAP_MS = 2

const readBody = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const parts: Array<Buffer> = []
    req.on("data", (c: Buffer) => parts.push(c))
    req.on("end", () => resolve(Buffer.concat(parts)))
    req.on("error", reject)
  })

const flatHeaders = (req: IncomingMessage): Record<string, string> =>
  Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v ?? ""]))

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Checks the real Anthropic API makes before it answers, so a provider that gets them wrong fails here too. */
const anthropicRejection = (headers: Record<string, string>, body: Record<string, unknown>): string | undefined =>
  headers["anthropic-version"] === undefined
    ? "anthropic-version: header is required"
    : claudeBodyRejection(typeof body.model === "string" ? body.model : undefined, body)

/** A request body as the mock records it: JSON, or an upload's fields with the file's metadata. */
const parseBody = (raw: Buffer, contentType: string | undefined) => {
  const boundary = boundaryOf(contentType)
  if (boundary !== undefined) {
    const form = parseMultipart(raw, boundary)
    const f = form.files[0]
    const meta = f && { filename: f.filename, contentType: f.contentType, size: f.size }
    return {
      body: { ...form.fields, ...(meta ? { file: meta } : {}) } as unknown,
      file: f && { field: f.field, ...meta!, sha256: createHash("sha256").update(f.data).digest("hex") },
      invalidJson: false
    }
  }
  if (raw.length === 0) return { body: undefined as unknown, file: undefined, invalidJson: false }
  try {
    return { body: JSON.parse(raw.toString("utf8")) as unknown, file: undefined, invalidJson: false }
  } catch {
    return { body: raw.toString("utf8") as unknown, file: undefined, invalidJson: true }
  }
}

/** Starts a mock upstream on 127.0.0.1. */
export const startMockServer = async (options: MockServerOptions = {}): Promise<MockServer> => {
  const queues = new Map<string, Array<{ behavior: MockBehavior; remaining: number }>>()
  const fallbacks = new Map<string, MockBehavior>()
  let recorded: Array<RecordedRequest> = []
  let connectionCount = 0
  const sockets = new Set<Socket>()

  const script = (deployment: string, behaviors: ReadonlyArray<MockBehavior>, otherwise?: MockBehavior) => {
    queues.set(deployment, behaviors.map((behavior) => ({ behavior, remaining: behavior.times ?? 1 })))
    if (otherwise !== undefined) fallbacks.set(deployment, otherwise)
  }
  const next = (deployment: string): MockBehavior => {
    const queue = queues.get(deployment)
    const head = queue?.[0]
    if (head === undefined) return fallbacks.get(deployment) ?? { kind: "ok" }
    if (--head.remaining <= 0) queue!.shift()
    return head.behavior
  }
  let google: GoogleAuthMock | undefined
  const reset = () => {
    google?.reset()
    queues.clear()
    fallbacks.clear()
    recorded = []
    connectionCount = 0
  }
  for (const [deployment, s] of Object.entries(options.scripts ?? {})) script(deployment, s.behaviors, s.otherwise)

  const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers })
    res.end(JSON.stringify(body))
  }

  /** Writes frames or pieces one write at a time, stopping if the client went away. */
  const writeAll = async (res: ServerResponse, pieces: ReadonlyArray<string | Uint8Array>, gapMs: number) => {
    for (const piece of pieces) {
      if (res.destroyed) return
      res.write(piece)
      await (gapMs > 0 ? sleep(gapMs) : tick())
    }
  }

  /** Writes a successful reply, or breaks it as the behaviour says after `after` content pieces. */
  const respond = async (res: ServerResponse, route: MockRoute, behavior: MockBehavior, reply: Reply) => {
    const extra = behavior.headers ?? {}
    if (behavior.kind === "malformed") {
      res.writeHead(200, { "content-type": "application/json", ...extra })
      return void res.end("{\"id\": \"chatcmpl-broken\", \"choices\": [{\"index\": 0, \"message\": ")
    }
    const breaking = behavior.kind === "cut" || behavior.kind === "stall" || behavior.kind === "sseError"
    const after = breaking ? behavior.after : Infinity
    if (reply.kind === "json") {
      if (behavior.kind === "sseError") {
        // A plain reply has no event stream to put the error in: fail it the ordinary way.
        const e = errorReply(route.wire, { status: 500 }, { model: undefined, presentedKey: undefined })
        res.writeHead(e.status, { "content-type": e.contentType, ...e.headers, ...extra })
        return void res.end(e.body)
      }
      res.writeHead(200, {
        "content-type": reply.contentType,
        "content-length": String(Buffer.byteLength(reply.body)),
        ...reply.headers,
        ...extra
      })
      if (!breaking) return void res.end(reply.body)
      res.write(reply.body.slice(0, Math.floor(reply.body.length / 2)))
      if (behavior.kind === "cut") res.socket?.destroy()
      return
    }
    const sse = reply.kind === "sse"
    // SSE and eventstream replies are both frames: preamble, content (what a break counts), tail.
    const framed = sse || reply.kind === "frames"
    res.writeHead(200, {
      "content-type": sse ? "text/event-stream" : reply.contentType,
      ...(sse ? { "cache-control": "no-cache" } : reply.kind === "frames" ? reply.headers : {}),
      ...extra
    })
    // Headers go out now, so a break with `after: 0` is a break after a 200, not a refused request.
    res.flushHeaders()
    const pieces = framed ? [...reply.preamble, ...reply.content] : reply.pieces
    const breakAt = framed ? (after > 0 ? reply.preamble.length + Math.min(after, reply.content.length) : 0) : after
    await writeAll(res, pieces.slice(0, breakAt), framed ? 0 : AUDIO_PIECE_GAP_MS)
    if (!breaking) {
      if (framed) await writeAll(res, reply.tail, 0)
      return void res.end()
    }
    if (res.destroyed || behavior.kind === "stall") return // a stall keeps the socket open; close() destroys it
    if (behavior.kind === "sseError" && reply.kind === "frames") return void res.end(reply.errorFrame(behavior.type, behavior.message))
    if (behavior.kind === "sseError" && sse) {
      return void res.end(sseErrorFrame(route.wire, route.operation ?? "", { message: behavior.message, type: behavior.type }, breakAt))
    }
    res.socket?.destroy()
  }

  const handleControl = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const route = `${req.method} ${url.pathname}`
    if (route === "GET /_mock/requests") {
      const deployment = url.searchParams.get("deployment")
      return sendJson(res, 200, deployment === null ? recorded : recorded.filter((r) => r.deployment === deployment))
    }
    if (route === "GET /_mock/connections") return sendJson(res, 200, { connections: connectionCount })
    if (route === "POST /_mock/reset") return void (reset(), sendJson(res, 200, { ok: true }))
    if (route === "POST /_mock/script") {
      const raw = (await readBody(req)).toString("utf8")
      try {
        const body = Schema.decodeUnknownSync(ScriptRequest)(JSON.parse(raw))
        script(body.deployment, body.behaviors, body.otherwise)
        return sendJson(res, 200, { ok: true })
      } catch (error) {
        return sendJson(res, 400, { error: { message: `invalid script: ${String((error as Error).message)}` } })
      }
    }
    sendJson(res, 404, { error: { message: `unknown control route ${route}` } })
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    res.on("error", () => {})
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    if (url.pathname.startsWith("/_mock/")) return handleControl(req, res, url)
    if (url.pathname === "/token" && req.method === "POST") {
      const reply = await google!.exchange((await readBody(req)).toString("utf8"))
      return sendJson(res, reply.status, reply.body)
    }
    const headers = flatHeaders(req)
    const route = resolveRoute(url.pathname)
    const raw = await readBody(req)
    const { body, file, invalidJson } = parseBody(raw, headers["content-type"])
    recorded.push({
      deployment: route.deployment,
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      operation: route.operation,
      body,
      ...(file ? { file } : {})
    })
    const ctx = { model: isRecord(body) && typeof body.model === "string" ? body.model : undefined, presentedKey: presentedKey(headers) }
    const fail = (status: number, message: string) => {
      const e = errorReply(route.wire, { status, message }, ctx)
      res.writeHead(e.status, { "content-type": e.contentType, ...e.headers })
      res.end(e.body)
    }
    if (route.wire === "bedrock") {
      const denied = await bedrockAuthRejection({ method: req.method ?? "POST", path: url.pathname, headers, body: raw })
      if (denied !== undefined) {
        const e = errorReply("bedrock", denied, ctx)
        res.writeHead(e.status, { "content-type": e.contentType, ...e.headers })
        return void res.end(e.body)
      }
    }
    if (route.operation === undefined) return fail(404, `Unknown request URL: ${req.method} ${url.pathname}.`)
    if (invalidJson || !isRecord(body)) return fail(400, "We could not parse the JSON body of your request.")
    if (route.google !== undefined) {
      const rejection = googleRejection(route, headers, body, google!)
      if (rejection !== undefined) return sendJson(res, rejection.status, rejection.body)
    } else if (route.wire === "anthropic") {
      const rejection = anthropicRejection(headers, body)
      if (rejection !== undefined) return fail(400, rejection)
    }
    if (route.wire === "bedrock") {
      const rejection = bedrockRejection(route.operation, route.model ?? "", body)
      if (rejection !== undefined) return fail(400, rejection)
    }
    if (route.wire === "cohere") {
      const rejection = cohereRejection(route.operation, headers, body)
      if (rejection !== undefined) return fail(rejection.status, rejection.message)
    }
    const behavior = next(route.deployment)
    if (behavior.delayMillis !== undefined) await sleep(behavior.delayMillis)
    switch (behavior.kind) {
      case "reset":
        return void req.socket.resetAndDestroy()
      case "hangup":
        return void req.socket.destroy()
      case "error": {
        const e = errorReply(route.wire, behavior, ctx)
        res.writeHead(e.status, { "content-type": e.contentType, ...e.headers, ...behavior.headers })
        return void res.end(e.body)
      }
      default: {
        const reply = route.wire === "bedrock"
          ? bedrockReply(route.operation, route.model ?? "", body)
          : route.wire === "cohere"
          ? cohereReply(route.operation, body)
          : replyOf(route, body)
        return respond(res, route, behavior, reply)
      }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: `mock failure: ${String(error)}` } })
      else res.destroy()
    })
  })
  server.on("connection", (socket) => {
    connectionCount++
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}`
  google = makeGoogleAuthMock(`${url}/token`)
  return {
    url,
    port,
    apiBase: (deployment, wire) => apiBaseOf(url, deployment, wire),
    vertexBase: (deployment, model, options) => vertexBaseOf(url, deployment, model, options),
    google,
    script,
    otherwise: (deployment, behavior) => void fallbacks.set(deployment, behavior),
    requests: (deployment) => (deployment === undefined ? [...recorded] : recorded.filter((r) => r.deployment === deployment)),
    connections: () => connectionCount,
    reset,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}

/** The key a request presented, by any of the vendors' headers. */
const presentedKey = (headers: Record<string, string>): string | undefined =>
  headers["x-api-key"] ?? headers["api-key"] ?? headers.authorization?.replace(/^Bearer\s+/i, "")
