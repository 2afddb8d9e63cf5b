import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { importPKCS8, SignJWT } from "jose"
import { generateKeyPairSync } from "node:crypto"
import { REFERENCE_TEXT } from "../src/Reference.ts"
import { Behave, MockUpstream, PREFILL_REFUSAL, referencePrefix } from "../src/mock/index.ts"
import type { MockServer } from "../src/mock/index.ts"
import { json, send } from "./http.ts"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)
const SCOPE = "https://www.googleapis.com/auth/cloud-platform"
const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"

/** An assertion as Google's libraries sign it, with any field overridden. */
const assertion = async (
  mock: MockServer,
  over: { readonly privateKey?: string; readonly audience?: string; readonly scope?: string | null; readonly issuedAt?: number; readonly lifetime?: number } = {}
) => {
  const key = mock.google.serviceAccount()
  const now = over.issuedAt ?? Math.floor(Date.now() / 1000)
  return new SignJWT(over.scope === null ? {} : { scope: over.scope ?? SCOPE })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: key.private_key_id! })
    .setIssuer(key.client_email!)
    .setAudience(over.audience ?? key.token_uri!)
    .setIssuedAt(now)
    .setExpirationTime(now + (over.lifetime ?? 3600))
    .sign(await importPKCS8(over.privateKey ?? key.private_key!, "RS256"))
}

const exchange = (mock: MockServer, jwt: string, grant = JWT_BEARER) =>
  send(mock.google.serviceAccount().token_uri!, {
    body: new URLSearchParams({ grant_type: grant, assertion: jwt }).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded" }
  })

const tokenOf = async (mock: MockServer) => json(await exchange(mock, await assertion(mock))).access_token as string

const claude = (messages: ReadonlyArray<unknown>, extra: Record<string, unknown> = {}) => ({
  anthropic_version: "vertex-2023-10-16",
  max_tokens: 100,
  messages,
  ...extra
})
const user = { role: "user", content: [{ type: "text", text: "Tell me about the fox" }] }

layer(MockUpstream.layer(), { excludeTestServices: true })("mock upstream: Google", (it) => {
  it.effect("the token endpoint issues a token for a well-signed assertion and counts every request", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      mock.reset()
      const key = mock.google.serviceAccount()
      assert.strictEqual(key.token_uri, `${mock.url}/token`)
      assert.match(key.private_key!, /BEGIN PRIVATE KEY/)
      const reply = yield* promise(async () => exchange(mock, await assertion(mock)))
      assert.strictEqual(reply.status, 200)
      assert.match(json(reply).access_token, /^ya29\.mock-/)
      assert.strictEqual(json(reply).expires_in, 3599)
      assert.strictEqual(json(reply).token_type, "Bearer")
      assert.strictEqual(mock.google.tokenRequests(), 1)
    }))

  it.effect("it refuses what Google refuses: another key's signature, a foreign audience, a stale or long-lived JWT, no scope, a wrong grant", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString()
      const cases: ReadonlyArray<readonly [string, () => Promise<string>, string, string?]> = [
        ["another key", () => assertion(mock, { privateKey: other }), "invalid_grant", "Invalid JWT Signature."],
        ["foreign audience", () => assertion(mock, { audience: "https://oauth2.googleapis.com/token" }), "invalid_grant"],
        ["expired", () => assertion(mock, { issuedAt: Math.floor(Date.now() / 1000) - 7200 }), "invalid_grant"],
        ["long-lived", () => assertion(mock, { lifetime: 7200 }), "invalid_grant"],
        ["no scope", () => assertion(mock, { scope: null }), "invalid_scope"]
      ]
      for (const [name, make, error, description] of cases) {
        const reply = yield* promise(async () => exchange(mock, await make()))
        assert.strictEqual(reply.status, 400, name)
        assert.strictEqual(json(reply).error, error, name)
        if (description !== undefined) assert.strictEqual(json(reply).error_description, description, name)
      }
      const grant = yield* promise(async () => exchange(mock, await assertion(mock), "client_credentials"))
      assert.strictEqual(json(grant).error, "unsupported_grant_type")
    }))

  it.effect("Vertex routes reject a missing, unknown or expired token with Google's 401", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const url = `${mock.vertexBase("vx", "claude-sonnet-4-5")}:rawPredict`
      const missing = yield* promise(() => send(url, { body: claude([user]) }))
      assert.strictEqual(missing.status, 401)
      assert.strictEqual(json(missing).error.status, "UNAUTHENTICATED")
      assert.match(json(missing).error.message, /missing required authentication credential/)
      const unknown = yield* promise(() => send(url, { body: claude([user]), headers: { authorization: "Bearer ya29.forged" } }))
      assert.strictEqual(unknown.status, 401)
      const token = yield* promise(() => tokenOf(mock))
      const ok = yield* promise(() => send(url, { body: claude([user]), headers: { authorization: `Bearer ${token}` } }))
      assert.strictEqual(ok.status, 200)
      assert.strictEqual(json(ok).content[0].text, REFERENCE_TEXT)
      assert.strictEqual(json(ok).model, "claude-sonnet-4-5")
      mock.google.expireTokens()
      const expired = yield* promise(() => send(url, { body: claude([user]), headers: { authorization: `Bearer ${token}` } }))
      assert.strictEqual(expired.status, 401)
      assert.match(json(expired).error.message, /invalid authentication credentials/)
    }))

  it.effect("Claude on Vertex wants vertex's anthropic_version and no model, and 4.6 refuses a prefill with Anthropic's body", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const token = yield* promise(() => tokenOf(mock))
      const post = (model: string, body: unknown) =>
        send(`${mock.vertexBase("vx-rules", model)}:rawPredict`, { body, headers: { authorization: `Bearer ${token}` } })
      const withModel = yield* promise(() => post("claude-sonnet-4-6", claude([user], { model: "claude-sonnet-4-6" })))
      assert.strictEqual(withModel.status, 400)
      const noVersion = yield* promise(() => post("claude-sonnet-4-6", { max_tokens: 1, messages: [user] }))
      assert.strictEqual(noVersion.status, 400)
      assert.match(json(noVersion).error.message, /anthropic_version/)
      const prefill = [user, { role: "assistant", content: [{ type: "text", text: referencePrefix(3).trimEnd() }] }]
      const refused = yield* promise(() => post("claude-sonnet-4-6", claude(prefill)))
      assert.strictEqual(refused.status, 400)
      assert.deepStrictEqual(json(refused), { type: "error", error: { type: "invalid_request_error", message: PREFILL_REFUSAL }, request_id: "req_mock" })
      const older = yield* promise(() => post("claude-opus-4-1", claude(prefill)))
      assert.strictEqual(older.status, 200)
    }))

  it.effect("Anthropic's own API refuses a prefill on claude-opus-4-6 the same way", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const reply = yield* promise(() =>
        send(`${mock.apiBase("an", "anthropic")}/v1/messages`, {
          body: { model: "claude-opus-4-6", max_tokens: 10, messages: [user, { role: "assistant", content: "The quick" }] },
          headers: { "anthropic-version": "2023-06-01", "x-api-key": "k" }
        })
      )
      assert.strictEqual(reply.status, 400)
      assert.strictEqual(json(reply).error.message, PREFILL_REFUSAL)
    }))

  it.effect("Gemini on AI Studio wants an API key; errors are Google's; the stream is SSE with a final usage", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const url = (method: string) => `${mock.apiBase("gm", "gemini")}/models/gemini-2.5-flash:${method}`
      const body = { contents: [{ role: "user", parts: [{ text: "Tell me about the fox" }] }] }
      const noKey = yield* promise(() => send(url("generateContent"), { body }))
      assert.strictEqual(noKey.status, 403)
      assert.strictEqual(json(noKey).error.status, "PERMISSION_DENIED")
      const headers = { "x-goog-api-key": "AIza-test" }
      const empty = yield* promise(() => send(url("generateContent"), { body: { contents: [] }, headers }))
      assert.strictEqual(json(empty).error.status, "INVALID_ARGUMENT")
      mock.script("gm", [Behave.rateLimited()])
      const limited = yield* promise(() => send(url("generateContent"), { body, headers }))
      assert.deepStrictEqual([limited.status, json(limited).error.status], [429, "RESOURCE_EXHAUSTED"])
      const stream = yield* promise(() => send(`${url("streamGenerateContent")}?alt=sse`, { body, headers }))
      const events = stream.body.toString("utf8").split(/\r?\n\r?\n/).filter((f) => f.startsWith("data: ")).map((f) => JSON.parse(f.slice(6)))
      const text = events.map((e) => e.candidates[0].content.parts.map((p: { text?: string }) => p.text ?? "").join("")).join("")
      assert.strictEqual(text, REFERENCE_TEXT)
      assert.strictEqual(events[events.length - 1].candidates[0].finishReason, "STOP")
      assert.strictEqual(events[events.length - 1].usageMetadata.candidatesTokenCount, REFERENCE_TEXT.split(" ").length)
    }))
})
