/**
 * Policy turns `router_settings` into what the router executes: a retry `Schedule`, the budget and
 * cooldown rule for each failure class, attempt timeouts, and the ordered fallback plan. It is built
 * once, when the router starts.
 */
import { Duration, Effect, Schedule } from "effect"
import type { RetryPolicyKeys, RouterSettings } from "./Config.ts"
import type { Deployment } from "./Deployment.ts"
import {
  type FallbackList,
  failurePolicy,
  type NoDeploymentAvailable,
  type ProviderError,
  type ProviderErrorTag,
  retryAfterMillis
} from "./Errors.ts"

/** LiteLLM's defaults, so a LiteLLM config behaves the same here. */
export const defaults = {
  numRetries: 2,
  allowedFails: 3,
  cooldownMillis: 5_000,
  timeoutMillis: 600_000,
  maxFallbacks: 5,
  failureWindowMillis: 60_000,
  backoffBaseMillis: 500,
  backoffCapMillis: 10_000
} as const

type ExceptionClass = typeof RetryPolicyKeys[number] extends `${infer C}Retries` ? C : never

/** The LiteLLM exception class a failure corresponds to, for `retry_policy` and `allowed_fails_policy`. */
const exceptionClass: { readonly [K in ProviderErrorTag]?: ExceptionClass } = {
  BadRequest: "BadRequestError",
  Authentication: "AuthenticationError",
  Timeout: "TimeoutError",
  RateLimited: "RateLimitError",
  ContentPolicy: "ContentPolicyViolationError",
  ServerError: "InternalServerError",
  Overloaded: "InternalServerError"
}

/** Why one attempt in a group failed, and whether another healthy deployment is there to take the retry. */
export interface GroupFailure {
  readonly error: ProviderError | NoDeploymentAvailable
  /** A healthy deployment of the group has not failed in this request yet: retry there, without sleeping. */
  readonly alternative: boolean
  /** Some deployment of the group is healthy at all; when none is, waiting inside the group is pointless. */
  readonly healthy: boolean
  /** The deployment that failed, when one was called. */
  readonly deployment: Deployment | undefined
  /** How many attempts this request has made in the group, this one included. */
  readonly attempt: number
  /** When no deployment of the group can serve: how long until the first comes back from its cooldown. */
  readonly retryAfterMillis?: number | undefined
}

/** The compiled policy of one router. */
export interface Policy {
  readonly settings: RouterSettings
  /** Retries (after the first attempt) a group allows once `error` happened on `deployment`. */
  readonly retriesFor: (error: ProviderError, deployment: Deployment | undefined) => number
  /** Whether `error` may be retried at all, on the same deployment (`same`) or only on another (`other`). */
  readonly retryKind: (error: ProviderError) => "same" | "other" | "never"
  /**
   * How failures cool deployments down: `estimate` (the default: failure rate over a window, a panic
   * threshold), `counted` (an explicit `allowed_fails` / `allowed_fails_policy`: LiteLLM's per-minute
   * count, no panic), `off` (`disable_cooldowns`).
   */
  readonly cooldowns: "estimate" | "counted" | "off"
  /** Failures in a minute a deployment may have before it cools down (0: at the first). `undefined`: never. */
  readonly allowedFails: (error: ProviderError) => number | undefined
  readonly cooldownMillis: (deployment: Deployment, error: ProviderError) => number
  readonly timeoutMillis: (deployment: Deployment) => number
  /** The time a stream may take to send its first chunk, and then between chunks. */
  readonly streamTimeoutMillis: (deployment: Deployment) => number
  /**
   * The fallback groups declared for `group` after a failure routed to `list`: a class-specific list
   * falls through to the generic `fallbacks`, then to `default_fallbacks`.
   */
  readonly fallbacks: (group: string, list: FallbackList) => ReadonlyArray<string>
  /**
   * The whole chain after `group` failed into `list`, in the order to try: each fallback followed by its
   * own fallbacks (depth first), every group once, at most `max_fallbacks` deep. `first` replaces
   * `group`'s own list (a request's `fallbacks`).
   */
  readonly fallbackChain: (group: string, list: FallbackList, first?: ReadonlyArray<string>) => ReadonlyArray<string>
  readonly maxFallbacks: number
  /** The retry schedule inside one group: exponential, jittered, honouring Retry-After, free when failing over. */
  readonly retrySchedule: Schedule.Schedule<unknown, GroupFailure>
}

const lookup = (entries: RouterSettings["fallbacks"], group: string): ReadonlyArray<string> | undefined => {
  for (const entry of entries ?? []) {
    const found = entry[group]
    if (found !== undefined) return found
  }
  return undefined
}

/** Compiles router settings into a Policy. */
export const makePolicy = (settings: RouterSettings = {}): Policy => {
  const retryKind = (error: ProviderError) => {
    const kind = failurePolicy(error).retry
    const cls = exceptionClass[error._tag]
    // An explicit per-class budget is the operator saying this class is worth retrying here.
    const explicit = cls === undefined ? undefined : settings.retry_policy?.[`${cls}Retries`]
    return kind === "never" && explicit !== undefined && explicit > 0 ? "same" : kind
  }
  const retriesFor = (error: ProviderError, deployment: Deployment | undefined) => {
    const cls = exceptionClass[error._tag]
    return (cls === undefined ? undefined : settings.retry_policy?.[`${cls}Retries`]) ??
      deployment?.numRetries ?? settings.num_retries ?? defaults.numRetries
  }
  const minDelayMillis = (settings.retry_after ?? 0) * 1000
  // The budget is counted by the request, not by the schedule, so a stream continuation that re-enters a
  // group spends the same budget.
  const canRetry = (failure: GroupFailure): boolean => {
    const error = failure.error
    if (error._tag === "NoDeploymentAvailable" || !failure.healthy) return false
    const kind = retryKind(error)
    if (kind === "never" || (kind === "other" && !failure.alternative)) return false
    return failure.attempt <= retriesFor(error, failure.deployment)
  }
  const retrySchedule = Schedule.min([
    Schedule.exponential(Duration.millis(defaults.backoffBaseMillis)),
    Schedule.spaced(Duration.millis(defaults.backoffCapMillis))
  ]).pipe(
    Schedule.jittered,
    Schedule.setInputType<GroupFailure>(),
    Schedule.while(({ input }) => canRetry(input)),
    Schedule.modifyDelay(({ duration, input }) =>
      Effect.succeed(
        input.alternative
          ? Duration.zero
          : Duration.millis(Math.max(
            Duration.toMillis(duration),
            minDelayMillis,
            input.error._tag === "NoDeploymentAvailable" ? 0 : retryAfterMillis(input.error)
          ))
      )
    )
  )
  const fallbacks = (group: string, list: FallbackList): ReadonlyArray<string> => {
    const generic = () => lookup(settings.fallbacks, group) ?? settings.default_fallbacks ?? []
    switch (list) {
      case "none":
        return []
      case "context_window":
        return lookup(settings.context_window_fallbacks, group) ?? generic()
      case "content_policy":
        return lookup(settings.content_policy_fallbacks, group) ?? generic()
      case "general":
        return generic()
    }
  }
  const maxFallbacks = settings.max_fallbacks ?? defaults.maxFallbacks
  const fallbackChain = (group: string, list: FallbackList, first?: ReadonlyArray<string>) => {
    const chain: Array<string> = []
    // The shallowest depth each group was reached at: a group met again nearer the top is not tried
    // twice, but its own fallbacks get the depth they would have had from there.
    const depthOf = new Map<string, number>([[group, 0]])
    const visit = (from: ReadonlyArray<string>, depth: number) => {
      if (depth > maxFallbacks) return
      for (const g of from) {
        const known = depthOf.get(g)
        if (known !== undefined && known <= depth) continue
        if (known === undefined) chain.push(g)
        depthOf.set(g, depth)
        visit(fallbacks(g, list), depth + 1)
      }
    }
    if (list !== "none") visit(first ?? fallbacks(group, list), 1)
    return chain
  }
  const explicitCount = settings.allowed_fails !== undefined || settings.allowed_fails_policy !== undefined
  return {
    settings,
    retriesFor,
    retryKind,
    cooldowns: settings.disable_cooldowns === true ? "off" : explicitCount ? "counted" : "estimate",
    allowedFails: (error) => {
      const cooldown = failurePolicy(error).cooldown
      if (cooldown === "never") return undefined
      const cls = exceptionClass[error._tag]
      const perClass = cls === undefined ? undefined : settings.allowed_fails_policy?.[`${cls}AllowedFails`]
      return perClass ?? (cooldown === "immediate" ? 0 : settings.allowed_fails ?? defaults.allowedFails)
    },
    cooldownMillis: (deployment, error) =>
      Math.max(
        deployment.cooldownMillis ?? (settings.cooldown_time === undefined
          ? defaults.cooldownMillis
          : settings.cooldown_time * 1000),
        retryAfterMillis(error)
      ),
    timeoutMillis: (deployment) =>
      deployment.timeoutMillis ?? (settings.timeout === undefined ? defaults.timeoutMillis : settings.timeout * 1000),
    streamTimeoutMillis: (deployment) =>
      deployment.streamTimeoutMillis ?? (settings.stream_timeout === undefined
        ? deployment.timeoutMillis ?? (settings.timeout === undefined ? defaults.timeoutMillis : settings.timeout * 1000)
        : settings.stream_timeout * 1000),
    fallbacks,
    fallbackChain,
    maxFallbacks,
    retrySchedule
  }
}
