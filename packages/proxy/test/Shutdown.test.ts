/**
 * Graceful shutdown of the real CLI in a child process: on SIGTERM it stops accepting connections,
 * lets an open stream finish, and exits; past the drain deadline an open stream is cut.
 */
import { afterEach, describe, expect, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const BIN = fileURLToPath(new URL("../bin/switchyard.js", import.meta.url))
const WORDS = Array.from({ length: 12 }, (_, i) => `word${i} `)

/**
 * An OpenAI-compatible upstream that streams the first word at once and the rest when the test calls
 * `release`; until then the stream stays open, as long as a slow reply would.
 */
const gatedUpstream = async (): Promise<{ server: Server; url: string; release: () => void }> => {
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => (release = resolve))
  const chunk = (word: string) =>
    `data: ${JSON.stringify({ id: "s", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: word } }] })}\n\n`
  const server = createServer((req, res) => {
    req.resume()
    req.on("end", async () => {
      res.writeHead(200, { "content-type": "text/event-stream" })
      res.write(chunk(WORDS[0]!))
      await released
      if (res.destroyed) return
      for (const word of WORDS.slice(1)) res.write(chunk(word))
      res.end("data: [DONE]\n\n")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, release }
}

/** Starts the CLI on a free port and resolves with its URL once it printed the ready line. */
const startCli = (apiBase: string, drainSeconds: number) => {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-"))
  const config = join(dir, "config.yaml")
  writeFileSync(config, `model_list:\n  - model_name: gpt\n    litellm_params: { model: openai/gpt-4o, api_base: "${apiBase}" }\n`)
  const child = spawn(process.execPath, [BIN, "--config", config, "--port", "0", "--drain-timeout", String(drainSeconds)], {
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  const waiting: Array<{ readonly text: string; readonly resolve: () => void }> = []
  const append = (data: Buffer) => {
    output += data.toString()
    for (const w of waiting.filter((w) => output.includes(w.text))) {
      waiting.splice(waiting.indexOf(w), 1)
      w.resolve()
    }
  }
  /** Resolves once the CLI has printed `text`. */
  const printed = (text: string) =>
    output.includes(text) ? Promise.resolve() : new Promise<void>((resolve) => void waiting.push({ text, resolve }))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (data: Buffer) => {
      append(data)
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match) resolve(match[1]!)
    })
    child.stderr!.on("data", append)
    exited.then(() => reject(new Error(`the CLI exited before it was ready:\n${output}`)))
  })
  return { child, url, exited, printed, output: () => output }
}

const openStream = async (url: string) => {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt", stream: true, messages: [{ role: "user", content: "hi" }] })
  })
  const reader = response.body!.getReader()
  const first = new TextDecoder().decode((await reader.read()).value)
  const rest = (async () => {
    let text = first
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value)
      return { text, complete: true }
    } catch {
      return { text, complete: false }
    }
  })()
  // Wrapped, so awaiting the open does not wait for the whole stream.
  return { rest }
}

const contentOf = (sse: string) =>
  sse.split("\n\n").filter((e) => e.startsWith("data: {")).map((e) => JSON.parse(e.slice(6)).choices?.[0]?.delta?.content ?? "").join("")

let cleanup: Array<() => void> = []
afterEach(() => {
  for (const f of cleanup) f()
  cleanup = []
})

describe("graceful shutdown", () => {
  it("on SIGTERM an open stream still completes, new connections are refused, and the process exits", async () => {
    const upstream = await gatedUpstream()
    const cli = startCli(upstream.url, 10)
    cleanup.push(() => cli.child.kill("SIGKILL"), () => upstream.release(), () => upstream.server.close())
    const url = await cli.url
    const stream = await openStream(url)
    cli.child.kill("SIGTERM")
    await cli.printed("draining open requests")
    await expect(fetch(`${url}/health/liveliness`)).rejects.toThrow()
    // The stream is still open while the gateway drains; only now does the upstream finish it.
    upstream.release()
    const { text, complete } = await stream.rest
    expect(complete).toBe(true)
    expect(contentOf(text)).toBe(WORDS.join(""))
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true)
    expect(await cli.exited).toBe(0)
    expect(cli.output()).toContain("draining open requests")
  }, 20_000)

  it("past the drain deadline an open stream is cut, never completed", async () => {
    // The upstream is never released: only the drain deadline can end this stream.
    const upstream = await gatedUpstream()
    const cli = startCli(upstream.url, 0.3)
    cleanup.push(() => cli.child.kill("SIGKILL"), () => upstream.release(), () => upstream.server.close())
    const url = await cli.url
    const stream = await openStream(url)
    const signalled = Date.now()
    cli.child.kill("SIGTERM")
    const { text, complete } = await stream.rest
    expect(text).not.toContain("[DONE]")
    expect(complete && text.includes("[DONE]")).toBe(false)
    await cli.exited
    expect(Date.now() - signalled).toBeLessThan(3000)
  }, 20_000)
})
