/**
 * The mock's Cohere v2: `/v2/embed` and `/v2/rerank`, validated as Cohere does (a model, an
 * `input_type` and known `embedding_types` for embed; text documents for rerank) and failing in
 * Cohere's shape, `{"id", "message"}`. Chat goes to the OpenAI-compatible path and is served as OpenAI.
 */
import type { ErrorReply, ErrorSpec } from "./ErrorBodies.ts"
import { countTokens, okReply, type Reply } from "./Replies.ts"

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const messages: Readonly<Record<number, string>> = {
  400: "invalid request: the request body is not valid.",
  401: "invalid api token",
  402: "Please add or update your payment method at https://dashboard.cohere.com/billing?tab=payment to continue",
  404: "model not found, make sure the correct model ID was used and that you have access to the model.",
  422: "invalid request: the request is not processable.",
  429: "You are using a Trial key, which is limited to 10 API calls / minute. You can continue to use the Trial key for free or upgrade to a Production key with higher rate limits.",
  499: "request cancelled by user",
  500: "internal server error, this has been reported to our developers.",
  503: "service unavailable"
}

/** An error reply as Cohere sends it. */
export const cohereErrorReply = (spec: ErrorSpec): ErrorReply => ({
  status: spec.status,
  contentType: "application/json",
  body: JSON.stringify(
    spec.body ?? { id: "mock-cohere-error", message: spec.message ?? messages[spec.status] ?? messages[spec.status >= 500 ? 500 : 400] }
  )
})

const embeddingTypes = new Set(["float", "int8", "uint8", "binary", "ubinary", "base64"])
const inputTypes = new Set(["search_document", "search_query", "classification", "clustering", "image"])

/** What Cohere says about a v2 request, as a status and message, or undefined when it would take it. */
export const cohereRejection = (
  operation: string,
  headers: Readonly<Record<string, string>>,
  body: Record<string, unknown>
): { readonly status: number; readonly message: string } | undefined => {
  if (!/^Bearer\s+\S+/i.test(headers.authorization ?? "")) return { status: 401, message: "no api key supplied" }
  if (typeof body.model !== "string") return { status: 400, message: "invalid request: model must be specified." }
  if (operation === "rerank") {
    if (typeof body.query !== "string") return { status: 400, message: "invalid request: query must be a string." }
    const docs = body.documents
    if (!Array.isArray(docs) || !docs.every((d) => typeof d === "string")) {
      return { status: 400, message: "invalid request: documents must be a list of strings." }
    }
    return undefined
  }
  if (!Array.isArray(body.texts) || !body.texts.every((t) => typeof t === "string")) {
    return { status: 400, message: "invalid request: texts must be a list of strings." }
  }
  if (typeof body.input_type !== "string" || !inputTypes.has(body.input_type)) {
    return { status: 400, message: "invalid request: valid input_type must be provided with the provided model" }
  }
  const types = body.embedding_types
  if (types !== undefined && (!Array.isArray(types) || !types.every((t) => embeddingTypes.has(String(t))))) {
    return { status: 400, message: `invalid request: embedding_types must be one of ${[...embeddingTypes].join(", ")}.` }
  }
  return undefined
}

/** A deterministic vector for a text. */
const vectorOf = (text: string): Array<number> => Array.from({ length: 8 }, (_, i) => ((text.length * 31 + i * 7) % 100) / 100)

/** The successful reply to a v2 request. */
export const cohereReply = (operation: string, body: Record<string, unknown>): Reply => {
  if (operation === "rerank") return okReply({ wire: "openai", operation: "rerank", body: { ...body, return_documents: false }, stream: false })
  const texts = body.texts as Array<string>
  const types = Array.isArray(body.embedding_types) ? body.embedding_types.map(String) : ["float"]
  const embeddings = Object.fromEntries(types.map((type) => [
    type,
    texts.map((t) =>
      type === "float"
        ? vectorOf(t)
        : type === "base64"
        ? Buffer.from(new Float32Array(vectorOf(t)).buffer).toString("base64")
        : vectorOf(t).map((v) => Math.round(v * 100))
    )
  ]))
  return {
    kind: "json",
    contentType: "application/json",
    body: JSON.stringify({
      id: "embed-mock",
      texts,
      embeddings,
      meta: { api_version: { version: "2" }, billed_units: { input_tokens: countTokens(texts) } },
      response_type: "embeddings_by_type"
    })
  }
}
