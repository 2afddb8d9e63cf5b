/**
 * The one pipeline every call and every stream goes through: pick a healthy deployment, attempt it with
 * a timeout, retry on the group's `Schedule`, cool failing deployments down, and fall back group by
 * group, each group an `orElse` of the one before. A stream continuation re-enters it where it stopped.
 */
import { Clock, Context, Effect, Exit } from "effect"
import type { Deployment } from "./Deployment.ts"
import {
  AllAttemptsFailed,
  type Attempt,
  BadRequest,
  failurePolicy,
  NoDeploymentAvailable,
  type ProviderError,
  Timeout,
  UnknownModel,
  UnsupportedOperation
} from "./Errors.ts"
import { type Operation, operationNames } from "./Operation.ts"
import { type GroupFailure, type Policy } from "./Policy.ts"
import type { Provider } from "./Provider.ts"
import type { CallOutcome, RouterStateShape } from "./RouterState.ts"
import { makeDeploymentQuotas } from "./DeploymentQuotas.ts"
import { type Candidate, pick } from "./Routing.ts"
import { makeDeploymentFilter } from "./DeploymentFilter.ts"
import { judgeFailure, poolOf, standing } from "./Health.ts"
import { bindDeployment, makeResolver } from "./ModelResolution.ts"
import { readControls, type RequestControls, upstreamRequest } from "./RequestControls.ts"
import { makeRetryOverrides } from "./RetryOverrides.ts"

/** A successful routed call: the response and how it was obtained. */
export interface Routed<A> {
  readonly response: A
  /** The id of the deployment that served. */
  readonly deployment: string
  /** The model group that served (differs from the requested model after a fallback). */
  readonly group: string
  /** Every attempt made, the successful one last. */
  readonly attempts: ReadonlyArray<Attempt>
  /** How many fallback groups were entered. */
  readonly fallbacks: number
}

/** The outcome of an attempt that produced nothing: no latency sample, no tokens. */
const noOutcome: CallOutcome = { latencyMillis: undefined, tokens: 0 }

/** The mutable record of one request's way through the pipeline. It lives on one fiber at a time. */
export interface Journey {
  readonly operation: Operation
  readonly model: string
  /** The request as sent upstream (control fields removed); a continuation replaces it. */
  request: unknown
  readonly attempts: Array<Attempt>
  /** Deployments that failed in this request: a retry prefers the others. */
  readonly failed: Set<string>
  /** Deployments that failed in a way only another deployment can fix. */
  readonly excluded: Set<string>
  readonly attemptsPerGroup: Map<string, number>
  /** The groups to try, in order; fallbacks are appended once the primary's failure class is known. */
  readonly plan: Array<string>
  planned: boolean
  /** The index in `plan` of the group entered last. */
  entered: number
  /** Set when a stream broke: its group must still have budget for this failure to be entered again. */
  resumedAfter: { readonly error: ProviderError; readonly deployment: Deployment } | undefined
  readonly requestedFallbacks: ReadonlyArray<string> | undefined
  readonly disableFallbacks: boolean
  /** The last failure an upstream gave: what the client is told, even if a cooldown ended the journey. */
  lastProviderError: ProviderError | undefined
  /** What the request asked of the router (timeouts, retries, tags). */
  readonly controls: RequestControls
  /** Whether the caller may be served by a fallback group (its key's `models`). */
  readonly fallbackAllowed: (group: string) => boolean
}

/**
 * Which fallback groups the caller of a routed call may be served by; the gateway sets it from the
 * key's `models`, so a configured fallback does not open a group the key was not given.
 */
export const FallbackAllowed = Context.Reference<(group: string) => boolean>("switchyard/core/FallbackAllowed", {
  defaultValue: () => () => true
})

/**
 * What one attempt does with the deployment the pipeline picked: a plain call, or opening a stream. It
 * only produces a value; the pipeline hands that back with the way to end the attempt.
 */
export type Perform<A> = (provider: Provider, deployment: Deployment, request: unknown) => Effect.Effect<A, ProviderError>

/**
 * What a successful attempt produced: the value, the deployment and group that produced it, and the way
 * to end the attempt. The deployment's in-flight lease is held until `release`, which records the
 * attempt's latency and the `tokens` it used (a call's at once, a stream's when it has ended).
 */
export interface Produced<A> {
  readonly value: A
  readonly deployment: Deployment
  readonly group: string
  /** How many fallback groups were entered to get it. */
  readonly fallbacks: number
  /** Ends the attempt; releasing it again is ignored. */
  readonly release: (tokens: number) => Effect.Effect<void>
}

/** The pipeline of one router. */
export interface Pipeline {
  /** Starts a journey for a request, or fails if it names an unknown model. */
  readonly start: (operation: Operation, request: unknown) => Effect.Effect<Journey, UnknownModel | AllAttemptsFailed>
  /** Runs the plan from group `index` on, until an attempt produces a value. */
  readonly run: <A>(
    journey: Journey,
    perform: Perform<A>,
    timeoutOf: (deployment: Deployment) => number,
    index?: number
  ) => Effect.Effect<Produced<A>, GroupFailure>
  /** Records a failure that happened after an attempt succeeded (a stream that broke). */
  readonly recordBreak: (journey: Journey, deployment: Deployment, error: ProviderError) => Effect.Effect<void>
  /** A call's attempt timeout: the request's own `timeout`, else the deployment's. */
  readonly callTimeout: (journey: Journey) => (deployment: Deployment) => number
  /** A stream's first-chunk and idle timeout: the request's `stream_timeout` (or `timeout`), else the deployment's. */
  readonly streamTimeout: (journey: Journey) => (deployment: Deployment) => number
  /** The error a client sees once the journey cannot go on. */
  readonly finalError: (journey: Journey, failure: GroupFailure) => NoDeploymentAvailable | AllAttemptsFailed
}

/** Runs `self` with a deadline: past `millis` it is interrupted and the result is `onTimeout`'s failure. */
export const withDeadline = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  millis: number,
  onTimeout: () => E2
): Effect.Effect<A, E | E2, R> => Effect.timeoutOrElse(self, { duration: millis, orElse: () => Effect.fail(onTimeout()) })

/** Failures that say where the journey could not go, not what went wrong: they yield to an upstream's error. */
const isRouterVerdict = (error: GroupFailure["error"]): boolean =>
  error._tag === "NoDeploymentAvailable" || error._tag === "UnsupportedOperation"

/** A request whose router control fields are invalid: it fails as the client's fault, before any attempt. */
const rejected = (model: string, message: string) =>
  new AllAttemptsFailed({ model, attempts: [], lastError: new BadRequest({ status: 400, message }), message })

/** Builds the pipeline over a router's deployments, policy, providers and state. */
export const makePipeline = (
  deployments: ReadonlyArray<Deployment>,
  policy: Policy,
  providers: ReadonlyMap<string, Provider>,
  state: RouterStateShape
): Pipeline => {
  const groups = [...new Set(deployments.map((d) => d.group))]
  // Which deployments can serve each operation, per group: decided once, here.
  const routable = new Map<string, Map<string, ReadonlyArray<Deployment>>>()
  for (const name of operationNames) {
    const byGroup = new Map<string, Array<Deployment>>(groups.map((g) => [g, []]))
    for (const d of deployments) if (providers.get(d.provider)!.operations.has(name)) byGroup.get(d.group)!.push(d)
    routable.set(name, byGroup)
  }
  const resolver = makeResolver(
    deployments.map((d) => ({ id: d.id, group: d.group, model: `${d.provider}/${d.model}` })),
    policy.settings
  )
  const narrow = makeDeploymentFilter(policy.settings)
  const retryPolicyFor = makeRetryOverrides(policy)
  const strategy = policy.settings.routing_strategy ?? "simple-shuffle"
  // The panic threshold belongs to the health estimate; an explicit allowed_fails keeps LiteLLM's refusal.
  const panic = policy.cooldowns === "estimate"

  const candidatesOf = (members: ReadonlyArray<Deployment>) =>
    Effect.map(state.stats(members.map((d) => d.id)), (stats) =>
      members.map((deployment, i): Candidate => ({ deployment, stats: stats[i]! })))

  const noDeployment = (group: string, all: ReadonlyArray<Candidate>, now: number) => {
    const until = all.map((c) => c.stats.cooldownUntil).filter((t) => t > 0)
    // Without a cooldown, the deployments are at their rpm/tpm limit until the minute rolls over.
    const retryAfterMillis = until.length > 0 ? Math.min(...until) - now : 60_000 - (now % 60_000)
    return new NoDeploymentAvailable({
      group,
      retryAfterMillis,
      message: `no deployment of "${group}" is available; retry in ${Math.ceil(retryAfterMillis / 1000)}s`
    })
  }

  const quotas = makeDeploymentQuotas(state, (pool) => pick(strategy, pool))

  const membersOf = (journey: Journey, group: string) => routable.get(journey.operation.name)!.get(group)!

  /** Counts a failure against its deployment; the health estimate decides whether it cools down. */
  const countFailure = (journey: Journey, deployment: Deployment, error: ProviderError) =>
    Effect.suspend(() => {
      journey.failed.add(deployment.id)
      if (policy.retryKind(error) !== "same") journey.excluded.add(deployment.id)
      return judgeFailure(state, policy, deployment, error, membersOf(journey, deployment.group).length)
    })

  const groupFailure = (
    error: GroupFailure["error"],
    attempt: number,
    deployment: Deployment | undefined = undefined,
    alternative = false,
    healthy = false,
    retryAfterMillis: number | undefined = undefined
  ): GroupFailure => ({ error, alternative, healthy, deployment, attempt, retryAfterMillis })

  /** The group cannot do the journey's operation (no deployment of it can, or its provider is missing). */
  const unsupported = (journey: Journey, tried: number, message: string) =>
    groupFailure(new UnsupportedOperation({ operation: journey.operation.name, message }), tried)

  /** One attempt in `group`: pick, perform with a timeout under an in-flight lease, record a failure. */
  const attempt = <A>(
    journey: Journey,
    group: string,
    perform: Perform<A>,
    timeoutOf: (deployment: Deployment) => number
  ): Effect.Effect<Omit<Produced<A>, "fallbacks">, GroupFailure> =>
    Effect.gen(function*() {
      const target = resolver.resolve(group)!
      const served = membersOf(journey, target.group)
      const tried = (journey.attemptsPerGroup.get(group) ?? 0) + 1
      journey.attemptsPerGroup.set(group, tried)
      const broke = journey.resumedAfter
      if (broke !== undefined && tried > 1 + policy.retriesFor(broke.error, broke.deployment)) {
        return yield* Effect.fail(groupFailure(broke.error, tried))
      }
      const members = yield* narrow(
        target.deploymentId === undefined ? served : served.filter((d) => d.id === target.deploymentId),
        { group, request: journey.request, tags: journey.controls.tags }
      ).pipe(Effect.mapError((error) => groupFailure(error, tried)))
      if (members.length === 0) {
        return yield* Effect.fail(unsupported(journey, tried, `no deployment of "${group}" supports ${journey.operation.name}`))
      }
      const all = yield* candidatesOf(members)
      const clock = yield* Clock.Clock
      const start = clock.currentTimeMillisUnsafe()
      const pool = poolOf(all, journey.failed, journey.excluded, panic)
      if (pool.length === 0) return yield* Effect.fail(groupFailure(noDeployment(group, all, start), tried))
      const picked = yield* quotas.pick(pool)
      if (picked === undefined) return yield* Effect.fail(groupFailure(noDeployment(group, all, start), tried))
      const deployment = bindDeployment(picked.deployment, target)
      const provider = providers.get(deployment.provider)
      if (provider === undefined) {
        const message = `"${group}" resolves to provider "${deployment.provider}", which is not available`
        return yield* Effect.fail(unsupported(journey, tried, message))
      }
      const timeoutMillis = timeoutOf(deployment)
      const lease = yield* state.acquire(deployment.id)
      const unused = Effect.suspend(() => state.release(deployment.id, lease, noOutcome))
      const exit = yield* withDeadline(
        perform(provider, deployment, journey.request),
        timeoutMillis,
        () => new Timeout({ message: `no reply from ${deployment.id} within ${timeoutMillis}ms` })
      ).pipe(Effect.onInterrupt(() => unused), Effect.exit)
      const durationMillis = clock.currentTimeMillisUnsafe() - start
      if (Exit.isSuccess(exit)) {
        journey.attempts.push({ deployment: deployment.id, group, durationMillis })
        const released = (tokens: number) => state.release(deployment.id, lease, { latencyMillis: durationMillis, tokens })
        const release = deployment.tpm === undefined
          ? released
          : (tokens: number) => Effect.andThen(released(tokens), quotas.used(deployment, tokens))
        return { value: exit.value, deployment, group, release }
      }
      yield* unused
      const error = yield* Effect.failCause(exit.cause).pipe(Effect.flip)
      journey.attempts.push({ deployment: deployment.id, group, error: error._tag, durationMillis })
      journey.lastProviderError = error
      yield* countFailure(journey, deployment, error)
      const now = clock.currentTimeMillisUnsafe()
      const after = standing(yield* candidatesOf(members), journey.failed, journey.excluded, panic, now)
      return yield* Effect.fail(
        groupFailure(error, tried, deployment, after.alternative, after.healthy, after.comesBackInMillis)
      )
    })

  /** The groups to fall back to after the primary failed with `failure`. */
  const fallbackPlan = (journey: Journey, failure: GroupFailure): Array<string> => {
    if (journey.disableFallbacks) return []
    const list = failure.error._tag === "NoDeploymentAvailable" ? "general" : failurePolicy(failure.error).fallback
    const first = list === "general" ? journey.requestedFallbacks : undefined
    return policy.fallbackChain(fallbackKey(journey.model, list), list, first).filter(journey.fallbackAllowed)
  }

  const fallbackEntries = {
    general: policy.settings.fallbacks,
    context_window: policy.settings.context_window_fallbacks,
    content_policy: policy.settings.content_policy_fallbacks,
    none: undefined
  } as const
  /**
   * Whose configured fallbacks a requested name follows: its own entry, its group's, else the `"*"`
   * entry, which LiteLLM puts before `default_fallbacks` (Policy's answer when no entry names the key).
   */
  const fallbackKey = (name: string, list: keyof typeof fallbackEntries): string => {
    const keyed = (key: string | undefined) => key !== undefined && (fallbackEntries[list] ?? []).some((e) => e[key] !== undefined)
    return [name, resolver.resolve(name)?.group, "*"].find(keyed) ?? name
  }

  const stopsFallback = (failure: GroupFailure) =>
    failure.error._tag !== "NoDeploymentAvailable" && failurePolicy(failure.error).fallback === "none"

  /**
   * `once` retried on the group's schedule. The schedule is only set up after a first failure, which it
   * then sees first: on the happy path setting it up would cost more than the attempt itself (measured).
   */
  const retried = <A>(
    once: Effect.Effect<A, GroupFailure>,
    schedule: Policy["retrySchedule"]
  ): Effect.Effect<A, GroupFailure> =>
    Effect.catch(once, (first) => {
      let replay = true
      const again = Effect.suspend(() => {
        if (!replay) return once
        replay = false
        return Effect.fail(first)
      })
      return Effect.retry(again, schedule)
    })

  const run: Pipeline["run"] = (journey, perform, timeoutOf, index = 0) => {
    const group = journey.plan[index]!
    journey.entered = index
    const retries = retryPolicyFor(resolver.resolve(group)!.group, journey.controls.numRetries)
    return retried(attempt(journey, group, perform, timeoutOf), retries.retrySchedule).pipe(
      Effect.map((produced) => ({ ...produced, fallbacks: index })),
      Effect.catch((failure) => {
        if (!journey.planned) {
          journey.plan.push(...fallbackPlan(journey, failure))
          journey.planned = true
        }
        return stopsFallback(failure) || index + 1 >= journey.plan.length
          ? Effect.fail(failure)
          : run(journey, perform, timeoutOf, index + 1)
      })
    )
  }

  const start: Pipeline["start"] = (operation, request) => {
    const body = request as Record<string, unknown>
    const model = String(body.model)
    const controls = readControls(body, model)
    if (typeof controls === "string") return Effect.fail(rejected(model, controls))
    const unknown = [model, ...controls.fallbacks ?? []].find((name) => resolver.resolve(name) === undefined)
    if (unknown !== undefined) {
      const what = unknown === model ? "model" : "fallback model"
      return Effect.fail(new UnknownModel({ model: unknown, message: `${what} "${unknown}" is not configured` }))
    }
    const upstream = upstreamRequest(body)
    // Built when the effect runs, not when it is created, so a routed effect can be run again afresh.
    return Effect.map(FallbackAllowed, (fallbackAllowed): Journey => ({
      fallbackAllowed,
      operation,
      model,
      request: upstream,
      attempts: [],
      failed: new Set(),
      excluded: new Set(),
      attemptsPerGroup: new Map(),
      plan: [model],
      planned: false,
      entered: 0,
      resumedAfter: undefined,
      requestedFallbacks: controls.fallbacks,
      disableFallbacks: controls.disableFallbacks,
      lastProviderError: undefined,
      controls
    }))
  }

  return {
    start,
    run,
    callTimeout: (journey) => (deployment) => journey.controls.timeoutMillis ?? policy.timeoutMillis(deployment),
    streamTimeout: (journey) => (deployment) =>
      journey.controls.streamTimeoutMillis ?? journey.controls.timeoutMillis ?? policy.streamTimeoutMillis(deployment),
    recordBreak: (journey, deployment, error) =>
      Effect.gen(function*() {
        // The attempt that opened the stream failed after all: it keeps its budget slot and counts
        // towards a cooldown like any other failure.
        const i = journey.attempts.findLastIndex((a) => a.deployment === deployment.id && a.error === undefined)
        const served = journey.attempts[i]
        if (served !== undefined) journey.attempts[i] = { ...served, error: error._tag }
        journey.resumedAfter = { error, deployment }
        journey.lastProviderError = error
        yield* countFailure(journey, deployment, error)
      }),
    finalError: (journey, failure) => {
      if (failure.error._tag === "NoDeploymentAvailable" && journey.lastProviderError === undefined) return failure.error
      // A cooldown or a group that cannot do the operation ended the journey: the client is told what the
      // upstream that could serve said.
      const last = isRouterVerdict(failure.error) ? journey.lastProviderError ?? failure.error : failure.error
      return new AllAttemptsFailed({
        model: journey.model,
        attempts: journey.attempts,
        lastError: last,
        ...(failure.retryAfterMillis === undefined ? {} : { retryAfterMillis: failure.retryAfterMillis }),
        message: `${journey.model}: ${journey.attempts.length} attempt(s) failed; last: ${last._tag}: ${last.message}`
      })
    }
  }
}
