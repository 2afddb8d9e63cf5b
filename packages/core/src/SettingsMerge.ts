/**
 * LiteLLM reads its routing keys from two places: `router_settings` (the Router's arguments) and
 * `litellm_settings` (module globals the Router falls back to). This merges them once, at decode time,
 * with LiteLLM's precedence, so the rest of the engine sees one settings object:
 * - fallback lists: the router's list unless it is empty (`fallbacks or litellm.fallbacks`);
 * - `num_retries`, `allowed_fails`: the router's value whenever it is set, even 0;
 * - `timeout`: the router's unless unset or 0, else `litellm_settings.request_timeout`;
 * - `cooldown_time`, `default_fallbacks`: the router's, else `litellm_settings`'.
 */
import type { ConfigIssue, LitellmSettings, RouterSettings } from "./Config.ts"

/** The merged settings and a warning for every `litellm_settings` key the router's own value overrides. */
export interface MergedSettings {
  readonly settings: RouterSettings | undefined
  readonly warnings: ReadonlyArray<ConfigIssue>
}

type Rule = "nonEmpty" | "defined" | "truthy"
/** Each `litellm_settings` key, the router key it feeds, and when the router's own value wins. */
const rules: ReadonlyArray<readonly [keyof LitellmSettings, keyof RouterSettings, Rule]> = [
  ["fallbacks", "fallbacks", "nonEmpty"],
  ["context_window_fallbacks", "context_window_fallbacks", "nonEmpty"],
  ["content_policy_fallbacks", "content_policy_fallbacks", "nonEmpty"],
  ["default_fallbacks", "default_fallbacks", "nonEmpty"],
  ["num_retries", "num_retries", "defined"],
  ["allowed_fails", "allowed_fails", "defined"],
  ["request_timeout", "timeout", "truthy"],
  ["cooldown_time", "cooldown_time", "truthy"]
]

const wins = (rule: Rule, value: unknown): boolean =>
  rule === "defined"
    ? value !== undefined
    : rule === "truthy"
    ? value !== undefined && value !== 0
    : Array.isArray(value) && value.length > 0

/** Merges `litellm_settings`' routing keys into the router settings, LiteLLM's way. */
export const mergeLitellmSettings = (
  router: RouterSettings | undefined,
  litellm: LitellmSettings | undefined
): MergedSettings => {
  if (litellm === undefined || Object.keys(litellm).length === 0) return { settings: router, warnings: [] }
  const merged: Record<string, unknown> = { ...router }
  const warnings: Array<ConfigIssue> = []
  for (const [from, to, rule] of rules) {
    const value = litellm[from]
    if (value === undefined) continue
    if (wins(rule, merged[to])) {
      warnings.push({
        path: `litellm_settings.${from}`,
        message: `overridden by router_settings.${to}, which LiteLLM reads first`
      })
    } else {
      merged[to] = value
    }
  }
  return { settings: merged as RouterSettings, warnings }
}
