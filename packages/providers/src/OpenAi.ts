/**
 * OpenAI and every server that speaks its API (vLLM, Ollama's /v1, Groq, Together, DeepSeek, Fireworks,
 * Kokoro-FastAPI, …). The families are one table: the prefix that names each in a config, its base URL
 * when `api_base` is not set and the variables its key is read from when `api_key` is not. Adding a
 * family is adding a row.
 */
import { type Deployment, NotFound, operationNames, type Provider } from "@switchyard/core"
import { Effect } from "effect"
import type { HttpClient } from "effect/http"
import { apiKeyOf, makeOpenAiShaped } from "./OpenAiCompatible.ts"

/** One OpenAI-compatible family. */
export interface OpenAiFamily {
  /** Where the service is when the deployment sets no `api_base`; self-hosted servers without one need it set. */
  readonly base?: string
  /** The environment variables its key is read from, in order, when the deployment sets no `api_key`. */
  readonly keyEnv?: ReadonlyArray<string>
  /** Appended to an `api_base` that does not end in it: Ollama's and TGI's are usually given as the bare host. */
  readonly suffix?: string
}

/** The OpenAI-compatible families LiteLLM documents, by the prefix that names each in a config. */
export const openAiFamilies: Readonly<Record<string, OpenAiFamily>> = {
  openai: { base: "https://api.openai.com/v1", keyEnv: ["OPENAI_API_KEY"] },
  "text-completion-openai": { base: "https://api.openai.com/v1", keyEnv: ["OPENAI_API_KEY"] },
  groq: { base: "https://api.groq.com/openai/v1", keyEnv: ["GROQ_API_KEY"] },
  together_ai: { base: "https://api.together.xyz/v1", keyEnv: ["TOGETHER_API_KEY", "TOGETHER_AI_API_KEY", "TOGETHERAI_API_KEY"] },
  deepseek: { base: "https://api.deepseek.com/v1", keyEnv: ["DEEPSEEK_API_KEY"] },
  fireworks_ai: { base: "https://api.fireworks.ai/inference/v1", keyEnv: ["FIREWORKS_API_KEY", "FIREWORKS_AI_API_KEY"] },
  mistral: { base: "https://api.mistral.ai/v1", keyEnv: ["MISTRAL_API_KEY"] },
  codestral: { base: "https://codestral.mistral.ai/v1", keyEnv: ["CODESTRAL_API_KEY"] },
  openrouter: { base: "https://openrouter.ai/api/v1", keyEnv: ["OPENROUTER_API_KEY"] },
  xai: { base: "https://api.x.ai/v1", keyEnv: ["XAI_API_KEY"] },
  perplexity: { base: "https://api.perplexity.ai", keyEnv: ["PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"] },
  ollama: { base: "http://localhost:11434/v1", suffix: "/v1" },
  ollama_chat: { base: "http://localhost:11434/v1", suffix: "/v1" },
  huggingface: { base: "https://router.huggingface.co/v1", keyEnv: ["HF_TOKEN", "HUGGINGFACE_API_KEY"], suffix: "/v1" },
  xinference: { base: "http://127.0.0.1:9997/v1", keyEnv: ["XINFERENCE_API_KEY"], suffix: "/v1" },
  siliconflow: { base: "https://api.siliconflow.cn/v1", keyEnv: ["SILICONFLOW_API_KEY"] },
  zhipu: { base: "https://open.bigmodel.cn/api/paas/v4", keyEnv: ["ZHIPUAI_API_KEY"] },
  nvidia_nim: { base: "https://integrate.api.nvidia.com/v1", keyEnv: ["NVIDIA_NIM_API_KEY"] },
  cerebras: { base: "https://api.cerebras.ai/v1", keyEnv: ["CEREBRAS_API_KEY"] },
  sambanova: { base: "https://api.sambanova.ai/v1", keyEnv: ["SAMBANOVA_API_KEY"] },
  dashscope: { base: "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", keyEnv: ["DASHSCOPE_API_KEY"] },
  moonshot: { base: "https://api.moonshot.ai/v1", keyEnv: ["MOONSHOT_API_KEY"] },
  anyscale: { base: "https://api.endpoints.anyscale.com/v1", keyEnv: ["ANYSCALE_API_KEY"] },
  deepinfra: { base: "https://api.deepinfra.com/v1/openai", keyEnv: ["DEEPINFRA_API_KEY"] },
  meta_llama: { base: "https://api.llama.com/compat/v1", keyEnv: ["LLAMA_API_KEY"] },
  ai21_chat: { base: "https://api.ai21.com/studio/v1", keyEnv: ["AI21_API_KEY"] },
  volcengine: { base: "https://ark.cn-beijing.volces.com/api/v3", keyEnv: ["VOLCENGINE_API_KEY"] },
  github: { base: "https://models.inference.ai.azure.com", keyEnv: ["GITHUB_API_KEY"] },
  friendliai: { base: "https://api.friendli.ai/serverless/v1", keyEnv: ["FRIENDLIAI_API_KEY", "FRIENDLI_TOKEN"] },
  galadriel: { base: "https://api.galadriel.com/v1", keyEnv: ["GALADRIEL_API_KEY"] },
  nscale: { base: "https://inference.api.nscale.com/v1", keyEnv: ["NSCALE_API_KEY"] },
  hyperbolic: { base: "https://api.hyperbolic.xyz/v1", keyEnv: ["HYPERBOLIC_API_KEY"] },
  novita: { base: "https://api.novita.ai/v3/openai", keyEnv: ["NOVITA_API_KEY"] },
  lambda_ai: { base: "https://api.lambda.ai/v1", keyEnv: ["LAMBDA_API_KEY"] },
  featherless_ai: { base: "https://api.featherless.ai/v1", keyEnv: ["FEATHERLESS_AI_API_KEY"] },
  llamafile: { base: "http://127.0.0.1:8080/v1", keyEnv: ["LLAMAFILE_API_KEY"] },
  lm_studio: { base: "http://localhost:1234/v1", keyEnv: ["LM_STUDIO_API_KEY"] },
  hosted_vllm: { keyEnv: ["HOSTED_VLLM_API_KEY"] },
  vllm: {},
  litellm_proxy: { keyEnv: ["LITELLM_PROXY_API_KEY"] },
  openai_compatible: {},
  custom_openai: {}
}

/** The public base URL of each hosted OpenAI-compatible service, by its prefix. */
export const openAiCompatibleBases: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(openAiFamilies).flatMap(([prefix, family]) => (family.base === undefined ? [] : [[prefix, family.base]]))
)

/** Prefixes that mean "an OpenAI-compatible server": they all resolve to the `openai` provider. */
export const openAiAliases: Readonly<Record<string, string>> = Object.fromEntries(
  Object.keys(openAiFamilies).filter((p) => p !== "openai").map((alias) => [alias, "openai"])
)

/** The base URL of a deployment: its `api_base` (with the family's suffix), else its family's; self-hosted servers need one. */
export const openAiBaseOf = (deployment: Deployment): string | undefined => {
  const family = openAiFamilies[deployment.provider]
  const configured = deployment.apiBase?.replace(/\/+$/, "")
  const suffix = family?.suffix
  const base = configured === undefined
    ? family?.base
    : suffix !== undefined && !configured.endsWith(suffix)
    ? `${configured}${suffix}`
    : configured
  return base?.replace(/\/+$/, "")
}

/** The OpenAI-compatible provider: all nine OpenAI operations (messages comes over chat), Bearer auth. */
export const makeOpenAi = (client: HttpClient.HttpClient): Provider =>
  makeOpenAiShaped(client, {
    name: "openai",
    operations: operationNames.filter((name) => name !== "messages"),
    endpoint: (deployment, operation) => {
      const base = openAiBaseOf(deployment)
      if (base === undefined) {
        return Effect.fail(new NotFound({ message: `deployment ${deployment.id} (${deployment.provider}) has no api_base` }))
      }
      return Effect.map(apiKeyOf(deployment, openAiFamilies[deployment.provider]?.keyEnv ?? []), (key) => ({
        url: `${base}${operation.path}`,
        // Self-hosted servers often run without a key; sending "Bearer undefined" would be worse than nothing.
        headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
        secrets: key === undefined ? [] : [key]
      }))
    }
  })
