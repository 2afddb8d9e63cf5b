import { assert, describe, it } from "@effect/vitest"
import { HttpClientError, HttpClientRequest, HttpClientResponse } from "effect/http"
import {
  classifyWithRow,
  errorTable,
  type FailureFacts,
  fromHttpClientError,
  midStream,
  parseRetryAfter,
  readDetail,
  scrubSecrets
} from "../src/ErrorMapping.ts"

const KEY = "sk-live-0123456789abcdef"
const NOW = Date.parse("2026-11-25T12:00:00Z")

const facts = (status: number | undefined, body: unknown, headers: Record<string, string> = {}): FailureFacts => ({
  status,
  headers,
  body,
  nowMillis: NOW,
  secrets: [KEY]
})
const openai = (message: string, code: string | null = null, type = "invalid_request_error", param: string | null = null) => ({
  error: { message, type, param, code }
})
const anthropic = (type: string, message: string) => ({ type: "error", error: { type, message } })
const google = (code: number, status: string, message: string) => ({ error: { code, message, status } })
const PREFILL_REFUSAL = "This model does not support assistant message prefill. The conversation must end with a user message."

interface Case {
  readonly name: string
  readonly facts: FailureFacts
  readonly row: string
  readonly tag: string
  readonly check?: (error: Record<string, unknown>) => void
}

/** One case or more per row of the table; the last test proves every row is exercised. */
const cases: ReadonlyArray<Case> = [
  {
    name: "429 with retry-after in seconds",
    facts: facts(429, openai("Rate limit reached", "rate_limit_exceeded", "requests"), { "retry-after": "7" }),
    row: "429 rate limited",
    tag: "RateLimited",
    check: (e) => assert.strictEqual(e.retryAfterMillis, 7000)
  },
  {
    name: "429 with retry-after-ms wins over retry-after",
    facts: facts(429, openai("slow down"), { "retry-after-ms": "1500", "retry-after": "9" }),
    row: "429 rate limited",
    tag: "RateLimited",
    check: (e) => assert.strictEqual(e.retryAfterMillis, 1500)
  },
  {
    name: "429 with retry-after as an HTTP date",
    facts: facts(429, anthropic("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"), {
      "retry-after": new Date(NOW + 30_000).toUTCString()
    }),
    row: "429 rate limited",
    tag: "RateLimited",
    check: (e) => assert.strictEqual(e.retryAfterMillis, 30_000)
  },
  {
    name: "429 without retry-after has none",
    facts: facts(429, openai("slow down")),
    row: "429 rate limited",
    tag: "RateLimited",
    check: (e) => assert.isUndefined(e.retryAfterMillis)
  },
  { name: "401", facts: facts(401, openai("Incorrect API key provided")), row: "401/403 authentication", tag: "Authentication" },
  {
    name: "Anthropic 400: credit balance too low",
    facts: facts(400, anthropic("invalid_request_error", "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.")),
    row: "account problem",
    tag: "Authentication"
  },
  {
    name: "OpenAI 429 insufficient_quota (no retry-after helps)",
    facts: facts(429, openai("You exceeded your current quota, please check your plan and billing details.", "insufficient_quota", "insufficient_quota")),
    row: "account problem",
    tag: "Authentication"
  },
  {
    name: "Gemini 400: API key not valid",
    facts: facts(400, { error: { code: 400, message: "API key not valid. Please pass a valid API key.", status: "INVALID_ARGUMENT" } }),
    row: "account problem",
    tag: "Authentication"
  },
  {
    name: "Anthropic 400: organization disabled",
    facts: facts(400, anthropic("invalid_request_error", "This organization has been disabled.")),
    row: "account problem",
    tag: "Authentication"
  },
  {
    name: "403 (Anthropic permission_error)",
    facts: facts(403, anthropic("permission_error", "not allowed")),
    row: "401/403 authentication",
    tag: "Authentication"
  },
  { name: "408", facts: facts(408, openai("Request timed out.")), row: "408 timeout", tag: "Timeout" },
  {
    name: "OpenAI content_policy_violation",
    facts: facts(400, openai("Your request was rejected by our safety system", "content_policy_violation")),
    row: "content policy",
    tag: "ContentPolicy"
  },
  {
    name: "Azure content filter (innererror)",
    facts: facts(400, {
      error: {
        message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        code: "content_filter",
        innererror: { code: "ResponsibleAIPolicyViolation", content_filter_result: {} }
      }
    }),
    row: "content policy",
    tag: "ContentPolicy"
  },
  {
    name: "context_length_exceeded code",
    facts: facts(400, openai("This model's maximum context length is 8192 tokens.", "context_length_exceeded")),
    row: "context window exceeded",
    tag: "ContextWindowExceeded"
  },
  {
    name: "Anthropic prompt is too long",
    facts: facts(400, anthropic("invalid_request_error", "prompt is too long: 215000 tokens > 200000 maximum")),
    row: "context window exceeded",
    tag: "ContextWindowExceeded"
  },
  {
    name: "404 without a body",
    facts: facts(404, ""),
    row: "model not found",
    tag: "NotFound",
    check: (e) => assert.strictEqual(e.status, 404)
  },
  {
    name: "400 could not find real modelID (Kokoro behind an alias)",
    facts: facts(400, openai("could not find real modelID for kokoro")),
    row: "model not found",
    tag: "NotFound",
    check: (e) => assert.strictEqual(e.status, 400)
  },
  {
    name: "model_not_found code",
    facts: facts(400, openai("The model `gpt-5` does not exist", "model_not_found")),
    row: "model not found",
    tag: "NotFound"
  },
  {
    name: "Ollama-style string error",
    facts: facts(400, { error: "model 'llama9' not found, try pulling it first" }),
    row: "model not found",
    tag: "NotFound"
  },
  {
    name: "503 with retry-after",
    facts: facts(503, openai("The engine is currently overloaded", null, "server_error"), { "retry-after": "2" }),
    row: "503/529 overloaded",
    tag: "Overloaded",
    check: (e) => assert.strictEqual(e.retryAfterMillis, 2000)
  },
  {
    name: "529 Anthropic overloaded",
    facts: facts(529, anthropic("overloaded_error", "Overloaded")),
    row: "503/529 overloaded",
    tag: "Overloaded"
  },
  { name: "500", facts: facts(500, openai("The server had an error", null, "server_error")), row: "other 5xx server error", tag: "ServerError" },
  {
    name: "502 HTML page from a gateway",
    facts: facts(502, "<html><head><title>502 Bad Gateway</title></head></html>"),
    row: "other 5xx server error",
    tag: "ServerError"
  },
  {
    name: "400 with a param",
    facts: facts(400, openai("Invalid value for 'temperature'", "invalid_value", "invalid_request_error", "temperature")),
    row: "other 4xx bad request",
    tag: "BadRequest",
    check: (e) => assert.strictEqual(e.param, "temperature")
  },
  {
    name: "422 FastAPI detail",
    facts: facts(422, { detail: [{ loc: ["body", "voice"], msg: "field required" }] }),
    row: "other 4xx bad request",
    tag: "BadRequest",
    check: (e) => assert.include(String(e.message), "field required")
  },
  {
    name: "in-stream Anthropic overloaded_error (no status) classifies by its type",
    facts: facts(undefined, anthropic("overloaded_error", "Overloaded")),
    row: "503/529 overloaded",
    tag: "Overloaded",
    check: (e) => assert.isUndefined(e.status)
  },
  {
    name: "in-stream OpenAI server_error",
    facts: facts(undefined, openai("The server had an error", null, "server_error")),
    row: "other 5xx server error",
    tag: "ServerError"
  },
  {
    name: "in-stream Responses API response.failed",
    facts: facts(undefined, { type: "response.failed", response: { error: { code: "rate_limit_exceeded", message: "slow" } } }),
    row: "429 rate limited",
    tag: "RateLimited"
  },
  {
    name: "Google 429 RESOURCE_EXHAUSTED",
    facts: facts(429, google(429, "RESOURCE_EXHAUSTED", "Resource exhausted. Please try again later.")),
    row: "429 rate limited",
    tag: "RateLimited"
  },
  {
    name: "Google in-stream RESOURCE_EXHAUSTED (no HTTP status)",
    facts: facts(undefined, google(429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute")),
    row: "429 rate limited",
    tag: "RateLimited"
  },
  {
    name: "Google 503 UNAVAILABLE",
    facts: facts(503, google(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")),
    row: "503/529 overloaded",
    tag: "Overloaded"
  },
  {
    name: "Google in-stream UNAVAILABLE",
    facts: facts(undefined, google(503, "UNAVAILABLE", "The service is currently unavailable.")),
    row: "503/529 overloaded",
    tag: "Overloaded"
  },
  {
    name: "Google 403 PERMISSION_DENIED",
    facts: facts(403, google(403, "PERMISSION_DENIED", "Permission 'aiplatform.endpoints.predict' denied on resource")),
    row: "401/403 authentication",
    tag: "Authentication"
  },
  {
    name: "Google 401 UNAUTHENTICATED",
    facts: facts(401, google(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")),
    row: "401/403 authentication",
    tag: "Authentication"
  },
  {
    name: "Google 404 NOT_FOUND",
    facts: facts(404, google(404, "NOT_FOUND", "Publisher Model `projects/p/locations/us-central1/publishers/google/models/gemini-9` was not found")),
    row: "model not found",
    tag: "NotFound"
  },
  {
    name: "Google 400 INVALID_ARGUMENT",
    facts: facts(400, google(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unknown name \"foo\": Cannot find field.")),
    row: "other 4xx bad request",
    tag: "BadRequest"
  },
  {
    name: "Google 400 INVALID_ARGUMENT about the token count",
    facts: facts(400, google(400, "INVALID_ARGUMENT", "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).")),
    row: "context window exceeded",
    tag: "ContextWindowExceeded"
  },
  {
    name: "Google 500 INTERNAL",
    facts: facts(500, google(500, "INTERNAL", "An internal error has occurred.")),
    row: "other 5xx server error",
    tag: "ServerError"
  },
  {
    name: "Google 504 DEADLINE_EXCEEDED",
    facts: facts(504, google(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.")),
    row: "deadline exceeded (Google)",
    tag: "Timeout"
  },
  {
    name: "Anthropic 400 assistant prefill refusal",
    facts: facts(400, anthropic("invalid_request_error", PREFILL_REFUSAL)),
    row: "assistant prefill refused",
    tag: "BadRequest",
    check: (e) => assert.strictEqual(e.reason, "prefill_unsupported")
  },
  {
    name: "in-stream error we cannot read",
    facts: facts(undefined, { type: "error" }),
    row: "unrecognised failure",
    tag: "ServerError"
  },
  {
    name: "Bedrock ServiceQuotaExceededException (400)",
    facts: facts(400, { message: "quota" }, { "x-amzn-errortype": "ServiceQuotaExceededException:http://internal.amazon.com/coral/com.amazon.bedrock/" }),
    row: "aws service quota exceeded",
    tag: "RateLimited"
  },
  {
    name: "Bedrock in-stream modelStreamErrorException",
    facts: facts(undefined, { message: "The model failed" }, { "x-amzn-errortype": "modelStreamErrorException" }),
    row: "aws model error",
    tag: "ServerError"
  },
  { name: "Cohere 402", facts: facts(402, { id: "x", message: "add a payment method" }), row: "402 payment required", tag: "Authentication" }
]

describe("ErrorMapping table", () => {
  for (const c of cases) {
    it(`${c.name} → ${c.tag}`, () => {
      const { row, error } = classifyWithRow(c.facts)
      assert.strictEqual(row, c.row)
      assert.strictEqual(error._tag, c.tag)
      if (c.facts.status !== undefined) assert.strictEqual(error.status, c.facts.status)
      c.check?.(error as unknown as Record<string, unknown>)
    })
  }

  it("every row of the table is exercised by a case", () => {
    const hit = new Set(cases.map((c) => c.row))
    assert.deepStrictEqual(errorTable.map((r) => r.name).filter((name) => !hit.has(name)), [])
  })

  it("keeps the upstream message but never the key", () => {
    const body = openai(`Incorrect API key provided: ${KEY}. Header was Authorization: Bearer ${KEY}`)
    const { error } = classifyWithRow(facts(401, body))
    assert.include(error.message, "Incorrect API key provided")
    assert.notInclude(error.message, KEY)
    assert.notInclude(error.message, "0123456789abcdef")
  })
})

describe("scrubSecrets", () => {
  it.each([
    ["the deployment's own key, whatever its shape", "key=my-own-secret-value!", ["my-own-secret-value!"], "key=[REDACTED]"],
    ["sk- keys, also partially masked ones", "bad key sk-proj-****abcd and sk-ant-api03-xyz", [], "bad key [REDACTED] and [REDACTED]"],
    ["bearer tokens", "sent Authorization: Bearer abc.def.ghi", [], "sent Authorization: Bearer [REDACTED]"],
    ["api-key headers", "api-key: 123456 was refused", [], "api-key: [REDACTED] was refused"],
    ["text without secrets is unchanged", "model not found", ["abcd"], "model not found"]
  ] as const)("%s", (_, text, secrets, expected) => {
    assert.strictEqual(scrubSecrets(text, secrets), expected)
  })
})

describe("parseRetryAfter", () => {
  it.each([
    [{ "retry-after": "3" }, 3000],
    [{ "retry-after": "0.5" }, 500],
    [{ "retry-after-ms": "250" }, 250],
    [{ "retry-after": new Date(NOW - 5000).toUTCString() }, 0],
    [{ "retry-after": "soon" }, undefined],
    [{}, undefined]
  ] as const)("%o → %s", (headers, expected) => {
    assert.strictEqual(parseRetryAfter(headers, NOW), expected)
  })
})

describe("readDetail", () => {
  it("reads vLLM's flat error object", () => {
    const detail = readDetail({ object: "error", message: "bad", type: "BadRequestError", param: null, code: 400 })
    assert.deepStrictEqual(detail, { message: "bad", code: "400", type: "BadRequestError", param: undefined })
  })
})

describe("fromHttpClientError", () => {
  const request = HttpClientRequest.post("http://127.0.0.1:1/v1/chat/completions")
  it("a transport failure is Connection, with the socket's code and no key", () => {
    const cause = Object.assign(new Error(`connect ECONNREFUSED (key ${KEY})`), { code: "ECONNREFUSED" })
    const error = fromHttpClientError(new HttpClientError.HttpClientError({ reason: new HttpClientError.TransportError({ request, cause }) }), [KEY])
    assert.strictEqual(error._tag, "Connection")
    assert.include(error.message, "ECONNREFUSED")
    assert.notInclude(error.message, KEY)
  })
  it("a body that breaks while read is Connection with the status", () => {
    const response = HttpClientResponse.fromWeb(request, new Response("", { status: 200 }))
    const reason = new HttpClientError.DecodeError({ request, response, cause: new Error("other side closed") })
    const error = fromHttpClientError(new HttpClientError.HttpClientError({ reason }), [])
    assert.strictEqual(error._tag, "Connection")
    assert.strictEqual(error.status, 200)
  })
  it("an invalid api_base is a misconfiguration (NotFound)", () => {
    const reason = new HttpClientError.InvalidUrlError({ request, cause: new TypeError("Invalid URL") })
    assert.strictEqual(fromHttpClientError(new HttpClientError.HttpClientError({ reason }), [])._tag, "NotFound")
  })
})

describe("midStream", () => {
  it("keeps the cause's class and status in the message and carries the received text", () => {
    const { error } = classifyWithRow(facts(undefined, anthropic("overloaded_error", "Overloaded")))
    const mid = midStream(error, "The quick ")
    assert.strictEqual(mid._tag, "MidStream")
    assert.strictEqual(mid.received, "The quick ")
    assert.include(mid.message, "Overloaded")
  })
})
