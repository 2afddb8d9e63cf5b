/**
 * OpenAI and every server that speaks its API (vLLM, Ollama's /v1, Groq, Together, DeepSeek, Fireworks,
 * Kokoro-FastAPI, …). The deployment's prefix picks the default base URL when `api_base` is not set.
 */
import { type Deployment, NotFound, operationNames, type Provider } from "@switchyard/core"
import { Effect, Redacted } from "effect"
import type { HttpClient } from "effect/http"
import { makeOpenAiShaped } from "./OpenAiCompatible.ts"

/** The public base URL of each hosted OpenAI-compatible service, by the prefix that names it in a config. */
export const openAiCompatibleBases: Readonly<Record<string, string>> = {
  openai: "https://api.openai.com/v1",
  groq: "https://api.groq.com/openai/v1",
  together_ai: "https://api.together.xyz/v1",
  deepseek: "https://api.deepseek.com/v1",
  fireworks_ai: "https://api.fireworks.ai/inference/v1",
  mistral: "https://api.mistral.ai/v1",
  openrouter: "https://openrouter.ai/api/v1",
  xai: "https://api.x.ai/v1",
  perplexity: "https://api.perplexity.ai"
}

/** Prefixes that mean "an OpenAI-compatible server": they all resolve to the `openai` provider. */
export const openAiAliases: Readonly<Record<string, string>> = Object.fromEntries(
  [
    ...Object.keys(openAiCompatibleBases).filter((p) => p !== "openai"),
    "openai_compatible",
    "custom_openai",
    "hosted_vllm",
    "vllm",
    "lm_studio"
  ].map((alias) => [alias, "openai"])
)

/** The base URL of a deployment: its `api_base`, else its service's public one; self-hosted servers need one. */
const baseOf = (deployment: Deployment) => {
  const base = deployment.apiBase ?? openAiCompatibleBases[deployment.provider]
  return base === undefined
    ? Effect.fail(new NotFound({ message: `deployment ${deployment.id} (${deployment.provider}) has no api_base` }))
    : Effect.succeed(base.replace(/\/+$/, ""))
}

/** The OpenAI-compatible provider: all nine operations, Bearer auth. */
export const makeOpenAi = (client: HttpClient.HttpClient): Provider =>
  makeOpenAiShaped(client, {
    name: "openai",
    operations: operationNames,
    endpoint: (deployment, operation) =>
      Effect.map(baseOf(deployment), (base) => ({
        url: `${base}${operation.path}`,
        // Self-hosted servers often run without a key; sending "Bearer undefined" would be worse than nothing.
        headers: deployment.apiKey === undefined ? {} : { authorization: `Bearer ${Redacted.value(deployment.apiKey)}` }
      }))
  })
