/**
 * Who may call the gateway. `general_settings.master_key` opens everything; each of
 * `general_settings.virtual_keys` opens its own `models` at up to `rpm_limit` requests a minute. With
 * neither configured the gateway is open (local use). Keys are compared as SHA-256 digests with
 * `timingSafeEqual`, so the comparison takes the same time whatever the guess.
 */
import {
  type ConfigIssue,
  type GeneralSettings,
  invalidConfig,
  type InvalidConfig,
  RouterState,
  type VirtualKey
} from "@switchyard/core"
import { Config, Context, Effect, Layer, Redacted } from "effect"
import type { Headers } from "effect/http"
import { createHash, timingSafeEqual } from "node:crypto"
import { ApiError, ApiErrors } from "./HttpErrors.ts"

/** Who made a request. */
export type Principal =
  | { readonly _tag: "Open" }
  | { readonly _tag: "Master" }
  | { readonly _tag: "Virtual"; readonly index: number; readonly key: VirtualKey }

/** What the gateway asks of auth, per request. */
export interface AuthShape {
  /** Identifies the caller from `Authorization: Bearer <key>`; fails with 401. */
  readonly authenticate: (headers: Headers.Headers) => Effect.Effect<Principal, ApiError>
  /** Counts one request against the caller's `rpm_limit`; fails with 429 once it is spent. */
  readonly admit: (principal: Principal) => Effect.Effect<void, ApiError>
  /** Checks that the caller may use every named model group; fails with 403. */
  readonly authorize: (principal: Principal, models: ReadonlyArray<string>) => Effect.Effect<void, ApiError>
  /** Whether the caller may be served by a model group (a configured fallback included). */
  readonly allows: (principal: Principal, model: string) => boolean
  /** The model groups the caller may see. */
  readonly visible: (principal: Principal, groups: ReadonlyArray<string>) => ReadonlyArray<string>
  /** Every key the gateway accepts, for redaction. */
  readonly keys: ReadonlyArray<string>
}

const ENV_PREFIX = "os.environ/"

const digest = (key: string) => createHash("sha256").update(key).digest()

/** Resolves `os.environ/NAME` like the core does for upstream keys; other values stay as written. */
const resolveKey = (value: string, path: string, issues: Array<ConfigIssue>): Effect.Effect<string | undefined> =>
  value.startsWith(ENV_PREFIX)
    ? Config.Redacted(value.slice(ENV_PREFIX.length)).pipe(
      Effect.map(Redacted.value),
      Effect.catch(() => {
        issues.push({ path, message: `environment variable ${value.slice(ENV_PREFIX.length)} is not set` })
        return Effect.succeed(undefined)
      })
    )
    : Effect.succeed(value)

/** The key a request carries: `Authorization: Bearer`, or `x-api-key` as the Anthropic SDKs send it. */
const bearer = (headers: Headers.Headers): string | undefined => {
  const value = headers["authorization"]
  const match = value === undefined ? null : /^Bearer\s+(.+)$/i.exec(value.trim())
  return match?.[1]?.trim() ?? (headers["x-api-key"]?.trim() || undefined)
}

/**
 * Builds the auth of a gateway from its general settings; fails when a key's variable is not set. A
 * key's `rpm_limit` is counted in the router state, so replicas sharing it share one limit.
 */
export const makeAuth = (settings: GeneralSettings = {}): Effect.Effect<AuthShape, InvalidConfig, RouterState> =>
  Effect.gen(function*() {
    const state = yield* RouterState
    const issues: Array<ConfigIssue> = []
    const master = settings.master_key === undefined
      ? undefined
      : yield* resolveKey(settings.master_key, "general_settings.master_key", issues)
    const virtual: Array<{ readonly key: VirtualKey; readonly digest: Buffer; readonly quota: string }> = []
    const keys: Array<string> = master === undefined ? [] : [master]
    for (const [i, key] of (settings.virtual_keys ?? []).entries()) {
      const resolved = yield* resolveKey(key.key, `general_settings.virtual_keys[${i}].key`, issues)
      if (resolved !== undefined) {
        const d = digest(resolved)
        // The quota's name in a shared state: a digest prefix, the same on every replica, never the key.
        virtual.push({ key, digest: d, quota: `vk:${d.subarray(0, 12).toString("hex")}` })
        keys.push(resolved)
      }
    }
    if (issues.length > 0) return yield* invalidConfig(issues)
    const masterDigest = master === undefined ? undefined : digest(master)
    const open = masterDigest === undefined && virtual.length === 0
    const authenticate: AuthShape["authenticate"] = (headers) => {
      if (open) return Effect.succeed({ _tag: "Open" })
      const key = bearer(headers)
      if (key === undefined) {
        return Effect.fail(ApiErrors.unauthorized("missing API key: send Authorization: Bearer <key>"))
      }
      const given = digest(key)
      // Every candidate is compared, so the time taken does not tell which one matched.
      let found: Principal | undefined
      if (masterDigest !== undefined && timingSafeEqual(given, masterDigest)) found = { _tag: "Master" }
      for (const [index, v] of virtual.entries()) {
        if (timingSafeEqual(given, v.digest) && found === undefined) found = { _tag: "Virtual", index, key: v.key }
      }
      return found === undefined ? Effect.fail(ApiErrors.unauthorized("invalid API key")) : Effect.succeed(found)
    }

    const admit: AuthShape["admit"] = (principal) => {
      if (principal._tag !== "Virtual" || principal.key.rpm_limit === undefined) return Effect.void
      const limit = principal.key.rpm_limit
      return Effect.flatMap(state.take(virtual[principal.index]!.quota, limit, 1), (admission) =>
        admission.admitted ? Effect.void : Effect.fail(ApiErrors.keyRateLimited(limit, admission.resetInMillis)))
    }

    const allows = (principal: Principal, model: string) =>
      principal._tag !== "Virtual" || principal.key.models === undefined || principal.key.models.includes(model)

    return {
      authenticate,
      admit,
      authorize: (principal, models) => {
        const denied = models.find((m) => !allows(principal, m))
        return denied === undefined ? Effect.void : Effect.fail(ApiErrors.modelNotAllowed(denied))
      },
      allows,
      visible: (principal, groups) => groups.filter((g) => allows(principal, g)),
      keys
    }
  })

/** The gateway's auth service. */
export class Auth extends Context.Service<Auth, AuthShape>()("switchyard/proxy/Auth") {
  /** Auth from `general_settings`. */
  static readonly layer = (settings: GeneralSettings | undefined): Layer.Layer<Auth, InvalidConfig, RouterState> =>
    Layer.effect(Auth, makeAuth(settings))
}
