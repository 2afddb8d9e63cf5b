/**
 * A reply that the provider cut short with `finish_reason: "content_filter"` is a content-policy failure
 * in LiteLLM: it goes to `content_policy_fallbacks` instead of reaching the client as a success. For a
 * stream this holds while nothing was sent: when the chunks an attempt opened with end filtered before
 * any content.
 */
import { Effect } from "effect"
import { ContentPolicy } from "./Errors.ts"

type Choice = { readonly finish_reason?: unknown; readonly delta?: { readonly content?: unknown } }

const choicesOf = (reply: unknown): ReadonlyArray<Choice> => {
  const choices = (reply as { readonly choices?: unknown } | null)?.choices
  return Array.isArray(choices) ? choices as ReadonlyArray<Choice> : []
}

const filteredIn = (replies: ReadonlyArray<unknown>): boolean =>
  replies.some((r) => choicesOf(r).some((c) => c?.finish_reason === "content_filter"))

/** Whether any of the chunks carried text: then the client has content and a failure is mid-stream. */
const carriesText = (chunks: ReadonlyArray<unknown>): boolean =>
  chunks.some((r) => choicesOf(r).some((c) => typeof c?.delta?.content === "string" && c.delta.content !== ""))

const failure = () => new ContentPolicy({ message: "the provider filtered the reply (finish_reason: content_filter)" })

/**
 * The content-policy failure a reply stands for, or `undefined`: a call's reply, or an opened stream's
 * first chunks (`{ first }`) when they end filtered without any text.
 */
export const contentFiltered = (value: unknown): ContentPolicy | undefined => {
  const first = (value as { readonly first?: unknown } | null)?.first
  if (Array.isArray(first)) return filteredIn(first) && !carriesText(first) ? failure() : undefined
  return filteredIn([value]) ? failure() : undefined
}

/** Fails with the content-policy failure a reply stands for, instead of succeeding with it. */
export const rejectFiltered = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | ContentPolicy, R> =>
  Effect.flatMap(self, (value) => {
    const filtered = contentFiltered(value)
    return filtered === undefined ? Effect.succeed(value) : Effect.fail(filtered)
  })
