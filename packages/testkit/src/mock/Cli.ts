/**
 * The command line of the standalone mock upstream: `--port N` and `--script file.json`.
 */
import { readFileSync } from "node:fs"
import { Schema } from "effect"
import { type MockScript, ScriptFile } from "./Behavior.ts"

/** The port the standalone mock listens on unless told otherwise. */
export const DEFAULT_MOCK_PORT = 4010

/** Command-line options of the standalone mock. */
export interface MockCliOptions {
  readonly port: number
  readonly scriptFile: string | undefined
}

/** Parses `--port N` and `--script file.json` (also as `--port=N`). */
export const parseMockArgs = (argv: ReadonlyArray<string>): MockCliOptions => {
  const value = (name: string) => {
    const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`))
    if (i === -1) return undefined
    const arg = argv[i]!
    return arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[i + 1]
  }
  const port = value("--port")
  if (port !== undefined && !/^\d+$/.test(port)) throw new Error(`--port expects a number, got "${port}"`)
  return { port: port === undefined ? DEFAULT_MOCK_PORT : Number(port), scriptFile: value("--script") }
}

/** Reads a `--script` file: per deployment, a list of behaviours or `{behaviors, otherwise}`. */
export const readScriptFile = (path: string): Record<string, MockScript> => {
  const file = Schema.decodeUnknownSync(ScriptFile)(JSON.parse(readFileSync(path, "utf8")))
  return Object.fromEntries(
    Object.entries(file).map(([deployment, s]) => [deployment, Array.isArray(s) ? { behaviors: s } : s as MockScript])
  )
}
