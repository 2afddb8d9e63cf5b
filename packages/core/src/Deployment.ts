/**
 * A deployment is one concrete upstream inside a model group. Compiling the config's `model_list` into
 * deployments resolves `os.environ/NAME` references (through effect's `Config`, so any ConfigProvider
 * works) and wraps every key in `Redacted`, so no key can reach a log line.
 */
import { Config, Effect, Redacted } from "effect"
import { type ConfigIssue, invalidConfig, type InvalidConfig, type ModelInfo, type SwitchyardConfig } from "./Config.ts"
import { splitModel } from "./ProviderInference.ts"

/** One upstream: a model at a provider, with its limits, timeouts and costs. */
export interface Deployment {
  /** `model_info.id`, or `<model_name>#<n>` for the n-th deployment of the group. */
  readonly id: string
  /** The model group (`model_name`) it serves. */
  readonly group: string
  /** The provider prefix of `litellm_params.model` (`openai`, `azure`, `anthropic`, …). */
  readonly provider: string
  /** The model name at the provider, without the prefix. */
  readonly model: string
  readonly apiBase: string | undefined
  readonly apiKey: Redacted.Redacted<string> | undefined
  readonly apiVersion: string | undefined
  readonly rpm: number | undefined
  readonly tpm: number | undefined
  readonly weight: number | undefined
  readonly order: number | undefined
  readonly timeoutMillis: number | undefined
  readonly streamTimeoutMillis: number | undefined
  readonly numRetries: number | undefined
  readonly cooldownMillis: number | undefined
  readonly tags: ReadonlyArray<string>
  /** Whether the upstream continues a trailing assistant message (prefill); the provider's default if unset. */
  readonly supportsPrefill: boolean | undefined
  readonly info: ModelInfo
  /** Vertex AI: `vertex_project`, `vertex_location` and the service-account key (`vertex_credentials`). */
  readonly vertexProject?: string | undefined
  readonly vertexLocation?: string | undefined
  readonly vertexCredentials?: Redacted.Redacted<string> | undefined
  /** The AWS keys of `litellm_params` (Bedrock), when any is set. */
  readonly aws?: AwsParams | undefined
  /** A bare `*` deployment: it serves any provider, decided per request from the requested name. */
  readonly anyProvider?: boolean
}

/** LiteLLM's `aws_*` parameters, with `os.environ/` resolved and the secrets redacted. */
export interface AwsParams {
  readonly accessKeyId: string | undefined
  readonly secretAccessKey: Redacted.Redacted<string> | undefined
  readonly sessionToken: Redacted.Redacted<string> | undefined
  readonly regionName: string | undefined
  readonly runtimeEndpoint: string | undefined
}

const ENV_PREFIX = "os.environ/"

/** Resolves `os.environ/NAME` through the current ConfigProvider; other values stay as written. */
const resolve = (value: string | undefined, path: string, issues: Array<ConfigIssue>) =>
  value === undefined || !value.startsWith(ENV_PREFIX)
    ? Effect.succeed(value === undefined ? undefined : Redacted.make(value))
    : Config.Redacted(value.slice(ENV_PREFIX.length)).pipe(
      Effect.catch(() => {
        issues.push({ path, message: `environment variable ${value.slice(ENV_PREFIX.length)} is not set` })
        return Effect.succeed(undefined)
      })
    )

const plain = (r: Redacted.Redacted<string> | undefined) => r && Redacted.value(r)

/** The `aws_*` parameters of one entry, or undefined when it sets none. */
const resolveAws = (p: SwitchyardConfig["model_list"][number]["litellm_params"], at: string, issues: Array<ConfigIssue>) =>
  Effect.gen(function*() {
    const keys = ["aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_region_name", "aws_bedrock_runtime_endpoint"] as const
    if (keys.every((k) => p[k] === undefined)) return undefined
    const [accessKeyId, secretAccessKey, sessionToken, regionName, runtimeEndpoint] = yield* Effect.forEach(
      keys,
      (k) => resolve(p[k], `${at}.${k}`, issues)
    )
    return {
      accessKeyId: plain(accessKeyId),
      secretAccessKey,
      sessionToken,
      regionName: plain(regionName),
      runtimeEndpoint: plain(runtimeEndpoint)
    } satisfies AwsParams
  })

const seconds = (s: number | undefined) => (s === undefined ? undefined : s * 1000)

/** Compiles `model_list` into deployments, failing with the path of every unresolvable or duplicate field. */
export const compileDeployments = (
  config: SwitchyardConfig
): Effect.Effect<ReadonlyArray<Deployment>, InvalidConfig> =>
  Effect.gen(function*() {
    const issues: Array<ConfigIssue> = []
    const perGroup = new Map<string, number>()
    const seen = new Set<string>()
    const deployments: Array<Deployment> = []
    for (const [i, entry] of config.model_list.entries()) {
      const p = entry.litellm_params
      const at = `model_list[${i}].litellm_params`
      const n = (perGroup.get(entry.model_name) ?? 0) + 1
      perGroup.set(entry.model_name, n)
      const id = entry.model_info?.id ?? `${entry.model_name}#${n}`
      if (seen.has(id)) issues.push({ path: `model_list[${i}].model_info.id`, message: `duplicate deployment id "${id}"` })
      seen.add(id)
      // Decoding already qualified bare names; `*` alone is the one name left without a provider.
      const ref = splitModel(p.model) ?? { provider: p.model, model: p.model }
      const apiKey = yield* resolve(p.api_key, `${at}.api_key`, issues)
      const apiBase = yield* resolve(p.api_base, `${at}.api_base`, issues)
      const apiVersion = yield* resolve(p.api_version, `${at}.api_version`, issues)
      const credentials = typeof p.vertex_credentials === "object" ? JSON.stringify(p.vertex_credentials) : p.vertex_credentials
      const vertexCredentials = yield* resolve(credentials, `${at}.vertex_credentials`, issues)
      const vertexProject = yield* resolve(p.vertex_project, `${at}.vertex_project`, issues)
      const vertexLocation = yield* resolve(p.vertex_location, `${at}.vertex_location`, issues)
      const aws = yield* resolveAws(p, at, issues)
      deployments.push({
        id,
        group: entry.model_name,
        provider: ref.provider,
        model: ref.model,
        apiBase: apiBase && Redacted.value(apiBase),
        apiKey,
        apiVersion: apiVersion && Redacted.value(apiVersion),
        rpm: p.rpm,
        tpm: p.tpm,
        weight: p.weight,
        order: p.order,
        timeoutMillis: seconds(p.timeout),
        streamTimeoutMillis: seconds(p.stream_timeout),
        numRetries: p.num_retries,
        cooldownMillis: seconds(p.cooldown_time),
        tags: p.tags ?? [],
        supportsPrefill: p.supports_prefill ?? entry.model_info?.supports_assistant_prefill,
        info: entry.model_info ?? {},
        vertexProject: vertexProject && Redacted.value(vertexProject),
        vertexLocation: vertexLocation && Redacted.value(vertexLocation),
        vertexCredentials,
        ...(aws === undefined ? {} : { aws }),
        ...(p.model === "*" ? { anyProvider: true } : {})
      })
    }
    if (issues.length > 0) return yield* invalidConfig(issues)
    return deployments
  })
