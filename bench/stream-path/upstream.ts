/**
 * The upstream of the stream-path benchmark: an OpenAI-shaped chat endpoint as cheap as node:http allows,
 * so the load generator and it (sharing one core) leave the gateway under test as the bottleneck. A
 * stream sends `max_tokens` content chunks (default 20), a finish chunk, a usage chunk and `[DONE]`, each
 * chunk in its own write on its own turn of the event loop, as a model's tokens arrive one by one; the
 * model `stall` sends one chunk and then holds the stream open (for the open-streams memory figure).
 * Run: node --import tsx bench/stream-path/upstream.ts <port>
 */
import { createServer, type ServerResponse } from "node:http"

const port = Number(process.argv[2] ?? 0)
const chunk = (choices: unknown, extra: object = {}) =>
  `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1_700_000_000, model: "bench", choices, ...extra })}\n\n`
const frames = new Map<number, ReadonlyArray<Buffer>>()
/** The SSE frames of an n-chunk reply, built once per n. */
const streamFrames = (n: number) => {
  let built = frames.get(n)
  if (built === undefined) {
    const texts = [chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }])]
    for (let i = 0; i < n; i++) texts.push(chunk([{ index: 0, delta: { content: `word${i} ` }, finish_reason: null }]))
    texts.push(chunk([{ index: 0, delta: {}, finish_reason: "stop" }]))
    texts.push(chunk([], { usage: { prompt_tokens: 10, completion_tokens: n, total_tokens: 10 + n } }) + "data: [DONE]\n\n")
    frames.set(n, built = texts.map((t) => Buffer.from(t)))
  }
  return built
}
/** Writes one frame per turn of the event loop, then ends the body. */
const sendFrames = (res: ServerResponse, list: ReadonlyArray<Buffer>, i = 0): void => {
  if (res.destroyed) return
  if (i === list.length - 1) return void res.end(list[i])
  res.write(list[i])
  setImmediate(sendFrames, res, list, i + 1)
}
const reply = Buffer.from(JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "bench",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello there." }, finish_reason: "stop" }],
  usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 }
}))

const server = createServer((req, res) => {
  if (req.method === "GET") return void res.end("ok")
  const parts: Array<Buffer> = []
  req.on("data", (p: Buffer) => parts.push(p))
  req.on("end", () => {
    const body = JSON.parse(Buffer.concat(parts).toString()) as { stream?: boolean; max_tokens?: number; model?: string }
    if (body.stream !== true) {
      res.writeHead(200, { "content-type": "application/json", "content-length": reply.length })
      return void res.end(reply)
    }
    res.writeHead(200, { "content-type": "text/event-stream" })
    if (body.model === "stall") return void res.write(chunk([{ index: 0, delta: { content: "held " }, finish_reason: null }]))
    sendFrames(res, streamFrames(body.max_tokens ?? 20))
  })
})
server.keepAliveTimeout = 60_000
server.listen(port, "127.0.0.1", () => console.log(`upstream listening on ${JSON.stringify(server.address())}`))
