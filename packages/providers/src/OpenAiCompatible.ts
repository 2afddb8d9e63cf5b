/**
 * A provider for any upstream that speaks the OpenAI wire format. What differs between OpenAI itself, the
 * OpenAI-compatible servers and Azure is only where a request goes and how it authenticates (an `Endpoint`);
 * bodies, streaming, uploads and binary replies are the same and live here once.
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
import { Config, Effect, Option, Redacted, Result, type Schema, Stream } from "effect"
import { type HttpClient, HttpClientRequest, type HttpClientResponse } from "effect/http"
import { uploadForm } from "./Multipart.ts"
import { guardStream } from "./StreamGuard.ts"
import { bodyBytes, decodeResult, decodeWith, type JsonEvent, readJson, readText, send, sseEvents } from "./Upstream.ts"

/** Where one operation of one deployment is sent, with the headers that authenticate it. */
export interface Route {
  readonly url: string
  readonly urlParams?: Readonly<Record<string, string>>
  readonly headers: Readonly<Record<string, string>>
  /** Values to scrub from messages when the key did not come from the deployment (an environment variable). */
  readonly secrets?: ReadonlyArray<string>
}

/** How an OpenAI-shaped upstream is reached; fails (e.g. NotFound) when the deployment lacks what it needs. */
export type Endpoint = (deployment: Deployment, operation: Operation) => Effect.Effect<Route, ProviderError>

/** What distinguishes one OpenAI-shaped provider from another. */
export interface OpenAiShapedOptions {
  readonly name: string
  readonly operations: ReadonlyArray<OperationName>
  readonly endpoint: Endpoint
}

/** The values to scrub from messages for a deployment: its key. */
export const secretsOf = (deployment: Deployment): ReadonlyArray<string> =>
  deployment.apiKey === undefined ? [] : [Redacted.value(deployment.apiKey)]

/** An environment variable through the current ConfigProvider, absent when unset or empty. */
export const envVar = (name: string): Effect.Effect<string | undefined> =>
  Config.option(Config.String(name)).pipe(
    Effect.map((o) => Option.getOrUndefined(Option.filter(o, (v) => v !== ""))),
    Effect.orElseSucceed(() => undefined)
  )

/** A deployment's key: its `api_key`, else the first of the given environment variables that is set. */
export const apiKeyOf = (deployment: Deployment, envNames: ReadonlyArray<string>): Effect.Effect<string | undefined> =>
  deployment.apiKey !== undefined
    ? Effect.succeed(Redacted.value(deployment.apiKey))
    : Effect.reduce(envNames, (): string | undefined => undefined, (found, name) => (found !== undefined ? Effect.succeed(found) : envVar(name)))

type Body = Record<string, unknown>

/** The JSON body sent upstream: the client's fields, the deployment's model, and the streaming switches. */
const jsonBody = (operation: Operation, deployment: Deployment, request: unknown, streaming: boolean): Body => {
  const { stream: _stream, stream_options, ...rest } = request as Body
  if (!streaming || operation.stream?.kind !== "text") return { ...rest, model: deployment.model }
  // Chat and completion streams report usage only when asked; the router needs it to count tokens.
  const options = operation.name === "chat" || operation.name === "completion"
    ? { stream_options: { ...(stream_options as Body | undefined), include_usage: true } }
    : stream_options === undefined
    ? {}
    : { stream_options }
  return { ...rest, model: deployment.model, stream: true, ...options }
}

/** The HTTP request for one call or stream. */
const buildRequest = (route: Route, operation: Operation, deployment: Deployment, request: unknown, streaming: boolean) => {
  const base = HttpClientRequest.post(route.url).pipe(
    HttpClientRequest.setHeaders(route.headers),
    route.urlParams === undefined ? (r) => r : HttpClientRequest.setUrlParams(route.urlParams)
  )
  if (operation.name === "transcription") {
    return HttpClientRequest.bodyFormData(base, uploadForm(request as Wire.TranscriptionRequest, deployment.model))
  }
  return HttpClientRequest.bodyJsonUnsafe(
    streaming && operation.stream?.kind === "text" ? HttpClientRequest.accept(base, "text/event-stream") : base,
    jsonBody(operation, deployment, request, streaming)
  )
}

const contentTypeOf = (response: HttpClientResponse.HttpClientResponse, fallback: string) =>
  response.headers["content-type"] ?? fallback

/** Concatenates byte pieces into one array. */
const concatBytes = (pieces: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of pieces) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** A binary reply (speech) as AudioChunks, one per piece the socket delivered, keeping the upstream's type. */
const audioChunks = (response: HttpClientResponse.HttpClientResponse, secrets: ReadonlyArray<string>) => {
  const contentType = contentTypeOf(response, "application/octet-stream")
  return Stream.map(bodyBytes(response, secrets), (data): Wire.AudioChunk => ({ contentType, data }))
}

/** Whether an event ends a reply: a choice with a finish reason, or a finished Responses API response. */
const isFinalEvent = (event: JsonEvent): boolean => {
  const data = event.data as { readonly type?: unknown; readonly choices?: unknown }
  if (data.type === "response.completed" || data.type === "response.incomplete") return true
  const choice = Array.isArray(data.choices) ? (data.choices[0] as { finish_reason?: unknown } | undefined) : undefined
  return typeof choice?.finish_reason === "string"
}

/** Decodes each event's data with the chunk schema, once, at the wire. */
const decodeInto = <Chunk>(schema: Schema.Codec<Chunk, unknown>, secrets: ReadonlyArray<string>) =>
(event: JsonEvent, out: Array<Chunk>): ProviderError | undefined => {
  const decoded = decodeResult(schema, event.data, secrets)
  if (Result.isFailure(decoded)) return decoded.failure
  out.push(decoded.success)
}

/** Builds an OpenAI-shaped provider over a shared HttpClient. */
export const makeOpenAiShaped = (client: HttpClient.HttpClient, options: OpenAiShapedOptions): Provider => {
  const supported = new Set<OperationName>(options.operations)
  const unsupported = (operation: Operation) =>
    new UnsupportedOperation({ operation: operation.name, message: `${options.name} does not support ${operation.name}` })

  // A deployment's route and secrets do not change while it lives: work them out once per operation, not per call.
  const routes = new WeakMap<Deployment, Map<string, { readonly route: Route; readonly secrets: ReadonlyArray<string> }>>()
  const routeOf = (operation: Operation, deployment: Deployment) => {
    let byOperation = routes.get(deployment)
    const found = byOperation?.get(operation.name)
    if (found !== undefined) return Effect.succeed(found)
    return Effect.map(options.endpoint(deployment, operation), (route) => {
      const entry = { route, secrets: route.secrets ?? secretsOf(deployment) }
      if (byOperation === undefined) routes.set(deployment, byOperation = new Map())
      byOperation.set(operation.name, entry)
      return entry
    })
  }

  const open = (operation: Operation, deployment: Deployment, request: unknown, streaming: boolean) =>
    supported.has(operation.name as OperationName)
      ? Effect.flatMap(routeOf(operation, deployment), ({ route, secrets }) =>
        Effect.map(
          send(client, buildRequest(route, operation, deployment, request, streaming), secrets),
          (response) => ({ response, secrets })
        ))
      : Effect.fail(unsupported(operation))

  const call = <Req, Res>(operation: Operation<string, Req, Res, any>, deployment: Deployment, request: Req) =>
    Effect.gen(function*() {
      const { response, secrets } = yield* open(operation, deployment, request, false)
      if (operation.stream?.kind === "bytes") {
        const pieces = yield* Stream.runCollect(bodyBytes(response, secrets))
        const audio = { contentType: contentTypeOf(response, "application/octet-stream"), data: concatBytes(pieces) }
        return yield* decodeWith(operation.response, audio, secrets, response.status)
      }
      // Transcriptions asked for as text, srt or vtt come back as plain text, not JSON.
      if (operation.name === "transcription" && !contentTypeOf(response, "").includes("json")) {
        const text = yield* readText(response, secrets)
        return yield* decodeWith(operation.response, { text }, secrets, response.status)
      }
      return yield* readJson(response, operation.response, secrets)
    })

  const stream = <Req, Chunk>(operation: Operation<string, Req, any, Chunk>, deployment: Deployment, request: Req) => {
    const spec = operation.stream
    if (spec === undefined) return Stream.fail(unsupported(operation))
    const chunks = Stream.unwrap(Effect.map(open(operation, deployment, request, true), ({ response, secrets }) =>
      spec.kind === "bytes"
        ? (audioChunks(response, secrets) as Stream.Stream<Chunk, ProviderError>)
        : sseEvents(response, secrets, { isFinal: isFinalEvent, decode: decodeInto(spec.chunk, secrets) })))
    return guardStream(spec, chunks)
  }

  return { name: options.name, operations: supported, supportsPrefill: false, call, stream }
}
