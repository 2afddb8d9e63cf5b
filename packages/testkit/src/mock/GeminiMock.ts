/**
 * The Gemini wire of the mock (AI Studio and Vertex AI speak the same `generateContent`): request checks
 * the real API makes, replies that continue the reference text (plain, SSE with `alt=sse`, a forced
 * function call), embeddings, and errors in Google's shape.
 */
import { continuationFor, partialOf } from "../Reference.ts"
import type { ErrorReply, ErrorSpec } from "./ErrorBodies.ts"
import { googleError } from "./GoogleAuthMock.ts"
import { wordChunks } from "./ReferenceText.ts"
import { countTokens, embeddingOf, type Reply } from "./Replies.ts"

type Json = Record<string, unknown>
const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** Google's canonical status and default message for an HTTP status. */
const canonical: Readonly<Record<number, readonly [string, string]>> = {
  400: ["INVALID_ARGUMENT", "Request contains an invalid argument."],
  401: ["UNAUTHENTICATED", "Request had invalid authentication credentials."],
  403: ["PERMISSION_DENIED", "Permission denied on resource project."],
  404: ["NOT_FOUND", "Requested entity was not found."],
  429: ["RESOURCE_EXHAUSTED", "Resource exhausted. Please try again later."],
  500: ["INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"],
  503: ["UNAVAILABLE", "The model is overloaded. Please try again later."],
  504: ["DEADLINE_EXCEEDED", "Deadline expired before operation could complete."]
}

const canonicalOf = (status: number) => canonical[status] ?? (status >= 500 ? canonical[500]! : canonical[400]!)

/** Google's error reply for a status (`type` overrides the canonical status). */
export const googleErrorReply = (spec: ErrorSpec): ErrorReply => {
  const [status, message] = canonicalOf(spec.status)
  const body = spec.body ?? googleError(spec.status, spec.type ?? status, spec.message ?? message)
  return { status: spec.status, contentType: "application/json; charset=UTF-8", body: JSON.stringify(body) }
}

/** The error a Gemini stream ends with, as an SSE frame. */
export const googleSseErrorFrame = (options: { readonly message?: string | undefined; readonly type?: string | undefined }): string => {
  const status = options.type ?? "UNAVAILABLE"
  const code = Object.entries(canonical).find(([, [s]]) => s === status)?.[0] ?? "503"
  return `data: ${JSON.stringify(googleError(Number(code), status, options.message ?? canonical[503]![1]))}\n\n`
}

/** What the real API rejects before answering, or undefined. */
export const geminiRejection = (method: string, body: Json): string | undefined => {
  if (method === "predict") return Array.isArray(body.instances) && body.instances.length > 0 ? undefined : "instances: must not be empty"
  if (method === "batchEmbedContents") {
    return Array.isArray(body.requests) && body.requests.length > 0 ? undefined : "* BatchEmbedContentsRequest.requests: contents is not specified"
  }
  if (!Array.isArray(body.contents) || body.contents.length === 0) return "* GenerateContentRequest.contents: contents is not specified"
  for (const [i, content] of body.contents.entries()) {
    if (!isRecord(content) || !Array.isArray(content.parts) || content.parts.length === 0) {
      return `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.`
    }
    if (content.role !== undefined && content.role !== "user" && content.role !== "model") {
      return `Please use a valid role: user, model.`
    }
  }
  const unknown = ["model", "messages"].find((field) => field in body)
  if (unknown !== undefined) return `Invalid JSON payload received. Unknown name "${unknown}": Cannot find field.`
  return undefined
}

/** The contents as chat messages, so the shared continuation rule can find the partial reply. */
const asMessages = (contents: unknown): Array<Json> =>
  (Array.isArray(contents) ? contents : []).filter(isRecord).map((c) => ({
    role: c.role === "model" ? "assistant" : "user",
    content: (Array.isArray(c.parts) ? c.parts : []).map((p) => (isRecord(p) && typeof p.text === "string" ? p.text : "")).join("")
  }))

/** The function the request forces (`toolConfig` mode ANY), if it forces one. */
const forcedFunction = (body: Json): string | undefined => {
  const config = isRecord(body.toolConfig) && isRecord(body.toolConfig.functionCallingConfig) ? body.toolConfig.functionCallingConfig : undefined
  if (config?.mode !== "ANY") return undefined
  if (Array.isArray(config.allowedFunctionNames) && typeof config.allowedFunctionNames[0] === "string") return config.allowedFunctionNames[0]
  const tool = Array.isArray(body.tools) ? body.tools.find(isRecord) : undefined
  const declaration = tool !== undefined && Array.isArray(tool.functionDeclarations) ? tool.functionDeclarations.find(isRecord) : undefined
  return typeof declaration?.name === "string" ? declaration.name : undefined
}

/** Vertex AI's `:predict` for a text-embedding model: one prediction per instance, with its token count. */
const vertexEmbeddings = (body: Json): Reply => {
  const instances = (body.instances as Array<unknown>).filter(isRecord)
  const predictions = instances.map((instance) => ({
    embeddings: { values: embeddingOf(String(instance.content)), statistics: { token_count: countTokens(instance.content), truncated: false } }
  }))
  return { kind: "json", contentType: "application/json; charset=UTF-8", body: JSON.stringify({ predictions }) }
}

const data = (value: unknown) => `data: ${JSON.stringify(value)}\r\n\r\n`

/** The reply to a Gemini request for `model`. */
export const geminiReply = (method: string, model: string, body: Json, stream: boolean): Reply => {
  if (method === "predict") return vertexEmbeddings(body)
  if (method === "batchEmbedContents") {
    const requests = (body.requests as Array<unknown>).filter(isRecord)
    return {
      kind: "json",
      contentType: "application/json; charset=UTF-8",
      body: JSON.stringify({ embeddings: requests.map((r) => ({ values: embeddingOf(JSON.stringify(r.content)) })) })
    }
  }
  const text = continuationFor(partialOf("chat", { messages: asMessages(body.contents) }))
  const words = wordChunks(text)
  const prompt = countTokens(body.contents) + countTokens(body.systemInstruction)
  const usage = { promptTokenCount: prompt, candidatesTokenCount: words.length, totalTokenCount: prompt + words.length }
  const fn = forcedFunction(body)
  const common = { modelVersion: model, responseId: "mock-gemini-response" }
  const candidate = (parts: ReadonlyArray<Json>, finishReason?: string) => ({
    content: { role: "model", parts },
    ...(finishReason === undefined ? {} : { finishReason }),
    index: 0
  })
  const answer = fn === undefined ? [{ text }] : [{ functionCall: { name: fn, args: { city: "Paris" } } }]
  if (!stream) {
    const reply = { candidates: [candidate(answer, "STOP")], usageMetadata: usage, ...common }
    return { kind: "json", contentType: "application/json; charset=UTF-8", body: JSON.stringify(reply) }
  }
  const pieces = fn === undefined ? words.map((w) => [{ text: w }]) : [answer]
  return {
    kind: "sse",
    preamble: [],
    content: pieces.map((parts) => data({ candidates: [candidate(parts)], usageMetadata: { promptTokenCount: prompt }, ...common })),
    tail: [data({ candidates: [candidate([{ text: "" }], "STOP")], usageMetadata: usage, ...common })]
  }
}
