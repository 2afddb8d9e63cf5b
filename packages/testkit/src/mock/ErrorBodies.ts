/**
 * Error replies as the real vendors send them: OpenAI's `{error:{message,type,param,code}}` (with Azure's
 * content-filter details), Anthropic's `{type:"error",error:{type,message}}`, and the HTML page a gateway
 * in front of an upstream answers 502 with.
 */
import { googleErrorReply, googleSseErrorFrame } from "./GeminiMock.ts"
import { bedrockErrorReply } from "./Bedrock.ts"
import { cohereErrorReply } from "./Cohere.ts"
import type { MockWire } from "./ReferenceText.ts"

/** An error reply: status, content type and body text. */
export interface ErrorReply {
  readonly status: number
  readonly contentType: string
  readonly body: string
  /** Headers the vendor sends with the error (AWS's `x-amzn-errortype`). */
  readonly headers?: Record<string, string>
}

/** What the request told us, for messages that quote it (the model, the key that was presented). */
export interface ErrorContext {
  readonly model: string | undefined
  readonly presentedKey: string | undefined
}

/** The overridable fields of an error behaviour. */
export interface ErrorSpec {
  readonly status: number
  readonly message?: string | undefined
  readonly code?: string | undefined
  readonly type?: string | undefined
  readonly param?: string | undefined
  readonly body?: unknown
}

const openAiDefaults = (status: number, ctx: ErrorContext) => {
  switch (status) {
    case 401:
      // Some OpenAI-compatible servers echo the key they were given; the gateway must scrub it.
      return {
        message: `Incorrect API key provided: ${ctx.presentedKey ?? "(none)"}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        type: "invalid_request_error",
        code: "invalid_api_key"
      }
    case 403:
      return { message: "You are not allowed to sample from this model", type: "invalid_request_error", code: null }
    case 404:
      return {
        message: `The model \`${ctx.model ?? "unknown"}\` does not exist or you do not have access to it.`,
        type: "invalid_request_error",
        code: "model_not_found"
      }
    case 408:
      return { message: "Request timed out.", type: "timeout", code: null }
    case 429:
      return {
        message: "Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.",
        type: "requests",
        code: "rate_limit_exceeded"
      }
    case 503:
      return { message: "The engine is currently overloaded, please try again later.", type: "server_error", code: null }
    case 529:
      return { message: "The server is overloaded.", type: "server_error", code: "overloaded" }
    default:
      return status >= 500
        ? { message: "The server had an error while processing your request. Sorry about that!", type: "server_error", code: null }
        : { message: "Invalid request.", type: "invalid_request_error", code: null }
  }
}

const contentFilterError = {
  message:
    "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
  type: null,
  param: "prompt",
  code: "content_filter",
  status: 400,
  innererror: {
    code: "ResponsibleAIPolicyViolation",
    content_filter_result: {
      hate: { filtered: false, severity: "safe" },
      self_harm: { filtered: false, severity: "safe" },
      sexual: { filtered: false, severity: "safe" },
      violence: { filtered: true, severity: "medium" }
    }
  }
}

const anthropicTypes: Readonly<Record<number, readonly [string, string]>> = {
  400: ["invalid_request_error", "Invalid request."],
  401: ["authentication_error", "invalid x-api-key"],
  403: ["permission_error", "Your API key does not have permission to use the specified resource."],
  404: ["not_found_error", "model: not found"],
  413: ["request_too_large", "Request exceeds the maximum allowed number of bytes."],
  429: ["rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."],
  500: ["api_error", "Internal server error"],
  529: ["overloaded_error", "Overloaded"]
}

const gatewayPage = (status: number) =>
  `<html>\r\n<head><title>${status} Bad Gateway</title></head>\r\n<body>\r\n<center><h1>${status} Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n`

const json = (status: number, body: unknown): ErrorReply => ({
  status,
  contentType: "application/json",
  body: typeof body === "string" ? body : JSON.stringify(body)
})

/** The error reply a vendor of `wire` sends for `spec`. */
export const errorReply = (wire: MockWire, spec: ErrorSpec, ctx: ErrorContext): ErrorReply => {
  const { status } = spec
  if (wire === "google") return googleErrorReply(spec)
  if (wire === "bedrock") return bedrockErrorReply(spec)
  if (wire === "cohere") return cohereErrorReply(spec)
  if (spec.body !== undefined) return json(status, spec.body)
  if (wire === "anthropic") {
    const [defaultType, defaultMessage] = anthropicTypes[status] ?? (status >= 500 ? anthropicTypes[500]! : anthropicTypes[400]!)
    const message = spec.message ??
      (spec.code === "context_length_exceeded" ? "prompt is too long: 215000 tokens > 200000 maximum" : defaultMessage)
    return json(status, {
      type: "error",
      error: { type: spec.type ?? defaultType, message },
      request_id: "req_mock"
    })
  }
  if (spec.code === "content_filter" && spec.message === undefined) return json(status, { error: contentFilterError })
  if (status === 502 && spec.message === undefined && spec.code === undefined) {
    return { status, contentType: "text/html", body: gatewayPage(status) }
  }
  const defaults = openAiDefaults(status, ctx)
  return json(status, {
    error: {
      message: spec.message ?? defaults.message,
      type: spec.type ?? defaults.type,
      param: spec.param ?? null,
      code: spec.code ?? defaults.code
    }
  })
}

/** The in-stream error event of `wire`, as a complete SSE frame. */
export const sseErrorFrame = (
  wire: MockWire,
  operation: string,
  options: { readonly message?: string | undefined; readonly type?: string | undefined },
  sequence: number
): string => {
  if (wire === "google") return googleSseErrorFrame(options)
  if (wire === "anthropic") {
    const type = options.type ?? "overloaded_error"
    return `event: error\ndata: ${JSON.stringify({ type: "error", error: { type, message: options.message ?? "Overloaded" } })}\n\n`
  }
  const message = options.message ?? "The server had an error while processing your request. Sorry about that!"
  if (operation === "responses") {
    const data = { type: "error", code: options.type ?? "server_error", message, param: null, sequence_number: sequence }
    return `event: error\ndata: ${JSON.stringify(data)}\n\n`
  }
  return `data: ${JSON.stringify({ error: { message, type: options.type ?? "server_error", param: null, code: null } })}\n\n`
}
