/**
 * Retry budgets that differ from the router-wide policy: `model_group_retry_policy` (per-class retries
 * for one group, over `retry_policy`) and a request's own `num_retries`. Each distinct override compiles
 * to its own Policy once, through `makePolicy`, so the schedule logic stays in one place.
 */
import { makePolicy, type Policy } from "./Policy.ts"

/** The policy a group and a request retry under; the router's own when nothing overrides it. */
export const makeRetryOverrides = (policy: Policy) => {
  const perGroup = policy.settings.model_group_retry_policy ?? {}
  const compiled = new Map<string, Policy>()
  return (group: string, numRetries: number | undefined): Policy => {
    const groupPolicy = perGroup[group]
    if (groupPolicy === undefined && numRetries === undefined) return policy
    const key = `${numRetries ?? ""}|${group}`
    let found = compiled.get(key)
    if (found === undefined) {
      const settings = policy.settings
      found = makePolicy({
        ...settings,
        ...(groupPolicy === undefined ? {} : { retry_policy: { ...settings.retry_policy, ...groupPolicy } }),
        ...(numRetries === undefined ? {} : { num_retries: numRetries })
      })
      // Request-level values come from clients: keep the cache bounded.
      if (compiled.size < 256) compiled.set(key, found)
    }
    return found
  }
}
