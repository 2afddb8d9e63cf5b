/**
 * The command line: `switchyard --config FILE [--port 4000] [--host 127.0.0.1] [--check]
 * [--drain-timeout SECONDS] [--log-format logfmt|json]`, and `--help`/`-h`.
 */
import { parseArgs } from "node:util"

/** Parsed command-line options. */
export interface CliArgs {
  readonly config: string
  readonly port: number
  readonly host: string
  readonly check: boolean
  readonly drainTimeoutMillis: number
  readonly logFormat: "logfmt" | "json"
}

/** The usage text printed by `--help` and on a bad command line. */
export const usage = `usage: switchyard --config FILE [--port 4000] [--host 127.0.0.1] [--check]
                  [--drain-timeout SECONDS] [--log-format logfmt|json]
       switchyard --help

  --config FILE           the LiteLLM-shaped YAML config (model_list, router_settings, general_settings)
  --port N                port to listen on (default 4000; 0 picks a free one)
  --host ADDRESS          address to bind (default 127.0.0.1)
  --check                 validate the config (schema, providers, environment variables) and exit
  --drain-timeout SECONDS on SIGTERM, how long open requests and streams may finish (default 10)
  --log-format FORMAT     logfmt (default) or json
  -h, --help              print this and exit`

/** Whether the command line asks for the usage (`--help` or `-h` anywhere), which then exits 0. */
export const wantsHelp = (argv: ReadonlyArray<string>): boolean => argv.some((a) => a === "--help" || a === "-h")

/** A command line that cannot be run; the message says why. */
export class UsageError extends Error {}

const number = (name: string, value: string | undefined, fallback: number, integer: boolean): number => {
  if (value === undefined) return fallback
  const n = Number(value)
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} expects a ${integer ? "whole " : ""}number ≥ 0, got "${value}"`)
  }
  return n
}

/** Parses the arguments after `switchyard`; throws `UsageError` on anything it cannot use. */
export const parseCliArgs = (argv: ReadonlyArray<string>): CliArgs => {
  let values
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        config: { type: "string", short: "c" },
        port: { type: "string", short: "p" },
        host: { type: "string" },
        check: { type: "boolean", default: false },
        "drain-timeout": { type: "string" },
        "log-format": { type: "string" }
      },
      strict: true,
      allowPositionals: false
    }).values
  } catch (e) {
    throw new UsageError((e as Error).message)
  }
  if (values.config === undefined) throw new UsageError("--config FILE is required")
  const logFormat = values["log-format"] ?? "logfmt"
  if (logFormat !== "logfmt" && logFormat !== "json") {
    throw new UsageError(`--log-format expects logfmt or json, got "${logFormat}"`)
  }
  const port = number("port", values.port, 4000, true)
  if (port > 65535) throw new UsageError(`--port expects a port number, got ${port}`)
  return {
    config: values.config,
    port,
    host: values.host ?? "127.0.0.1",
    check: values.check ?? false,
    drainTimeoutMillis: number("drain-timeout", values["drain-timeout"], 10, false) * 1000,
    logFormat
  }
}
