/**
 * The one place where upstream failures become the core's typed errors. An HTTP status, its headers and
 * its body (OpenAI, Anthropic, Azure or a bare OpenAI-compatible server) go through an ordered table; the
 * first row that matches decides the class. Every message is scrubbed of keys before it leaves here.
 */
import {
  asMidStream,
  Authentication,
  BadRequest,
  Connection,
  ContentPolicy,
  ContextWindowExceeded,
  MalformedResponse,
  type MidStream,
  NotFound,
  Overloaded,
  type ProviderError,
  RateLimited,
  ServerError,
  Timeout
} from "@switchyard/core"
import type { HttpClientError } from "effect/http/HttpClientError"

/** What we know about one failed exchange: the status (absent for an in-stream error event) and the reply. */
export interface FailureFacts {
  readonly status: number | undefined
  /** Response headers with lower-case names. */
  readonly headers: Readonly<Record<string, string | undefined>>
  /** The body, parsed as JSON when it was JSON, else the raw text. */
  readonly body: unknown
  /** The current time, for `Retry-After` given as an HTTP date. */
  readonly nowMillis: number
  /** Values that must never appear in a message (the deployment's key). */
  readonly secrets: ReadonlyArray<string>
}

/** The error fields an upstream body carries, whichever vendor shaped it. */
export interface UpstreamDetail {
  readonly message: string | undefined
  readonly code: string | undefined
  readonly type: string | undefined
  readonly param: string | undefined
}

/** The facts with the body read, the status made effective and the message scrubbed: what rows look at. */
export interface Classified {
  readonly facts: FailureFacts
  readonly detail: UpstreamDetail
  /** The HTTP status, or for an in-stream error the status its error type implies. */
  readonly effectiveStatus: number | undefined
  readonly message: string
  readonly retryAfterMillis: number | undefined
}

/** One row of the table: a name (for the row-by-row test), a condition and the error it makes. */
export interface ErrorRow {
  readonly name: string
  readonly when: (c: Classified) => boolean
  readonly make: (c: Classified) => ProviderError
}

const MAX_MESSAGE = 1000

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const str = (u: unknown): string | undefined =>
  typeof u === "string" && u !== "" ? u : typeof u === "number" ? String(u) : undefined

/** Reads message, code, type and param from any of the error shapes upstreams use. */
export const readDetail = (body: unknown): UpstreamDetail => {
  if (typeof body === "string") return { message: str(body.trim()), code: undefined, type: undefined, param: undefined }
  if (!isRecord(body)) return { message: undefined, code: undefined, type: undefined, param: undefined }
  // Responses API `response.failed` events nest the error in the response.
  if (isRecord(body.response) && isRecord(body.response.error)) return readDetail({ error: body.response.error })
  const error = body.error
  // OpenAI, Azure and Anthropic nest an object under `error`; Ollama-style servers put a string there.
  const e: Record<string, unknown> = isRecord(error) ? error : typeof error === "string" ? { message: error } : body
  // Azure's content filter hides the decisive code one level down.
  const inner = isRecord(e.innererror) ? str(e.innererror.code) : undefined
  const detail = e.detail ?? body.detail // FastAPI servers (Kokoro, …) answer `{detail: …}`.
  const message = str(e.message) ??
    (typeof detail === "string" ? detail : detail === undefined ? undefined : JSON.stringify(detail))
  // Google puts its canonical status (`RESOURCE_EXHAUSTED`, …) beside a numeric `code`.
  const googleStatus = typeof e.status === "string" && /^[A-Z_]+$/.test(e.status) ? e.status : undefined
  return {
    message,
    code: inner === "ResponsibleAIPolicyViolation" ? "content_filter" : str(e.code),
    type: str(e.type) ?? googleStatus,
    param: str(e.param)
  }
}

/** The status an in-stream error implies by its type or code, so it classifies like the HTTP error it stands for. */
const impliedStatus: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  rate_limit_exceeded: 429,
  api_error: 500,
  server_error: 500,
  internal_error: 500,
  overloaded_error: 529,
  // Google's canonical statuses, with the HTTP status Google gives each.
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ABORTED: 409,
  ALREADY_EXISTS: 409,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  INTERNAL: 500,
  UNKNOWN: 500,
  DATA_LOSS: 500,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504
}

/** A numeric error code that is an HTTP error status (Google's in-stream errors carry one). */
const httpCode = (code: string | undefined): number | undefined =>
  code !== undefined && /^[45]\d\d$/.test(code) ? Number(code) : undefined
/** The AWS error type of a reply: `x-amzn-errortype` without its `:namespace` tail, else the body's `__type`, lower-cased. */
export const awsErrorType = (facts: FailureFacts): string | undefined => {
  const raw = facts.headers["x-amzn-errortype"] ?? (isRecord(facts.body) ? str(facts.body.__type) : undefined)
  return raw?.split(":")[0]!.split("#").at(-1)!.toLowerCase()
}

/** The status an AWS (Bedrock) exception stands for, so one sent inside a stream classifies like the HTTP error. */
const awsImpliedStatus: Readonly<Record<string, number>> = {
  validationexception: 400,
  accessdeniedexception: 403,
  resourcenotfoundexception: 404,
  modeltimeoutexception: 408,
  modelerrorexception: 424,
  modelstreamerrorexception: 424,
  throttlingexception: 429,
  modelnotreadyexception: 429,
  internalserverexception: 500,
  serviceunavailableexception: 503
}
const awsModelErrors = new Set(["modelerrorexception", "modelstreamerrorexception"])

/** How long the upstream asked us to wait: `retry-after-ms`, else `retry-after` in seconds or as an HTTP date. */
export const parseRetryAfter = (
  headers: Readonly<Record<string, string | undefined>>,
  nowMillis: number
): number | undefined => {
  const ms = headers["retry-after-ms"]
  if (ms !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.round(Number(ms))
  const after = headers["retry-after"]?.trim()
  if (after === undefined || after === "") return undefined
  if (/^\d+(\.\d+)?$/.test(after)) return Math.round(Number(after) * 1000)
  const date = Date.parse(after)
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMillis)
}

const secretPatterns: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bsk-[A-Za-z0-9_\-*.]{3,}/g, "[REDACTED]"],
  [/\bBearer\s+[^\s"',;]+/gi, "Bearer [REDACTED]"],
  [/\b(x-api-key|api[-_]?key)(["']?\s*[:=]\s*["']?)[^\s"',;]+/gi, "$1$2[REDACTED]"]
]

/** Removes the given secrets and anything shaped like a key (`sk-…`, `Bearer …`, `api-key: …`) from a text. */
export const scrubSecrets = (text: string, secrets: ReadonlyArray<string>): string => {
  let out = text
  // Very short "keys" (placeholders like "x") would shred the message and protect nothing.
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join("[REDACTED]")
  for (const [pattern, replacement] of secretPatterns) out = out.replace(pattern, replacement)
  return out
}

const clientSide = (c: Classified) => c.effectiveStatus === undefined || (c.effectiveStatus >= 400 && c.effectiveStatus < 500)
const statusIs = (...statuses: ReadonlyArray<number>) => (c: Classified) =>
  c.effectiveStatus !== undefined && statuses.includes(c.effectiveStatus)
const withStatus = (c: Classified) => ({
  message: c.message,
  ...(c.facts.status === undefined ? {} : { status: c.facts.status })
})
const withRetryAfter = (c: Classified) => ({
  ...withStatus(c),
  ...(c.retryAfterMillis === undefined ? {} : { retryAfterMillis: c.retryAfterMillis })
})

const contentPolicyCodes = new Set(["content_filter", "content_policy_violation", "content_policy"])
const contextPattern =
  /context[_ ]length|context window|maximum context|prompt is too long|input is too long|too many (input )?tokens|exceeds the (model's )?max(imum)? (number of )?tokens/i
const notFoundCodes = new Set(["model_not_found", "DeploymentNotFound", "not_found_error", "NotFound"])
const notFoundPattern =
  /could not find real model ?id|model\b.*\b(does not exist|not found|is not available)|\bmodel not found|no such model|unknown model|deployment .*does not exist/i

const prefillRefusal = /does not support assistant message prefill|conversation must end with a user message/i
/** Codes of account problems: the key works but the account cannot pay or is switched off. */
const accountCodes = new Set([
  "insufficient_quota",
  "billing_hard_limit_reached",
  "billing_not_active",
  "account_deactivated",
  "access_terminated",
  "API_KEY_INVALID"
])
/** The same problems as vendors word them when they give no code (Anthropic's 400, Gemini's key errors). */
const accountPattern =
  /credit balance is too low|exceeded your current quota|check your plan and billing|organization has been disabled|account (has been |is )?(disabled|deactivated|suspended)|api key (is )?(not valid|invalid|expired|disabled|revoked)/i

/** The mapping, in order: the first matching row wins. */
export const errorTable: ReadonlyArray<ErrorRow> = [
  {
    // Bedrock answers 400 when an account's quota is used up: it clears with time, like a rate limit.
    name: "aws service quota exceeded",
    when: (c) => awsErrorType(c.facts) === "servicequotaexceededexception",
    make: (c) => new RateLimited(withRetryAfter(c))
  },
  {
    // Bedrock's 424: the model itself failed (in a reply or mid-stream); another try or deployment may not.
    name: "aws model error",
    when: (c) => c.effectiveStatus === 424 || awsModelErrors.has(awsErrorType(c.facts) ?? ""),
    make: (c) => new ServerError(withStatus(c))
  },
  {
    // Cohere's 402: the account's billing, which no retry fixes.
    name: "402 payment required",
    when: statusIs(402),
    make: (c) => new Authentication(withStatus(c))
  },
  {
    // Only another deployment (another account or key) can fix these, whatever status the vendor picked
    // (a 400, a 429): they fail over and cool the deployment down like a refused key.
    name: "account problem",
    when: (c) =>
      clientSide(c) &&
      (accountCodes.has(c.detail.code ?? "") || accountCodes.has(c.detail.type ?? "") ||
        accountPattern.test(c.detail.message ?? "")),
    make: (c) => new Authentication(withStatus(c))
  },
  {
    name: "429 rate limited",
    when: statusIs(429),
    make: (c) => new RateLimited(withRetryAfter(c))
  },
  {
    name: "401/403 authentication",
    when: statusIs(401, 403),
    make: (c) => new Authentication(withStatus(c))
  },
  {
    name: "408 timeout",
    when: statusIs(408),
    make: (c) => new Timeout(withStatus(c))
  },
  {
    name: "deadline exceeded (Google)",
    when: (c) => c.detail.type === "DEADLINE_EXCEEDED",
    make: (c) => new Timeout(withStatus(c))
  },
  {
    // 4.6-generation Claude refuses a conversation ending with an assistant turn; the instruction form works.
    name: "assistant prefill refused",
    when: (c) => clientSide(c) && prefillRefusal.test(c.detail.message ?? ""),
    make: (c) => new BadRequest({ ...withStatus(c), reason: "prefill_unsupported" })
  },
  {
    name: "content policy",
    when: (c) =>
      clientSide(c) &&
      (contentPolicyCodes.has(c.detail.code ?? "") || contentPolicyCodes.has(c.detail.type ?? "")),
    make: (c) => new ContentPolicy(withStatus(c))
  },
  {
    name: "context window exceeded",
    when: (c) =>
      clientSide(c) && (c.detail.code === "context_length_exceeded" || contextPattern.test(c.detail.message ?? "")),
    make: (c) => new ContextWindowExceeded(withStatus(c))
  },
  {
    name: "model not found",
    when: (c) =>
      c.effectiveStatus === 404 ||
      (clientSide(c) && (notFoundCodes.has(c.detail.code ?? "") || notFoundPattern.test(c.detail.message ?? ""))),
    make: (c) => new NotFound(withStatus(c))
  },
  {
    name: "503/529 overloaded",
    when: statusIs(503, 529),
    make: (c) => new Overloaded(withRetryAfter(c))
  },
  {
    name: "other 5xx server error",
    when: (c) => c.effectiveStatus !== undefined && c.effectiveStatus >= 500,
    make: (c) => new ServerError(withStatus(c))
  },
  {
    name: "other 4xx bad request",
    when: (c) => c.effectiveStatus !== undefined && c.effectiveStatus >= 400 && c.effectiveStatus < 500,
    make: (c) => new BadRequest({ ...withStatus(c), ...(c.detail.param === undefined ? {} : { param: c.detail.param }) })
  },
  {
    // An error event we cannot read, or a status we do not know: assume the upstream's fault, which retries.
    name: "unrecognised failure",
    when: () => true,
    make: (c) => new ServerError(withStatus(c))
  }
]

/** Prepares facts for the table: reads the body, infers a status for in-stream errors, scrubs the message. */
export const classify = (facts: FailureFacts): Classified => {
  const detail = readDetail(facts.body)
  const effectiveStatus = facts.status ??
    (detail.type !== undefined ? impliedStatus[detail.type] : undefined) ??
    (detail.code !== undefined ? impliedStatus[detail.code] ?? httpCode(detail.code) : undefined) ??
    awsImpliedStatus[awsErrorType(facts) ?? ""]
  const raw = detail.message ?? (facts.status === undefined ? "upstream error event" : `upstream answered ${facts.status}`)
  return {
    facts,
    detail,
    effectiveStatus,
    message: scrubSecrets(raw, facts.secrets).slice(0, MAX_MESSAGE),
    retryAfterMillis: parseRetryAfter(facts.headers, facts.nowMillis)
  }
}

/** The row that decides a failure, and the error it makes. */
export const classifyWithRow = (facts: FailureFacts): { readonly row: string; readonly error: ProviderError } => {
  const c = classify(facts)
  const row = errorTable.find((r) => r.when(c))!
  return { row: row.name, error: row.make(c) }
}

/** The typed error of a failed exchange with an upstream. */
export const classifyFailure = (facts: FailureFacts): ProviderError => classifyWithRow(facts).error

/** The codes and messages along an error's `cause` chain: what a socket failure says about itself. */
const describeCause = (cause: unknown): string => {
  const parts: Array<string> = []
  for (let c: unknown = cause, depth = 0; isRecord(c) || c instanceof Error; depth++) {
    if (depth > 4) break
    const e = c as { code?: unknown; message?: unknown; cause?: unknown }
    const piece = [str(e.code), str(e.message)].filter(Boolean).join(": ")
    if (piece !== "" && !parts.includes(piece)) parts.push(piece)
    c = e.cause
  }
  return parts.join(" <- ")
}

/** The typed error of an `HttpClientError`: socket failures are Connection, a bad URL is a misconfiguration. */
export const fromHttpClientError = (error: HttpClientError, secrets: ReadonlyArray<string>): ProviderError => {
  const reason = error.reason
  const said = (fallback: string) =>
    scrubSecrets(describeCause(reason.cause) || reason.description || fallback, secrets).slice(0, MAX_MESSAGE)
  switch (reason._tag) {
    case "TransportError":
      return new Connection({ message: said("the connection failed") })
    case "DecodeError":
    case "EmptyBodyError":
      // We read bodies as bytes or text ourselves, so a body error is the socket breaking mid-reply.
      return new Connection({ message: said("the connection broke while reading the reply"), status: reason.response.status })
    case "InvalidUrlError":
      return new NotFound({ message: said("the deployment's api_base is not a valid URL") })
    case "EncodeError":
      return new BadRequest({ message: said("the request body could not be encoded") })
    case "StatusCodeError":
      return new ServerError({ message: said("unexpected status"), status: reason.response.status })
  }
}

/** A reply that arrived but does not decode. */
export const malformed = (what: string, secrets: ReadonlyArray<string>, status?: number): MalformedResponse =>
  new MalformedResponse({
    message: scrubSecrets(what, secrets).slice(0, MAX_MESSAGE),
    ...(status === undefined ? {} : { status })
  })

/** A failure after content was sent: the stream cannot be retried, only continued from `received`. */
export const midStream: (cause: ProviderError, received: string) => MidStream = asMidStream
