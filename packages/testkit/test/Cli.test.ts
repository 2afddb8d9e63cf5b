import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { DEFAULT_MOCK_PORT, parseMockArgs, readScriptFile, wantsMockHelp } from "../src/mock/index.ts"
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
    assert.throws(() => parseMockArgs(["--prot", "5000"]), /Unknown option '--prot'/)
    assert.throws(() => parseMockArgs(["--port", "70000"]))
  })

  it("reads a script file: a list of behaviours, or a full script", () => {
    const path = scriptFile({ a: [{ kind: "error", status: 503, times: 2 }], b: { behaviors: [], otherwise: { kind: "reset" } } })
    assert.deepStrictEqual(readScriptFile(path), {
      a: { behaviors: [{ kind: "error", status: 503, times: 2 }] },
      b: { behaviors: [], otherwise: { kind: "reset" } }
    })
    assert.throws(() => readScriptFile(scriptFile({ a: [{ kind: "nope" }] })))
  })

  it.live("--help prints the usage and exits 0; a bad command line exits 2 with it", () =>
    Effect.gen(function*() {
      const bin = new URL("../bin/switchyard-mock.js", import.meta.url).pathname
      const run = (args: ReadonlyArray<string>) =>
        Effect.promise(() =>
          new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
            const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"], timeout: 20_000 })
            let stdout = ""
            let stderr = ""
            child.stdout.on("data", (c: Buffer) => (stdout += c.toString()))
            child.stderr.on("data", (c: Buffer) => (stderr += c.toString()))
            child.on("close", (status) => resolve({ status, stdout, stderr }))
          })
        )
      assert.deepStrictEqual([wantsMockHelp(["-h"]), wantsMockHelp(["--port", "1", "--help"]), wantsMockHelp(["--port", "1"])], [true, true, false])
      const help = yield* run(["--help"])
      assert.strictEqual(help.status, 0)
      assert.include(help.stdout, "usage: switchyard-mock [--port 4010]")
      const bad = yield* run(["--port", "nope"])
      assert.strictEqual(bad.status, 2)
      assert.include(bad.stderr, "usage: switchyard-mock")
    }), 30_000)

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
