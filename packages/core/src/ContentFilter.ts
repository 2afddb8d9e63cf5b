/**
 * A reply that the provider cut short with `finish_reason: "content_filter"` is a content-policy failure
 * in LiteLLM: it goes to `content_policy_fallbacks` instead of reaching the client as a success.
 */
import { Effect } from "effect"
import { ContentPolicy } from "./Errors.ts"

/** The content-policy failure a reply stands for, or `undefined` when no choice was filtered. */
export const contentFiltered = (response: unknown): ContentPolicy | undefined => {
  const choices = (response as { readonly choices?: unknown } | null)?.choices
  if (!Array.isArray(choices)) return undefined
  const filtered = choices.some((c) => (c as { readonly finish_reason?: unknown } | null)?.finish_reason === "content_filter")
  return filtered ? new ContentPolicy({ message: "the provider filtered the reply (finish_reason: content_filter)" }) : undefined
}

/** Fails with the content-policy failure a reply stands for, instead of succeeding with it. */
export const rejectFiltered = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | ContentPolicy, R> =>
  Effect.flatMap(self, (value) => {
    const filtered = contentFiltered(value)
    return filtered === undefined ? Effect.succeed(value) : Effect.fail(filtered)
  })
