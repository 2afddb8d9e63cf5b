/**
 * The log output of the gateway process: one line per entry on stdout, in the format of effect's
 * `Logger.consoleLogFmt` or `Logger.consoleJson`, byte for byte. Two things make it cheap enough for a
 * line per request: entries whose message and annotations are plain strings, numbers and booleans (the
 * request line) are formatted directly instead of through the generic value formatter, and lines are
 * written in batches, at most one write to stdout per event-loop turn instead of one per line.
 */
import { Logger, References } from "effect"

/** The two line formats the CLI offers. */
export type LogFormat = "logfmt" | "json"

type LogOptions = Parameters<Logger.Logger<unknown, unknown>["log"]>[0]
type Primitive = string | number | boolean

const isPrimitive = (u: unknown): u is Primitive => typeof u === "string" || typeof u === "number" || typeof u === "boolean"

/** Whether an entry has only what the direct formatting handles; anything else takes effect's formatter. */
const isPlain = (options: LogOptions, annotations: Readonly<Record<string, unknown>>): boolean => {
  if (options.cause.reasons.length > 0) return false
  const message = options.message
  if (Array.isArray(message)) {
    for (const m of message) if (typeof m !== "string") return false
  } else if (typeof message !== "string") return false
  for (const key in annotations) if (!isPrimitive(annotations[key])) return false
  return true
}

const messagesOf = (message: unknown): ReadonlyArray<string> =>
  Array.isArray(message) ? message as ReadonlyArray<string> : [message as string]

// As effect's logfmt: a value with whitespace, `"` or `=` is quoted; labels have them replaced by `_`.
const textOnly = /^[^\s"=]*$/
const logfmtValue = (value: string) => (textOnly.test(value) ? value : JSON.stringify(value))
// Numbers and booleans print without whitespace, quotes or `=`, so they never need quoting.
const logfmtPrimitive = (value: Primitive) => (typeof value === "string" ? logfmtValue(value) : String(value))
const labels = new Map<string, string>()
const logfmtLabel = (label: string) => {
  let formatted = labels.get(label)
  if (formatted === undefined) {
    formatted = label.replace(/[\s="]/g, "_")
    if (labels.size < 1000) labels.set(label, formatted)
  }
  return formatted
}

/** `Logger.formatLogFmt`, with the common case formatted directly. */
export const formatLogFmt: Logger.Logger<unknown, string> = Logger.make((options) => {
  const annotations = options.fiber.getRef(References.CurrentLogAnnotations)
  if (!isPlain(options, annotations)) return Logger.formatLogFmt.log(options)
  // An ISO date, an upper-case level and `#<id>` never need quoting.
  let out = `timestamp=${options.date.toISOString()} level=${options.logLevel.toUpperCase()} fiber=#${options.fiber.id}`
  for (const m of messagesOf(options.message)) out += ` message=${logfmtValue(m)}`
  const now = options.date.getTime()
  for (const [label, start] of options.fiber.getRef(References.CurrentLogSpans)) {
    out += ` ${logfmtLabel(label)}=${now - start}ms`
  }
  for (const key in annotations) out += ` ${logfmtLabel(key)}=${logfmtPrimitive(annotations[key] as Primitive)}`
  return out
})

/** `Logger.formatJson`, with the common case serialized directly. */
export const formatJson: Logger.Logger<unknown, string> = Logger.make((options) => {
  const annotations = options.fiber.getRef(References.CurrentLogAnnotations)
  if (!isPlain(options, annotations)) return Logger.formatJson.log(options)
  const now = options.date.getTime()
  const spans: Record<string, number> = {}
  for (const [label, start] of options.fiber.getRef(References.CurrentLogSpans)) spans[label] = now - start
  const messages = messagesOf(options.message)
  return JSON.stringify({
    message: messages.length === 1 ? messages[0] : messages,
    level: options.logLevel.toUpperCase(),
    timestamp: options.date.toISOString(),
    annotations,
    spans,
    fiberId: `#${options.fiber.id}`
  })
})

let pending: Array<string> = []
let scheduled = false

/** Writes the lines logged so far; the process calls it before its own console output and on exit. */
export const flushLogs = (): void => {
  scheduled = false
  if (pending.length === 0) return
  const text = pending.join("\n") + "\n"
  pending = []
  process.stdout.write(text)
}

const writeLine = (line: string) => {
  pending.push(line)
  if (!scheduled) {
    scheduled = true
    setImmediate(flushLogs)
  }
}

let exitHook = false

/** The process logger: `format` lines on stdout, batched per event-loop turn and flushed on exit. */
export const processLogger = (format: LogFormat): Logger.Logger<unknown, void> => {
  if (!exitHook) {
    exitHook = true
    process.on("exit", flushLogs)
  }
  const formatter = format === "json" ? formatJson : formatLogFmt
  return Logger.make((options) => writeLine(formatter.log(options)))
}
