import { assert, describe, it, layer } from "@effect/vitest"
import { operations as Op } from "@switchyard/core"
import { Behave, type MockBehavior, MockUpstream } from "@switchyard/testkit/mock"
import { Effect } from "effect"
import { HttpClient, HttpClientResponse } from "effect/http"
import { createServer } from "node:net"
import { makeOpenAi } from "../src/index.ts"
import { makeDeployment, mockDeployment, plain, providerFor, TEST_KEY, TestLayer } from "./fixtures.ts"

interface Row {
  readonly name: string
  readonly provider?: "openai" | "anthropic"
  readonly behavior: MockBehavior
  readonly tag: string
  readonly status?: number
  readonly check?: (error: Record<string, unknown>) => void
}

/** Each upstream failure the mock can produce, end to end through the real client, and the class it must become. */
const rows: ReadonlyArray<Row> = [
  { name: "400 could not find real modelID", behavior: Behave.modelIdNotFound(), tag: "NotFound", status: 400 },
  { name: "400 context_length_exceeded", behavior: Behave.contextLengthExceeded(), tag: "ContextWindowExceeded", status: 400 },
  { name: "404 model_not_found", behavior: Behave.modelNotFound(), tag: "NotFound", status: 404 },
  {
    name: "401 echoing the key",
    behavior: Behave.status(401),
    tag: "Authentication",
    status: 401,
    check: (e) => {
      assert.include(String(e.message), "Incorrect API key provided")
      assert.notInclude(String(e.message), TEST_KEY)
    }
  },
  { name: "403", behavior: Behave.status(403), tag: "Authentication", status: 403 },
  { name: "408", behavior: Behave.status(408), tag: "Timeout", status: 408 },
  {
    name: "429 with retry-after",
    behavior: Behave.rateLimited(2),
    tag: "RateLimited",
    status: 429,
    check: (e) => assert.strictEqual(e.retryAfterMillis, 2000)
  },
  {
    name: "429 with retry-after-ms",
    behavior: Behave.status(429, { headers: { "retry-after-ms": "1500" } }),
    tag: "RateLimited",
    check: (e) => assert.strictEqual(e.retryAfterMillis, 1500)
  },
  { name: "400 content filter", behavior: Behave.contentFilter(), tag: "ContentPolicy", status: 400 },
  {
    name: "400 with a param",
    behavior: Behave.status(400, { message: "Invalid 'temperature'", param: "temperature" }),
    tag: "BadRequest",
    check: (e) => assert.strictEqual(e.param, "temperature")
  },
  { name: "500", behavior: Behave.status(500), tag: "ServerError", status: 500 },
  { name: "502 HTML gateway page", behavior: Behave.status(502), tag: "ServerError", status: 502 },
  { name: "503", behavior: Behave.status(503), tag: "Overloaded", status: 503 },
  { name: "529", behavior: Behave.status(529), tag: "Overloaded", status: 529 },
  { name: "malformed JSON body", behavior: Behave.malformed(), tag: "MalformedResponse", status: 200 },
  { name: "connection reset", behavior: Behave.reset(), tag: "Connection" },
  { name: "connection closed without a reply", behavior: Behave.hangup(), tag: "Connection" },
  { name: "body cut half way", behavior: Behave.cutAfter(1), tag: "Connection" },
  { name: "Anthropic 400 prompt is too long", provider: "anthropic", behavior: Behave.contextLengthExceeded(), tag: "ContextWindowExceeded" },
  { name: "Anthropic 401", provider: "anthropic", behavior: Behave.status(401), tag: "Authentication", status: 401 },
  { name: "Anthropic 429", provider: "anthropic", behavior: Behave.rateLimited(3), tag: "RateLimited", status: 429 },
  { name: "Anthropic 500 api_error", provider: "anthropic", behavior: Behave.status(500), tag: "ServerError", status: 500 }
]

const chat = { model: "g", messages: [{ role: "user" as const, content: "hi" }] }

layer(TestLayer, { excludeTestServices: true })("upstream failures end to end", (it) => {
  rows.forEach((row, i) => {
    it.effect(`${row.name} → ${row.tag}`, () =>
      Effect.gen(function*() {
        const name = `err-${i}`
        const kind = row.provider ?? "openai"
        ;(yield* MockUpstream).script(name, [row.behavior])
        const provider = yield* providerFor(kind)
        const error = yield* Effect.flip(provider.call(Op.chat, yield* mockDeployment(name, kind), chat))
        assert.strictEqual(error._tag, row.tag)
        if (row.status !== undefined) assert.strictEqual(error.status, row.status)
        assert.notInclude(error.message, TEST_KEY)
        row.check?.(error as unknown as Record<string, unknown>)
      }))
  })

  it.effect("the Kokoro failure on speech: 400 'could not find real modelID' is NotFound, so the router fails over", () =>
    Effect.gen(function*() {
      ;(yield* MockUpstream).script("kokoro", [Behave.modelIdNotFound("kokoro")])
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("kokoro", "openai", { model: "kokoro" })
      const error = yield* Effect.flip(openai.call(Op.speech, d, { model: "tts", input: "hi", voice: "af_bella" }))
      assert.strictEqual(error._tag, "NotFound")
      assert.include(error.message, "could not find real modelID for kokoro")
    }))

  it.effect("fail the first 2 requests, then succeed: each attempt is one request", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      mock.script("flaky", [Behave.failFirst(2)])
      const openai = yield* providerFor("openai")
      const d = yield* mockDeployment("flaky", "openai")
      const outcomes = yield* Effect.forEach([1, 2, 3], () =>
        openai.call(plain(Op.embedding), d, { model: "g", input: "x" }).pipe(
          Effect.match({ onFailure: (e) => e._tag, onSuccess: () => "ok" })
        ))
      assert.deepStrictEqual(outcomes, ["ServerError", "ServerError", "ok"])
      assert.strictEqual(mock.requests("flaky").length, 3)
    }))

  it.effect("a refused connection is Connection", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(() =>
        new Promise<number>((resolve) => {
          const server = createServer().listen(0, "127.0.0.1", () => {
            const { port } = server.address() as { port: number }
            server.close(() => resolve(port))
          })
        })
      )
      const openai = yield* providerFor("openai")
      const d = makeDeployment({ id: "refused", provider: "openai", model: "m", apiBase: `http://127.0.0.1:${port}/v1` })
      const error = yield* Effect.flip(openai.call(Op.chat, d, chat))
      assert.strictEqual(error._tag, "Connection")
      assert.include(error.message, "ECONNREFUSED")
    }))
})

describe("a 2xx reply that does not decode", () => {
  it.effect("is MalformedResponse naming what is wrong", () =>
    Effect.gen(function*() {
      const client = HttpClient.make((request) =>
        Effect.succeed(HttpClientResponse.fromWeb(request, Response.json({ id: "chatcmpl-1", choices: "none" })))
      )
      const d = makeDeployment({ id: "odd", provider: "openai", model: "m", apiBase: "http://127.0.0.1:9/v1" })
      const error = yield* Effect.flip(makeOpenAi(client).call(Op.chat, d, chat))
      assert.strictEqual(error._tag, "MalformedResponse")
      assert.include(error.message, "choices")
    }))
})
