/**
 * What `--check` can still check in a config that failed to decode: the parts that decode on their own,
 * with placeholders where model entries did not, so the later stages (model references, environment,
 * providers, auth) run too and one run reports every problem.
 */
import { Schema } from "effect"
import { dropEmptyValues, GeneralSettings, isRecord, LitellmSettings, ModelEntry, RouterSettings } from "./Config.ts"
import { qualify } from "./ProviderInference.ts"

/** The keys that name other models: without them, a config with bad references is checkable further. */
const referenceKeys = ["fallbacks", "context_window_fallbacks", "content_policy_fallbacks", "default_fallbacks", "model_group_alias"]

/** A salvaged config and the indexes of the model entries that stand in for ones that did not decode. */
export interface Salvaged {
  readonly input: unknown
  readonly placeholders: ReadonlyArray<number>
}

/**
 * What is still checkable in a config that failed to decode: every section key that decodes on its own,
 * and every model entry that decodes, the others replaced by a placeholder of the same name and id (so
 * indexes and model references still line up), optionally without the model references. `--check` runs the later stages on it, so one run
 * reports every problem; what it finds at a placeholder's index is to be ignored.
 */
export const salvageConfig = (raw: unknown, keepReferences = true): Salvaged => {
  const input = dropEmptyValues(raw)
  if (!isRecord(input)) return { input, placeholders: [] }
  const sections = { router_settings: RouterSettings, litellm_settings: LitellmSettings, general_settings: GeneralSettings }
  const out: Record<string, unknown> = {}
  for (const [key, schema] of Object.entries(sections)) {
    const section = input[key]
    if (!isRecord(section)) continue
    const is = Schema.is(schema as Schema.Top)
    out[key] = Object.fromEntries(
      Object.entries(section).filter(([k, v]) => is({ [k]: v }) && (keepReferences || !referenceKeys.includes(k)))
    )
  }
  const placeholders: Array<number> = []
  const entries: ReadonlyArray<unknown> = Array.isArray(input.model_list) ? input.model_list : []
  out.model_list = entries.map((e, i) => {
    const model = isRecord(e) && isRecord(e.litellm_params) ? e.litellm_params.model : undefined
    if (Schema.is(ModelEntry)(e) && typeof model === "string" && qualify(model) !== undefined) return e
    placeholders.push(i)
    const name = isRecord(e) && typeof e.model_name === "string" && e.model_name !== "" ? e.model_name : `(model_list[${i}])`
    const id = isRecord(e) && isRecord(e.model_info) && typeof e.model_info.id === "string" ? { model_info: { id: e.model_info.id } } : {}
    return { model_name: name, litellm_params: { model: "openai/placeholder" }, ...id }
  })
  return { input: out, placeholders }
}
