/**
 * The one pipeline. Every operation reaches a provider through `route`: pick a healthy deployment,
 * attempt it with its timeout, retry on the group's `Schedule`, cool failing deployments down, and fall
 * back group by group. The per-operation methods are aliases generated from the operation registry.
 */
import { Clock, Context, Effect, Exit, Layer } from "effect"
import { type ConfigIssue, invalidConfig, type InvalidConfig, type LoadedConfig, parseConfig } from "./Config.ts"
import { compileDeployments, type Deployment } from "./Deployment.ts"
import {
  AllAttemptsFailed,
  Attempt,
  failurePolicy,
  NoDeploymentAvailable,
  type ProviderError,
  Timeout,
  UnknownModel,
  UnsupportedOperation
} from "./Errors.ts"
import type { Operation, OperationName, Operations, RequestOf, ResponseOf } from "./Operation.ts"
import { operationNames, operations } from "./Operation.ts"
import { defaults, type GroupFailure, makePolicy, type Policy } from "./Policy.ts"
import { type Provider, Providers } from "./Provider.ts"
import { RouterState, type RouterStateShape } from "./RouterState.ts"
import { type Candidate, isHealthy, pick } from "./Routing.ts"

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

/** One alias per operation: `router.chat(request)` is `router.call(operations.chat, request)`. */
export type OperationMethods = {
  readonly [K in OperationName]: (
    request: RequestOf<Operations[K]>
  ) => Effect.Effect<Routed<ResponseOf<Operations[K]>>, RouterCallError>
}

export type RouterCallError = UnknownModel | NoDeploymentAvailable | AllAttemptsFailed

export interface RouterShape extends OperationMethods {
  /** Routes one call of `operation`. This and `stream` are the only ways to reach a provider. */
  readonly call: <Req, Res>(
    operation: Operation<string, Req, Res, any>,
    request: Req
  ) => Effect.Effect<Routed<Res>, RouterCallError>
  /** The model groups, in config order. */
  readonly groups: ReadonlyArray<string>
  readonly deployments: ReadonlyArray<Deployment>
  readonly policy: Policy
}

/** Request fields that steer the router and are never sent upstream. */
const controlFields = ["fallbacks", "disable_fallbacks"] as const

/** The mutable record of one request's way through the pipeline. It lives on one fiber. */
interface Journey {
  readonly operation: Operation
  readonly model: string
  request: unknown
  readonly attempts: Array<Attempt>
  /** Deployments that failed in this request: a retry prefers the others. */
  readonly failed: Set<string>
  /** Deployments that failed in a way only another deployment can fix. */
  readonly excluded: Set<string>
  readonly attemptsPerGroup: Map<string, number>
  /** The groups to try, in order; fallbacks are appended once the primary's failure class is known. */
  plan: Array<string>
  planned: boolean
  /** The groups in `plan` that were entered. */
  entered: number
  readonly requestedFallbacks: ReadonlyArray<string> | undefined
  readonly disableFallbacks: boolean
}

/** What one attempt does with the deployment it was given; a plain call or opening a stream. */
type Action<A, R> = (provider: Provider, deployment: Deployment, request: unknown) => Effect.Effect<A, ProviderError, R>

/** Builds a router from a decoded config. Fails with the path of every deployment it cannot route to. */
export const makeRouter = (
  loaded: LoadedConfig
): Effect.Effect<RouterShape, InvalidConfig, Providers | RouterState> =>
  Effect.gen(function*() {
    const providers = yield* Providers
    const state = yield* RouterState
    const deployments = yield* compileDeployments(loaded.config)
    const unknownProviders: Array<ConfigIssue> = deployments.flatMap((d, i) =>
      providers.has(d.provider)
        ? []
        : [{
          path: `model_list[${i}].litellm_params.model`,
          message: `unknown provider "${d.provider}" (known: ${[...providers.keys()].join(", ")})`
        }]
    )
    if (unknownProviders.length > 0) return yield* invalidConfig(unknownProviders)
    for (const w of loaded.warnings) yield* Effect.logWarning(`config: ${w.path}: ${w.message}`)
    return buildRouter(deployments, makePolicy(loaded.config.router_settings), providers, state)
  })

const buildRouter = (
  deployments: ReadonlyArray<Deployment>,
  policy: Policy,
  providers: ReadonlyMap<string, Provider>,
  state: RouterStateShape
): RouterShape => {
  const groups = [...new Set(deployments.map((d) => d.group))]
  // Which deployments can serve each operation, per group: decided once, here.
  const routable = new Map<string, Map<string, ReadonlyArray<Deployment>>>()
  for (const name of operationNames) {
    const byGroup = new Map<string, Array<Deployment>>(groups.map((g) => [g, []]))
    for (const d of deployments) if (providers.get(d.provider)!.operations.has(name)) byGroup.get(d.group)!.push(d)
    routable.set(name, byGroup)
  }
  const strategy = policy.settings.routing_strategy ?? "simple-shuffle"
  const cooldownsOn = policy.settings.disable_cooldowns !== true

  const candidatesOf = (candidates: ReadonlyArray<Deployment>) =>
    Effect.map(state.stats(candidates.map((d) => d.id)), (stats) =>
      candidates.map((deployment, i): Candidate => ({ deployment, stats: stats[i]! })))

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

  /** Counts a failure against its deployment and cools it down when the class's rule says so. */
  const recordFailure = (deployment: Deployment, error: ProviderError, groupSize: number, now: number) => {
    const allowed = policy.allowedFails(error)
    if (!cooldownsOn || allowed === undefined || groupSize < 2) return Effect.void
    return Effect.flatMap(state.recordFailure(deployment.id, defaults.failureWindowMillis), (count) =>
      count > allowed ? state.coolDown(deployment.id, now + policy.cooldownMillis(deployment, error)) : Effect.void)
  }

  /** One attempt in `group`: pick, act with a timeout, record the outcome. */
  const attempt = <A, R>(journey: Journey, group: string, action: Action<A, R>) =>
    Effect.gen(function*() {
      const members = routable.get(journey.operation.name)!.get(group)!
      const tried = journey.attemptsPerGroup.get(group) ?? 0
      journey.attemptsPerGroup.set(group, tried + 1)
      if (members.length === 0) {
        const error = new UnsupportedOperation({
          operation: journey.operation.name,
          message: `no deployment of "${group}" supports ${journey.operation.name}`
        })
        return yield* Effect.fail<GroupFailure>({ error, alternative: false, deployment: undefined, attempt: tried + 1 })
      }
      const all = yield* candidatesOf(members)
      const start = yield* Clock.currentTimeMillis
      const healthy = all.filter(isHealthy)
      const fresh = healthy.filter((c) => !journey.failed.has(c.deployment.id))
      const pool = fresh.length > 0 ? fresh : healthy.filter((c) => !journey.excluded.has(c.deployment.id))
      if (pool.length === 0) {
        return yield* Effect.fail<GroupFailure>({
          error: noDeployment(group, all, start),
          alternative: false,
          deployment: undefined,
          attempt: tried + 1
        })
      }
      const { deployment } = yield* pick(strategy, pool)
      const provider = providers.get(deployment.provider)!
      const timeoutMillis = policy.timeoutMillis(deployment)
      const exit = yield* Effect.acquireUseRelease(
        state.acquire(deployment.id),
        () =>
          action(provider, deployment, journey.request).pipe(
            Effect.timeoutOrElse({
              duration: timeoutMillis,
              orElse: () => Effect.fail(new Timeout({ message: `no reply from ${deployment.id} within ${timeoutMillis}ms` }))
            }),
            Effect.exit
          ),
        (lease, outer) =>
          Effect.flatMap(Clock.currentTimeMillis, (end) => {
            const ok = Exit.isSuccess(outer) && Exit.isSuccess(outer.value) ? outer.value : undefined
            return state.release(deployment.id, lease, {
              latencyMillis: ok ? end - start : undefined,
              tokens: ok ? (journey.operation.usage(ok.value)?.totalTokens ?? 0) : 0
            })
          })
      )
      const end = yield* Clock.currentTimeMillis
      const durationMillis = end - start
      if (Exit.isSuccess(exit)) {
        journey.attempts.push(new Attempt({ deployment: deployment.id, group, durationMillis }))
        return exit.value
      }
      const error = yield* Effect.failCause(exit.cause).pipe(Effect.flip)
      journey.attempts.push(new Attempt({ deployment: deployment.id, group, error: error._tag, durationMillis }))
      journey.failed.add(deployment.id)
      if (policy.retryKind(error) !== "same") journey.excluded.add(deployment.id)
      yield* recordFailure(deployment, error, members.length, end)
      const after = yield* candidatesOf(members)
      const alternative = after.some((c) => isHealthy(c) && !journey.failed.has(c.deployment.id))
      return yield* Effect.fail<GroupFailure>({ error, alternative, deployment, attempt: tried + 1 })
    })

  /** All attempts in one group, on the policy's retry schedule. */
  const runGroup = <A, R>(journey: Journey, group: string, action: Action<A, R>) =>
    Effect.retry(attempt(journey, group, action), policy.retrySchedule)

  /** The groups to fall back to after the primary failed with `failure`. */
  const fallbackPlan = (journey: Journey, failure: GroupFailure): Array<string> => {
    if (journey.disableFallbacks) return []
    const list = failure.error._tag === "NoDeploymentAvailable" ? "general" : failurePolicy(failure.error).fallback
    const declared = list === "general" && journey.requestedFallbacks !== undefined
      ? journey.requestedFallbacks
      : policy.fallbacks(journey.model, list)
    return [...new Set(declared)].filter((g) => g !== journey.model).slice(0, policy.maxFallbacks)
  }

  const stopsFallback = (failure: GroupFailure) =>
    failure.error._tag !== "NoDeploymentAvailable" && failurePolicy(failure.error).fallback === "none"

  /** Runs the plan from group `index` on: each group is an `orElse` of the one before. */
  const fromGroup = <A, R>(
    journey: Journey,
    action: Action<A, R>,
    index: number
  ): Effect.Effect<Routed<A>, GroupFailure, R> => {
    const group = journey.plan[index]!
    journey.entered = index
    return runGroup(journey, group, action).pipe(
      Effect.map((response) => routed(journey, group, response)),
      Effect.catch((failure) => {
        if (!journey.planned) {
          journey.plan.push(...fallbackPlan(journey, failure))
          journey.planned = true
        }
        return stopsFallback(failure) || index + 1 >= journey.plan.length
          ? Effect.fail(failure)
          : fromGroup(journey, action, index + 1)
      })
    )
  }

  const routed = <A>(journey: Journey, group: string, response: A): Routed<A> => ({
    response,
    group,
    deployment: journey.attempts[journey.attempts.length - 1]!.deployment,
    attempts: journey.attempts,
    fallbacks: journey.entered
  })

  const finalError = (journey: Journey, failure: GroupFailure) =>
    failure.error._tag === "NoDeploymentAvailable" && journey.attempts.length === 0
      ? failure.error
      : new AllAttemptsFailed({
        model: journey.model,
        attempts: journey.attempts,
        lastError: failure.error,
        message: `${journey.model}: ${journey.attempts.length} attempt(s) failed; last: ${failure.error._tag}: ${failure.error.message}`
      })

  const start = (operation: Operation, request: unknown): Effect.Effect<Journey, UnknownModel> => {
    const body = request as Record<string, unknown>
    const model = body.model as string
    if (!routable.get(operation.name)!.has(model)) {
      return Effect.fail(new UnknownModel({ model, message: `model "${model}" is not configured` }))
    }
    const requested = Array.isArray(body.fallbacks) ? body.fallbacks.map(String) : undefined
    const unknown = requested?.find((g) => !routable.get(operation.name)!.has(g))
    if (unknown !== undefined) {
      return Effect.fail(new UnknownModel({ model: unknown, message: `fallback model "${unknown}" is not configured` }))
    }
    const hasControl = controlFields.some((f) => f in body)
    const upstream = hasControl
      ? Object.fromEntries(Object.entries(body).filter(([k]) => !(controlFields as ReadonlyArray<string>).includes(k)))
      : body
    return Effect.succeed({
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
      requestedFallbacks: requested,
      disableFallbacks: body.disable_fallbacks === true
    })
  }

  const call = <Req, Res>(operation: Operation<string, Req, Res, any>, request: Req) =>
    Effect.flatMap(start(operation, request), (journey) =>
      fromGroup(
        journey,
        (provider, deployment, req) => provider.call(operation, deployment, req as Req),
        0
      ).pipe(Effect.mapError((failure) => finalError(journey, failure))))

  const methods = Object.fromEntries(
    operationNames.map((name) => [name, (request: unknown) => call(operations[name] as Operation, request)])
  ) as unknown as OperationMethods

  return { ...methods, call, groups, deployments, policy }
}

/** The router service: the same pipeline for the library and the proxy. */
export class Router extends Context.Service<Router, RouterShape>()("switchyard/Router") {
  /** A router from a decoded config; needs `Providers` and a `RouterState`. */
  static readonly layer = (loaded: LoadedConfig): Layer.Layer<Router, InvalidConfig, Providers | RouterState> =>
    Layer.effect(Router, makeRouter(loaded))
  /** A router from YAML text. */
  static readonly layerYaml = (yaml: string): Layer.Layer<Router, InvalidConfig, Providers | RouterState> =>
    Layer.effect(Router, Effect.flatMap(parseConfig(yaml), makeRouter))
}
