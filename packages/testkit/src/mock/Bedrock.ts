/**
 * The mock's Bedrock runtime: Converse, ConverseStream, InvokeModel and InvokeModelWithResponseStream
 * (Anthropic Messages bodies, Titan and Cohere embeddings). Bodies are validated as Bedrock does, errors
 * come in AWS's shape (`x-amzn-errortype` plus `{"message"}`), and streams are real eventstream frames
 * (smithy's codec, with both CRCs) whose exceptions are frames of `:message-type: exception`.
 */
import { EventStreamCodec } from "@smithy/eventstream-codec"
import { fromUtf8, toUtf8 } from "@smithy/util-utf8"
import { continuationFor, partialOf } from "../Reference.ts"
import type { ErrorReply, ErrorSpec } from "./ErrorBodies.ts"
import { wordChunks } from "./ReferenceText.ts"
import { countTokens, okReply, type Reply } from "./Replies.ts"

const codec = new EventStreamCodec(toUtf8, fromUtf8)
const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** The Bedrock runtime actions the mock serves, by their path segment. */
export const bedrockActions = new Set(["converse", "converse-stream", "invoke", "invoke-with-response-stream"])

/** The exception type and message Bedrock sends for a status when the script names none. */
const defaults: Readonly<Record<number, readonly [string, string]>> = {
  400: ["ValidationException", "Malformed input request, please reformat your input and try again."],
  403: ["AccessDeniedException", "You don't have access to the model with the specified model ID."],
  404: ["ResourceNotFoundException", "The requested resource could not be found."],
  408: ["ModelTimeoutException", "Model has timed out in processing the request. Try your request again."],
  424: ["ModelErrorException", "The model returned an error while processing the request."],
  429: ["ThrottlingException", "Too many requests, please wait before trying again."],
  500: ["InternalServerException", "The server encountered an internal error while processing the request."],
  503: ["ServiceUnavailableException", "Bedrock is unable to process your request."]
}

/** An error reply as Bedrock sends it. */
export const bedrockErrorReply = (spec: ErrorSpec): ErrorReply => {
  const [type, message] = defaults[spec.status] ?? (spec.status >= 500 ? defaults[500]! : defaults[400]!)
  const errorType = spec.type ?? type
  return {
    status: spec.status,
    contentType: "application/json",
    headers: {
      "x-amzn-errortype": `${errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      "x-amzn-requestid": "mock-request-id"
    },
    body: JSON.stringify(spec.body ?? { message: spec.message ?? message })
  }
}

const frame = (headers: Record<string, string>, payload: unknown): Uint8Array =>
  codec.encode({
    headers: Object.fromEntries(Object.entries(headers).map(([k, value]) => [k, { type: "string" as const, value }])),
    body: fromUtf8(JSON.stringify(payload))
  })

/** An `event` frame; `p` is the padding Bedrock adds so frame sizes do not leak the content. */
const eventFrame = (eventType: string, payload: Record<string, unknown>): Uint8Array =>
  frame({ ":event-type": eventType, ":content-type": "application/json", ":message-type": "event" }, { ...payload, p: "abcdefgh" })

/** An in-stream exception frame of the given type (`throttlingException`, `modelStreamErrorException`, …). */
export const exceptionFrame = (type = "internalServerException", message?: string): Uint8Array =>
  frame(
    { ":exception-type": type, ":content-type": "application/json", ":message-type": "exception" },
    { message: message ?? "The system encountered an unexpected error during processing. Try your request again." }
  )

const frames = (preamble: Array<Uint8Array>, content: Array<Uint8Array>, tail: Array<Uint8Array>): Reply => ({
  kind: "frames",
  contentType: "application/vnd.amazon.eventstream",
  headers: { "x-amzn-requestid": "mock-request-id" },
  preamble,
  content,
  tail,
  errorFrame: exceptionFrame
})

const json = (body: unknown): Reply => ({
  kind: "json",
  contentType: "application/json",
  headers: { "x-amzn-requestid": "mock-request-id" },
  body: JSON.stringify(body)
})

const converseKeys = new Set([
  "messages", "system", "inferenceConfig", "toolConfig", "guardrailConfig", "additionalModelRequestFields",
  "promptVariables", "additionalModelResponseFieldPaths", "requestMetadata", "performanceConfig"
])
const inferenceKeys = new Set(["maxTokens", "temperature", "topP", "stopSequences"])
const blockKeys = new Set(["text", "image", "document", "video", "toolUse", "toolResult", "guardContent", "cachePoint", "reasoningContent"])

const extraneous = (body: Record<string, unknown>, allowed: ReadonlySet<string>) => Object.keys(body).find((k) => !allowed.has(k))

/** The text of the last block of the last message, when it is an assistant turn (a prefill). */
const prefillText = (messages: ReadonlyArray<unknown>): string | undefined => {
  const last = messages[messages.length - 1]
  if (!isRecord(last) || last.role !== "assistant") return undefined
  const content = last.content
  if (typeof content === "string") return content
  const tail = Array.isArray(content) ? content[content.length - 1] : undefined
  return isRecord(tail) && typeof tail.text === "string" ? tail.text : undefined
}

/** What Bedrock's Converse validation says about a body, if anything. */
const converseRejection = (body: Record<string, unknown>, model: string): string | undefined => {
  const extra = extraneous(body, converseKeys)
  if (extra !== undefined) return `Malformed input request: extraneous key [${extra}] is not permitted, please reformat your input and try again.`
  if (isRecord(body.inferenceConfig) && extraneous(body.inferenceConfig, inferenceKeys) !== undefined) {
    return `Malformed input request: extraneous key [${extraneous(body.inferenceConfig, inferenceKeys)}] is not permitted in inferenceConfig.`
  }
  const messages = Array.isArray(body.messages) ? body.messages : []
  if (messages.length === 0) return "A conversation must start with a user message. Try again with a conversation that starts with a user message."
  for (const [i, m] of messages.entries()) {
    if (!isRecord(m) || (m.role !== "user" && m.role !== "assistant") || !Array.isArray(m.content) || m.content.length === 0) {
      return `The content field in the Message object at messages.${i} is empty. Add a ContentBlock object to the content field and try again.`
    }
    if (i === 0 && m.role !== "user") return "A conversation must start with a user message. Try again with a conversation that starts with a user message."
    if (i > 0 && (messages[i - 1] as Record<string, unknown>).role === m.role) {
      return "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again."
    }
    for (const [j, block] of m.content.entries()) {
      const keys = isRecord(block) ? Object.keys(block) : []
      if (keys.length !== 1 || !blockKeys.has(keys[0]!)) return `Malformed input request: messages.${i}.content.${j} is not a valid ContentBlock.`
      if (keys[0] === "text" && String(block.text).trim() === "") {
        return `The text field in the ContentBlock object at messages.${i}.content.${j} is blank. Add text to the text field, and try again.`
      }
    }
  }
  if (/anthropic/.test(model) && /\s$/.test(prefillText(messages) ?? "")) return "final assistant content cannot end with trailing whitespace"
  return undefined
}

const anthropicKeys = new Set([
  "anthropic_version", "anthropic_beta", "max_tokens", "messages", "system", "stop_sequences", "temperature", "top_p",
  "top_k", "tools", "tool_choice", "thinking", "metadata"
])

/** What InvokeModel's validation says about a body for `model`, if anything. */
const invokeRejection = (body: Record<string, unknown>, model: string): string | undefined => {
  const malformed = (what: string) => `Malformed input request: #: ${what}, please reformat your input and try again.`
  if (model.includes("titan-embed")) {
    const extra = extraneous(body, new Set(["inputText", "dimensions", "normalize", "embeddingTypes"]))
    if (extra !== undefined) return malformed(`extraneous key [${extra}] is not permitted`)
    return typeof body.inputText === "string" ? undefined : malformed("required key [inputText] not found")
  }
  if (model.includes("cohere.embed")) {
    if (!Array.isArray(body.texts)) return malformed("required key [texts] not found")
    return typeof body.input_type === "string" ? undefined : malformed("required key [input_type] not found")
  }
  if (!model.includes("anthropic")) return "The provided model identifier is invalid."
  const extra = extraneous(body, anthropicKeys)
  if (extra !== undefined) return malformed(`extraneous key [${extra}] is not permitted`)
  if (body.anthropic_version !== "bedrock-2023-05-31") return malformed("required key [anthropic_version] not found")
  if (typeof body.max_tokens !== "number") return malformed("required key [max_tokens] not found")
  if (!Array.isArray(body.messages)) return malformed("required key [messages] not found")
  if (/\s$/.test(prefillText(body.messages) ?? "")) return "messages: final assistant content cannot end with trailing whitespace"
  return undefined
}

/** The ValidationException message for a request, or undefined when Bedrock would take it. */
export const bedrockRejection = (action: string, model: string, body: Record<string, unknown>): string | undefined =>
  action.startsWith("converse") ? converseRejection(body, model) : invokeRejection(body, model)

/** The tool a Converse request forces, if any. */
const forcedTool = (body: Record<string, unknown>): string | undefined => {
  const config = isRecord(body.toolConfig) ? body.toolConfig : {}
  const choice = isRecord(config.toolChoice) ? config.toolChoice : {}
  const tools = Array.isArray(config.tools) ? config.tools.filter(isRecord) : []
  if (isRecord(choice.tool)) return String(choice.tool.name)
  const first = tools[0]
  return isRecord(choice.any) && isRecord(first?.toolSpec) ? String(first.toolSpec.name) : undefined
}

const converseReply = (body: Record<string, unknown>, stream: boolean): Reply => {
  const text = continuationFor(partialOf("messages", body))
  const words = wordChunks(text)
  const usage = { inputTokens: countTokens(body.messages), outputTokens: words.length, totalTokens: countTokens(body.messages) + words.length }
  const tool = forcedTool(body)
  const stopReason = tool === undefined ? "end_turn" : "tool_use"
  if (!stream) {
    const content = tool === undefined ? [{ text }] : [{ toolUse: { toolUseId: "tooluse_mock_1", name: tool, input: { city: "Paris" } } }]
    return json({ output: { message: { role: "assistant", content } }, stopReason, usage, metrics: { latencyMs: 42 } })
  }
  const start = [eventFrame("messageStart", { role: "assistant" })]
  const content = tool === undefined
    ? words.map((w) => eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: w } }))
    : ["{\"city\": ", "\"Paris\"}"].map((input) => eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { toolUse: { input } } }))
  const preamble = tool === undefined
    ? start
    : [...start, eventFrame("contentBlockStart", { contentBlockIndex: 0, start: { toolUse: { toolUseId: "tooluse_mock_1", name: tool } } })]
  return frames(preamble, content, [
    eventFrame("contentBlockStop", { contentBlockIndex: 0 }),
    eventFrame("messageStop", { stopReason }),
    eventFrame("metadata", { usage, metrics: { latencyMs: 42 } })
  ])
}

/** The data of an SSE frame (`event: …\ndata: {…}\n\n`). */
const sseData = (sse: string): Record<string, unknown> => JSON.parse(sse.slice(sse.indexOf("data: ") + "data: ".length)) as Record<string, unknown>

/** An Anthropic event as an InvokeModelWithResponseStream `chunk` frame. */
const chunkFrame = (event: Record<string, unknown>): Uint8Array =>
  eventFrame("chunk", { bytes: Buffer.from(JSON.stringify(event)).toString("base64") })

/** InvokeModel replies: the Anthropic Messages reply, or an embedding. */
const invokeReply = (model: string, body: Record<string, unknown>, stream: boolean): Reply => {
  if (model.includes("titan-embed")) {
    const seed = countTokens(body.inputText)
    return json({ embedding: Array.from({ length: 8 }, (_, i) => (seed + i) / 10), inputTextTokenCount: seed })
  }
  if (model.includes("cohere.embed")) {
    const texts = body.texts as Array<string>
    return json({ id: "emb-mock", response_type: "embeddings_floats", texts, embeddings: texts.map((t) => Array.from({ length: 8 }, (_, i) => (t.length + i) / 10)) })
  }
  const reply = okReply({ wire: "anthropic", operation: "messages", body: { ...body, model }, stream })
  if (reply.kind !== "sse") return { ...reply, headers: { "x-amzn-requestid": "mock-request-id" } } as Reply
  const metrics = { "amazon-bedrock-invocationMetrics": { inputTokenCount: countTokens(body.messages), firstByteLatency: 5 } }
  const tail = reply.tail.map(sseData).map((e) => (e.type === "message_stop" ? { ...e, ...metrics } : e))
  return frames(reply.preamble.map((f) => chunkFrame(sseData(f))), reply.content.map((f) => chunkFrame(sseData(f))), tail.map(chunkFrame))
}

/** The successful reply to a Bedrock action. */
export const bedrockReply = (action: string, model: string, body: Record<string, unknown>): Reply =>
  action.startsWith("converse")
    ? converseReply(body, action === "converse-stream")
    : invokeReply(model, body, action === "invoke-with-response-stream")
