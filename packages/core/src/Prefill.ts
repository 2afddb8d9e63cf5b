/**
 * Which deployments take an assistant prefill in a stream continuation. It is known per model family (the
 * provider's answer), overridable in the config, and learnt: a deployment that refused a prefill is asked
 * in the instruction form from then on, by every stream of the router.
 */
import type { Deployment } from "./Deployment.ts"
import type { ProviderError } from "./Errors.ts"
import { acceptsPrefill, type Provider } from "./Provider.ts"

/** A router's knowledge of prefill support, learnt from refusals. */
export interface PrefillSupport {
  /** Whether a continuation may be sent to `deployment` as a prefill. */
  readonly accepts: (provider: Provider, deployment: Deployment) => boolean
  /** Remembers that `deployment` refused a prefill. */
  readonly refused: (deployment: Deployment) => void
}

/** A fresh memory of prefill refusals (one per router). */
export const makePrefillSupport = (): PrefillSupport => {
  const refusers = new Set<string>()
  return {
    accepts: (provider, deployment) => !refusers.has(deployment.id) && acceptsPrefill(provider, deployment),
    refused: (deployment) => void refusers.add(deployment.id)
  }
}

/** Whether a failure is the upstream refusing a conversation that ends with an assistant turn. */
export const isPrefillRefusal = (error: ProviderError): boolean =>
  error._tag === "BadRequest" && error.reason === "prefill_unsupported"
