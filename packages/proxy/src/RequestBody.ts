/**
 * Request bodies: read once up to the size limit, parsed as JSON or as `multipart/form-data`, then
 * decoded with the operation's own request schema. Nothing here knows an operation: multipart fields are
 * coerced to numbers or booleans where the schema asks for them, so the same decode serves every route.
 */
import { type Operation, schemaIssues } from "@switchyard/core"
import { ByteSize, Effect, Result, Schema, SchemaAST, Stream } from "effect"
import { HttpServerRequest, Multipart } from "effect/http"
import { type ApiError, ApiErrors } from "./HttpErrors.ts"

/** The default body limit: OpenAI's own limit for audio uploads. */
export const DEFAULT_MAX_BODY_MB = 25

/** The limit in bytes for `general_settings.max_request_body_mb`. */
export const bodyLimitBytes = (maxRequestBodyMb: number | undefined): number =>
  Math.floor((maxRequestBodyMb ?? DEFAULT_MAX_BODY_MB) * 1024 * 1024)

const isBodyTooLarge = (error: unknown): boolean => {
  const reason = (error as { readonly reason?: { readonly reason?: unknown; readonly _tag?: unknown } }).reason
  return reason?.reason === "BodyTooLarge" || reason?._tag === "BodyTooLarge"
}

/** Reads the whole body, failing with 413 past `limitBytes`: at once when the declared length is over it. */
const readBytes = (request: HttpServerRequest.HttpServerRequest, limitBytes: number) =>
  Number(request.headers["content-length"] ?? 0) > limitBytes
    ? Effect.fail(ApiErrors.bodyTooLarge(limitBytes))
    : request.arrayBuffer.pipe(
      Effect.map((buffer) => new Uint8Array(buffer)),
      Effect.provideService(HttpServerRequest.MaxBodySize, ByteSize.bytes(limitBytes)),
      Effect.mapError((error): ApiError =>
        isBodyTooLarge(error) ? ApiErrors.bodyTooLarge(limitBytes) : ApiErrors.malformedJson("the body could not be read")
      )
    )

/** The deepest nesting a JSON body may have; real requests (tool schemas included) stay far below it. */
export const MAX_JSON_DEPTH = 128

/**
 * Whether `value` nests deeper than `limit`. Walked with an explicit stack: a body nested thousands deep
 * must be refused here, before anything recursive (a schema, `JSON.stringify`) overflows the call stack.
 */
const nestsDeeperThan = (value: unknown, limit: number): boolean => {
  const stack: Array<{ readonly node: unknown; readonly depth: number }> = [{ node: value, depth: 1 }]
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!
    if (depth > limit) return true
    const children = Array.isArray(node) ? node : Object.values(node as object)
    for (const child of children) {
      if (typeof child === "object" && child !== null) stack.push({ node: child, depth: depth + 1 })
    }
  }
  return false
}

// Decoding without `stream` keeps no state between calls, so one decoder serves every request.
const utf8 = new TextDecoder()

const parseJson = (bytes: Uint8Array): Effect.Effect<Record<string, unknown>, ApiError> => {
  let value: unknown
  try {
    value = JSON.parse(utf8.decode(bytes))
  } catch (e) {
    return Effect.fail(ApiErrors.malformedJson(bytes.length === 0 ? "the body is empty" : (e as Error).message))
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return Effect.fail(ApiErrors.malformedJson("expected a JSON object"))
  }
  return nestsDeeperThan(value, MAX_JSON_DEPTH)
    ? Effect.fail(ApiErrors.malformedJson(`nested deeper than ${MAX_JSON_DEPTH} levels`))
    : Effect.succeed(value as Record<string, unknown>)
}

/** The scalar kinds a property accepts, read from the schema (through unions such as `NullOr`). */
const scalarKinds = (ast: SchemaAST.AST): Set<string> => {
  const kinds = new Set<string>()
  const visit = (node: SchemaAST.AST) => {
    if (SchemaAST.isUnion(node)) node.types.forEach(visit)
    else kinds.add(node._tag)
  }
  visit(ast)
  return kinds
}

/** Turns a form field into the type the schema wants; a field it cannot read as such stays a string. */
const coerce = (value: string, kinds: Set<string> | undefined): unknown => {
  if (kinds === undefined || kinds.has("String")) return value
  if (kinds.has("Number") && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value)
  if (kinds.has("Boolean") && (value === "true" || value === "false")) return value === "true"
  return value
}

const fieldKinds = (operation: Operation): Map<string, Set<string>> => {
  const ast = operation.request.ast
  const kinds = new Map<string, Set<string>>()
  if (SchemaAST.isObjects(ast)) for (const p of ast.propertySignatures) kinds.set(String(p.name), scalarKinds(p.type))
  return kinds
}

/** Parses a multipart body: files become `{ filename, contentType, data }`, repeated or `name[]` fields arrays. */
const parseMultipart = (
  request: HttpServerRequest.HttpServerRequest,
  bytes: Uint8Array,
  operation: Operation,
  limitBytes: number
): Effect.Effect<Record<string, unknown>, ApiError> =>
  Effect.gen(function*() {
    const kinds = fieldKinds(operation)
    const parts = yield* Stream.make(bytes).pipe(
      Stream.pipeThroughChannel(Multipart.makeChannel(request.headers)),
      // A file's content must be read before the next part, so parts are consumed one at a time.
      Stream.mapEffect((part) =>
        part._tag === "Field"
          ? Effect.succeed({ key: part.key, value: part.value as unknown, file: false })
          : Effect.map(part.contentEffect, (data) => ({
            key: part.key,
            value: { filename: part.name, contentType: part.contentType, data } as unknown,
            file: true
          }))
      ),
      Stream.runCollect,
      Effect.provideService(Multipart.MaxFieldSize, ByteSize.bytes(limitBytes)),
      Effect.provideService(Multipart.MaxFileSize, ByteSize.bytes(limitBytes)),
      Effect.mapError((e) => ApiErrors.malformedJson(`invalid multipart/form-data: ${e.message}`))
    )
    const body: Record<string, unknown> = {}
    for (const { key, value, file } of parts) {
      const list = key.endsWith("[]")
      const name = list ? key.slice(0, -2) : key
      const typed = file ? value : coerce(value as string, kinds.get(name))
      const previous = body[name]
      body[name] = previous === undefined
        ? (list ? [typed] : typed)
        : [...(Array.isArray(previous) ? previous : [previous]), typed]
    }
    return body
  })

/** Reads and parses a request body as JSON, or as multipart when the content type says so. */
export const readBody = (
  request: HttpServerRequest.HttpServerRequest,
  operation: Operation,
  limitBytes: number
): Effect.Effect<Record<string, unknown>, ApiError> =>
  Effect.flatMap(readBytes(request, limitBytes), (bytes) =>
    (request.headers["content-type"] ?? "").toLowerCase().startsWith("multipart/form-data")
      ? parseMultipart(request, bytes, operation, limitBytes)
      : parseJson(bytes))

/** The longest model name accepted; a longer one would only bloat the log line and the error. */
export const MAX_MODEL_NAME_LENGTH = 256

/** Refuses a `model` longer than any configured name could be (400). */
export const checkModelName = (body: Record<string, unknown>): Effect.Effect<void, ApiError> =>
  typeof body.model === "string" && body.model.length > MAX_MODEL_NAME_LENGTH
    ? Effect.fail(ApiErrors.invalidParam("model", `invalid request: model: longer than ${MAX_MODEL_NAME_LENGTH} characters`))
    : Effect.void

/** The 400 of a body that does not match the request schema: every bad field, the first one as `param`. */
const invalidRequest = (error: Schema.SchemaError): ApiError => {
  const issues = schemaIssues(error)
  const message = issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("; ")
  return ApiErrors.invalidParam(issues[0]?.path || null, `invalid request: ${message}`)
}

type Decoder = (body: unknown) => Result.Result<unknown, Schema.SchemaError>

// The request schemas are synchronous: decoding them directly skips running a parser effect per request.
const decoders = new WeakMap<Operation, Decoder>()
const decoderOf = (operation: Operation): Decoder => {
  let decoder = decoders.get(operation)
  if (decoder === undefined) {
    const decode = Schema.decodeUnknownResult(operation.request)
    decoder = (body) => decode(body, { errors: "all" })
    decoders.set(operation, decoder)
  }
  return decoder
}

/** Decodes a parsed body with the operation's request schema, reporting every bad field (400). */
export const decodeRequest = <Req>(
  operation: Operation<string, Req>,
  body: Record<string, unknown>
): Effect.Effect<Req, ApiError> => {
  const result = decoderOf(operation)(body)
  return Result.isSuccess(result) ? Effect.succeed(result.success as Req) : Effect.fail(invalidRequest(result.failure))
}
