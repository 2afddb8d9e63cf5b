/**
 * Which deployment and operation a mock request is for. Each deployment has its own path prefix
 * (`/d/<name>`), below which the OpenAI (`/v1/...`), Azure (`/openai/deployments/<dep>/...`), Anthropic
 * (`/v1/messages`), Vertex AI (`/v1/projects/<p>/locations/<l>/publishers/<anthropic|google>/models/<m>:<method>`)
 * and Gemini (`/v1beta/models/<m>:<method>`) paths are served. Requests without a prefix go to the
 * deployment `default`.
 */
import { bedrockActions } from "./Bedrock.ts"
import type { MockWire } from "./ReferenceText.ts"

/** A resolved mock route. `operation` is undefined for paths the mock does not serve. */
export interface MockRoute {
  readonly deployment: string
  readonly wire: MockWire
  /** An operation name of the core registry, or `messages` for Anthropic. */
  readonly operation: string | undefined
  /** Google endpoints (Vertex AI, Gemini): the model and method named in the path. */
  readonly google?: { readonly model: string; readonly method: string; readonly vertex: boolean }
  /** Bedrock: the model id in the path (`/model/<id>/<action>`). */
  readonly model?: string
}

/** The Gemini methods, by the operation they serve. */
const geminiOperations: Readonly<Record<string, string>> = {
  generateContent: "chat",
  streamGenerateContent: "chat",
  batchEmbedContents: "embedding",
  predict: "embedding"
}

/** A Vertex AI or Gemini path, or undefined. */
const googleRoute = (deployment: string, rest: string): MockRoute | undefined => {
  const vertex = /^\/v1(?:beta1)?\/projects\/[^/]+\/locations\/[^/]+\/publishers\/(anthropic|google)\/models\/([^/:]+):(\w+)$/.exec(rest)
  if (vertex) {
    const [, publisher, model, method] = vertex as unknown as [string, string, string, string]
    const google = { model, method, vertex: true }
    return publisher === "anthropic"
      ? { deployment, wire: "anthropic", operation: /^(rawPredict|streamRawPredict)$/.test(method) ? "messages" : undefined, google }
      : { deployment, wire: "google", operation: geminiOperations[method], google }
  }
  const studio = /^\/v1beta\/models\/([^/:]+):(\w+)$/.exec(rest)
  return studio
    ? { deployment, wire: "google", operation: geminiOperations[studio[2]!], google: { model: studio[1]!, method: studio[2]!, vertex: false } }
    : undefined
}

/** The OpenAI paths below `/v1`, by operation. */
export const operationPaths: Readonly<Record<string, string>> = {
  "/chat/completions": "chat",
  "/completions": "completion",
  "/embeddings": "embedding",
  "/audio/speech": "speech",
  "/audio/transcriptions": "transcription",
  "/images/generations": "image",
  "/rerank": "rerank",
  "/responses": "responses",
  "/moderations": "moderation"
}

/** Resolves a request path. */
export const resolveRoute = (pathname: string): MockRoute => {
  const prefixed = /^\/d\/([^/]+)(\/.*)?$/.exec(pathname)
  const deployment = prefixed ? decodeURIComponent(prefixed[1]!) : "default"
  const rest = prefixed ? prefixed[2] ?? "/" : pathname
  if (rest === "/v1/messages") return { deployment, wire: "anthropic", operation: "messages" }
  const google = googleRoute(deployment, rest)
  if (google) return google
  const bedrock = /^\/model\/([^/]+)\/([a-z-]+)$/.exec(rest)
  if (bedrock && bedrockActions.has(bedrock[2]!)) {
    return { deployment, wire: "bedrock", operation: bedrock[2], model: decodeURIComponent(bedrock[1]!) }
  }
  if (rest === "/v2/embed" || rest === "/v2/rerank") return { deployment, wire: "cohere", operation: rest === "/v2/embed" ? "embedding" : "rerank" }
  const cohereCompatible = /^\/compatibility\/v1(\/.*)$/.exec(rest)
  if (cohereCompatible) return { deployment, wire: "openai", operation: operationPaths[cohereCompatible[1]!] }
  const azure = /^\/openai\/deployments\/[^/]+(\/.*)$/.exec(rest)
  if (azure) return { deployment, wire: "openai", operation: operationPaths[azure[1]!] }
  if (/^\/openai(\/v1)?\/responses$/.test(rest)) return { deployment, wire: "openai", operation: "responses" }
  const openai = /^\/v[12](\/.*)$/.exec(rest)
  return { deployment, wire: "openai", operation: openai ? operationPaths[openai[1]!] : undefined }
}

/** LiteLLM's Vertex `api_base` for a mock deployment: the whole model URL, to which `:method` is appended. */
export const vertexBaseOf = (
  url: string,
  deployment: string,
  model: string,
  options: { readonly project?: string; readonly location?: string } = {}
): string => {
  const location = `projects/${options.project ?? "switchyard-test"}/locations/${options.location ?? "us-central1"}`
  const publisher = /^claude/i.test(model) ? "anthropic" : "google"
  return `${url}/d/${encodeURIComponent(deployment)}/v1/${location}/publishers/${publisher}/models/${model}`
}

/** The api_base of a mock deployment for a wire format: OpenAI's ends in `/v1`, Gemini's in `/v1beta`, the others' do not. */
export const apiBaseOf = (
  url: string,
  deployment: string,
  wire: "openai" | "azure" | "anthropic" | "gemini" | "bedrock" | "cohere" = "openai"
): string =>
  `${url}/d/${encodeURIComponent(deployment)}${wire === "openai" ? "/v1" : wire === "gemini" ? "/v1beta" : ""}`
