/**
 * A provider whose every deployment follows a script of outcomes, and which records every request it
 * receives. It runs in process, with delays on effect's Clock, so router tests can use TestClock.
 */
import { type OperationName, operationNames, type Provider, type ProviderError } from "@switchyard/core"
import { Clock, Duration, Effect, Stream } from "effect"
import { partialOf, continuationFor, textChunks } from "./Reference.ts"
import { sampleResponse } from "./Samples.ts"

/** By default a text stream sends the rest of the reference text, and speech sends its sample audio. */
const referenceChunks = (operation: string, deployment: string, request: unknown): ReadonlyArray<unknown> =>
  operation === "chat" || operation === "completion" || operation === "responses" || operation === "messages"
    ? textChunks(operation, continuationFor(partialOf(operation, request)))
    : [sampleResponse(operation as OperationName, deployment)]

/** What a deployment does with one request. */
export type Outcome =
  | { readonly _tag: "Succeed"; readonly response?: unknown }
  | { readonly _tag: "Fail"; readonly error: ProviderError }
  | { readonly _tag: "Delay"; readonly millis: number; readonly then: Outcome }
  /** A stream: these chunks, then a failure or a stall (no end, no error) instead of a clean end. */
  | {
    readonly _tag: "Chunks"
    readonly chunks: ReadonlyArray<unknown>
    readonly error?: ProviderError
    readonly stall?: boolean
  }
  /** An outcome that depends on the request (for example, the rest of a partially sent reply). */
  | { readonly _tag: "Dynamic"; readonly make: (request: unknown) => Outcome }

/** Outcome constructors. */
export const Outcome = {
  succeed: (response?: unknown): Outcome => (response === undefined ? { _tag: "Succeed" } : { _tag: "Succeed", response }),
  fail: (error: ProviderError): Outcome => ({ _tag: "Fail", error }),
  delay: (millis: number, then: Outcome = { _tag: "Succeed" }): Outcome => ({ _tag: "Delay", millis, then }),
  chunks: (chunks: ReadonlyArray<unknown>, error?: ProviderError): Outcome =>
    error === undefined ? { _tag: "Chunks", chunks } : { _tag: "Chunks", chunks, error },
  stall: (chunks: ReadonlyArray<unknown>): Outcome => ({ _tag: "Chunks", chunks, stall: true }),
  dynamic: (make: (request: unknown) => Outcome): Outcome => ({ _tag: "Dynamic", make })
}

/** One request as the provider received it. */
export interface Received {
  readonly deployment: string
  readonly operation: string
  readonly request: unknown
  /** The Clock time (millis) it arrived at. */
  readonly at: number
}

export interface ScriptedProvider extends Provider {
  /** Every request received, in order. */
  readonly received: Array<Received>
  /** Queues outcomes for a deployment; each request takes the next one. */
  readonly script: (deployment: string, outcomes: ReadonlyArray<Outcome>) => void
  /** What a deployment does once its queue is empty (by default: succeed). */
  readonly otherwise: (deployment: string, outcome: Outcome) => void
  /** The requests one deployment received. */
  readonly requestsTo: (deployment: string) => ReadonlyArray<Received>
}

export interface ScriptedOptions {
  readonly name?: string
  readonly operations?: ReadonlyArray<OperationName>
  readonly supportsPrefill?: boolean
  /** The chunks a stream sends when its outcome is a plain success. */
  readonly defaultChunks?: (operation: string, deployment: string, request: unknown) => ReadonlyArray<unknown>
}

/** Builds a scripted provider (by default named `scripted`, supporting every operation). */
export const makeScriptedProvider = (options: ScriptedOptions = {}): ScriptedProvider => {
  const queues = new Map<string, Array<Outcome>>()
  const fallbacks = new Map<string, Outcome>()
  const received: Array<Received> = []
  const next = (deployment: string, operation: string, request: unknown, at: number): Outcome => {
    received.push({ deployment, operation, request, at })
    return queues.get(deployment)?.shift() ?? fallbacks.get(deployment) ?? Outcome.succeed()
  }
  const run = (
    outcome: Outcome,
    operation: OperationName,
    deployment: string,
    request: unknown
  ): Effect.Effect<unknown, ProviderError> => {
    switch (outcome._tag) {
      case "Dynamic":
        return run(outcome.make(request), operation, deployment, request)
      case "Succeed":
        return Effect.succeed(outcome.response ?? sampleResponse(operation, deployment))
      case "Fail":
        return Effect.fail(outcome.error)
      case "Delay":
        return Effect.andThen(
          Effect.sleep(Duration.millis(outcome.millis)),
          run(outcome.then, operation, deployment, request)
        )
      case "Chunks":
        return outcome.error ? Effect.fail(outcome.error) : Effect.succeed(outcome.chunks[0])
    }
  }
  const toStream = (
    outcome: Outcome,
    operation: string,
    deployment: string,
    request: unknown
  ): Stream.Stream<unknown, ProviderError> => {
    switch (outcome._tag) {
      case "Dynamic":
        return toStream(outcome.make(request), operation, deployment, request)
      case "Chunks": {
        const chunks = Stream.fromIterable(outcome.chunks)
        if (outcome.error) return Stream.concat(chunks, Stream.fail(outcome.error))
        return outcome.stall ? Stream.concat(chunks, Stream.never) : chunks
      }
      case "Delay":
        return Stream.concat(
          Stream.fromEffect(Effect.sleep(Duration.millis(outcome.millis))).pipe(Stream.drain),
          toStream(outcome.then, operation, deployment, request)
        )
      case "Fail":
        return Stream.fail(outcome.error)
      case "Succeed":
        return Stream.fromIterable(
          outcome.response !== undefined
            ? [outcome.response]
            : options.defaultChunks?.(operation, deployment, request) ?? referenceChunks(operation, deployment, request)
        )
    }
  }
  return {
    name: options.name ?? "scripted",
    operations: new Set(options.operations ?? operationNames),
    supportsPrefill: options.supportsPrefill ?? true,
    received,
    script: (deployment, outcomes) => {
      queues.set(deployment, [...(queues.get(deployment) ?? []), ...outcomes])
    },
    otherwise: (deployment, outcome) => {
      fallbacks.set(deployment, outcome)
    },
    requestsTo: (deployment) => received.filter((r) => r.deployment === deployment),
    call: (operation, deployment, request) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        run(next(deployment.id, operation.name, request, at), operation.name as OperationName, deployment.id, request)
      ) as Effect.Effect<any, ProviderError>,
    stream: (operation, deployment, request) =>
      Stream.unwrap(Effect.map(Clock.currentTimeMillis, (at) =>
        toStream(next(deployment.id, operation.name, request, at), operation.name, deployment.id, request)
      )) as Stream.Stream<any, ProviderError>
  }
}
