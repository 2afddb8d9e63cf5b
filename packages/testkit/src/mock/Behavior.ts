/**
 * What a mock deployment does with one request, as plain JSON data: scripts travel over HTTP and in
 * `--script` files, so every behaviour is a schema-checked value, not a function.
 */
import { Schema } from "effect"

const optional = Schema.optionalKey
const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** Fields every behaviour may carry. */
const common = {
  /** Wait this long before sending the status line (latency before headers). */
  delayMillis: optional(Count),
  /** Use this behaviour for this many requests before taking the next one in the queue (default 1). */
  times: optional(Count.check(Schema.isGreaterThanOrEqualTo(1))),
  /** Extra response headers (e.g. `retry-after`). */
  headers: optional(Schema.Record(Schema.String, Schema.String))
}

/** Answer normally: JSON, SSE or audio, continuing the reference text. */
const Ok = Schema.Struct({ kind: Schema.Literal("ok"), ...common })
/** Answer with an error status and a realistic vendor body (built from `message`/`code`/`type`, or `body`). */
const Fail = Schema.Struct({
  kind: Schema.Literal("error"),
  status: Schema.Int.check(Schema.isBetween({ minimum: 400, maximum: 599 })),
  message: optional(Schema.String),
  code: optional(Schema.String),
  type: optional(Schema.String),
  param: optional(Schema.String),
  body: optional(Schema.Unknown),
  ...common
})
/** Drop the connection with no reply: `reset` sends a TCP RST, `hangup` a plain close. */
const Drop = Schema.Struct({ kind: Schema.Literals(["reset", "hangup"]), ...common })
/** Answer 200 with a body that is not valid JSON. */
const Malformed = Schema.Struct({ kind: Schema.Literal("malformed"), ...common })
/**
 * Break a reply after `after` content chunks (SSE words or audio pieces; half the body for JSON):
 * `cut` destroys the socket, `stall` keeps it open and sends nothing more, `sseError` sends an error event.
 * With `after: 0` nothing follows the headers.
 */
const Break = Schema.Struct({
  kind: Schema.Literals(["cut", "stall", "sseError"]),
  after: Count,
  message: optional(Schema.String),
  type: optional(Schema.String),
  ...common
})

/** One behaviour. */
export const MockBehavior = Schema.Union([Ok, Fail, Drop, Malformed, Break])
export type MockBehavior = typeof MockBehavior.Type

/** A deployment's script: a queue taken one request at a time, then `otherwise` (default: ok). */
export const MockScript = Schema.Struct({
  behaviors: Schema.Array(MockBehavior),
  otherwise: optional(MockBehavior)
})
export type MockScript = typeof MockScript.Type

/** The body of `POST /_mock/script`. */
export const ScriptRequest = Schema.Struct({
  deployment: Schema.String,
  behaviors: Schema.Array(MockBehavior),
  otherwise: optional(MockBehavior)
})

/** A `--script` file: per deployment, a queue of behaviours or a full script. */
export const ScriptFile = Schema.Record(Schema.String, Schema.Union([Schema.Array(MockBehavior), MockScript]))
export type ScriptFile = typeof ScriptFile.Type

type Extra = { readonly delayMillis?: number; readonly times?: number; readonly headers?: Record<string, string> }
type FailOptions = Extra & {
  readonly message?: string
  readonly code?: string
  readonly type?: string
  readonly param?: string
  readonly body?: unknown
}

/** Behaviour constructors, including realistic provider failures. */
export const Behave = {
  ok: (extra: Extra = {}): MockBehavior => ({ kind: "ok", ...extra }),
  status: (status: number, options: FailOptions = {}): MockBehavior => ({ kind: "error", status, ...options }),
  /** 429 with `retry-after` in seconds. */
  rateLimited: (retryAfterSeconds?: number, extra: Extra = {}): MockBehavior => ({
    kind: "error",
    status: 429,
    ...extra,
    headers: { ...extra.headers, ...(retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) }) }
  }),
  /** What Kokoro-FastAPI behind a LiteLLM-style alias answers for a model it cannot map. */
  modelIdNotFound: (model = "kokoro"): MockBehavior => ({
    kind: "error",
    status: 400,
    message: `could not find real modelID for ${model}`,
    type: "invalid_request_error"
  }),
  contextLengthExceeded: (): MockBehavior => ({
    kind: "error",
    status: 400,
    code: "context_length_exceeded",
    param: "messages",
    message:
      "This model's maximum context length is 8192 tokens. However, your messages resulted in 9120 tokens. Please reduce the length of the messages."
  }),
  modelNotFound: (model = "gpt-missing"): MockBehavior => ({
    kind: "error",
    status: 404,
    code: "model_not_found",
    message: `The model \`${model}\` does not exist or you do not have access to it.`
  }),
  /** Azure's content-management refusal. */
  contentFilter: (): MockBehavior => ({ kind: "error", status: 400, code: "content_filter" }),
  reset: (extra: Extra = {}): MockBehavior => ({ kind: "reset", ...extra }),
  hangup: (extra: Extra = {}): MockBehavior => ({ kind: "hangup", ...extra }),
  malformed: (extra: Extra = {}): MockBehavior => ({ kind: "malformed", ...extra }),
  cutAfter: (after: number, extra: Extra = {}): MockBehavior => ({ kind: "cut", after, ...extra }),
  stallAfter: (after: number, extra: Extra = {}): MockBehavior => ({ kind: "stall", after, ...extra }),
  sseErrorAfter: (after: number, options: Extra & { readonly message?: string; readonly type?: string } = {}): MockBehavior => ({
    kind: "sseError",
    after,
    ...options
  }),
  /** The first `n` requests get `failure` (by default a 500), the rest succeed. */
  failFirst: (n: number, failure: MockBehavior = { kind: "error", status: 500 }): MockBehavior => ({ ...failure, times: n })
}
