/**
 * Which deployment and operation a mock request is for. Each deployment has its own path prefix
 * (`/d/<name>`), below which the OpenAI (`/v1/...`), Azure (`/openai/deployments/<dep>/...`) and Anthropic
 * (`/v1/messages`) paths are served. Requests without a prefix go to the deployment `default`.
 */
import { bedrockActions } from "./Bedrock.ts"
import type { MockWire } from "./ReferenceText.ts"

/** A resolved mock route. `operation` is undefined for paths the mock does not serve. */
export interface MockRoute {
  readonly deployment: string
  readonly wire: MockWire
  /** An operation name of the core registry, or `messages` for Anthropic. */
  readonly operation: string | undefined
  /** Bedrock: the model id in the path (`/model/<id>/<action>`). */
  readonly model?: string
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

/** The api_base of a mock deployment for a wire format: OpenAI's ends in `/v1`, the others' (Azure, Anthropic, Bedrock, Cohere, …) do not. */
export const apiBaseOf = (url: string, deployment: string, wire: "openai" | "azure" | "anthropic" | "bedrock" | "cohere" = "openai"): string =>
  `${url}/d/${encodeURIComponent(deployment)}${wire === "openai" ? "/v1" : ""}`
