import { assert, describe, it, layer } from "@effect/vitest"
import { acceptsPrefill, compileDeployments, type Deployment, operations as Op, parseConfig, type Wire } from "@switchyard/core"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave, MockUpstream, referencePrefix } from "@switchyard/testkit/mock"
import { ConfigProvider, Effect, Redacted, Stream } from "effect"
import { TestClock } from "effect/testing"
import { generateKeyPairSync } from "node:crypto"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { vertexUrl } from "../src/Vertex.ts"
import { collectUntilFailure, makeDeployment, providerFor, TestLayer } from "./fixtures.ts"

const CLAUDE = "claude-sonnet-4-6"

/** A Vertex deployment served by the mock, with the mock's TEST-ONLY service account as its key. */
const vertexDeployment = (id: string, model = CLAUDE, extra: Partial<Deployment> = {}) =>
  Effect.map(MockUpstream, (mock) =>
    makeDeployment({
      id,
      provider: "vertex_ai",
      model,
      apiKey: undefined,
      apiBase: mock.vertexBase(id, model),
      vertexCredentials: Redacted.make(JSON.stringify(mock.google.serviceAccount())),
      ...extra
    }))

const ask = (content = "Tell me about the fox"): Wire.ChatRequest => ({ model: "g", messages: [{ role: "user", content }] })
const textOf = (chunks: ReadonlyArray<Wire.ChatChunk>) => chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")
const noEnv = ConfigProvider.layer(ConfigProvider.fromUnknown({}))

describe("vertex URLs", () => {
  const d = (fields: Partial<Deployment>) => makeDeployment({ id: "v", provider: "vertex_ai", model: CLAUDE, apiBase: undefined, ...fields })
  it("a region is the host's prefix; global has none", () => {
    assert.strictEqual(
      vertexUrl(d({ vertexLocation: "europe-west1" }), "p1", "rawPredict"),
      "https://europe-west1-aiplatform.googleapis.com/v1/projects/p1/locations/europe-west1/publishers/anthropic/models/claude-sonnet-4-6:rawPredict"
    )
    assert.strictEqual(
      vertexUrl(d({ vertexLocation: "global" }), "p1", "streamRawPredict"),
      "https://aiplatform.googleapis.com/v1/projects/p1/locations/global/publishers/anthropic/models/claude-sonnet-4-6:streamRawPredict"
    )
    assert.strictEqual(
      vertexUrl(d({ model: "gemini-2.5-pro" }), "p1", "generateContent"),
      "https://us-central1-aiplatform.googleapis.com/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent"
    )
  })
  it("a custom api_base is the whole model URL, as LiteLLM reads it", () => {
    assert.strictEqual(vertexUrl(d({ apiBase: "https://gw.example/vertex/m/" }), "p1", "rawPredict"), "https://gw.example/vertex/m:rawPredict")
  })
})

describe("vertex config keys", () => {
  it.effect("vertex_project, vertex_location and vertex_credentials (os.environ/ or a mapping); model_info.supports_assistant_prefill", () =>
    Effect.gen(function*() {
      const loaded = yield* parseConfig(`
model_list:
  - model_name: claude
    litellm_params: { model: vertex_ai/claude-sonnet-4-6, vertex_project: p1, vertex_location: global, vertex_credentials: os.environ/SA_JSON }
    model_info: { supports_assistant_prefill: true }
  - model_name: gemini
    litellm_params: { model: vertex_ai/gemini-2.5-pro, vertex_credentials: { client_email: a@b, private_key: k } }
`)
      assert.deepStrictEqual(loaded.warnings, [])
      const [claude, gemini] = yield* compileDeployments(loaded.config).pipe(
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ SA_JSON: "{\"client_email\":\"x\"}" })))
      )
      assert.strictEqual(claude!.vertexProject, "p1")
      assert.strictEqual(claude!.vertexLocation, "global")
      assert.strictEqual(Redacted.value(claude!.vertexCredentials!), "{\"client_email\":\"x\"}")
      assert.isTrue(claude!.supportsPrefill)
      assert.deepStrictEqual(JSON.parse(Redacted.value(gemini!.vertexCredentials!)), { client_email: "a@b", private_key: "k" })
      assert.isUndefined(gemini!.supportsPrefill)
      const missing = yield* Effect.flip(compileDeployments(loaded.config).pipe(Effect.provide(noEnv)))
      assert.strictEqual(missing.issues[0]!.path, "model_list[0].litellm_params.vertex_credentials")
    }))
})

layer(TestLayer, { excludeTestServices: true })("vertex_ai provider: Claude", (it) => {
  it.effect("declares chat, responses, embeddings and messages; prefill follows the Claude family, Gemini never", () =>
    Effect.gen(function*() {
      const vertex = yield* providerFor("vertex_ai")
      assert.deepStrictEqual([...vertex.operations], ["chat", "responses", "embedding", "messages"])
      const on = (model: string) => acceptsPrefill(vertex, makeDeployment({ id: model, provider: "vertex_ai", model }))
      assert.isFalse(on("claude-sonnet-4-6"))
      assert.isFalse(on("claude-opus-4-6@20260205"))
      assert.isTrue(on("claude-sonnet-4-5@20250929"))
      assert.isFalse(on("gemini-2.5-pro"))
      const overridden = makeDeployment({ id: "o", provider: "vertex_ai", model: "claude-sonnet-4-6", supportsPrefill: true })
      assert.isTrue(acceptsPrefill(vertex, overridden))
    }))

  it.effect("chat: :rawPredict with a bearer token, vertex anthropic_version and no model in the body", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const vertex = yield* providerFor("vertex_ai")
      const d = yield* vertexDeployment("vx-chat")
      const reply = yield* vertex.call(Op.chat, d, { model: "g", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }] })
      assert.strictEqual(reply.choices[0]!.message.content, REFERENCE_TEXT)
      const [seen] = mock.requests("vx-chat")
      assert.strictEqual(seen!.path, `/d/vx-chat/v1/projects/switchyard-test/locations/us-central1/publishers/anthropic/models/${CLAUDE}:rawPredict`)
      assert.match(seen!.headers.authorization!, /^Bearer ya29\.mock-/)
      assert.isUndefined(seen!.headers["x-api-key"])
      assert.deepStrictEqual(seen!.body, {
        anthropic_version: "vertex-2023-10-16",
        max_tokens: 4096,
        system: "Be brief.",
        messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }]
      })
    }))

  it.effect("stream: :streamRawPredict, Anthropic events as chat chunks", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const vertex = yield* providerFor("vertex_ai")
      const d = yield* vertexDeployment("vx-stream")
      const chunks = yield* Stream.runCollect(vertex.stream(Op.chat, d, ask()))
      assert.strictEqual(textOf(chunks), REFERENCE_TEXT)
      assert.match(mock.requests("vx-stream")[0]!.path, /:streamRawPredict$/)
      assert.strictEqual((mock.requests("vx-stream")[0]!.body as { stream?: unknown }).stream, true)
    }))

  it.effect("tokens are fetched once per credential and reused, not fetched per call", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const vertex = yield* providerFor("vertex_ai")
      const d = yield* vertexDeployment("vx-reuse")
      yield* vertex.call(Op.chat, d, ask())
      const before = mock.google.tokenRequests()
      assert.isAtLeast(before, 1)
      yield* Effect.all([vertex.call(Op.chat, d, ask()), vertex.call(Op.chat, d, ask()), Stream.runDrain(vertex.stream(Op.chat, d, ask()))], { concurrency: 3 })
      const other = yield* vertexDeployment("vx-reuse-2")
      yield* vertex.call(Op.chat, other, ask())
      assert.strictEqual(mock.google.tokenRequests(), before)
    }))

  it.effect("a rejected (expired) token fails as Authentication 401, and the next attempt gets a new token", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const vertex = yield* providerFor("vertex_ai")
      const d = yield* vertexDeployment("vx-expired")
      yield* vertex.call(Op.chat, d, ask())
      const before = mock.google.tokenRequests()
      mock.google.expireTokens()
      const error = yield* Effect.flip(vertex.call(Op.chat, d, ask()))
      assert.strictEqual(error._tag, "Authentication")
      assert.strictEqual(error.status, 401)
      assert.match(error.message, /invalid authentication credentials/)
      const reply = yield* vertex.call(Op.chat, d, ask())
      assert.strictEqual(reply.choices[0]!.message.content, REFERENCE_TEXT)
      assert.strictEqual(mock.google.tokenRequests(), before + 1)
    }))

  it.effect("a key the token endpoint does not accept is an Authentication failure that shows no key material", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const vertex = yield* providerFor("vertex_ai")
      const impostor = {
        ...mock.google.serviceAccount(),
        private_key_id: "impostor",
        private_key: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString()
      }
      const d = yield* vertexDeployment("vx-impostor", CLAUDE, { vertexCredentials: Redacted.make(JSON.stringify(impostor)) })
      const error = yield* Effect.flip(vertex.call(Op.chat, d, ask()))
      assert.strictEqual(error._tag, "Authentication")
      assert.match(error.message, /Invalid JWT Signature/)
      assert.notInclude(error.message, "PRIVATE KEY")
      assert.strictEqual(mock.requests("vx-impostor").length, 0)
    }))

  it.effect("no credentials at all is an Authentication failure; GOOGLE_APPLICATION_CREDENTIALS and a key file path work", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const vertex = yield* providerFor("vertex_ai")
      const none = yield* vertexDeployment("vx-none", CLAUDE, { vertexCredentials: undefined })
      const error = yield* Effect.flip(vertex.call(Op.chat, none, ask()).pipe(Effect.provide(noEnv)))
      assert.strictEqual(error._tag, "Authentication")
      assert.match(error.message, /GOOGLE_APPLICATION_CREDENTIALS/)
      const file = join(mkdtempSync(join(tmpdir(), "sy-vertex-")), "key.json")
      writeFileSync(file, JSON.stringify(mock.google.serviceAccount()))
      const fromEnv = yield* vertexDeployment("vx-env", CLAUDE, { vertexCredentials: undefined })
      const env = ConfigProvider.layer(ConfigProvider.fromUnknown({ GOOGLE_APPLICATION_CREDENTIALS: file }))
      const reply = yield* vertex.call(Op.chat, fromEnv, ask()).pipe(Effect.provide(env))
      assert.strictEqual(reply.choices[0]!.message.content, REFERENCE_TEXT)
      const fromPath = yield* vertexDeployment("vx-path", CLAUDE, { vertexCredentials: Redacted.make(file) })
      assert.strictEqual((yield* vertex.call(Op.chat, fromPath, ask())).choices[0]!.message.content, REFERENCE_TEXT)
    }))

  it.effect("a prefill to a 4.6-generation model is refused with Anthropic's body, as BadRequest(prefill_unsupported)", () =>
    Effect.gen(function*() {
      const vertex = yield* providerFor("vertex_ai")
      const partial = referencePrefix(4)
      const request: Wire.ChatRequest = { model: "g", messages: [{ role: "user", content: "Tell me" }, { role: "assistant", content: partial }] }
      const refused = yield* Effect.flip(vertex.call(Op.chat, yield* vertexDeployment("vx-prefill"), request))
      assert.strictEqual(refused._tag, "BadRequest")
      assert.strictEqual(refused._tag === "BadRequest" ? refused.reason : undefined, "prefill_unsupported")
      assert.match(refused.message, /does not support assistant message prefill/)
      // A 4.5-generation model continues the same prefill.
      const older = yield* vertexDeployment("vx-prefill-45", "claude-sonnet-4-5@20250929")
      const reply = yield* vertex.call(Op.chat, older, request)
      assert.strictEqual(partial + reply.choices[0]!.message.content, REFERENCE_TEXT)
    }))

  it.effect("a stream cut after some text is MidStream carrying that text; an error event is MidStream too", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const vertex = yield* providerFor("vertex_ai")
      mock.script("vx-cut", [Behave.cutAfter(3), Behave.sseErrorAfter(2, { type: "overloaded_error" })])
      const d = yield* vertexDeployment("vx-cut")
      const cut = yield* collectUntilFailure(vertex.stream(Op.chat, d, ask()))
      assert.strictEqual(cut.error?._tag, "MidStream")
      assert.strictEqual(cut.error?._tag === "MidStream" ? cut.error.received : "", referencePrefix(3))
      const event = yield* collectUntilFailure(vertex.stream(Op.chat, d, ask()))
      assert.strictEqual(event.error?._tag, "MidStream")
      assert.match(event.error!.message, /Overloaded/)
    }))

  it.effect("responses: a Responses stream over Vertex Claude, from response.created to response.completed", () =>
    Effect.gen(function*() {
      const vertex = yield* providerFor("vertex_ai")
      const d = yield* vertexDeployment("vx-responses")
      const events = yield* Stream.runCollect(vertex.stream(Op.responses, d, { model: "g", input: "Tell me about the fox", instructions: "Be brief.", stream: true }))
      assert.strictEqual(events[0]!.type, "response.created")
      assert.strictEqual(events[events.length - 1]!.type, "response.completed")
      const text = events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join("")
      assert.strictEqual(text, REFERENCE_TEXT)
      const completed = events[events.length - 1]!.response as { output: Array<{ content: Array<{ text: string }> }>; usage: { output_tokens: number } }
      assert.strictEqual(completed.output[0]!.content[0]!.text, REFERENCE_TEXT)
      assert.strictEqual(completed.usage.output_tokens, REFERENCE_TEXT.split(" ").length)
    }))
})

layer(TestLayer)("vertex_ai provider: token refresh (TestClock)", (it) => {
  it.effect("a token is replaced before it expires, and not before it is due", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.now())
      const mock = yield* MockUpstream
      mock.google.setTokenLifetime(100)
      const vertex = yield* providerFor("vertex_ai")
      const d = yield* vertexDeployment("vx-refresh")
      yield* vertex.call(Op.chat, d, ask())
      const first = mock.google.tokenRequests()
      yield* TestClock.adjust("40 seconds")
      yield* vertex.call(Op.chat, d, ask())
      assert.strictEqual(mock.google.tokenRequests(), first)
      yield* TestClock.adjust("11 seconds")
      yield* vertex.call(Op.chat, d, ask())
      assert.strictEqual(mock.google.tokenRequests(), first + 1)
    }))
})
