/**
 * The successful replies of the mock, per operation, as plain data the server then writes (and breaks on
 * request): a JSON body, an SSE stream split into preamble / content / tail frames, or audio pieces.
 */
import { continuationFor, partialOf } from "../Reference.ts"
import { type MockWire, wordChunks } from "./ReferenceText.ts"
import { streamFrames } from "./StreamFrames.ts"

/** A reply the server writes. For streams, `content` frames are the ones a `cut`/`stall` counts. */
export type Reply =
  | { readonly kind: "json"; readonly contentType: string; readonly body: string; readonly headers?: Record<string, string> }
  | {
    readonly kind: "sse"
    readonly preamble: ReadonlyArray<string>
    readonly content: ReadonlyArray<string>
    readonly tail: ReadonlyArray<string>
  }
  | { readonly kind: "bytes"; readonly contentType: string; readonly pieces: ReadonlyArray<Uint8Array> }
  | {
    /** Binary frames (Bedrock's eventstream), broken like SSE; `errorFrame` is the in-stream error. */
    readonly kind: "frames"
    readonly contentType: string
    readonly headers?: Record<string, string>
    readonly preamble: ReadonlyArray<Uint8Array>
    readonly content: ReadonlyArray<Uint8Array>
    readonly tail: ReadonlyArray<Uint8Array>
    readonly errorFrame: (type?: string, message?: string) => Uint8Array
  }

/** A request as the reply builders see it. */
export interface ReplyInput {
  readonly wire: MockWire
  readonly operation: string
  /** Parsed JSON, or the multipart fields plus `file` for uploads. */
  readonly body: Record<string, unknown>
  readonly stream: boolean
}

/** A fixed timestamp, so replies are byte-for-byte reproducible. */
export const MOCK_CREATED = 1_700_000_000

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Every string inside a value, for a rough, deterministic token count. */
const strings = (u: unknown): Array<string> =>
  typeof u === "string" ? [u] : Array.isArray(u) ? u.flatMap(strings) : isRecord(u) ? Object.values(u).flatMap(strings) : []

/** Whitespace-separated words: the mock's token count. */
export const countTokens = (u: unknown): number =>
  strings(u).reduce((n, s) => n + s.split(/\s+/).filter(Boolean).length, 0)

const json = (body: unknown): Reply => ({ kind: "json", contentType: "application/json", body: JSON.stringify(body) })

const speechTypes: Readonly<Record<string, string>> = {
  mp3: "audio/mpeg",
  opus: "audio/ogg",
  aac: "audio/aac",
  flac: "audio/flac",
  wav: "audio/wav",
  pcm: "audio/pcm"
}

/** The size of every speech reply: a few seconds of compressed audio. */
export const SPEECH_BYTES = 48_000
/** The size of each write of a speech reply, so the body arrives in several pieces. */
export const SPEECH_PIECE_BYTES = 8_000

/** The audio the mock returns for `input`: a format header, then a pattern derived from the input. */
export const speechAudio = (input: string, format = "mp3"): Uint8Array => {
  const out = new Uint8Array(SPEECH_BYTES)
  const seed = [...input].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7)
  for (let i = 0; i < out.length; i++) out[i] = (seed + i * 131 + (i >> 8)) & 0xff
  const header = format === "wav" ? "RIFF\0\0\0\0WAVEfmt " : format === "flac" ? "fLaC" : format === "opus" ? "OggS" : "ID3\x04"
  for (let i = 0; i < header.length; i++) out[i] = header.charCodeAt(i)
  return out
}

/** A deterministic 8-dimensional embedding of a text. */
export const embeddingOf = (text: string): Array<number> => {
  const seed = [...text].reduce((h, c) => (h * 33 + c.charCodeAt(0)) >>> 0, 5381)
  return Array.from({ length: 8 }, (_, i) => Math.round(((((seed >>> i) ^ (seed >>> (i + 8))) & 0xff) / 255) * 1e4) / 1e4)
}

const asList = (input: unknown): Array<unknown> => (Array.isArray(input) ? input : [input])

const embeddings = (body: Record<string, unknown>) => {
  const inputs = typeof body.input === "string" || !Array.isArray(body.input) || typeof body.input[0] === "number"
    ? [body.input]
    : body.input
  const tokens = countTokens(body.input)
  return json({
    object: "list",
    model: body.model,
    data: inputs.map((input, index) => {
      const vector = embeddingOf(JSON.stringify(input))
      // The official OpenAI clients ask for base64 by default.
      const embedding = body.encoding_format === "base64"
        ? Buffer.from(new Float32Array(vector).buffer).toString("base64")
        : vector
      return { object: "embedding", index, embedding }
    }),
    usage: { prompt_tokens: tokens, total_tokens: tokens }
  })
}

const ONE_PIXEL_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

const images = (body: Record<string, unknown>) => {
  const n = typeof body.n === "number" ? body.n : 1
  return json({
    created: MOCK_CREATED,
    data: Array.from({ length: n }, (_, i) =>
      body.response_format === "b64_json"
        ? { b64_json: ONE_PIXEL_PNG, revised_prompt: body.prompt }
        : { url: `https://images.mock.invalid/${i}.png`, revised_prompt: body.prompt })
  })
}

const moderations = (body: Record<string, unknown>) =>
  json({
    id: "modr-mock",
    model: body.model ?? "omni-moderation-latest",
    results: asList(body.input).map((input) => {
      const violent = /\b(kill|attack|violence)\b/i.test(strings(input).join(" "))
      return {
        flagged: violent,
        categories: { violence: violent, harassment: false, hate: false, "self-harm": false, sexual: false },
        category_scores: { violence: violent ? 0.92 : 0.001, harassment: 0.001, hate: 0.001, "self-harm": 0.001, sexual: 0.001 }
      }
    })
  })

const rerank = (body: Record<string, unknown>) => {
  const query = new Set(String(body.query ?? "").toLowerCase().split(/\W+/).filter(Boolean))
  const documents = asList(body.documents)
  const scored = documents.map((doc, index) => {
    const words = strings(doc).join(" ").toLowerCase().split(/\W+/).filter(Boolean)
    const hits = words.filter((w) => query.has(w)).length
    return { index, relevance_score: Math.round((hits / Math.max(1, words.length)) * 1e4) / 1e4, doc }
  }).sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index)
  const top = typeof body.top_n === "number" ? scored.slice(0, body.top_n) : scored
  return json({
    id: "rerank-mock",
    results: top.map(({ doc, index, relevance_score }) => ({
      index,
      relevance_score,
      ...(body.return_documents === true ? { document: typeof doc === "string" ? { text: doc } : doc } : {})
    })),
    meta: { api_version: { version: "2" }, billed_units: { search_units: 1 } }
  })
}

const transcription = (body: Record<string, unknown>): Reply => {
  const file = isRecord(body.file) ? body.file : {}
  const text = `Transcript of ${String(file.filename ?? "audio")} (${String(file.size ?? 0)} bytes).`
  const format = body.response_format
  if (format === "text" || format === "srt" || format === "vtt") return { kind: "json", contentType: "text/plain; charset=utf-8", body: text }
  return json(format === "verbose_json" ? { task: "transcribe", language: "english", duration: 2.5, text, segments: [] } : { text })
}

/** Whether an Anthropic request forces a tool call, and which tool. */
const forcedTool = (body: Record<string, unknown>): string | undefined => {
  const tools = Array.isArray(body.tools) ? body.tools.filter(isRecord) : []
  const choice = isRecord(body.tool_choice) ? body.tool_choice : undefined
  if (tools.length === 0 || (choice?.type !== "any" && choice?.type !== "tool")) return undefined
  return String(choice.type === "tool" ? choice.name : tools[0]!.name)
}

/** Whether an OpenAI chat request forces a tool call (`required`, or a named function), and which tool. */
const forcedChatTool = (body: Record<string, unknown>): string | undefined => {
  const tools = Array.isArray(body.tools) ? body.tools.filter(isRecord) : []
  const choice = body.tool_choice
  const first = tools[0]?.function
  if (choice === "required" && isRecord(first)) return String(first.name)
  return isRecord(choice) && choice.type === "function" && isRecord(choice.function) ? String(choice.function.name) : undefined
}

/** The text answers: chat, completion, responses and Anthropic messages, plain or streamed. */
const textReply = (input: ReplyInput): Reply => {
  const { body, operation, wire } = input
  const text = continuationFor(partialOf(operation, body))
  const usage = { prompt: countTokens(body.messages ?? body.prompt ?? body.input), completion: wordChunks(text).length }
  const model = String(body.model ?? "mock-model")
  const tool = wire === "anthropic" ? forcedTool(body) : wire === "openai" && operation === "chat" ? forcedChatTool(body) : undefined
  const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true
  if (input.stream) return streamFrames({ wire, operation, model, text, usage, tool, includeUsage })
  const u = { prompt_tokens: usage.prompt, completion_tokens: usage.completion, total_tokens: usage.prompt + usage.completion }
  switch (operation) {
    case "messages":
      return json({
        id: "msg_mock",
        type: "message",
        role: "assistant",
        model,
        content: tool === undefined
          ? [{ type: "text", text }]
          : [{ type: "tool_use", id: "toolu_mock_1", name: tool, input: { city: "Paris" } }],
        stop_reason: tool === undefined ? "end_turn" : "tool_use",
        stop_sequence: null,
        usage: { input_tokens: usage.prompt, output_tokens: usage.completion }
      })
    case "completion":
      return json({
        id: "cmpl-mock",
        object: "text_completion",
        created: MOCK_CREATED,
        model,
        choices: [{ index: 0, text, finish_reason: "stop", logprobs: null }],
        usage: u
      })
    case "responses":
      return json({
        id: "resp_mock",
        object: "response",
        created_at: MOCK_CREATED,
        status: "completed",
        model,
        output: [{
          type: "message",
          id: "msg_mock",
          status: "completed",
          role: "assistant",
          content: [{ type: "output_text", text, annotations: [] }]
        }],
        usage: { input_tokens: usage.prompt, output_tokens: usage.completion, total_tokens: u.total_tokens }
      })
    default:
      return json({
        id: "chatcmpl-mock",
        object: "chat.completion",
        created: MOCK_CREATED,
        model,
        choices: [{
          index: 0,
          message: tool === undefined
            ? { role: "assistant", content: text }
            : { role: "assistant", content: null, tool_calls: [{ id: "call_mock_1", type: "function", function: { name: tool, arguments: "{\"city\": \"Paris\"}" } }] },
          finish_reason: tool === undefined ? "stop" : "tool_calls",
          logprobs: null
        }],
        usage: u
      })
  }
}

/** The successful reply to a request. */
export const okReply = (input: ReplyInput): Reply => {
  const { body } = input
  switch (input.operation) {
    case "embedding":
      return embeddings(body)
    case "image":
      return images(body)
    case "moderation":
      return moderations(body)
    case "rerank":
      return rerank(body)
    case "transcription":
      return transcription(body)
    case "speech": {
      const format = typeof body.response_format === "string" ? body.response_format : "mp3"
      const audio = speechAudio(String(body.input ?? ""), format)
      const pieces: Array<Uint8Array> = []
      for (let at = 0; at < audio.length; at += SPEECH_PIECE_BYTES) pieces.push(audio.subarray(at, at + SPEECH_PIECE_BYTES))
      return { kind: "bytes", contentType: speechTypes[format] ?? "application/octet-stream", pieces }
    }
    default:
      return textReply(input)
  }
}
