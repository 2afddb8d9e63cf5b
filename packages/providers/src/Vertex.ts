/**
 * Vertex AI (`vertex_ai/…`), both model families it serves: Claude through `:rawPredict` /
 * `:streamRawPredict` under `publishers/anthropic` (the Anthropic Messages body without `model`, with
 * Vertex's `anthropic_version`), and Gemini through `:generateContent` / `:streamGenerateContent` under
 * `publishers/google` (and text embeddings through `:predict`). Every request carries an OAuth token from the
 * deployment's service-account key.
 */
import {
  type Deployment,
  NotFound,
  type Operation,
  type Provider,
  type ProviderError
} from "@switchyard/core"
import { Effect, Redacted, Stream } from "effect"
import type { HttpClient } from "effect/http"
import { claudeAcceptsPrefill, makeAnthropicShaped } from "./Anthropic.ts"
import { makeGeminiShaped } from "./Gemini.ts"
import { withMessagesOverChat } from "./MessagesOverChat.ts"
import { loadServiceAccount, makeGoogleTokens, type ServiceAccountKey } from "./GoogleAuth.ts"

/** The `anthropic_version` Claude on Vertex wants in the body (it takes no header). */
export const vertexAnthropicVersion = "vertex-2023-10-16"
/** The region LiteLLM uses when a deployment names none. */
export const defaultVertexLocation = "us-central1"

/** Whether a Vertex model is Claude (served by Anthropic's publisher) rather than Gemini. */
export const isClaudeModel = (model: string): boolean => /^claude/i.test(model)

/** The API host of a location: `global` has no region prefix. */
export const vertexHost = (location: string): string =>
  location === "global" ? "aiplatform.googleapis.com" : `${location}-aiplatform.googleapis.com`

/**
 * The URL of one method of a Vertex model. A custom `api_base` means what LiteLLM makes of it: the whole
 * model URL, to which `:{method}` is appended (a gateway in front of Vertex).
 */
export const vertexUrl = (deployment: Deployment, project: string, method: string): string => {
  if (deployment.apiBase !== undefined) return `${deployment.apiBase.replace(/\/+$/, "")}:${method}`
  const location = deployment.vertexLocation ?? defaultVertexLocation
  const publisher = isClaudeModel(deployment.model) ? "anthropic" : "google"
  return `https://${vertexHost(location)}/v1/projects/${project}/locations/${location}/publishers/${publisher}/models/${deployment.model}:${method}`
}

/** Builds the Vertex AI provider over a shared HttpClient; tokens are cached across all its deployments. */
export const makeVertex = (client: HttpClient.HttpClient): Provider => {
  const tokens = makeGoogleTokens(client)
  // A deployment's key does not change while it lives: read (and parse) it once.
  const keys = new WeakMap<Deployment, ServiceAccountKey>()
  const keyOf = (deployment: Deployment) => {
    const known = keys.get(deployment)
    if (known !== undefined) return Effect.succeed(known)
    const source = deployment.vertexCredentials === undefined ? undefined : Redacted.value(deployment.vertexCredentials)
    return Effect.tap(loadServiceAccount(source), (key) => Effect.sync(() => keys.set(deployment, key)))
  }

  /** The URL and bearer token of one request. */
  const target = (deployment: Deployment, method: string) =>
    Effect.gen(function*() {
      const key = yield* keyOf(deployment)
      const project = deployment.vertexProject ?? key.project_id
      if (project === undefined && deployment.apiBase === undefined) {
        const message = `vertex_ai deployment ${deployment.id} names no vertex_project and its key no project_id`
        return yield* Effect.fail(new NotFound({ message }))
      }
      const token = yield* tokens.token(key)
      return { url: vertexUrl(deployment, project ?? "", method), headers: { authorization: `Bearer ${token}` }, secrets: [token] }
    })

  const claude = makeAnthropicShaped(client, {
    name: "vertex_ai",
    target: (deployment, stream) => target(deployment, stream ? "streamRawPredict" : "rawPredict"),
    body: ({ model: _model, ...body }) => ({ anthropic_version: vertexAnthropicVersion, ...body })
  })
  // Gemini answers the Messages API over its chat translation; Claude speaks it natively.
  const gemini = withMessagesOverChat(
    makeGeminiShaped(client, { name: "vertex_ai", operations: ["chat", "responses", "embedding"], target, embedVia: "predict" })
  )

  /** A 401 means Google no longer takes the cached token: forget it, so the next attempt gets another. */
  const forgetRejected = (deployment: Deployment) => (error: ProviderError) =>
    error._tag === "Authentication" && error.status === 401
      ? Effect.flatMap(Effect.option(keyOf(deployment)), (key) => (key._tag === "Some" ? tokens.invalidate(key.value) : Effect.void))
      : Effect.void
  const familyOf = (deployment: Deployment) => (isClaudeModel(deployment.model) ? claude : gemini)

  return {
    name: "vertex_ai",
    // Claude has no embeddings: its family answers UnsupportedOperation, and the router tries another deployment.
    operations: new Set(["chat", "responses", "embedding", "messages"]),
    supportsPrefill: (deployment) => isClaudeModel(deployment.model) && claudeAcceptsPrefill(deployment.model),
    call: <Req, Res>(operation: Operation<string, Req, Res, any>, deployment: Deployment, request: Req) =>
      Effect.tapError(familyOf(deployment).call(operation, deployment, request), forgetRejected(deployment)),
    stream: <Req, Chunk>(operation: Operation<string, Req, any, Chunk>, deployment: Deployment, request: Req) =>
      Stream.tapError(familyOf(deployment).stream(operation, deployment, request), forgetRejected(deployment))
  }
}
