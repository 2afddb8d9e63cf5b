/**
 * A minimal node:http client for testing the mock at the socket level: it reports how the body arrived
 * (how many pieces) and how the connection ended, which fetch hides.
 */
import { Agent, request as httpRequest } from "node:http"

/** What a request got back; `error` is set when the connection failed. */
export interface RawReply {
  readonly status: number
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly body: Buffer
  readonly pieces: number
  readonly error: string | undefined
}

/** Sends one request and collects the reply, or the socket error that ended it. */
export const send = (
  url: string,
  options: { readonly method?: string; readonly body?: unknown; readonly headers?: Record<string, string>; readonly agent?: Agent } = {}
): Promise<RawReply> =>
  new Promise((resolve) => {
    const payload = options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body)
    let status = 0
    let headers: RawReply["headers"] = {}
    const parts: Array<Buffer> = []
    const done = (error: string | undefined) => resolve({ status, headers, body: Buffer.concat(parts), pieces: parts.length, error })
    const req = httpRequest(url, {
      method: options.method ?? (payload === undefined ? "GET" : "POST"),
      headers: { "content-type": "application/json", ...options.headers },
      ...(options.agent ? { agent: options.agent } : {})
    }, (res) => {
      status = res.statusCode ?? 0
      headers = res.headers
      res.on("data", (c: Buffer) => parts.push(c))
      res.on("end", () => done(undefined))
      res.on("error", (e) => done(String((e as NodeJS.ErrnoException).code ?? e.message)))
    })
    req.on("error", (e) => done(String((e as NodeJS.ErrnoException).code ?? e.message)))
    req.end(payload)
  })

/** The JSON of a reply body. */
export const json = (reply: RawReply): any => JSON.parse(reply.body.toString("utf8"))

/** The data of every SSE frame of a reply body. */
export const sseData = (reply: RawReply): Array<string> =>
  reply.body.toString("utf8").split("\n\n").flatMap((frame) =>
    frame.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6))
  )
