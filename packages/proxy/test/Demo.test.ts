/**
 * `npm start`: the demo moves with `--port` (the mock too, and the config follows it), so it can run
 * beside another demo, and the files it tells the user to write go to a temporary folder.
 */
import { describe, expect, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { tmpdir } from "node:os"
import { fileURLToPath } from "node:url"

const BIN = fileURLToPath(new URL("../bin/switchyard-demo.js", import.meta.url))

describe("the demo (npm start)", () => {
  it("with --port 0 both the gateway and the mock pick free ports, and the gateway routes to that mock", async () => {
    const child = spawn(process.execPath, [BIN, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] })
    try {
      let out = ""
      const printed = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          out += chunk.toString()
          if (out.includes("# metrics")) resolve(out)
        }
        child.stdout.on("data", onData)
        child.stderr.on("data", onData)
        child.on("exit", (code) => reject(new Error(`the demo exited with ${code}:\n${out}`)))
      })
      const mock = /switchyard-mock listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(printed)
      const gateway = /switchyard listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(printed)
      expect(mock?.[2]).not.toBe("4010")
      expect(gateway?.[2]).not.toBe("4000")
      // gpt-4o-east fails on the mock, gpt-4o-west answers: the config points at the mock that started.
      const response = await fetch(`${gateway![1]}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "Hello" }] })
      })
      expect(response.status).toBe(200)
      expect(response.headers.get("x-switchyard-deployment")).toBe("gpt-4o-west")
      const speechFile = / -o (\S+) -D -/.exec(printed)?.[1]
      expect(speechFile?.startsWith(tmpdir())).toBe(true)
    } finally {
      child.kill("SIGTERM")
    }
  }, 60_000)
})
