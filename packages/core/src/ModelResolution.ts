/**
 * Model-name resolution: what a requested `model` (or a fallback target) names, the way LiteLLM reads it.
 * An alias (`model_group_alias`) is replaced by its target first, as LiteLLM does; then the name is a
 * model group, a deployment's `model_info.id`, a deployment's own `litellm_params.model` (LiteLLM's
 * "deployment name instead"), or it matches a wildcard group (`"*"`, `openai/*`, …), the most specific
 * pattern first. A wildcard match sends the requested name
 * upstream: the `*`s of the deployment's `litellm_params.model` are filled with what the pattern matched.
 */
import type { RouterSettings } from "./Config.ts"
import type { Deployment } from "./Deployment.ts"
import { splitModel } from "./ProviderInference.ts"

/** What a name resolved to: the group whose deployments serve it, narrowed and rewritten as needed. */
export interface Target {
  /** The `model_name` of the deployments that serve. */
  readonly group: string
  /** Set when the name is a deployment's `model_info.id`: only that deployment serves. */
  readonly deploymentId: string | undefined
  /** Set when a wildcard group matched: the parts of the requested name its `*`s stood for. */
  readonly captures: ReadonlyArray<string> | undefined
}

/** The deployment facts resolution needs. */
export interface Addressable {
  readonly id: string
  readonly group: string
  /** Its `litellm_params.model`, `provider/model`. */
  readonly model: string
}

/** Resolves requested names for one router. */
export interface Resolver {
  /** The target a name stands for, or `undefined` when nothing in the config serves it. */
  readonly resolve: (name: string) => Target | undefined
}

/** The alias map of `model_group_alias`: both the string form and `{ model, hidden }`. */
export const aliasTargets = (settings: RouterSettings | undefined): ReadonlyMap<string, { model: string; hidden: boolean }> =>
  new Map(Object.entries(settings?.model_group_alias ?? {}).map(([alias, to]) =>
    [alias, typeof to === "string" ? { model: to, hidden: false } : { model: to.model, hidden: to.hidden ?? false }]
  ))

const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")

/** A wildcard group name as a pattern; `undefined` for a plain name. */
const patternOf = (group: string): RegExp | undefined =>
  group.includes("*") ? new RegExp(`^${group.split("*").map(escape).join("(.*)")}$`, "s") : undefined

/** LiteLLM's specificity order: longer literal text first, then fewer wildcards. */
const specificity = (group: string) => [group.replaceAll("*", "").length, -group.split("*").length + 1] as const

/** Builds the resolver over a router's deployments and its (normalised) router settings. */
export const makeResolver = (deployments: ReadonlyArray<Addressable>, settings: RouterSettings | undefined): Resolver => {
  const groups = new Set(deployments.map((d) => d.group))
  const byId = new Map(deployments.map((d) => [d.id, d.group]))
  // The first deployment of each litellm model, as LiteLLM takes it.
  const byModel = new Map<string, Addressable>()
  for (const d of [...deployments].reverse()) if (!d.model.includes("*")) byModel.set(d.model, d)
  const aliases = aliasTargets(settings)
  const patterns = [...groups]
    .flatMap((g) => {
      const re = patternOf(g)
      return re === undefined ? [] : [{ group: g, re }]
    })
    .sort((a, b) => {
      const [la, wa] = specificity(a.group)
      const [lb, wb] = specificity(b.group)
      return lb - la || wb - wa
    })
  const direct = (name: string): Target | undefined => {
    if (groups.has(name)) return { group: name, deploymentId: undefined, captures: undefined }
    const owner = byId.get(name)
    if (owner !== undefined) return { group: owner, deploymentId: name, captures: undefined }
    const named = byModel.get(name)
    if (named !== undefined) return { group: named.group, deploymentId: named.id, captures: undefined }
    for (const { group, re } of patterns) {
      const match = re.exec(name)
      if (match !== null) return { group, deploymentId: undefined, captures: match.slice(1) }
    }
    return undefined
  }
  return {
    resolve: (name) => direct(aliases.get(name)?.model ?? name)
  }
}

/**
 * The deployment as it serves `target`: a wildcard deployment gets the requested name in place of its
 * `*`s. A bare `*` deployment (`anyProvider`) takes the provider from the name, LiteLLM's inference.
 */
export const bindDeployment = (deployment: Deployment, target: Target): Deployment => {
  const captures = target.captures
  if (captures === undefined || captures.length === 0 || !deployment.model.includes("*")) return deployment
  let i = 0
  const filled = deployment.model.replace(/\*/g, () => captures[Math.min(i++, captures.length - 1)]!)
  if (deployment.anyProvider !== true) return { ...deployment, model: filled }
  const ref = splitModel(filled)
  return ref === undefined ? { ...deployment, model: filled } : { ...deployment, provider: ref.provider, model: ref.model }
}
