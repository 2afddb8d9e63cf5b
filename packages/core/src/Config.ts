/**
 * The declarative config: the YAML shape LiteLLM users already write (`model_list`, `router_settings`,
 * `litellm_settings`, `general_settings`), read as LiteLLM reads it: YAML 1.1, bare model names, empty
 * values as unset, and `litellm_settings`' routing keys merged into the router settings. Decoding fails
 * with the path of every bad field; unknown keys only warn, each once.
 */
import { Effect, Schema, SchemaIssue } from "effect"
import { parse as parseYaml } from "yaml"
import { makeResolver } from "./ModelResolution.ts"
import { qualify } from "./ProviderInference.ts"
import { mergeLitellmSettings } from "./SettingsMerge.ts"

const optional = Schema.optionalKey
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Seconds = Schema.Number.check(Schema.isGreaterThanOrEqualTo(0))
const PositiveNumber = Schema.Number.check(Schema.isGreaterThan(0))
/** `{ group: [fallback, …] }` entries, LiteLLM's list-of-single-key-maps form. */
const FallbackMap = Schema.Array(Schema.Record(Schema.String, Schema.Array(Schema.String)))

export const LitellmParams = Schema.Struct({
  /** `provider/model`, or a bare name whose provider LiteLLM infers (`gpt-4o`); qualified when decoded. */
  model: Schema.NonEmptyString,
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
  /** The well-known model behind a deployment (its context window, its provider family). */
  base_model: optional(Schema.String),
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
  redis_password: optional(Schema.String),
  model_group_alias: optional(Schema.Record(Schema.String, Schema.Union([
    Schema.String,
    Schema.Struct({ model: Schema.String, hidden: optional(Schema.Boolean) })
  ]))),
  model_group_retry_policy: optional(Schema.Record(Schema.String, countsFor(RetryPolicyKeys))),
  enable_tag_filtering: optional(Schema.Boolean),
  enable_pre_call_checks: optional(Schema.Boolean)
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
  max_request_body_mb: optional(PositiveNumber),
  /** Browser origins that may call the gateway (CORS); any other `Origin` is refused. Empty by default. */
  allowed_origins: optional(Schema.Array(Schema.String)),
  /** `Host` names accepted besides loopback and the bound address while no key is configured. */
  allowed_hosts: optional(Schema.Array(Schema.String)),
  /** Whether `/metrics` asks for the master key. */
  metrics_auth: optional(Schema.Boolean),
  /** The largest upstream reply read, in MB; a larger one fails over like an upstream error. */
  max_response_body_mb: optional(PositiveNumber)
})
export type GeneralSettings = typeof GeneralSettings.Type

/** The `litellm_settings` keys that steer routing; LiteLLM's other keys there are reported as ignored. */
export const LitellmSettings = Schema.Struct({
  fallbacks: optional(FallbackMap),
  context_window_fallbacks: optional(FallbackMap),
  content_policy_fallbacks: optional(FallbackMap),
  default_fallbacks: optional(Schema.Array(Schema.String)),
  num_retries: optional(NonNegativeInt),
  request_timeout: optional(PositiveNumber),
  allowed_fails: optional(NonNegativeInt),
  cooldown_time: optional(Seconds)
})
export type LitellmSettings = typeof LitellmSettings.Type

export const SwitchyardConfig = Schema.Struct({
  model_list: Schema.Array(ModelEntry).check(Schema.isMinLength(1)),
  router_settings: optional(RouterSettings),
  general_settings: optional(GeneralSettings),
  /** The routing keys LiteLLM reads from here too; decoding merges them into `router_settings`. */
  litellm_settings: optional(LitellmSettings),
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

/** A decoded config and the warnings found on the way (unknown keys, keys read differently). */
export interface LoadedConfig {
  readonly config: SwitchyardConfig
  readonly warnings: ReadonlyArray<ConfigIssue>
}

/**
 * Keys Switchyard reads differently from LiteLLM on purpose, by the last part of their path: the
 * warning says how, instead of a bare "ignored".
 */
const deliberate: Readonly<Record<string, string>> = {
  max_retries: "ignored: Switchyard retries in the router (num_retries, retry_policy), never inside one deployment's client",
  drop_params: "ignored: Switchyard forwards request fields as the client sent them",
  ...Object.fromEntries(
    ["temperature", "max_tokens", "top_p", "seed", "stop", "frequency_penalty", "presence_penalty", "extra_headers", "organization"]
      .map((k) => [k, "not applied: LiteLLM adds it to every call of the deployment, Switchyard sends the request as the client wrote it"])
  )
}

/** Whether a parsed YAML value is a mapping. */
export const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
/** The sections where LiteLLM reads an empty value (`api_key:`) as "not set". */
const emptyAsUnset = ["router_settings", "litellm_settings", "general_settings"] as const

/** Switchyard's own keys where `null` means something (`continuation_prompt: null` turns it off). */
const nullMeaningful = new Set(["continuation_prompt"])

/** Drops the keys LiteLLM would read as unset: `key:` with no value, and empty strings. */
const withoutEmpty = (section: unknown): unknown =>
  isRecord(section)
    ? Object.fromEntries(Object.entries(section).filter(([k, v]) => (v !== null || nullMeaningful.has(k)) && v !== ""))
    : section

/** The input with LiteLLM's empty values removed, so `api_key:` means what it means there. */
export const dropEmptyValues = (input: unknown): unknown => {
  if (!isRecord(input)) return input
  const out: Record<string, unknown> = { ...input }
  for (const key of emptyAsUnset) if (key in out) out[key] = withoutEmpty(out[key])
  if (Array.isArray(out.model_list)) {
    out.model_list = out.model_list.map((entry) =>
      isRecord(entry)
        ? { ...entry, litellm_params: withoutEmpty(entry.litellm_params), ...("model_info" in entry ? { model_info: withoutEmpty(entry.model_info) } : {}) }
        : entry
    )
  }
  return out
}

/** Every model name whose provider LiteLLM could not infer either, read from the undecoded input. */
const unqualifiable = (input: unknown): Array<ConfigIssue> =>
  (isRecord(input) && Array.isArray(input.model_list) ? input.model_list : []).flatMap((entry: unknown, i) => {
    const model = isRecord(entry) && isRecord(entry.litellm_params) ? entry.litellm_params.model : undefined
    return typeof model !== "string" || model === "" || qualify(model) !== undefined ? [] : [{
      path: `model_list[${i}].litellm_params.model`,
      message: `cannot tell the provider of "${model}": write it as provider/model, e.g. openai/gpt-4o`
    }]
  })

/** Qualifies every bare model name (`gpt-4o` → `openai/gpt-4o`), and a bare `model_info.base_model` too. */
const qualifyModels = (config: SwitchyardConfig): SwitchyardConfig => ({
  ...config,
  model_list: config.model_list.map((entry) => {
    const base = entry.model_info?.base_model
    return {
      ...entry,
      litellm_params: { ...entry.litellm_params, model: qualify(entry.litellm_params.model) ?? entry.litellm_params.model },
      ...(entry.model_info === undefined || base === undefined
        ? {}
        : { model_info: { ...entry.model_info, base_model: qualify(base) ?? base } })
    }
  })
})

/** Turns strict-decode excess-property issues into warnings, explaining the keys read differently on purpose. */
const unknownKeyWarnings = (issues: ReadonlyArray<ConfigIssue>): Array<ConfigIssue> =>
  issues.filter((i) => i.message === EXCESS).map((i) => ({
    path: i.path,
    message: deliberate[i.path.slice(i.path.lastIndexOf(".") + 1)] ?? "unknown key, ignored"
  }))

/** Each warning once, in the order first seen. */
const distinct = (warnings: ReadonlyArray<ConfigIssue>): Array<ConfigIssue> => {
  const seen = new Set<string>()
  return warnings.filter((w) => {
    const key = `${w.path}\u0000${w.message}`
    return seen.has(key) ? false : (seen.add(key), true)
  })
}

/** Decodes a parsed config the way LiteLLM reads it, checking field types and every model-name reference. */
export const decodeConfig = (raw: unknown): Effect.Effect<LoadedConfig, InvalidConfig> =>
  Effect.gen(function*() {
    const input = dropEmptyValues(raw)
    const strict = Schema.decodeUnknownExit(SwitchyardConfig)(input, { errors: "all", onExcessProperty: "error" })
    const strictIssues = strict._tag === "Failure" ? issuesOfExit(strict.cause) : []
    const models = unqualifiable(input)
    const decoded = yield* Schema.decodeUnknownEffect(SwitchyardConfig)(input, { errors: "all" }).pipe(
      Effect.mapError((e) => invalidConfig([...schemaIssues(e), ...models]))
    )
    const qualified = qualifyModels(decoded)
    const merged = mergeLitellmSettings(qualified.router_settings, qualified.litellm_settings)
    const config: SwitchyardConfig = merged.settings === undefined
      ? qualified
      : { ...qualified, router_settings: merged.settings }
    const issues = [...models, ...unknownReferences(config)]
    if (issues.length > 0) return yield* invalidConfig(issues)
    return { config, warnings: distinct([...unknownKeyWarnings(strictIssues), ...merged.warnings]) }
  })

const issuesOfExit = (cause: { readonly reasons: ReadonlyArray<unknown> }): Array<ConfigIssue> =>
  cause.reasons.flatMap((r) => {
    const error = (r as { readonly error?: unknown }).error
    return Schema.isSchemaError(error) ? schemaIssues(error) : []
  })

/** Every fallback or alias that names something `model_list` does not serve (a group, an id, a wildcard). */
const unknownReferences = (config: SwitchyardConfig): Array<ConfigIssue> => {
  const counts = new Map<string, number>()
  const resolver = makeResolver(
    config.model_list.map((m) => {
      const n = (counts.get(m.model_name) ?? 0) + 1
      counts.set(m.model_name, n)
      return { group: m.model_name, id: m.model_info?.id ?? `${m.model_name}#${n}`, model: m.litellm_params.model }
    }),
    config.router_settings
  )
  const settings = config.router_settings ?? {}
  const issues: Array<ConfigIssue> = []
  const check = (path: string, name: string) => {
    if (resolver.resolve(name) === undefined) {
      issues.push({ path, message: `names the model group "${name}", which model_list does not define` })
    }
  }
  for (const key of ["fallbacks", "context_window_fallbacks", "content_policy_fallbacks"] as const) {
    settings[key]?.forEach((entry, i) => {
      for (const [from, to] of Object.entries(entry)) {
        // A "*" key applies to every group, as in LiteLLM.
        if (from !== "*") check(`router_settings.${key}[${i}].${from}`, from)
        to.forEach((name, j) => check(`router_settings.${key}[${i}].${from}[${j}]`, name))
      }
    })
  }
  settings.default_fallbacks?.forEach((name, i) => check(`router_settings.default_fallbacks[${i}]`, name))
  for (const [alias, to] of Object.entries(settings.model_group_alias ?? {})) {
    check(`router_settings.model_group_alias.${alias}`, typeof to === "string" ? to : to.model)
  }
  return issues
}

type YamlTag = { readonly tag: string; readonly test?: RegExp }
/** PyYAML's booleans: YAML 1.1's without the single letters `y`/`n`, which it reads as strings. */
const pyYamlBool = (tag: YamlTag): YamlTag =>
  tag.tag === "tag:yaml.org,2002:bool" && tag.test !== undefined
    ? { ...tag, test: new RegExp(tag.test.source.replace(/^\^\(\?:[A-Z]\|[a-z]\|/, "^(?:")) }
    : tag

/** YAML 1.1 as LiteLLM's reader (PyYAML) reads it: `20_000` is a number; dates stay the strings they look like. */
const yamlOptions = {
  version: "1.1",
  customTags: (tags: Array<YamlTag>) => tags.filter((t) => t.tag !== "tag:yaml.org,2002:timestamp").map(pyYamlBool)
} as const

/** Reads YAML text the way LiteLLM does (YAML 1.1), without decoding it. */
export const readYaml = (text: string): Effect.Effect<unknown, InvalidConfig> =>
  Effect.try({
    try: () => parseYaml(text, yamlOptions as never) as unknown,
    catch: (e) => invalidConfig([{ path: "", message: `not valid YAML: ${(e as Error).message}` }])
  })

/** Parses YAML text (YAML 1.1, as LiteLLM does) and decodes it. */
export const parseConfig = (text: string): Effect.Effect<LoadedConfig, InvalidConfig> =>
  Effect.flatMap(readYaml(text), decodeConfig)
