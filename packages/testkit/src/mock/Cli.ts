/**
 * The command line of the standalone mock upstream: `--port N`, `--script file.json` and `--help`.
 */
import { readFileSync } from "node:fs"
import { parseArgs } from "node:util"
import { Schema } from "effect"
import { type MockScript, ScriptFile } from "./Behavior.ts"

/** The port the standalone mock listens on unless told otherwise. */
export const DEFAULT_MOCK_PORT = 4010

/** Command-line options of the standalone mock. */
export interface MockCliOptions {
  readonly port: number
  readonly scriptFile: string | undefined
}

/** The usage text of `switchyard-mock --help`, also printed on a bad command line. */
export const mockUsage = `usage: switchyard-mock [--port ${DEFAULT_MOCK_PORT}] [--script file.json]

  The mock upstream: OpenAI, Azure and Anthropic wire formats on http://127.0.0.1:PORT/d/<deployment>/...
  --port N              port to listen on (default ${DEFAULT_MOCK_PORT}; 0 picks a free one)
  --script FILE         per deployment, the behaviours to play (JSON: a list, or {behaviors, otherwise})
  -h, --help            print this and exit`

/** Whether the command line asks for the usage (`--help` or `-h`), which then exits 0. */
export const wantsMockHelp = (argv: ReadonlyArray<string>): boolean => argv.some((a) => a === "--help" || a === "-h")

/** Parses `--port N` and `--script file.json` (also as `--port=N`); throws on anything else. */
export const parseMockArgs = (argv: ReadonlyArray<string>): MockCliOptions => {
  const { values } = parseArgs({
    args: [...argv],
    options: { port: { type: "string" }, script: { type: "string" } },
    strict: true,
    allowPositionals: false
  })
  const port = values.port
  if (port !== undefined && (!/^\d+$/.test(port) || Number(port) > 65535)) {
    throw new Error(`--port expects a port number, got "${port}"`)
  }
  return { port: port === undefined ? DEFAULT_MOCK_PORT : Number(port), scriptFile: values.script }
}

/** Reads a `--script` file: per deployment, a list of behaviours or `{behaviors, otherwise}`. */
export const readScriptFile = (path: string): Record<string, MockScript> => {
  const file = Schema.decodeUnknownSync(ScriptFile)(JSON.parse(readFileSync(path, "utf8")))
  return Object.fromEntries(
    Object.entries(file).map(([deployment, s]) => [deployment, Array.isArray(s) ? { behaviors: s } : s as MockScript])
  )
}
