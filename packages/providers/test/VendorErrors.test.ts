/**
 * Every error type Bedrock and Cohere document, as the table classifies it: Bedrock's HTTP exceptions
 * (by `x-amzn-errortype`), its in-stream exception frames (no status: the type implies it), and Cohere's
 * statuses with its `{id, message}` body.
 */
import { assert, describe, it } from "@effect/vitest"
import { classifyWithRow, type FailureFacts } from "../src/ErrorMapping.ts"

const facts = (status: number | undefined, body: unknown, headers: Record<string, string> = {}): FailureFacts => ({
  status,
  headers,
  body,
  nowMillis: 0,
  secrets: []
})
const aws = (status: number | undefined, type: string, message = "upstream said so") =>
  facts(status, { message }, { "x-amzn-errortype": status === undefined ? type : `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` })

const bedrockHttp: ReadonlyArray<readonly [number, string, string, string?]> = [
  [400, "ValidationException", "BadRequest"],
  [400, "ValidationException", "ContextWindowExceeded", "Input is too long for requested model."],
  [400, "ServiceQuotaExceededException", "RateLimited"],
  [403, "AccessDeniedException", "Authentication"],
  [403, "UnrecognizedClientException", "Authentication"],
  [403, "InvalidSignatureException", "Authentication"],
  [403, "ExpiredTokenException", "Authentication"],
  [403, "MissingAuthenticationTokenException", "Authentication"],
  [404, "ResourceNotFoundException", "NotFound"],
  [408, "ModelTimeoutException", "Timeout"],
  [424, "ModelErrorException", "ServerError"],
  [429, "ThrottlingException", "RateLimited"],
  [429, "ModelNotReadyException", "RateLimited"],
  [500, "InternalServerException", "ServerError"],
  [503, "ServiceUnavailableException", "Overloaded"]
]

const bedrockStream: ReadonlyArray<readonly [string, string]> = [
  ["throttlingException", "RateLimited"],
  ["modelStreamErrorException", "ServerError"],
  ["serviceUnavailableException", "Overloaded"],
  ["validationException", "BadRequest"],
  ["internalServerException", "ServerError"],
  ["modelTimeoutException", "Timeout"],
  ["accessDeniedException", "Authentication"],
  ["resourceNotFoundException", "NotFound"]
]

const cohere: ReadonlyArray<readonly [number, string]> = [
  [400, "BadRequest"],
  [401, "Authentication"],
  [402, "Authentication"],
  [404, "NotFound"],
  [422, "BadRequest"],
  [429, "RateLimited"],
  [499, "BadRequest"],
  [500, "ServerError"],
  [501, "ServerError"],
  [503, "Overloaded"],
  [504, "ServerError"]
]

describe("Bedrock and Cohere error types", () => {
  for (const [status, type, tag, message] of bedrockHttp) {
    it(`bedrock ${status} ${type}${message === undefined ? "" : ` (${message})`} → ${tag}`, () => {
      const { error } = classifyWithRow(aws(status, type, message))
      assert.strictEqual(error._tag, tag)
      assert.strictEqual(error.status, status)
    })
  }
  for (const [type, tag] of bedrockStream) {
    it(`bedrock in-stream ${type} → ${tag}`, () => {
      assert.strictEqual(classifyWithRow(aws(undefined, type)).error._tag, tag)
    })
  }
  for (const [status, tag] of cohere) {
    it(`cohere ${status} → ${tag}`, () => {
      const { error } = classifyWithRow(facts(status, { id: "e1", message: "cohere said so" }))
      assert.strictEqual(error._tag, tag)
      assert.strictEqual(error.message, "cohere said so")
    })
  }
})
