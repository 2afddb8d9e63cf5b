/** LiteLLM's `aws_*` keys: they load, resolve `os.environ/`, keep their secrets redacted and name a bad field. */
import { assert, describe, it } from "@effect/vitest"
import { compileDeployments, parseConfig } from "@switchyard/core"
import { ConfigProvider, Effect, Redacted } from "effect"
import { inspect } from "node:util"

const yaml = `
model_list:
  - model_name: claude
    litellm_params:
      model: bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0
      aws_access_key_id: os.environ/AWS_KEY_ID
      aws_secret_access_key: os.environ/AWS_SECRET
      aws_session_token: session-token-0123456789
      aws_region_name: eu-west-1
      aws_bedrock_runtime_endpoint: https://bedrock.example.internal
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o }
`
const env = (vars: Record<string, string>) => Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: vars })))

describe("aws_* litellm_params", () => {
  it.effect("load without warnings and compile into the deployment, secrets redacted", () =>
    Effect.gen(function*() {
      const loaded = yield* parseConfig(yaml)
      assert.deepStrictEqual(loaded.warnings, [])
      const [claude, gpt] = yield* compileDeployments(loaded.config).pipe(env({ AWS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET: "very-secret-key-123" }))
      assert.strictEqual(claude!.aws?.accessKeyId, "AKIAEXAMPLE")
      assert.strictEqual(Redacted.value(claude!.aws!.secretAccessKey!), "very-secret-key-123")
      assert.strictEqual(Redacted.value(claude!.aws!.sessionToken!), "session-token-0123456789")
      assert.strictEqual(claude!.aws?.regionName, "eu-west-1")
      assert.strictEqual(claude!.aws?.runtimeEndpoint, "https://bedrock.example.internal")
      assert.notInclude(inspect(claude, { depth: 5 }), "very-secret-key-123")
      assert.isUndefined(gpt!.aws)
    }))

  it.effect("an unset variable is reported with the field's path", () =>
    Effect.gen(function*() {
      const loaded = yield* parseConfig(yaml)
      const error = yield* Effect.flip(compileDeployments(loaded.config).pipe(env({ AWS_KEY_ID: "AKIAEXAMPLE" })))
      assert.deepStrictEqual(error.issues.map((i) => i.path), ["model_list[0].litellm_params.aws_secret_access_key"])
    }))
})
