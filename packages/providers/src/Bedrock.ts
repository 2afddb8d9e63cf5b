/**
 * Amazon Bedrock: chat through Converse / ConverseStream, or through InvokeModel /
 * InvokeModelWithResponseStream with the Anthropic Messages body for Anthropic models; embeddings through
 * InvokeModel for the Titan and Cohere embedding models. Requests are SigV4-signed (or carry a Bedrock API
 * key); streams are eventstream frames whose exceptions fail the stream with their typed error.
 */
import {
  BadRequest,
  Connection,
  type Deployment,
  type Operation,
  type OperationName,
  type Provider,
  type ProviderError,
  UnsupportedOperation,
  Wire
} from "@switchyard/core"
import { Clock, Effect, Result, type Schema, Stream } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { nativeEvent, nativeMessagesBody, nativeMessagesReply } from "./AnthropicMessages.ts"
import { initialStreamState, translateEvent } from "./AnthropicStream.ts"
import { fromAnthropicMessage, prefillWhitespace, toAnthropicRequest } from "./AnthropicTranslate.ts"
import { AnthropicEvent, AnthropicMessage } from "./AnthropicWire.ts"
import { authHeaders, type BedrockTarget, resolveBedrockTarget } from "./BedrockAuth.ts"
import { fromConverseResponse, initialConverseState, toConverseRequest, translateConverseEvent } from "./BedrockConverse.ts"
import { type BedrockEvent, bedrockEvents, chunkPayload } from "./BedrockEventStream.ts"
import { embeddingReply, embeddingTexts } from "./Embeddings.ts"
import { withMessagesOverChat } from "./MessagesOverChat.ts"
import { guardStream } from "./StreamGuard.ts"
import { decodeResult, decodeWith, readJson, readJsonValue, send } from "./Upstream.ts"

/** The body field Bedrock requires of every Anthropic Messages request. */
export const bedrockAnthropicVersion = "bedrock-2023-05-31"

/** What the Bedrock provider serves. */
export const bedrockOperations: ReadonlyArray<OperationName> = ["chat", "embedding"]

/** Which Bedrock API a model is called through, and its model id (LiteLLM's `converse/` and `invoke/` prefixes force one). */
export const bedrockApiOf = (model: string): { readonly api: "converse" | "invoke"; readonly modelId: string } => {
  if (model.startsWith("converse/")) return { api: "converse", modelId: model.slice("converse/".length) }
  if (model.startsWith("invoke/")) return { api: "invoke", modelId: model.slice("invoke/".length) }
  // `anthropic.claude-…` and cross-region profiles such as `us.anthropic.claude-…`.
  return { api: /(^|\.)anthropic\./.test(model) ? "invoke" : "converse", modelId: model }
}

/** The Invoke API is spoken with Anthropic's body only; other models are chatted with through Converse. */
const invokeTarget = (modelId: string) =>
  /(^|[.:/])anthropic\./.test(modelId)
    ? Effect.void
    : Effect.fail(new BadRequest({ message: `bedrock/invoke/ takes Anthropic models; use bedrock/converse/${modelId}` }))

type Json = Record<string, unknown>
const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
const nowSeconds = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))

/** The Anthropic Messages body as Bedrock wants it: the model is in the URL, streaming in the path. */
const anthropicBody = (request: Wire.ChatRequest, modelId: string): Json => {
  const { model: _model, stream: _stream, ...body } = toAnthropicRequest(request, modelId, false)
  return { anthropic_version: bedrockAnthropicVersion, ...body }
}

/** A Messages request as Bedrock's Invoke body, and the prefill whitespace the reply may repeat. */
const nativeInvokeBody = (request: Wire.MessagesRequest, modelId: string, stream: boolean) => {
  const { body: { model: _model, stream: _stream, ...body }, prefill } = nativeMessagesBody(request, modelId, stream)
  return { body: { anthropic_version: bedrockAnthropicVersion, ...body }, prefill }
}

/** Whether a decoded event says the reply is complete. */
const isFinal = (event: BedrockEvent, anthropic: unknown): boolean =>
  event.eventType === "messageStop" ||
  (isRecord(anthropic) &&
    (anthropic.type === "message_stop" || (anthropic.type === "message_delta" && isRecord(anthropic.delta) &&
      typeof anthropic.delta.stop_reason === "string")))

/** Builds the Bedrock provider over a shared HttpClient. */
export const makeBedrock = (client: HttpClient.HttpClient): Provider => {
  const supported = new Set<OperationName>(bedrockOperations)
  const unsupported = (operation: Operation) =>
    new UnsupportedOperation({ operation: operation.name, message: `bedrock does not support ${operation.name}` })

  // Credentials, region and signer do not change while a deployment lives: resolved once, not per call.
  const targets = new WeakMap<Deployment, BedrockTarget>()
  const targetOf = (deployment: Deployment) => {
    const known = targets.get(deployment)
    return known !== undefined
      ? Effect.succeed(known)
      : Effect.tap(resolveBedrockTarget(deployment), (t) => Effect.sync(() => void targets.set(deployment, t)))
  }

  /** POSTs a signed JSON body to `/model/<id>/<action>`; a 2xx response comes back unread. */
  const post = (deployment: Deployment, modelId: string, action: string, body: unknown, stream: boolean) =>
    Effect.gen(function*() {
      const target = yield* targetOf(deployment)
      const url = `${target.endpoint}/model/${encodeURIComponent(modelId)}/${action}`
      const text = JSON.stringify(body)
      const accept = stream ? "application/vnd.amazon.eventstream" : "application/json"
      const now = yield* Clock.currentTimeMillis
      const headers = yield* authHeaders(target, url, { "content-type": "application/json", accept }, text, new Date(now))
      const request = HttpClientRequest.post(url).pipe(
        HttpClientRequest.setHeaders(headers),
        HttpClientRequest.bodyText(text, "application/json")
      )
      // The session token is a secret that the shared redaction list does not name: never trace it.
      const traced = yield* HttpClient.TracerHeaderFilter
      const response = yield* send(client, request, target.secrets).pipe(
        Effect.provideService(HttpClient.TracerHeaderFilter, (name, phase) => name !== "x-amz-security-token" && traced(name, phase))
      )
      return { response, secrets: target.secrets }
    })

  const chat = (deployment: Deployment, request: Wire.ChatRequest) =>
    Effect.gen(function*() {
      const { api, modelId } = bedrockApiOf(deployment.model)
      const created = yield* nowSeconds
      if (api === "invoke") {
        yield* invokeTarget(modelId)
        const { response, secrets } = yield* post(deployment, modelId, "invoke", anthropicBody(request, modelId), false)
        const message = yield* readJson(response, AnthropicMessage, secrets)
        return fromAnthropicMessage(message, created, prefillWhitespace(request))
      }
      const body = yield* Effect.fromResult(toConverseRequest(request))
      const { response, secrets } = yield* post(deployment, modelId, "converse", body, false)
      const reply = yield* readJsonValue(response, secrets)
      const id = `chatcmpl-${response.headers["x-amzn-requestid"] ?? "bedrock"}`
      return fromConverseResponse(isRecord(reply) ? reply : {}, id, modelId, created, prefillWhitespace(request))
    })

  const embedding = (deployment: Deployment, request: Wire.EmbeddingRequest) =>
    Effect.gen(function*() {
      const { modelId } = bedrockApiOf(deployment.model)
      const texts = yield* Effect.fromResult(embeddingTexts(request, "bedrock"))
      if (modelId.includes("cohere.embed")) {
        const body = {
          texts,
          input_type: request.input_type ?? "search_document",
          ...(request.dimensions === undefined ? {} : { output_dimension: request.dimensions })
        }
        const { response, secrets } = yield* post(deployment, modelId, "invoke", body, false)
        const reply = yield* readJsonValue(response, secrets)
        const e = isRecord(reply) ? reply.embeddings : undefined
        const vectors = (Array.isArray(e) ? e : isRecord(e) && Array.isArray(e.float) ? e.float : []) as Array<Array<number>>
        const tokens = Number(response.headers["x-amzn-bedrock-input-token-count"] ?? 0)
        return embeddingReply(vectors, modelId, tokens, request.encoding_format)
      }
      // Titan embeds one text per call.
      const replies = yield* Effect.forEach(texts, (inputText) =>
        Effect.flatMap(
          post(deployment, modelId, "invoke", { inputText, ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }) }, false),
          ({ response, secrets }) => readJsonValue(response, secrets)
        ), { concurrency: 4 })
      const vectors = replies.map((r) => (isRecord(r) && Array.isArray(r.embedding) ? r.embedding : []) as Array<number>)
      const tokens = replies.reduce<number>((n, r) => n + (isRecord(r) && typeof r.inputTextTokenCount === "number" ? r.inputTextTokenCount : 0), 0)
      return embeddingReply(vectors, modelId, tokens, request.encoding_format)
    })

  const call = <Req, Res>(operation: Operation<string, Req, Res, any>, deployment: Deployment, request: Req) =>
    Effect.gen(function*() {
      if (operation.name === "messages") {
        if (bedrockApiOf(deployment.model).api === "converse") return yield* overChat.call(operation, deployment, request)
        return (yield* messagesCall(deployment, request as Wire.MessagesRequest)) as Res
      }
      const reply = operation.name === "chat"
        ? yield* chat(deployment, request as Wire.ChatRequest)
        : operation.name === "embedding"
        ? yield* embedding(deployment, request as Wire.EmbeddingRequest)
        : yield* Effect.fail(unsupported(operation))
      return yield* decodeWith(operation.response, reply, [], 200)
    })

  /** The chat chunks of one streamed reply; a body that ends before the reply's end was cut (Connection). */
  const chatChunks = (deployment: Deployment, request: Wire.ChatRequest) =>
    Stream.unwrap(Effect.gen(function*() {
      const { api, modelId } = bedrockApiOf(deployment.model)
      const created = yield* nowSeconds
      if (api === "invoke") yield* invokeTarget(modelId)
      const body = api === "invoke" ? anthropicBody(request, modelId) : yield* Effect.fromResult(toConverseRequest(request))
      const action = api === "invoke" ? "invoke-with-response-stream" : "converse-stream"
      const { response, secrets } = yield* post(deployment, modelId, action, body, true)
      let ended = false
      const events = bedrockEvents(response, secrets)
      const chunks: Stream.Stream<Json, ProviderError> = api === "converse"
        ? events.pipe(
          Stream.tap((event) => Effect.sync(() => void (ended ||= isFinal(event, undefined)))),
          Stream.mapAccum(
            () =>
              initialConverseState(
                `chatcmpl-${response.headers["x-amzn-requestid"] ?? "bedrock"}`,
                modelId,
                created,
                prefillWhitespace(request)
              ),
            translateConverseEvent
          )
        )
        : anthropicEvents(events, secrets, AnthropicEvent, () => void (ended = true)).pipe(
          // Read on past `message_stop` to the end of the body (it is the last frame), so the connection is reused.
          Stream.mapAccum(() => initialStreamState(created, prefillWhitespace(request)), translateEvent)
        )
      return Stream.concat(chunks, cutUnless(() => ended, response.status))
    }))

  // The Messages API goes natively through Invoke for Anthropic models, and over chat (Converse) for the rest.
  const messagesCall = (deployment: Deployment, request: Wire.MessagesRequest) =>
    Effect.gen(function*() {
      const { modelId } = bedrockApiOf(deployment.model)
      const { body, prefill } = nativeInvokeBody(request, modelId, false)
      const { response, secrets } = yield* post(deployment, modelId, "invoke", body, false)
      return nativeMessagesReply(yield* readJson(response, Wire.MessagesResponse, secrets), prefill)
    })

  const messagesStream = (deployment: Deployment, request: Wire.MessagesRequest) =>
    Stream.unwrap(Effect.gen(function*() {
      const { modelId } = bedrockApiOf(deployment.model)
      const { body, prefill } = nativeInvokeBody(request, modelId, true)
      const { response, secrets } = yield* post(deployment, modelId, "invoke-with-response-stream", body, true)
      let ended = false
      const events = anthropicEvents(bedrockEvents(response, secrets), secrets, Wire.MessagesEvent, () => void (ended = true)).pipe(
        Stream.mapAccum(() => ({ prefill, promptUsage: undefined }), nativeEvent)
      )
      return Stream.concat(events, cutUnless(() => ended, response.status))
    }))

  const stream = <Req, Chunk>(operation: Operation<string, Req, any, Chunk>, deployment: Deployment, request: Req) => {
    const spec = operation.stream
    if (operation.name === "messages" && spec !== undefined) {
      if (bedrockApiOf(deployment.model).api === "converse") return overChat.stream(operation, deployment, request)
      return guardStream(spec, messagesStream(deployment, request as Wire.MessagesRequest) as Stream.Stream<Chunk, ProviderError>)
    }
    if (operation.name !== "chat" || spec === undefined) return Stream.fail(unsupported(operation))
    const chunks = Stream.mapEffect(chatChunks(deployment, request as Wire.ChatRequest), (chunk) => decodeWith(spec.chunk, chunk, []))
    return guardStream(spec, chunks)
  }

  const chatOnly: Provider = { name: "bedrock", operations: supported, supportsPrefill: true, call, stream }
  const overChat = withMessagesOverChat(chatOnly)
  return { ...chatOnly, operations: new Set([...supported, "messages"]) }
}

/** The Anthropic events of an Invoke stream, decoded once with `schema`; `onFinal` when the reply's end is seen. */
const anthropicEvents = <A>(
  events: Stream.Stream<BedrockEvent, ProviderError>,
  secrets: ReadonlyArray<string>,
  schema: Schema.Codec<A, unknown>,
  onFinal: () => void
): Stream.Stream<A, ProviderError> =>
  events.pipe(
    Stream.filter((event) => event.eventType === "chunk"),
    Stream.mapEffect((event) =>
      Effect.fromResult(Result.flatMap(chunkPayload(event, secrets), (json) => {
        if (isFinal(event, json)) onFinal()
        return decodeResult(schema, json, secrets)
      }))
    )
  )

/** Fails as a cut connection unless the reply's end was seen: a body that ends before it was cut. */
const cutUnless = (ended: () => boolean, status: number) =>
  Stream.suspend(() =>
    ended() ? Stream.empty : Stream.fail(new Connection({ message: "bedrock closed the event stream before its end", status }))
  )
