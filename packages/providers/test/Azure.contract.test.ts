import { assert, layer } from "@effect/vitest"
import { operations as Op } from "@switchyard/core"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { MockUpstream, speechAudio } from "@switchyard/testkit/mock"
import { Effect } from "effect"
import { azureOperations, defaultAzureApiVersion } from "../src/index.ts"
import { mockDeployment, plain, providerFor, TEST_KEY, TestLayer } from "./fixtures.ts"

const lastRequest = (deployment: string) =>
  Effect.map(MockUpstream, (mock) => {
    const requests = mock.requests(deployment)
    assert.strictEqual(requests.length, 1)
    return requests[0]!
  })

/** One call per Azure operation: the path below the deployment prefix it must reach. */
const routes = [
  ["chat", "/chat/completions", { messages: [{ role: "user", content: "hi" }] }],
  ["completion", "/completions", { prompt: "Say hi" }],
  ["embedding", "/embeddings", { input: "hi" }],
  ["image", "/images/generations", { prompt: "a cat" }],
  ["speech", "/audio/speech", { input: "hello", voice: "alloy" }],
  ["transcription", "/audio/transcriptions", { file: { filename: "a.wav", contentType: "audio/wav", data: new Uint8Array(10) } }]
] as const

layer(TestLayer, { excludeTestServices: true })("azure provider contract", (it) => {
  it.effect("declares exactly what Azure OpenAI serves", () =>
    Effect.gen(function*() {
      const azure = yield* providerFor("azure")
      assert.deepStrictEqual([...azure.operations].sort(), [...azureOperations, "messages"].sort())
      assert.isFalse(azure.operations.has("moderation"))
      assert.isFalse(azure.operations.has("rerank"))
    }))

  for (const [name, path, fields] of routes) {
    it.effect(`${name}: /openai/deployments/{model}${path}?api-version, api-key header`, () =>
      Effect.gen(function*() {
        const azure = yield* providerFor("azure")
        const d = yield* mockDeployment(`az-${name}`, "azure", { model: "prod-deployment" })
        const reply = yield* azure.call(plain(Op[name]), d, { model: "group", ...fields } as never)
        const seen = yield* lastRequest(`az-${name}`)
        assert.strictEqual(seen.path, `/d/az-${name}/openai/deployments/prod-deployment${path}`)
        assert.deepStrictEqual(seen.query, { "api-version": defaultAzureApiVersion })
        assert.strictEqual(seen.headers["api-key"], TEST_KEY)
        assert.isUndefined(seen.headers.authorization)
        assert.strictEqual((seen.body as { model: string }).model, "prod-deployment")
        if (name === "chat") assert.strictEqual((reply as unknown as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content, REFERENCE_TEXT)
        if (name === "speech") assert.deepStrictEqual((reply as unknown as { data: Uint8Array }).data, speechAudio("hello", "mp3"))
      }))
  }

  it.effect("responses: /openai/responses with the deployment named in the body, and the configured api-version", () =>
    Effect.gen(function*() {
      const azure = yield* providerFor("azure")
      const d = yield* mockDeployment("az-responses", "azure", { model: "prod-4o", apiVersion: "2025-04-01-preview" })
      const reply = yield* azure.call(Op.responses, d, { model: "group", input: "hi" })
      assert.strictEqual(reply.status, "completed")
      const seen = yield* lastRequest("az-responses")
      assert.strictEqual(seen.path, "/d/az-responses/openai/responses")
      assert.deepStrictEqual(seen.query, { "api-version": "2025-04-01-preview" })
      assert.strictEqual((seen.body as { model: string }).model, "prod-4o")
    }))

  it.effect("an operation Azure does not have fails as UnsupportedOperation without a request", () =>
    Effect.gen(function*() {
      const azure = yield* providerFor("azure")
      const d = yield* mockDeployment("az-moderation", "azure")
      const error = yield* Effect.flip(azure.call(plain(Op.moderation), d, { model: "g", input: "x" }))
      assert.strictEqual(error._tag, "UnsupportedOperation")
      assert.strictEqual((yield* MockUpstream).requests("az-moderation").length, 0)
    }))

  it.effect("a deployment without api_base is a misconfiguration", () =>
    Effect.gen(function*() {
      const azure = yield* providerFor("azure")
      const d = yield* mockDeployment("az-nobase", "azure", { apiBase: undefined })
      const error = yield* Effect.flip(azure.call(plain(Op.embedding), d, { model: "g", input: "x" }))
      assert.strictEqual(error._tag, "NotFound")
    }))

  it.effect("Azure's content filter refusal is ContentPolicy", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      mock.script("az-filter", [{ kind: "error", status: 400, code: "content_filter" }])
      const azure = yield* providerFor("azure")
      const d = yield* mockDeployment("az-filter", "azure")
      const error = yield* Effect.flip(azure.call(Op.chat, d, { model: "g", messages: [{ role: "user", content: "x" }] }))
      assert.strictEqual(error._tag, "ContentPolicy")
      assert.strictEqual(error.status, 400)
    }))
})
