/**
 * Every error a client of the gateway sees, in one table: OpenAI's error object
 * (`{"error":{"message","type","param","code"}}`), the HTTP status and the `retry-after` header. Router
 * failures are mapped by their tag (and, once every attempt failed, by the tag of the last upstream
 * error), never by their message text.
 */
import type {
  AllAttemptsFailed,
  NoDeploymentAvailable,
  OperationName,
  ProviderError,
  ProviderErrorTag,
  RouterCallError
} from "@switchyard/core"
import { Data } from "effect"
import { HttpServerResponse } from "effect/http"

/** OpenAI's error `type` values, plus `upstream_error` for failures only the operator can fix. */
export type ApiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "rate_limit_error"
  | "timeout_error"
  | "upstream_error"
  | "service_unavailable_error"
  | "server_error"

/** An error as the client receives it. */
export class ApiError extends Data.TaggedError("ApiError")<{
  readonly status: number
  readonly type: ApiErrorType
  readonly message: string
  readonly code: string | null
  readonly param: string | null
  /** Seconds the client should wait before retrying; sent as `retry-after`. */
  readonly retryAfterSeconds?: number | undefined
}> {}

const make = (
  status: number,
  type: ApiErrorType,
  message: string,
  code: string | null = null,
  param: string | null = null,
  retryAfterSeconds: number | undefined = undefined
) => new ApiError({ status, type, message, code, param, retryAfterSeconds })

/** Whole seconds for a `retry-after` header; at least 1 so a client never retries in a busy loop. */
export const retryAfterSeconds = (millis: number): number => Math.max(1, Math.ceil(millis / 1000))

/** The errors the gateway raises itself, before any upstream is involved. */
export const ApiErrors = {
  /** The body is not JSON (or not a JSON object). */
  malformedJson: (detail: string) => make(400, "invalid_request_error", `malformed request body: ${detail}`, "invalid_json"),
  /** The body does not match the operation's schema; `param` is the path of the first bad field. */
  invalidParam: (param: string | null, message: string) =>
    make(400, "invalid_request_error", message, "invalid_value", param),
  /** The body is larger than `general_settings.max_request_body_mb`. */
  bodyTooLarge: (limitBytes: number) =>
    make(413, "invalid_request_error", `request body exceeds the limit of ${limitBytes} bytes`, "request_too_large"),
  /** No key, or a key that is neither the master key nor a virtual key. */
  unauthorized: (message: string) => make(401, "authentication_error", message, "invalid_api_key"),
  /** A virtual key asked for a model it may not use. */
  modelNotAllowed: (model: string) =>
    make(403, "permission_error", `this key may not use the model "${model}"`, "model_not_allowed", "model"),
  /** A virtual key is over its `rpm_limit`. */
  keyRateLimited: (limit: number, retryAfterMillis: number) =>
    make(
      429,
      "rate_limit_error",
      `this key is limited to ${limit} requests per minute`,
      "rate_limit_exceeded",
      null,
      retryAfterSeconds(retryAfterMillis)
    ),
  /** A browser page from an origin not in `general_settings.allowed_origins`. */
  originNotAllowed: (origin: string) =>
    make(403, "permission_error", `origin not allowed: ${origin.slice(0, 256)}`, "origin_not_allowed"),
  /** A `Host` the keyless gateway does not answer to (DNS rebinding). */
  hostNotAllowed: (host: string) =>
    make(403, "permission_error", `host not allowed: ${host.slice(0, 256)}`, "host_not_allowed"),
  /** A body declared as anything but JSON (or multipart where the route takes uploads). */
  unsupportedMediaType: (type: string) =>
    make(
      415,
      "invalid_request_error",
      `unsupported content type "${type.slice(0, 100)}": send application/json`,
      "unsupported_media_type"
    ),
  /** A virtual key asked for what only the master key may see (`/metrics` with `metrics_auth`). */
  masterKeyRequired: () => make(403, "permission_error", "this route needs the master key", "master_key_required"),
  /** No route has this method and path. */
  unknownRoute: (method: string, path: string) =>
    make(404, "invalid_request_error", `unknown route: ${method} ${path}`, "unknown_url"),
  /** A defect in the gateway: the details go to the log, not to the client. */
  internal: () => make(500, "server_error", "internal gateway error", "internal_error")
}

/** How each upstream failure class reaches the client once no other attempt can help. */
interface UpstreamShape {
  readonly status: number
  readonly type: ApiErrorType
  readonly code: string | null
  /** Whether the upstream's message helps the client fix the request; otherwise a fixed text is sent. */
  readonly clientFixable: boolean
}

const upstream = (status: number, code: string, type: ApiErrorType = "upstream_error"): UpstreamShape => ({
  status,
  type,
  code,
  clientFixable: false
})
const client = (code: string | null, status = 400, type: ApiErrorType = "invalid_request_error"): UpstreamShape => ({
  status,
  type,
  code,
  clientFixable: true
})

/** The table: the status, type and code of each failure class. */
export const upstreamErrors: { readonly [K in ProviderErrorTag]: UpstreamShape } = {
  BadRequest: client(null),
  ContextWindowExceeded: client("context_length_exceeded"),
  ContentPolicy: client("content_policy_violation"),
  UnsupportedOperation: client("unsupported_operation"),
  RateLimited: client("rate_limit_exceeded", 429, "rate_limit_error"),
  Timeout: upstream(504, "upstream_timeout", "timeout_error"),
  Connection: upstream(502, "upstream_connection_error"),
  ServerError: upstream(502, "upstream_server_error"),
  Overloaded: upstream(503, "upstream_overloaded", "service_unavailable_error"),
  MalformedResponse: upstream(502, "upstream_malformed_response"),
  MidStream: upstream(502, "upstream_stream_interrupted"),
  // The operator's key or deployment is wrong: the client can do nothing about it.
  Authentication: upstream(502, "upstream_authentication_error"),
  NotFound: upstream(502, "upstream_model_not_found")
}

const fromProviderError = (error: ProviderError, failed: AllAttemptsFailed): ApiError => {
  const shape = upstreamErrors[error._tag]
  const tries = `${failed.attempts.length} attempt(s)`
  const message = shape.clientFixable
    ? error.message
    : `the upstream of "${failed.model}" failed after ${tries} (${error._tag})`
  const param = error._tag === "BadRequest" ? error.param ?? null : null
  // The upstream's own Retry-After, else when the group's first deployment comes back from a cooldown.
  const waitMillis = error._tag === "RateLimited" && error.retryAfterMillis !== undefined
    ? error.retryAfterMillis
    : failed.retryAfterMillis
  const wait = waitMillis === undefined ? undefined : retryAfterSeconds(waitMillis)
  return make(shape.status, shape.type, message, shape.code, param, wait)
}

const noDeployment = (error: NoDeploymentAvailable) =>
  make(429, "rate_limit_error", error.message, "no_deployment_available", null, retryAfterSeconds(error.retryAfterMillis))

/** The client-facing error of a failed routed call or stream. */
export const fromRouterError = (error: RouterCallError): ApiError => {
  switch (error._tag) {
    case "UnknownModel":
      return make(404, "invalid_request_error", error.message, "model_not_found", "model")
    case "NoDeploymentAvailable":
      return noDeployment(error)
    case "AllAttemptsFailed":
      return error.lastError._tag === "NoDeploymentAvailable"
        ? noDeployment(error.lastError)
        : fromProviderError(error.lastError, error)
  }
}

/** The OpenAI error object of an error. */
export const errorBody = (error: ApiError) => ({
  error: { message: error.message, type: error.type, param: error.param, code: error.code }
})

/** Anthropic's error `type` for a status, as its SDKs and Claude Code read it. */
const anthropicErrorTypes: Readonly<Record<number, string>> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  503: "overloaded_error",
  504: "timeout_error",
  529: "overloaded_error"
}

/** The Anthropic error object of an error (`{type: "error", error: {type, message}}`), for the Messages API. */
export const anthropicErrorBody = (error: ApiError) => ({
  type: "error",
  error: { type: anthropicErrorTypes[error.status] ?? "api_error", message: error.message }
})

/** The error object clients of `operation` parse: Anthropic's for `messages`, OpenAI's for the rest. */
export const errorBodyFor = (operation: OperationName | undefined, error: ApiError): object =>
  operation === "messages" ? anthropicErrorBody(error) : errorBody(error)

/** The JSON response of an error, with `retry-after` when the error says when to come back. */
export const errorResponse = (error: ApiError, operation?: OperationName): HttpServerResponse.HttpServerResponse => {
  const response = HttpServerResponse.jsonUnsafe(errorBodyFor(operation, error), { status: error.status })
  return error.retryAfterSeconds === undefined
    ? response
    : HttpServerResponse.setHeader(response, "retry-after", String(error.retryAfterSeconds))
}
