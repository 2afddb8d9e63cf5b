/**
 * Which deployments of a group may take a request at all, before health and strategy are considered:
 * tag routing (`enable_tag_filtering`) and pre-call checks (`enable_pre_call_checks`), both LiteLLM's.
 * A request whose prompt is over every deployment's context window fails here, without an upstream
 * call, as `ContextWindowExceeded`, so it goes on to the group's `context_window_fallbacks`.
 */
import { Effect } from "effect"
import type { RouterSettings } from "./Config.ts"
import type { Deployment } from "./Deployment.ts"
import { BadRequest, ContextWindowExceeded, type ProviderError } from "./Errors.ts"
import { estimateUsage, promptText } from "./Tokens.ts"

/** Input-token windows of well-known models, by model-name prefix (the longest prefix wins). */
export const knownContextWindows: Readonly<Record<string, number>> = {
  "gpt-3.5-turbo": 16_385,
  "gpt-3.5-turbo-instruct": 4_096,
  "gpt-4": 8_192,
  "gpt-4-32k": 32_768,
  "gpt-4-turbo": 128_000,
  "gpt-4-1106": 128_000,
  "gpt-4-0125": 128_000,
  "gpt-4o": 128_000,
  "gpt-4.1": 1_047_576,
  "gpt-5": 272_000,
  "o1": 200_000,
  "o3": 200_000,
  "o4-mini": 200_000,
  "claude-3": 200_000,
  "claude-opus-4": 200_000,
  "claude-sonnet-4": 200_000,
  "claude-haiku-4": 200_000
}

/** The known window of a model name (with or without its provider prefix), by the longest matching prefix. */
export const knownWindow = (model: string): number | undefined => {
  const name = model.slice(model.indexOf("/") + 1)
  let best: string | undefined
  for (const prefix of Object.keys(knownContextWindows)) {
    if (name.startsWith(prefix) && (best === undefined || prefix.length > best.length)) best = prefix
  }
  return best === undefined ? undefined : knownContextWindows[best]
}

/** A deployment's input window: `model_info.max_input_tokens`, else that of its base model or model. */
export const contextWindowOf = (d: Deployment): number | undefined =>
  d.info.max_input_tokens ?? knownWindow(d.info.base_model ?? d.model)

/** What the filters read from a request. */
export interface FilterInput {
  readonly group: string
  readonly request: unknown
  readonly tags: ReadonlyArray<string>
}

/** LiteLLM's tag routing: deployments sharing a request tag, else those tagged `default`, else an error. */
export const byTags = (
  members: ReadonlyArray<Deployment>,
  input: FilterInput
): ReadonlyArray<Deployment> | BadRequest => {
  const defaults = members.filter((d) => d.tags.includes("default"))
  if (input.tags.length === 0) return defaults.length > 0 ? defaults : members
  const matching = members.filter((d) => d.tags.some((t) => input.tags.includes(t)))
  if (matching.length > 0) return matching
  if (defaults.length > 0) return defaults
  return new BadRequest({
    status: 400,
    message: `no deployment of "${input.group}" carries any of the tags ${JSON.stringify(input.tags)}`
  })
}

const encoder = new TextEncoder()

/** Token counts of prompts already counted: a retry or a fallback of the same request counts once. */
const counted = new WeakMap<object, number>()

/** The prompt's token count, or its UTF-8 size when that already fits every window (no token can be smaller than a byte). */
const promptTokens = (request: unknown, smallestWindow: number): Effect.Effect<number> => {
  // The prompt alone: an upload's bytes are no prompt.
  const bytes = encoder.encode(promptText(request)).length
  if (bytes <= smallestWindow) return Effect.succeed(bytes)
  const known = typeof request === "object" && request !== null ? counted.get(request) : undefined
  if (known !== undefined) return Effect.succeed(known)
  return Effect.map(estimateUsage(request, ""), (u) => {
    if (typeof request === "object" && request !== null) counted.set(request, u.promptTokens)
    return u.promptTokens
  })
}

/** LiteLLM's pre-call check: keeps the deployments whose context window the prompt fits. */
export const byContextWindow = (
  members: ReadonlyArray<Deployment>,
  input: FilterInput
): Effect.Effect<ReadonlyArray<Deployment>, ContextWindowExceeded> => {
  const windows = members.map(contextWindowOf)
  const known = windows.filter((w): w is number => w !== undefined)
  if (known.length === 0) return Effect.succeed(members)
  return Effect.flatMap(promptTokens(input.request, Math.min(...known)), (tokens) => {
    const fitting = members.filter((_, i) => windows[i] === undefined || tokens <= windows[i]!)
    return fitting.length > 0
      ? Effect.succeed(fitting)
      : Effect.fail(
        new ContextWindowExceeded({
          message: `the prompt (~${tokens} tokens) is over the context window of every deployment of "${input.group}"`
        })
      )
  })
}

/** The filters a router's settings switch on, as one step over a group's members. */
export const makeDeploymentFilter = (settings: RouterSettings) => {
  const tags = settings.enable_tag_filtering === true
  const preCall = settings.enable_pre_call_checks === true
  return (members: ReadonlyArray<Deployment>, input: FilterInput): Effect.Effect<ReadonlyArray<Deployment>, ProviderError> => {
    if (!tags && !preCall) return Effect.succeed(members)
    const tagged = tags ? byTags(members, input) : members
    if (tagged instanceof BadRequest) return Effect.fail(tagged)
    return preCall && tagged.length > 0 ? byContextWindow(tagged, input) : Effect.succeed(tagged)
  }
}
