/** Which credentials a Bedrock deployment uses, in LiteLLM's order, and where its requests go. */
import { assert, describe, it } from "@effect/vitest"
import { deploymentOf } from "@switchyard/testkit"
import { ConfigProvider, Effect, Redacted } from "effect"
import { authHeaders, bedrockApiOf, resolveBedrockTarget } from "../src/index.ts"

const env = (vars: Record<string, string>) => Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: vars })))
const d = (extra: Parameters<typeof deploymentOf>[0] extends infer F ? Partial<F & object> : never = {}) =>
  deploymentOf({ id: "b", provider: "bedrock", model: "amazon.nova-pro-v1:0", ...extra })
const awsParams = { accessKeyId: "AKIAPARAM", secretAccessKey: Redacted.make("param-secret-0123"), sessionToken: undefined, regionName: "eu-central-1", runtimeEndpoint: undefined }

describe("bedrock credentials and endpoint", () => {
  it.effect("api_key is a Bedrock API key, sent as Bearer, before any AWS key", () =>
    Effect.gen(function*() {
      const target = yield* resolveBedrockTarget(d({ apiKey: Redacted.make("ABSK-key-0001"), aws: awsParams })).pipe(env({}))
      const headers = yield* authHeaders(target, `${target.endpoint}/model/x/converse`, {}, "{}", new Date(0))
      assert.strictEqual(headers.authorization, "Bearer ABSK-key-0001")
    }))

  it.effect("aws_* params sign with SigV4 in their region, at the regional endpoint", () =>
    Effect.gen(function*() {
      const target = yield* resolveBedrockTarget(d({ aws: awsParams })).pipe(env({ AWS_REGION: "us-west-2" }))
      assert.strictEqual(target.endpoint, "https://bedrock-runtime.eu-central-1.amazonaws.com")
      const headers = yield* authHeaders(target, `${target.endpoint}/model/x/converse`, { "content-type": "application/json" }, "{}", new Date(Date.UTC(2026, 10, 30)))
      assert.match(headers.authorization!, /^AWS4-HMAC-SHA256 Credential=AKIAPARAM\/20261130\/eu-central-1\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/)
      assert.strictEqual(headers["x-amz-date"], "20261130T000000Z")
      assert.isUndefined(headers.host)
      assert.include(target.secrets, "param-secret-0123")
    }))

  it.effect("without either, AWS_BEARER_TOKEN_BEDROCK, then the AWS_* variables (session token included)", () =>
    Effect.gen(function*() {
      const bearer = yield* resolveBedrockTarget(d()).pipe(env({ AWS_BEARER_TOKEN_BEDROCK: "ABSK-env", AWS_ACCESS_KEY_ID: "AKIAENV", AWS_SECRET_ACCESS_KEY: "s" }))
      assert.strictEqual(bearer.auth._tag, "Bearer")
      const sigv4 = yield* resolveBedrockTarget(d()).pipe(
        env({ AWS_ACCESS_KEY_ID: "AKIAENV", AWS_SECRET_ACCESS_KEY: "env-secret-0123", AWS_SESSION_TOKEN: "env-session-0123", AWS_DEFAULT_REGION: "ap-south-1" })
      )
      assert.strictEqual(sigv4.region, "ap-south-1")
      const headers = yield* authHeaders(sigv4, `${sigv4.endpoint}/model/x/converse`, {}, "{}", new Date(0))
      assert.strictEqual(headers["x-amz-security-token"], "env-session-0123")
      assert.sameMembers([...sigv4.secrets], ["env-secret-0123", "env-session-0123"])
    }))

  it.effect("no credentials at all is an Authentication error naming the deployment", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolveBedrockTarget(d()).pipe(env({})))
      assert.strictEqual(error._tag, "Authentication")
      assert.include(error.message, "bedrock deployment b")
    }))

  it.effect("aws_bedrock_runtime_endpoint wins over api_base, which wins over the regional default", () =>
    Effect.gen(function*() {
      const both = yield* resolveBedrockTarget(d({ apiBase: "https://a.example/", aws: { ...awsParams, runtimeEndpoint: "https://b.example/" } })).pipe(env({}))
      assert.strictEqual(both.endpoint, "https://b.example")
      const base = yield* resolveBedrockTarget(d({ apiBase: "https://a.example/", aws: awsParams })).pipe(env({}))
      assert.strictEqual(base.endpoint, "https://a.example")
    }))

  it("picks the API: converse/ and invoke/ prefixes force one; Anthropic models use Invoke", () => {
    assert.deepStrictEqual(bedrockApiOf("anthropic.claude-3-haiku-20240307-v1:0"), { api: "invoke", modelId: "anthropic.claude-3-haiku-20240307-v1:0" })
    assert.deepStrictEqual(bedrockApiOf("us.anthropic.claude-sonnet-4-20250514-v1:0").api, "invoke")
    assert.deepStrictEqual(bedrockApiOf("converse/anthropic.claude-3-haiku-20240307-v1:0"), { api: "converse", modelId: "anthropic.claude-3-haiku-20240307-v1:0" })
    assert.deepStrictEqual(bedrockApiOf("invoke/meta.llama3-70b-instruct-v1:0"), { api: "invoke", modelId: "meta.llama3-70b-instruct-v1:0" })
    assert.deepStrictEqual(bedrockApiOf("amazon.nova-pro-v1:0").api, "converse")
  })
})
