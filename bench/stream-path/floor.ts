/**
 * The floor of the stream-path benchmark: the least a gateway on this stack can do per request.
 * node:http in, one undici Pool out, the request JSON parsed and re-serialized, a reply parsed and
 * re-serialized, every SSE event parsed and re-encoded; no routing, auth, metrics or logging.
 * Run: node --import tsx bench/stream-path/floor.ts <port> <upstream base url>
 */
import { createServer } from "node:http"
import { Pool } from "undici"

const port = Number(process.argv[2] ?? 0)
const upstream = process.argv[3]!
const pool = new Pool(upstream, { connections: 2048, pipelining: 1 })

const server = createServer((req, res) => {
  if (req.method === "GET") return void res.end("ok")
  const parts: Array<Buffer> = []
  req.on("data", (p: Buffer) => parts.push(p))
  req.on("end", async () => {
    try {
      const body = JSON.parse(Buffer.concat(parts).toString()) as Record<string, unknown>
      const up = await pool.request({
        path: "/v1/chat/completions",
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer sk-bench" },
        body: JSON.stringify(body)
      })
      if (body.stream !== true) {
        const json = JSON.stringify(JSON.parse(await up.body.text()))
        res.writeHead(up.statusCode, { "content-type": "application/json", "content-length": Buffer.byteLength(json) })
        return void res.end(json)
      }
      res.writeHead(up.statusCode, { "content-type": "text/event-stream", "cache-control": "no-cache" })
      let buffered = ""
      for await (const piece of up.body) {
        buffered += (piece as Buffer).toString()
        const events = buffered.split("\n\n")
        buffered = events.pop()!
        let out = ""
        for (const event of events) {
          const data = event.slice("data: ".length)
          out += data === "[DONE]" ? "data: [DONE]\n\n" : `data: ${JSON.stringify(JSON.parse(data))}\n\n`
        }
        if (out !== "") res.write(out)
      }
      res.end()
    } catch {
      res.destroy()
    }
  })
})
server.keepAliveTimeout = 60_000
server.listen(port, "127.0.0.1", () => console.log(`floor listening on ${port}`))
