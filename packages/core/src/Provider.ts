/**
 * A provider implements operations for one wire format. It declares what it supports, so a deployment
 * that cannot do an operation is left out of that operation's routing when the router is built.
 */
import { Context, type Effect, type Stream } from "effect"
import type { Deployment } from "./Deployment.ts"
import type { ProviderError } from "./Errors.ts"
import type { Operation, OperationName } from "./Operation.ts"

/** One wire format (openai, azure, anthropic, …). Its effects need nothing: clients are captured when built. */
export interface Provider {
  readonly name: string
  readonly operations: ReadonlySet<OperationName>
  /**
   * Whether the upstream continues a trailing assistant message instead of answering it: one answer for
   * the provider, or one per deployment where it depends on the model family (4.6-generation Claude: no).
   */
  readonly supportsPrefill: boolean | ((deployment: Deployment) => boolean)
  /** One plain call. Failures are typed; the router decides what they mean. */
  readonly call: <Req, Res>(
    operation: Operation<string, Req, Res, any>,
    deployment: Deployment,
    request: Req
  ) => Effect.Effect<Res, ProviderError>
  /** One streamed call. A break after the first chunk must surface as `MidStream`. */
  readonly stream: <Req, Chunk>(
    operation: Operation<string, Req, any, Chunk>,
    deployment: Deployment,
    request: Req
  ) => Stream.Stream<Chunk, ProviderError>
}

/** Whether a deployment takes an assistant prefill: its config override (`supports_prefill`, `model_info.supports_assistant_prefill`), else its provider's answer. */
export const acceptsPrefill = (provider: Provider, deployment: Deployment): boolean =>
  deployment.supportsPrefill ??
    (typeof provider.supportsPrefill === "function" ? provider.supportsPrefill(deployment) : provider.supportsPrefill)

/** The providers the router may use, by the prefix of `litellm_params.model`. */
export class Providers extends Context.Service<Providers, ReadonlyMap<string, Provider>>()("switchyard/Providers") {
  /** A Providers service from a list; each provider answers to its own name and to any extra aliases. */
  static readonly fromList = (providers: ReadonlyArray<Provider>, aliases: Readonly<Record<string, string>> = {}) => {
    const byName = new Map(providers.map((p) => [p.name, p] as const))
    for (const [alias, name] of Object.entries(aliases)) {
      const provider = byName.get(name)
      if (provider) byName.set(alias, provider)
    }
    return Providers.of(byName as ReadonlyMap<string, Provider>)
  }
}
