/**
 * Cohere: rerank through `/v2/rerank`, embeddings through `/v2/embed` (`input_type` and
 * `embedding_types` mapped from the OpenAI request and back), and chat through Cohere's
 * OpenAI-compatible API (`/compatibility/v1`). Bearer auth with `api_key`, else `CO_API_KEY`/`COHERE_API_KEY`.
 */
import {
  type Deployment,
  type Operation,
  type OperationName,
  type Provider,
  type ProviderError,
  UnsupportedOperation,
  type Wire
} from "@switchyard/core"
import { Effect, Stream } from "effect"
import { type HttpClient, HttpClientRequest } from "effect/http"
import { embeddingReply, embeddingTexts } from "./Embeddings.ts"
import { apiKeyOf, makeOpenAiShaped } from "./OpenAiCompatible.ts"
import { decodeWith, readJsonValue, send } from "./Upstream.ts"

/** What the Cohere provider serves. */
export const cohereOperations: ReadonlyArray<OperationName> = ["chat", "embedding", "rerank"]

/** The variables a Cohere key is read from when the deployment sets none. */
const keyEnv = ["CO_API_KEY", "COHERE_API_KEY"]

/** The API root of a deployment; an `api_base` given with a version path (`…/v1`, `…/v2`) is cut back to the root. */
export const cohereRoot = (deployment: Deployment): string =>
  (deployment.apiBase ?? "https://api.cohere.com").replace(/\/+$/, "").replace(/\/(v1|v2|compatibility\/v1)$/, "")

type Json = Record<string, unknown>
const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** The embedding types Cohere v2 returns; the first one asked for is the one sent back. */
const embeddingTypes = new Set(["float", "int8", "uint8", "binary", "ubinary", "base64"])

/** An OpenAI embedding request as a Cohere v2 embed body. */
const toEmbedBody = (request: Wire.EmbeddingRequest, model: string, texts: ReadonlyArray<string>): Json => {
  const asked = Array.isArray(request.embedding_types) ? request.embedding_types.filter((t) => embeddingTypes.has(String(t))) : []
  return {
    model,
    texts,
    // Cohere v3+ models require an input type; LiteLLM's default is the one for documents.
    input_type: request.input_type ?? "search_document",
    embedding_types: asked.length > 0 ? asked : ["float"],
    ...(request.dimensions === undefined ? {} : { output_dimension: request.dimensions }),
    ...(request.truncate === undefined ? {} : { truncate: request.truncate })
  }
}

/** A Cohere v2 embed reply as an OpenAI one: float vectors in the encoding asked for, other types as Cohere sent them. */
const fromEmbedReply = (reply: unknown, type: string, model: string, encodingFormat: unknown): Json => {
  const r = isRecord(reply) ? reply : {}
  const byType = isRecord(r.embeddings) ? r.embeddings : {}
  const vectors = (Array.isArray(byType[type]) ? byType[type] : []) as Array<Array<number>>
  const meta = isRecord(r.meta) && isRecord(r.meta.billed_units) ? r.meta.billed_units : {}
  const tokens = typeof meta.input_tokens === "number" ? meta.input_tokens : 0
  return embeddingReply(vectors, model, tokens, type === "float" ? encodingFormat : undefined)
}

/** A rerank document as Cohere v2 takes it: text; structured documents are sent as their JSON. */
const documentText = (doc: unknown): string => (typeof doc === "string" ? doc : JSON.stringify(doc))

/** Builds the Cohere provider over a shared HttpClient. */
export const makeCohere = (client: HttpClient.HttpClient): Provider => {
  const supported = new Set<OperationName>(cohereOperations)
  const unsupported = (operation: Operation) =>
    new UnsupportedOperation({ operation: operation.name, message: `cohere does not support ${operation.name}` })

  const chat = makeOpenAiShaped(client, {
    name: "cohere",
    operations: ["chat"],
    endpoint: (deployment, operation) =>
      Effect.map(apiKeyOf(deployment, keyEnv), (key) => ({
        url: `${cohereRoot(deployment)}/compatibility/v1${operation.path}`,
        headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
        secrets: key === undefined ? [] : [key]
      }))
  })

  /** POSTs a JSON body to a v2 endpoint and reads the JSON reply. */
  const postV2 = (deployment: Deployment, path: string, body: Json) =>
    Effect.gen(function*() {
      const key = yield* apiKeyOf(deployment, keyEnv)
      const secrets = key === undefined ? [] : [key]
      const request = HttpClientRequest.post(`${cohereRoot(deployment)}/v2${path}`).pipe(
        HttpClientRequest.setHeaders(key === undefined ? {} : { authorization: `Bearer ${key}` }),
        HttpClientRequest.bodyJsonUnsafe(body)
      )
      const response = yield* send(client, request, secrets)
      return yield* readJsonValue(response, secrets)
    })

  const embed = (deployment: Deployment, request: Wire.EmbeddingRequest) =>
    Effect.gen(function*() {
      const texts = yield* Effect.fromResult(embeddingTexts(request, "cohere"))
      const body = toEmbedBody(request, deployment.model, texts)
      const reply = yield* postV2(deployment, "/embed", body)
      return fromEmbedReply(reply, (body.embedding_types as Array<string>)[0]!, deployment.model, request.encoding_format)
    })

  const rerank = (deployment: Deployment, request: Wire.RerankRequest) =>
    Effect.gen(function*() {
      const reply = yield* postV2(deployment, "/rerank", {
        model: deployment.model,
        query: request.query,
        documents: request.documents.map(documentText),
        ...(request.top_n === undefined ? {} : { top_n: request.top_n }),
        ...(request.max_tokens_per_doc === undefined ? {} : { max_tokens_per_doc: request.max_tokens_per_doc })
      })
      const r = isRecord(reply) ? reply : {}
      const results = (Array.isArray(r.results) ? r.results.filter(isRecord) : []).map((result) => {
        const doc = typeof result.index === "number" ? request.documents[result.index] : undefined
        // v2 no longer returns documents: they are added back from the request when asked for.
        return request.return_documents === true && doc !== undefined
          ? { ...result, document: typeof doc === "string" ? { text: doc } : doc }
          : result
      })
      return { ...r, results }
    })

  const call = <Req, Res>(operation: Operation<string, Req, Res, any>, deployment: Deployment, request: Req) => {
    if (operation.name === "chat") return chat.call(operation, deployment, request)
    const reply: Effect.Effect<Json, ProviderError> = operation.name === "embedding"
      ? embed(deployment, request as Wire.EmbeddingRequest)
      : operation.name === "rerank"
      ? rerank(deployment, request as Wire.RerankRequest)
      : Effect.fail(unsupported(operation))
    return Effect.flatMap(reply, (r) => decodeWith(operation.response, r, [], 200))
  }

  const stream = <Req, Chunk>(operation: Operation<string, Req, any, Chunk>, deployment: Deployment, request: Req) =>
    operation.name === "chat" ? chat.stream(operation, deployment, request) : Stream.fail(unsupported(operation))

  return { name: "cohere", operations: supported, supportsPrefill: false, call, stream }
}
