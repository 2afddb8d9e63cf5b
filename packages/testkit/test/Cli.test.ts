import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { DEFAULT_MOCK_PORT, parseMockArgs, readScriptFile } from "../src/mock/index.ts"
import { json, send } from "./http.ts"

const scriptFile = (content: unknown) => {
  const path = join(mkdtempSync(join(tmpdir(), "switchyard-mock-")), "script.json")
  writeFileSync(path, JSON.stringify(content))
  return path
}

describe("switchyard-mock command line", () => {
  it("parses --port and --script", () => {
    assert.deepStrictEqual(parseMockArgs([]), { port: DEFAULT_MOCK_PORT, scriptFile: undefined })
    assert.deepStrictEqual(parseMockArgs(["--port", "0", "--script", "s.json"]), { port: 0, scriptFile: "s.json" })
    assert.deepStrictEqual(parseMockArgs(["--port=5000"]), { port: 5000, scriptFile: undefined })
    assert.throws(() => parseMockArgs(["--port", "x"]))
  })

  it("reads a script file: a list of behaviours, or a full script", () => {
    const path = scriptFile({ a: [{ kind: "error", status: 503, times: 2 }], b: { behaviors: [], otherwise: { kind: "reset" } } })
    assert.deepStrictEqual(readScriptFile(path), {
      a: { behaviors: [{ kind: "error", status: 503, times: 2 }] },
      b: { behaviors: [], otherwise: { kind: "reset" } }
    })
    assert.throws(() => readScriptFile(scriptFile({ a: [{ kind: "nope" }] })))
  })

  it.live("the bin starts the server, prints its URL and applies the script", () =>
    Effect.gen(function*() {
      const path = scriptFile({ primary: [{ kind: "error", status: 503 }] })
      const bin = new URL("../bin/switchyard-mock.js", import.meta.url).pathname
      const child = yield* Effect.acquireRelease(
        Effect.sync(() => spawn(process.execPath, [bin, "--port", "0", "--script", path], { stdio: ["ignore", "pipe", "pipe"] })),
        (child) => Effect.sync(() => child.kill("SIGTERM"))
      )
      const url = yield* Effect.promise(() =>
        new Promise<string>((resolve, reject) => {
          let out = ""
          child.stdout!.on("data", (c: Buffer) => {
            out += c.toString()
            const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
            if (match) resolve(match[1]!)
          })
          child.on("exit", (code) => reject(new Error(`mock exited with ${code}`)))
        })
      )
      const first = yield* Effect.promise(() => send(`${url}/d/primary/v1/embeddings`, { body: { input: "x" } }))
      const second = yield* Effect.promise(() => send(`${url}/d/primary/v1/embeddings`, { body: { input: "x" } }))
      assert.deepStrictEqual([first.status, second.status], [503, 200])
      assert.strictEqual(json(yield* Effect.promise(() => send(`${url}/_mock/requests`))).length, 2)
    }), 20_000)
})
