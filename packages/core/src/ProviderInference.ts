/**
 * Provider inference for bare model names. LiteLLM accepts `model: gpt-3.5-turbo` and works out that it is
 * an OpenAI model; a LiteLLM config must mean the same here. The rules are data: a name prefix (or exact
 * name) and the provider LiteLLM picks for it (`get_llm_provider`'s known-model lists and prefixes).
 */

/** One inference rule: names that start with `prefix` (or equal `exact`) belong to `provider`. */
export interface InferenceRule {
  readonly prefix?: string
  readonly exact?: string
  readonly provider: string
}

/** LiteLLM's rules for bare names, most specific first. */
export const inferenceRules: ReadonlyArray<InferenceRule> = [
  // OpenAI: chat, reasoning, completion, embedding, image, speech, transcription and moderation models.
  { prefix: "gpt-", provider: "openai" },
  { prefix: "chatgpt-", provider: "openai" },
  { prefix: "o1", provider: "openai" },
  { prefix: "o3", provider: "openai" },
  { prefix: "o4", provider: "openai" },
  { prefix: "text-embedding-", provider: "openai" },
  { prefix: "text-davinci-", provider: "openai" },
  { prefix: "davinci-", provider: "openai" },
  { prefix: "babbage-", provider: "openai" },
  { prefix: "dall-e-", provider: "openai" },
  { prefix: "tts-", provider: "openai" },
  { prefix: "whisper-", provider: "openai" },
  { prefix: "omni-moderation-", provider: "openai" },
  { prefix: "text-moderation-", provider: "openai" },
  { prefix: "ft:gpt-", provider: "openai" },
  // Anthropic
  { prefix: "claude-", provider: "anthropic" },
  { exact: "claude-instant-1", provider: "anthropic" },
  // Families served through the OpenAI-compatible wire under their own prefix.
  { prefix: "mistral-", provider: "mistral" },
  { prefix: "open-mistral-", provider: "mistral" },
  { prefix: "codestral-", provider: "mistral" },
  { prefix: "deepseek-", provider: "deepseek" },
  { prefix: "grok-", provider: "xai" },
  // Families whose providers LiteLLM infers; they load once those providers are registered.
  { prefix: "command", provider: "cohere" },
  { prefix: "rerank-", provider: "cohere" },
  { prefix: "embed-english-", provider: "cohere" },
  { prefix: "embed-multilingual-", provider: "cohere" },
  { prefix: "gemini-", provider: "vertex_ai" },
  { prefix: "text-bison", provider: "vertex_ai" },
  { prefix: "chat-bison", provider: "vertex_ai" },
  { prefix: "textembedding-gecko", provider: "vertex_ai" },
  { prefix: "anthropic.", provider: "bedrock" },
  { prefix: "amazon.", provider: "bedrock" },
  { prefix: "meta.llama", provider: "bedrock" },
  { prefix: "cohere.", provider: "bedrock" },
  { prefix: "ai21.", provider: "bedrock" }
]

/** The provider LiteLLM infers for a bare model name, or `undefined` when it would ask for a prefix. */
export const inferProvider = (name: string): string | undefined =>
  inferenceRules.find((r) => r.exact === name || (r.prefix !== undefined && name.startsWith(r.prefix)))?.provider

/** A model reference split into provider and model, inferring the provider of a bare name. */
export interface ModelRef {
  readonly provider: string
  readonly model: string
}

/**
 * `provider/model` as written, or a bare name with its inferred provider. A bare `*` serves any provider;
 * its provider is decided per request (see ModelResolution), and `openai` stands in until then.
 */
export const splitModel = (written: string): ModelRef | undefined => {
  const slash = written.indexOf("/")
  if (slash > 0) return { provider: written.slice(0, slash), model: written.slice(slash + 1) }
  if (written === "*") return { provider: "openai", model: "*" }
  const provider = inferProvider(written)
  return provider === undefined ? undefined : { provider, model: written }
}

/** Writes a model with its provider prefix, inferring the provider of a bare name; `undefined` if unknown. */
export const qualify = (written: string): string | undefined => {
  const ref = splitModel(written)
  return ref === undefined ? undefined : written === "*" ? "*" : `${ref.provider}/${ref.model}`
}
