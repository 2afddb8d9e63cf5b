/**
 * Typed failures. A provider failure is one of thirteen tagged classes; what the router does about it
 * (retry, cool down, which fallback list) is read from `failurePolicy`, never from the message text.
 */
import { Schema } from "effect"

/** The fields every upstream failure carries: an operator-facing message (never a key) and the HTTP status. */
const upstream = {
  message: Schema.String,
  status: Schema.optionalKey(Schema.Number)
}

/** Fields of failures that may tell us when to come back. */
const backoff = {
  ...upstream,
  retryAfterMillis: Schema.optionalKey(Schema.Number)
}

/** 429: the deployment is rate limited; `retryAfterMillis` comes from `retry-after(-ms)`. */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", backoff) {}
/** The attempt took longer than its timeout (or the upstream said 408). */
export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", upstream) {}
/** The socket could not be opened, or was reset before a reply. */
export class Connection extends Schema.TaggedError<Connection>()("Connection", upstream) {}
/** A 5xx that is not overload. */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", upstream) {}
/** 503 / 529: the upstream is shedding load. */
export class Overloaded extends Schema.TaggedError<Overloaded>()("Overloaded", backoff) {}
/** The client's request is invalid; retrying or failing over cannot help. */
export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", {
  ...upstream,
  param: Schema.optionalKey(Schema.String),
  /** `prefill_unsupported`: the model refused a trailing assistant message; the instruction form would be accepted. */
  reason: Schema.optionalKey(Schema.Literal("prefill_unsupported"))
}) {}
/** 401 / 403 at the deployment: its key is wrong, which is the operator's problem, not the client's. */
export class Authentication extends Schema.TaggedError<Authentication>()("Authentication", upstream) {}
/** The model is missing at this deployment (a misconfigured or placeholder deployment). */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", upstream) {}
/** The prompt does not fit the model's context window. */
export class ContextWindowExceeded extends Schema.TaggedError<ContextWindowExceeded>()(
  "ContextWindowExceeded",
  upstream
) {}
/** The provider refused the content. */
export class ContentPolicy extends Schema.TaggedError<ContentPolicy>()("ContentPolicy", upstream) {}
/** The upstream answered with something that does not decode. */
export class MalformedResponse extends Schema.TaggedError<MalformedResponse>()("MalformedResponse", upstream) {}
/** A stream broke after content was sent; `received` is the text that had arrived (empty for bytes). */
export class MidStream extends Schema.TaggedError<MidStream>()("MidStream", {
  ...upstream,
  received: Schema.String
}) {}
/** The deployment's provider cannot do this operation. */
export class UnsupportedOperation extends Schema.TaggedError<UnsupportedOperation>()("UnsupportedOperation", {
  ...upstream,
  operation: Schema.String
}) {}

/** Any failure of one attempt against one deployment. */
export type ProviderError =
  | RateLimited
  | Timeout
  | Connection
  | ServerError
  | Overloaded
  | BadRequest
  | Authentication
  | NotFound
  | ContextWindowExceeded
  | ContentPolicy
  | MalformedResponse
  | MidStream
  | UnsupportedOperation

/** The schema of every provider failure, for serializing attempts and for property tests. */
export const ProviderError = Schema.Union([
  RateLimited,
  Timeout,
  Connection,
  ServerError,
  Overloaded,
  BadRequest,
  Authentication,
  NotFound,
  ContextWindowExceeded,
  ContentPolicy,
  MalformedResponse,
  MidStream,
  UnsupportedOperation
])

export type ProviderErrorTag = ProviderError["_tag"]

/** Which fallback list a failure routes to once its group is exhausted. */
export type FallbackList = "general" | "context_window" | "content_policy" | "none"

/** What a failure class means to the router. */
export interface FailurePolicy {
  /** `same`: worth another try, even on the same deployment; `other`: only another deployment can help. */
  readonly retry: "same" | "other" | "never"
  /**
   * With an explicit `allowed_fails` (LiteLLM's per-minute count): `immediate` cools the deployment down
   * now, `counted` after `allowed_fails` in a minute. `never`: not the deployment's fault, not counted.
   */
  readonly cooldown: "immediate" | "counted" | "never"
  /**
   * By default (the health estimate): `verdict` cools the deployment at once and strictly (only another
   * deployment can fix it); `rate` feeds its failure rate, and cools at once only for a Retry-After.
   */
  readonly estimate: "verdict" | "rate"
  readonly fallback: FallbackList
}

const transient: FailurePolicy = { retry: "same", cooldown: "counted", estimate: "rate", fallback: "general" }
const misconfigured: FailurePolicy = { retry: "other", cooldown: "immediate", estimate: "verdict", fallback: "general" }
const clientFault = (fallback: FallbackList): FailurePolicy => ({ retry: "never", cooldown: "never", estimate: "rate", fallback })

/** The policy facts of each failure class, in one table. */
export const failurePolicies: { readonly [K in ProviderErrorTag]: FailurePolicy } = {
  RateLimited: { retry: "same", cooldown: "immediate", estimate: "rate", fallback: "general" },
  Timeout: transient,
  Connection: transient,
  ServerError: transient,
  Overloaded: transient,
  MalformedResponse: transient,
  MidStream: transient,
  Authentication: misconfigured,
  NotFound: misconfigured,
  UnsupportedOperation: { retry: "other", cooldown: "never", estimate: "rate", fallback: "general" },
  BadRequest: clientFault("none"),
  ContextWindowExceeded: clientFault("context_window"),
  ContentPolicy: clientFault("content_policy")
}

/** The policy facts of one failure. */
export const failurePolicy = (error: ProviderError): FailurePolicy => failurePolicies[error._tag]

/** The `Retry-After` a failure carries, in milliseconds (0 when it has none). */
export const retryAfterMillis = (error: ProviderError): number =>
  "retryAfterMillis" in error ? error.retryAfterMillis ?? 0 : 0

/** One try against one deployment. `error` is absent on the attempt that succeeded. */
export const Attempt = Schema.Struct({
  deployment: Schema.String,
  group: Schema.String,
  error: Schema.optionalKey(Schema.String),
  durationMillis: Schema.Number
})
export type Attempt = typeof Attempt.Type

/** The request names a model group the config does not have. */
export class UnknownModel extends Schema.TaggedError<UnknownModel>()("UnknownModel", {
  model: Schema.String,
  message: Schema.String
}) {}

/** Every deployment that could serve is cooling down; `retryAfterMillis` is when the first comes back. */
export class NoDeploymentAvailable extends Schema.TaggedError<NoDeploymentAvailable>()("NoDeploymentAvailable", {
  group: Schema.String,
  retryAfterMillis: Schema.Number,
  message: Schema.String
}) {}

/** The request failed everywhere it was allowed to go; `lastError` decides the status a client sees. */
export class AllAttemptsFailed extends Schema.TaggedError<AllAttemptsFailed>()("AllAttemptsFailed", {
  model: Schema.String,
  attempts: Schema.Array(Attempt),
  lastError: Schema.Union([ProviderError, NoDeploymentAvailable]),
  /** The last group has no deployment left that can serve: when its first comes back from a cooldown. */
  retryAfterMillis: Schema.optionalKey(Schema.Number),
  message: Schema.String
}) {}

/** What `Router.call` and `Router.stream` can fail with. */
export type RouterError = UnknownModel | NoDeploymentAvailable | AllAttemptsFailed
