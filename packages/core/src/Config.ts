/**
 * The declarative config: the YAML shape LiteLLM users already write (`model_list`, `router_settings`,
 * `general_settings`). Decoding fails with the path of every bad field; unknown keys only warn.
 */
import { Effect, Schema, SchemaIssue } from "effect"
import { parse as parseYaml } from "yaml"

const optional = Schema.optionalKey
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Seconds = Schema.Number.check(Schema.isGreaterThanOrEqualTo(0))
const PositiveNumber = Schema.Number.check(Schema.isGreaterThan(0))
/** `{ group: [fallback, …] }` entries, LiteLLM's list-of-single-key-maps form. */
const FallbackMap = Schema.Array(Schema.Record(Schema.String, Schema.Array(Schema.String)))

export const LitellmParams = Schema.Struct({
  model: Schema.String.check(Schema.isPattern(/^[^/]+\/.+$/, { message: "must be provider/model, e.g. openai/gpt-4o" })),
  api_base: optional(Schema.String),
  api_key: optional(Schema.String),
  api_version: optional(Schema.String),
  rpm: optional(NonNegativeInt),
  tpm: optional(NonNegativeInt),
  weight: optional(PositiveNumber),
  order: optional(Schema.Int),
  timeout: optional(PositiveNumber),
  stream_timeout: optional(PositiveNumber),
  num_retries: optional(NonNegativeInt),
  cooldown_time: optional(Seconds),
  tags: optional(Schema.Array(Schema.String)),
  supports_prefill: optional(Schema.Boolean),
  /** Vertex AI: the Google Cloud project (default: the service account's `project_id`). */
  vertex_project: optional(Schema.String),
  /** Vertex AI: the region, or `global` (default `us-central1`). */
  vertex_location: optional(Schema.String),
  /** Vertex AI: a service-account key, as a file path, its JSON text (or mapping), or `os.environ/NAME`. */
  vertex_credentials: optional(Schema.Union([Schema.String, Schema.Record(Schema.String, Schema.Unknown)])),
  // LiteLLM's AWS keys (Bedrock); when absent the provider reads the standard AWS_* environment variables.
  aws_access_key_id: optional(Schema.String),
  aws_secret_access_key: optional(Schema.String),
  aws_session_token: optional(Schema.String),
  aws_region_name: optional(Schema.String),
  aws_bedrock_runtime_endpoint: optional(Schema.String)
})
export type LitellmParams = typeof LitellmParams.Type

export const ModelInfo = Schema.Struct({
  id: optional(Schema.String),
  mode: optional(Schema.String),
  input_cost_per_token: optional(Schema.Number),
  output_cost_per_token: optional(Schema.Number),
  max_input_tokens: optional(NonNegativeInt),
  max_output_tokens: optional(NonNegativeInt),
  max_tokens: optional(NonNegativeInt),
  /** Whether the model continues a trailing assistant message (LiteLLM's key); overrides the family default. */
  supports_assistant_prefill: optional(Schema.Boolean)
})
export type ModelInfo = typeof ModelInfo.Type

export const ModelEntry = Schema.Struct({
  model_name: Schema.NonEmptyString,
  litellm_params: LitellmParams,
  model_info: optional(ModelInfo)
})
export type ModelEntry = typeof ModelEntry.Type

/** LiteLLM's `retry_policy` keys: retries per exception class. */
export const RetryPolicyKeys = [
  "BadRequestErrorRetries",
  "AuthenticationErrorRetries",
  "TimeoutErrorRetries",
  "RateLimitErrorRetries",
  "ContentPolicyViolationErrorRetries",
  "InternalServerErrorRetries"
] as const
/** LiteLLM's `allowed_fails_policy` keys: failures tolerated per exception class before a cooldown. */
export const AllowedFailsPolicyKeys = [
  "BadRequestErrorAllowedFails",
  "AuthenticationErrorAllowedFails",
  "TimeoutErrorAllowedFails",
  "RateLimitErrorAllowedFails",
  "ContentPolicyViolationErrorAllowedFails",
  "InternalServerErrorAllowedFails"
] as const

const countsFor = <const Keys extends ReadonlyArray<string>>(keys: Keys) =>
  Schema.Struct(
    Object.fromEntries(keys.map((k) => [k, optional(NonNegativeInt)])) as {
      readonly [K in Keys[number]]: Schema.optionalKey<typeof NonNegativeInt>
    }
  )

export const RoutingStrategy = Schema.Literals([
  "simple-shuffle",
  "least-busy",
  "latency-based-routing",
  "usage-based-routing",
  "usage-based-routing-v2",
  "cost-based-routing"
])
export type RoutingStrategy = typeof RoutingStrategy.Type

export const RouterSettings = Schema.Struct({
  routing_strategy: optional(RoutingStrategy),
  num_retries: optional(NonNegativeInt),
  retry_policy: optional(countsFor(RetryPolicyKeys)),
  retry_after: optional(Seconds),
  allowed_fails: optional(NonNegativeInt),
  allowed_fails_policy: optional(countsFor(AllowedFailsPolicyKeys)),
  cooldown_time: optional(Seconds),
  disable_cooldowns: optional(Schema.Boolean),
  timeout: optional(PositiveNumber),
  stream_timeout: optional(PositiveNumber),
  fallbacks: optional(FallbackMap),
  context_window_fallbacks: optional(FallbackMap),
  content_policy_fallbacks: optional(FallbackMap),
  default_fallbacks: optional(Schema.Array(Schema.String)),
  max_fallbacks: optional(NonNegativeInt),
  mid_stream_fallback: optional(Schema.Literals(["continue", "restart", "off"])),
  continuation_prompt: optional(Schema.NullOr(Schema.String)),
  redis_url: optional(Schema.String),
  redis_host: optional(Schema.String),
  redis_port: optional(Schema.Union([Schema.Int, Schema.String])),
  redis_password: optional(Schema.String)
})
export type RouterSettings = typeof RouterSettings.Type

export const VirtualKey = Schema.Struct({
  key: Schema.NonEmptyString,
  alias: optional(Schema.String),
  models: optional(Schema.Array(Schema.String)),
  rpm_limit: optional(NonNegativeInt)
})
export type VirtualKey = typeof VirtualKey.Type

export const GeneralSettings = Schema.Struct({
  master_key: optional(Schema.String),
  virtual_keys: optional(Schema.Array(VirtualKey)),
  max_request_body_mb: optional(PositiveNumber)
})
export type GeneralSettings = typeof GeneralSettings.Type

export const SwitchyardConfig = Schema.Struct({
  model_list: Schema.Array(ModelEntry).check(Schema.isMinLength(1)),
  router_settings: optional(RouterSettings),
  general_settings: optional(GeneralSettings),
  /** Accepted so LiteLLM files load; Switchyard reads nothing from it. */
  litellm_settings: optional(Schema.Record(Schema.String, Schema.Unknown)),
  environment_variables: optional(Schema.Record(Schema.String, Schema.Unknown))
})
export type SwitchyardConfig = typeof SwitchyardConfig.Type

/** One problem in a config file, at a path like `model_list[2].litellm_params.rpm`. */
export interface ConfigIssue {
  readonly path: string
  readonly message: string
}

/** The config cannot be used; every issue names the field. */
export class InvalidConfig extends Schema.TaggedError<InvalidConfig>()("InvalidConfig", {
  issues: Schema.Array(Schema.Struct({ path: Schema.String, message: Schema.String })),
  message: Schema.String
}) {}

/** Builds an `InvalidConfig` whose message lists every issue on its own line. */
export const invalidConfig = (issues: ReadonlyArray<ConfigIssue>): InvalidConfig =>
  new InvalidConfig({
    issues,
    message: `invalid config:\n${issues.map((i) => `  ${i.path || "(root)"}: ${i.message}`).join("\n")}`
  })

/** Formats a property path the way a user reads it in YAML: `model_list[0].litellm_params.model`. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (acc, key) => typeof key === "number" ? `${acc}[${key}]` : acc === "" ? String(key) : `${acc}.${String(key)}`,
    ""
  )

const EXCESS = "Expected no excess property"
/** `{ path, message }` for every issue of a schema error, paths formatted as `model_list[0].rpm`. */
export const schemaIssues = (error: Schema.SchemaError): Array<ConfigIssue> =>
  SchemaIssue.makeFormatterStandardSchemaV1()(error.issue).issues.map((i) => ({
    path: formatPath((i.path ?? []).map((p) => (typeof p === "object" ? p.key : p))),
    message: i.message
  }))

/** A decoded config and the warnings found on the way (unknown keys). */
export interface LoadedConfig {
  readonly config: SwitchyardConfig
  readonly warnings: ReadonlyArray<ConfigIssue>
}

/** Decodes a parsed config, checking field types and that every fallback names a known group. */
export const decodeConfig = (input: unknown): Effect.Effect<LoadedConfig, InvalidConfig> =>
  Effect.gen(function*() {
    const strict = Schema.decodeUnknownExit(SwitchyardConfig)(input, { errors: "all", onExcessProperty: "error" })
    const strictIssues = strict._tag === "Failure" ? issuesOfExit(strict.cause) : []
    const warnings = strictIssues
      .filter((i) => i.message === EXCESS)
      .map((i) => ({ path: i.path, message: "unknown key, ignored" }))
    const config = yield* Schema.decodeUnknownEffect(SwitchyardConfig)(input, { errors: "all" }).pipe(
      Effect.mapError((e) => invalidConfig(schemaIssues(e)))
    )
    const refs = unknownGroupReferences(config)
    if (refs.length > 0) return yield* invalidConfig(refs)
    const litellm = Object.keys(config.litellm_settings ?? {}).map((k) => ({
      path: `litellm_settings.${k}`,
      message: "not used by Switchyard, ignored"
    }))
    return { config, warnings: [...warnings, ...litellm] }
  })

const issuesOfExit = (cause: { readonly reasons: ReadonlyArray<unknown> }): Array<ConfigIssue> =>
  cause.reasons.flatMap((r) => {
    const error = (r as { readonly error?: unknown }).error
    return Schema.isSchemaError(error) ? schemaIssues(error) : []
  })

/** Every fallback list entry that names a group `model_list` does not define. */
const unknownGroupReferences = (config: SwitchyardConfig): Array<ConfigIssue> => {
  const groups = new Set(config.model_list.map((m) => m.model_name))
  const settings = config.router_settings ?? {}
  const issues: Array<ConfigIssue> = []
  const check = (path: string, name: string) => {
    if (!groups.has(name)) issues.push({ path, message: `names the model group "${name}", which model_list does not define` })
  }
  for (const key of ["fallbacks", "context_window_fallbacks", "content_policy_fallbacks"] as const) {
    settings[key]?.forEach((entry, i) => {
      for (const [from, to] of Object.entries(entry)) {
        check(`router_settings.${key}[${i}].${from}`, from)
        to.forEach((name, j) => check(`router_settings.${key}[${i}].${from}[${j}]`, name))
      }
    })
  }
  settings.default_fallbacks?.forEach((name, i) => check(`router_settings.default_fallbacks[${i}]`, name))
  return issues
}

/** Parses YAML text (full YAML 1.2 via the `yaml` package) and decodes it. */
export const parseConfig = (text: string): Effect.Effect<LoadedConfig, InvalidConfig> =>
  Effect.try({
    try: () => parseYaml(text) as unknown,
    catch: (e) => invalidConfig([{ path: "", message: `not valid YAML: ${(e as Error).message}` }])
  }).pipe(Effect.flatMap(decodeConfig))
