/**
 * Request fields that steer the router, as LiteLLM reads them, and are never sent upstream: `fallbacks`
 * (a list of models, or LiteLLM's `[{ group: [...] }]` map), `disable_fallbacks`, `timeout` and
 * `stream_timeout` (seconds), `num_retries`, and the routing tags (`tags`, `metadata.tags`).
 */
import { Schema } from "effect"
import { isRecord } from "./Config.ts"

/** What one request asks of the router. */
export interface RequestControls {
  /** Fallback models the client asked for, already picked for the requested model from a map form. */
  readonly fallbacks: ReadonlyArray<string> | undefined
  readonly disableFallbacks: boolean
  readonly timeoutMillis: number | undefined
  readonly streamTimeoutMillis: number | undefined
  readonly numRetries: number | undefined
  /** Tags for tag routing: `tags` and `metadata.tags`, together. */
  readonly tags: ReadonlyArray<string>
}

/** The top-level fields the router reads and removes. */
export const controlFields: ReadonlyArray<string> = [
  "fallbacks",
  "disable_fallbacks",
  "timeout",
  "stream_timeout",
  "num_retries",
  "tags"
]

const Seconds = Schema.Number.check(Schema.isGreaterThan(0))
const Controls = Schema.Struct({
  fallbacks: Schema.optionalKey(Schema.Union([
    Schema.Array(Schema.String),
    Schema.Array(Schema.Record(Schema.String, Schema.Array(Schema.String)))
  ])),
  disable_fallbacks: Schema.optionalKey(Schema.Boolean),
  timeout: Schema.optionalKey(Seconds),
  stream_timeout: Schema.optionalKey(Seconds),
  num_retries: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  tags: Schema.optionalKey(Schema.Array(Schema.String))
})
const decodeControls = Schema.decodeUnknownExit(Controls)

/**
 * `metadata.tags` when it is a list of strings. Other shapes are the operation's own metadata (a
 * Responses API `metadata` holds strings), left alone and sent upstream.
 */
const metadataTags = (body: Record<string, unknown>): ReadonlyArray<string> | undefined => {
  const tags = isRecord(body.metadata) ? body.metadata.tags : undefined
  return Array.isArray(tags) && tags.every((t) => typeof t === "string") ? tags : undefined
}

const noControls: RequestControls = {
  fallbacks: undefined,
  disableFallbacks: false,
  timeoutMillis: undefined,
  streamTimeoutMillis: undefined,
  numRetries: undefined,
  tags: []
}

/** The map form's list for `model` (or its `"*"` entry); the list form as it is. */
const fallbacksFor = (
  written: ReadonlyArray<string> | ReadonlyArray<Readonly<Record<string, ReadonlyArray<string>>>> | undefined,
  model: string
): ReadonlyArray<string> | undefined => {
  if (written === undefined) return undefined
  if (written.every((e) => typeof e === "string")) return written as ReadonlyArray<string>
  const maps = written as ReadonlyArray<Readonly<Record<string, ReadonlyArray<string>>>>
  return maps.find((m) => m[model] !== undefined)?.[model] ?? maps.find((m) => m["*"] !== undefined)?.["*"] ?? []
}

/** Reads the control fields of a request for `model`; a message saying what is wrong when they are invalid. */
export const readControls = (body: Record<string, unknown>, model: string): RequestControls | string => {
  // The common request carries none of them: no decoding on the hot path.
  const fromMetadata = metadataTags(body)
  if (fromMetadata === undefined && !controlFields.some((f) => f in body)) return noControls
  // `null` is "not set", as clients that serialize every field send it.
  const set = Object.fromEntries(controlFields.flatMap((f) => (body[f] === null || body[f] === undefined ? [] : [[f, body[f]]])))
  const exit = decodeControls(set, { errors: "all" })
  if (exit._tag === "Failure") {
    const issue = exit.cause.reasons.find((r) => r._tag === "Fail")
    return `invalid router control field: ${issue?._tag === "Fail" ? String(issue.error) : "unreadable"}`
  }
  const c = exit.value
  return {
    fallbacks: fallbacksFor(c.fallbacks, model),
    disableFallbacks: c.disable_fallbacks === true,
    timeoutMillis: c.timeout === undefined ? undefined : c.timeout * 1000,
    streamTimeoutMillis: c.stream_timeout === undefined ? undefined : c.stream_timeout * 1000,
    numRetries: c.num_retries,
    tags: [...(c.tags ?? []), ...(fromMetadata ?? [])]
  }
}

/** The request as sent upstream: without the control fields, and without `metadata.tags`. */
export const upstreamRequest = (body: Record<string, unknown>): Record<string, unknown> => {
  const tagged = metadataTags(body) !== undefined
  if (!tagged && !controlFields.some((f) => f in body)) return body
  const out = Object.fromEntries(Object.entries(body).filter(([k]) => !controlFields.includes(k)))
  if (tagged) {
    const { tags: _tags, ...rest } = body.metadata as Record<string, unknown>
    if (Object.keys(rest).length > 0) out.metadata = rest
    else delete out.metadata
  }
  return out
}
