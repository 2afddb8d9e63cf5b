/**
 * The router service. `call` and `stream` are the only ways to reach a provider, and both go through the
 * one pipeline; the per-operation methods (`chat`, `speech`, …) are aliases generated from the registry.
 */
import { Context, Effect, Layer, type Scope, Stream } from "effect"
import { type ConfigIssue, invalidConfig, type InvalidConfig, type LoadedConfig, parseConfig } from "./Config.ts"
import { rejectFiltered } from "./ContentFilter.ts"
import { compileDeployments, type Deployment } from "./Deployment.ts"
import type { AllAttemptsFailed, NoDeploymentAvailable, UnknownModel } from "./Errors.ts"
import type { Operation, OperationName, Operations, RequestOf, ResponseOf } from "./Operation.ts"
import { operationNames, operations } from "./Operation.ts"
import { makePipeline, type Perform, type Routed } from "./Pipeline.ts"
import { makePolicy, type Policy } from "./Policy.ts"
import { makePrefillSupport } from "./Prefill.ts"
import { Providers } from "./Provider.ts"
import { RouterState } from "./RouterState.ts"
import { openStream, type RoutedStream } from "./StreamFallback.ts"

export type { Routed } from "./Pipeline.ts"
export type { RoutedStream, StreamSummary } from "./StreamFallback.ts"

/** What a routed call or stream can fail with. */
export type RouterCallError = UnknownModel | NoDeploymentAvailable | AllAttemptsFailed

/** One alias per operation: `router.chat(request)` is `router.call(operations.chat, request)`. */
export type OperationMethods = {
  readonly [K in OperationName]: (
    request: RequestOf<Operations[K]>
  ) => Effect.Effect<Routed<ResponseOf<Operations[K]>>, RouterCallError>
}

export interface RouterShape extends OperationMethods {
  /** Routes one call of `operation`. */
  readonly call: <Req, Res>(
    operation: Operation<string, Req, Res, any>,
    request: Req
  ) => Effect.Effect<Routed<Res>, RouterCallError>
  /** Opens a routed stream once its first chunk has arrived; the Scope owns the upstream connection. */
  readonly open: <Req, Chunk>(
    operation: Operation<string, Req, any, Chunk>,
    request: Req
  ) => Effect.Effect<RoutedStream<Chunk>, RouterCallError, Scope.Scope>
  /** The routed stream of `operation`, continued across breaks. */
  readonly stream: <Req, Chunk>(
    operation: Operation<string, Req, any, Chunk>,
    request: Req
  ) => Stream.Stream<Chunk, RouterCallError>
  /** The model groups, in config order. */
  readonly groups: ReadonlyArray<string>
  readonly deployments: ReadonlyArray<Deployment>
  readonly policy: Policy
}

/** Builds a router from a decoded config. Fails with the path of every deployment it cannot route to. */
export const makeRouter = (
  loaded: LoadedConfig
): Effect.Effect<RouterShape, InvalidConfig, Providers | RouterState> =>
  Effect.gen(function*() {
    const providers = yield* Providers
    const state = yield* RouterState
    const deployments = yield* compileDeployments(loaded.config)
    const unknownProviders: Array<ConfigIssue> = deployments.flatMap((d, i) =>
      providers.has(d.provider) ? [] : [{
        path: `model_list[${i}].litellm_params.model`,
        message: `unknown provider "${d.provider}" (known: ${[...providers.keys()].join(", ")})`
      }]
    )
    if (unknownProviders.length > 0) return yield* invalidConfig(unknownProviders)
    for (const w of loaded.warnings) yield* Effect.logWarning(`config: ${w.path}: ${w.message}`)

    const policy = makePolicy(loaded.config.router_settings)
    const pipeline = makePipeline(deployments, policy, providers, state)
    const prefill = makePrefillSupport()

    const call = <Req, Res>(operation: Operation<string, Req, Res, any>, request: Req) =>
      Effect.flatMap(pipeline.start(operation, request), (journey) => {
        const perform: Perform<Res> = (provider, deployment, req) =>
          rejectFiltered(provider.call(operation, deployment, req as Req))
        return pipeline.run(journey, perform, pipeline.callTimeout(journey)).pipe(
          Effect.flatMap((produced) =>
            Effect.as(produced.release(operation.usage(produced.value)?.totalTokens ?? 0), {
              response: produced.value,
              deployment: produced.deployment.id,
              group: produced.group,
              attempts: journey.attempts,
              fallbacks: produced.fallbacks
            })
          ),
          Effect.mapError((failure) => pipeline.finalError(journey, failure))
        )
      })

    const open = <Req, Chunk>(operation: Operation<string, Req, any, Chunk>, request: Req) =>
      openStream(pipeline, policy, prefill, operation, request)

    const stream = <Req, Chunk>(operation: Operation<string, Req, any, Chunk>, request: Req) =>
      Stream.unwrap(Effect.map(open(operation, request), (routed) => routed.stream))

    const methods = Object.fromEntries(
      operationNames.map((name) => [name, (request: unknown) => call(operations[name] as Operation, request)])
    ) as unknown as OperationMethods

    return {
      ...methods,
      call,
      open,
      stream,
      groups: [...new Set(deployments.map((d) => d.group))],
      deployments,
      policy
    }
  })

/** The router service: the same pipeline for the library and the proxy. */
export class Router extends Context.Service<Router, RouterShape>()("switchyard/Router") {
  /** A router from a decoded config; needs `Providers` and a `RouterState`. */
  static readonly layer = (loaded: LoadedConfig): Layer.Layer<Router, InvalidConfig, Providers | RouterState> =>
    Layer.effect(Router, makeRouter(loaded))
  /** A router from YAML text. */
  static readonly layerYaml = (yaml: string): Layer.Layer<Router, InvalidConfig, Providers | RouterState> =>
    Layer.effect(Router, Effect.flatMap(parseConfig(yaml), makeRouter))
}
