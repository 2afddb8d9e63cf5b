/**
 * Translation between OpenAI chat and Gemini `generateContent`, both ways, as pure functions: messages ↔
 * `contents`/`systemInstruction`, tools ↔ `functionDeclarations`, `response_format` ↔ `responseSchema`,
 * usage from `usageMetadata`, finish reasons; the stream's events as chat chunks; embeddings.
 */
import type { Wire } from "@switchyard/core"
import { contentText } from "./AnthropicTranslate.ts"
import { parseArguments } from "./ChatCompletion.ts"
import type { GeminiEmbeddings, GeminiPart, GeminiResponse, VertexPredictions } from "./GeminiWire.ts"

type Json = Record<string, unknown>

const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
const defined = (o: Json): Json => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null))

const imageTypes: Readonly<Record<string, string>> = { png: "image/png", gif: "image/gif", webp: "image/webp", jpg: "image/jpeg", jpeg: "image/jpeg" }

/** An OpenAI `image_url` part as inline data or a file reference. */
const imagePart = (part: Json): Json => {
  const url = isRecord(part.image_url) ? String(part.image_url.url ?? "") : String(part.image_url ?? "")
  const inline = /^data:([^;,]+);base64,(.*)$/s.exec(url)
  if (inline) return { inlineData: { mimeType: inline[1], data: inline[2] } }
  const extension = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(url)?.[1]?.toLowerCase() ?? ""
  return { fileData: { fileUri: url, mimeType: imageTypes[extension] ?? "image/jpeg" } }
}

/** Message content as Gemini parts. */
const parts = (content: unknown): Array<Json> => {
  if (typeof content === "string") return content === "" ? [] : [{ text: content }]
  if (!Array.isArray(content)) return []
  return content.flatMap((part): Array<Json> => {
    if (!isRecord(part)) return []
    if (part.type === "text") return typeof part.text === "string" && part.text !== "" ? [{ text: part.text }] : []
    if (part.type === "image_url") return [imagePart(part)]
    return []
  })
}

/** A tool result as a `functionResponse`; Gemini wants an object, so other JSON is wrapped. */
const functionResponse = (message: Wire.ChatMessage, names: ReadonlyMap<string, unknown>): Json => {
  const text = contentText(message.content)
  const parsed = parseArguments(text)
  const id = typeof message.tool_call_id === "string" ? message.tool_call_id : undefined
  return {
    functionResponse: {
      name: (id === undefined ? undefined : names.get(id)) ?? message.name,
      response: isRecord(parsed) && !("arguments" in parsed && Object.keys(parsed).length === 1) ? parsed : { content: text }
    }
  }
}

interface Content {
  readonly role: "user" | "model"
  readonly parts: Array<Json>
}

/** The chat conversation as Gemini contents; consecutive turns of one role are joined. */
const contents = (messages: ReadonlyArray<Wire.ChatMessage>): Array<Content> => {
  const names = new Map<string, unknown>()
  const out: Array<Content> = []
  const push = (role: Content["role"], p: Array<Json>) => {
    const last = out[out.length - 1]
    if (last !== undefined && last.role === role) last.parts.push(...p)
    else out.push({ role, parts: [...p] })
  }
  for (const message of messages) {
    if (message.role === "system" || message.role === "developer") continue
    if (message.role === "assistant") {
      const calls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isRecord) : []
      const callParts = calls.map((call) => {
        const fn = isRecord(call.function) ? call.function : {}
        if (typeof call.id === "string") names.set(call.id, fn.name)
        return { functionCall: { name: fn.name, args: parseArguments(fn.arguments) } }
      })
      push("model", [...parts(message.content), ...callParts])
    } else if (message.role === "tool" || message.role === "function") {
      push("user", [functionResponse(message, names)])
    } else {
      push("user", parts(message.content))
    }
  }
  return out.filter((c) => c.parts.length > 0)
}

const unsupportedSchemaKeys = new Set(["$schema", "$id", "additionalProperties", "strict"])

/** A JSON schema in the OpenAPI subset Gemini's `responseSchema` and `parameters` accept. */
export const geminiSchema = (schema: unknown): unknown => {
  if (Array.isArray(schema)) return schema.map(geminiSchema)
  if (!isRecord(schema)) return schema
  const kept = Object.entries(schema).filter(([k]) => !unsupportedSchemaKeys.has(k))
  // Under `properties` the keys are field names (a field may be called `strict`): only their schemas are cleaned.
  return Object.fromEntries(kept.map(([k, v]) => [
    k,
    k === "properties" && isRecord(v) ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, geminiSchema(s)])) : geminiSchema(v)
  ]))
}

const functionDeclarations = (tools: unknown): Array<Json> | undefined => {
  if (!Array.isArray(tools)) return undefined
  const declarations = tools.filter(isRecord).map((tool) => {
    const fn = isRecord(tool.function) ? tool.function : tool
    return defined({ name: fn.name, description: fn.description, parameters: geminiSchema(fn.parameters) })
  })
  return declarations.length === 0 ? undefined : declarations
}

const toolConfig = (choice: unknown): Json | undefined => {
  if (choice === "auto") return { functionCallingConfig: { mode: "AUTO" } }
  if (choice === "none") return { functionCallingConfig: { mode: "NONE" } }
  if (choice === "required") return { functionCallingConfig: { mode: "ANY" } }
  if (isRecord(choice) && isRecord(choice.function)) {
    return { functionCallingConfig: { mode: "ANY", allowedFunctionNames: [choice.function.name] } }
  }
  return undefined
}

/** `response_format` as Gemini's JSON mode, with the schema when one is given. */
const jsonMode = (format: unknown): Json => {
  if (!isRecord(format) || (format.type !== "json_object" && format.type !== "json_schema")) return {}
  const schema = isRecord(format.json_schema) ? format.json_schema.schema : undefined
  return { responseMimeType: "application/json", ...(schema === undefined ? {} : { responseSchema: geminiSchema(schema) }) }
}

/** Translates an OpenAI chat request into a Gemini `generateContent` body. */
export const toGeminiRequest = (request: Wire.ChatRequest): Json => {
  const system = request.messages
    .filter((m) => m.role === "system" || m.role === "developer")
    .map((m) => contentText(m.content))
    .filter((text) => text !== "")
  const declarations = functionDeclarations(request.tools)
  const stop = request.stop
  const generationConfig = defined({
    temperature: request.temperature,
    topP: request.top_p,
    topK: request.top_k,
    maxOutputTokens: request.max_completion_tokens ?? request.max_tokens,
    stopSequences: typeof stop === "string" ? [stop] : stop,
    candidateCount: request.n,
    presencePenalty: request.presence_penalty,
    frequencyPenalty: request.frequency_penalty,
    seed: request.seed,
    ...jsonMode(request.response_format)
  })
  return defined({
    contents: contents(request.messages),
    systemInstruction: system.length > 0 ? { parts: [{ text: system.join("\n\n") }] } : undefined,
    tools: declarations === undefined ? undefined : [{ functionDeclarations: declarations }],
    toolConfig: declarations === undefined ? undefined : toolConfig(request.tool_choice),
    generationConfig: Object.keys(generationConfig).length > 0 ? generationConfig : undefined
  })
}

const finishReasons: Readonly<Record<string, string>> = {
  STOP: "stop",
  MAX_TOKENS: "length",
  SAFETY: "content_filter",
  RECITATION: "content_filter",
  BLOCKLIST: "content_filter",
  PROHIBITED_CONTENT: "content_filter",
  SPII: "content_filter",
  IMAGE_SAFETY: "content_filter"
}

/** Gemini's `finishReason` as an OpenAI `finish_reason`; a reply that calls functions ends with `tool_calls`. */
export const geminiFinishReason = (reason: string | undefined, calledTools: boolean): string | null =>
  reason === undefined ? null : calledTools && reason === "STOP" ? "tool_calls" : finishReasons[reason] ?? "stop"

/** Gemini usage as OpenAI usage; thinking tokens are completion tokens, as OpenAI counts reasoning. */
export const geminiUsage = (usage: GeminiResponse["usageMetadata"]) => {
  const prompt = usage?.promptTokenCount ?? 0
  const completion = (usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0)
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: usage?.totalTokenCount ?? prompt + completion }
}

/** Why Gemini refused the prompt itself (it then answers 200 with no candidates), if it did. */
export const blockedPrompt = (reply: GeminiResponse): string | undefined =>
  (reply.candidates ?? []).length === 0 ? reply.promptFeedback?.blockReason : undefined

const answerParts = (reply: GeminiResponse): ReadonlyArray<GeminiPart> => reply.candidates?.[0]?.content?.parts ?? []
const textOf = (ps: ReadonlyArray<GeminiPart>) => ps.filter((p) => p.thought !== true).map((p) => p.text ?? "").join("")
const callsOf = (ps: ReadonlyArray<GeminiPart>, first: number) =>
  ps.flatMap((p) => (p.functionCall === undefined ? [] : [p.functionCall])).map((call, i) => ({
    index: first + i,
    id: call.id ?? `call_${first + i}`,
    type: "function",
    function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) }
  }))

/** Translates a complete Gemini reply into an OpenAI chat completion. */
export const fromGeminiResponse = (reply: GeminiResponse, createdSeconds: number, model: string): Json => {
  const ps = answerParts(reply)
  const text = textOf(ps)
  const calls = callsOf(ps, 0).map(({ index: _index, ...call }) => call)
  return {
    id: reply.responseId ?? "gemini",
    object: "chat.completion",
    created: createdSeconds,
    model: reply.modelVersion ?? model,
    choices: [{
      index: 0,
      message: { role: "assistant", content: text === "" && calls.length > 0 ? null : text, ...(calls.length > 0 ? { tool_calls: calls } : {}) },
      finish_reason: geminiFinishReason(reply.candidates?.[0]?.finishReason, calls.length > 0) ?? "stop"
    }],
    usage: geminiUsage(reply.usageMetadata)
  }
}

/** What the stream translation remembers between events. */
export interface GeminiStreamState {
  readonly created: number
  readonly model: string
  readonly id: string | undefined
  readonly tools: number
}

/** The state before the first event. */
export const initialGeminiState = (createdSeconds: number, model: string): GeminiStreamState => ({
  created: createdSeconds,
  model,
  id: undefined,
  tools: 0
})

/** One stream event as chat chunks: role first, then text and whole function calls, then finish and usage. */
export const translateGeminiEvent = (state: GeminiStreamState, event: GeminiResponse): readonly [GeminiStreamState, ReadonlyArray<Json>] => {
  const next = { ...state, id: state.id ?? event.responseId ?? "gemini", model: event.modelVersion ?? state.model }
  const chunk = (choices: ReadonlyArray<Json>, extra: Json = {}): Json => ({
    id: next.id,
    object: "chat.completion.chunk",
    created: next.created,
    model: next.model,
    choices,
    ...extra
  })
  const out: Array<Json> = state.id === undefined ? [chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }])] : []
  const ps = answerParts(event)
  const text = textOf(ps)
  if (text !== "") out.push(chunk([{ index: 0, delta: { content: text }, finish_reason: null }]))
  const calls = callsOf(ps, state.tools)
  if (calls.length > 0) out.push(chunk([{ index: 0, delta: { tool_calls: calls }, finish_reason: null }]))
  const withTools = { ...next, tools: state.tools + calls.length }
  const reason = event.candidates?.[0]?.finishReason
  if (reason !== undefined) {
    out.push(chunk([{ index: 0, delta: {}, finish_reason: geminiFinishReason(reason, withTools.tools > 0) }]))
    // Gemini repeats the running usage on every event; the last one is the total.
    out.push(chunk([], { usage: geminiUsage(event.usageMetadata) }))
  }
  return [withTools, out]
}

/** An embeddings request as a `batchEmbedContents` body. */
export const toGeminiEmbedRequest = (texts: ReadonlyArray<string>, model: string, dimensions: unknown): Json => ({
  requests: texts.map((text) =>
    defined({
      model: `models/${model}`,
      content: { parts: [{ text }] },
      outputDimensionality: typeof dimensions === "number" ? dimensions : undefined
    })
  )
})

/** A `batchEmbedContents` reply as an OpenAI embeddings reply. */
export const fromGeminiEmbeddings = (reply: GeminiEmbeddings, model: string): Json => ({
  object: "list",
  model,
  data: reply.embeddings.map((e, index) => ({ object: "embedding", index, embedding: e.values }))
})

/** An embeddings request as a Vertex AI `:predict` body (one instance per text). */
export const toVertexEmbedRequest = (texts: ReadonlyArray<string>, dimensions: unknown): Json => ({
  instances: texts.map((content) => ({ content })),
  ...(typeof dimensions === "number" ? { parameters: { outputDimensionality: dimensions } } : {})
})

/** A Vertex AI `:predict` reply as an OpenAI embeddings reply; Vertex counts the tokens of each input. */
export const fromVertexPredictions = (reply: VertexPredictions, model: string): Json => {
  const tokens = reply.predictions.reduce((n, p) => n + (p.embeddings.statistics?.token_count ?? 0), 0)
  return {
    object: "list",
    model,
    data: reply.predictions.map((p, index) => ({ object: "embedding", index, embedding: p.embeddings.values })),
    usage: { prompt_tokens: tokens, total_tokens: tokens }
  }
}
