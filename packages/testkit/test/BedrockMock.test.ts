/**
 * The mock's Bedrock runtime and Cohere v2 at the wire: requests signed here with smithy's SigV4 signer,
 * eventstream bodies decoded with smithy's codec (both CRCs checked), errors in the vendors' shapes.
 */
import { assert, layer } from "@effect/vitest"
import { Sha256 } from "@aws-crypto/sha256-js"
import { getChunkedStream } from "@smithy/core/event-streams"
import { EventStreamCodec, type Message } from "@smithy/eventstream-codec"
import { SignatureV4 } from "@smithy/signature-v4"
import { fromUtf8, toUtf8 } from "@smithy/util-utf8"
import { Effect } from "effect"
import { REFERENCE_TEXT } from "../src/Reference.ts"
import { Behave, MOCK_AWS_CREDENTIALS, MOCK_BEDROCK_API_KEY, MockUpstream, referencePrefix } from "../src/mock/index.ts"
import { json, type RawReply, send } from "./http.ts"

const codec = new EventStreamCodec(toUtf8, fromUtf8)
const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

/** POSTs `body` to `url` signed with the given secret (the mock's by default). */
const signedPost = async (url: string, body: unknown, secret: string = MOCK_AWS_CREDENTIALS.secretAccessKey, tamper = false): Promise<RawReply> => {
  const u = new URL(url)
  const text = JSON.stringify(body)
  const signer = new SignatureV4({
    service: "bedrock",
    region: "us-east-1",
    sha256: Sha256,
    credentials: { accessKeyId: MOCK_AWS_CREDENTIALS.accessKeyId, secretAccessKey: secret }
  })
  const signed = await signer.sign({
    method: "POST",
    protocol: u.protocol,
    hostname: u.hostname,
    port: Number(u.port),
    path: u.pathname,
    query: {},
    headers: { host: u.host, "content-type": "application/json" },
    body: text
  })
  const { host: _host, ...headers } = signed.headers
  return send(url, { body: tamper ? text.replace("hi", "ho") : text, headers })
}

/** The frames of an eventstream body, decoded (a bad CRC throws). */
const framesOf = async (body: Buffer): Promise<Array<Message>> => {
  const out: Array<Message> = []
  for await (const bytes of getChunkedStream((async function*() { yield new Uint8Array(body) })())) out.push(codec.decode(bytes))
  return out
}
const header = (m: Message, name: string) => m.headers[name]?.value
const payload = (m: Message) => JSON.parse(toUtf8(m.body)) as any

const converse = { messages: [{ role: "user", content: [{ text: "hi" }] }], inferenceConfig: { maxTokens: 10 } }
const invokeBody = { anthropic_version: "bedrock-2023-05-31", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }
const claude = encodeURIComponent("anthropic.claude-3-haiku-20240307-v1:0")

layer(MockUpstream.layer(), { excludeTestServices: true })("mock bedrock runtime", (it) => {
  it.effect("Converse: a correctly signed request gets the reference reply", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const reply = yield* promise(() => signedPost(`${mock.apiBase("b1", "bedrock")}/model/amazon.nova-lite-v1%3A0/converse`, converse))
      assert.strictEqual(reply.status, 200)
      const body = json(reply)
      assert.strictEqual(body.output.message.content[0].text, REFERENCE_TEXT)
      assert.strictEqual(body.stopReason, "end_turn")
      assert.strictEqual(mock.requests("b1")[0]!.operation, "converse")
    }))

  it.effect("SigV4: a wrong secret, a changed body and no credentials are rejected as AWS does", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const url = `${mock.apiBase("b2", "bedrock")}/model/amazon.nova-lite-v1%3A0/converse`
      const wrong = yield* promise(() => signedPost(url, converse, "not-the-secret-0123456789abcdefghijklmn"))
      assert.strictEqual(wrong.status, 403)
      assert.match(String(wrong.headers["x-amzn-errortype"]), /^InvalidSignatureException:/)
      assert.match(json(wrong).message, /signature we calculated does not match/)
      const tampered = yield* promise(() => signedPost(url, converse, undefined, true))
      assert.strictEqual(tampered.status, 403)
      const none = yield* promise(() => send(url, { body: converse }))
      assert.strictEqual(none.status, 403)
      assert.match(String(none.headers["x-amzn-errortype"]), /^MissingAuthenticationTokenException/)
      const bearer = yield* promise(() => send(url, { body: converse, headers: { authorization: `Bearer ${MOCK_BEDROCK_API_KEY}` } }))
      assert.strictEqual(bearer.status, 200)
    }))

  it.effect("Converse validation: roles must alternate, starting with the user (ValidationException)", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const url = `${mock.apiBase("b3", "bedrock")}/model/amazon.nova-lite-v1%3A0/converse`
      const reply = yield* promise(() => signedPost(url, { messages: [{ role: "user", content: [{ text: "a" }] }, { role: "user", content: [{ text: "b" }] }] }))
      assert.strictEqual(reply.status, 400)
      assert.match(String(reply.headers["x-amzn-errortype"]), /^ValidationException:/)
      assert.match(json(reply).message, /must alternate/)
    }))

  it.effect("ConverseStream: real eventstream frames, CRCs valid, one word per delta", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const reply = yield* promise(() => signedPost(`${mock.apiBase("b4", "bedrock")}/model/amazon.nova-lite-v1%3A0/converse-stream`, converse))
      assert.strictEqual(reply.headers["content-type"], "application/vnd.amazon.eventstream")
      const frames = yield* promise(() => framesOf(reply.body))
      const types = frames.map((f) => header(f, ":event-type"))
      assert.strictEqual(types[0], "messageStart")
      assert.deepStrictEqual(types.slice(-3), ["contentBlockStop", "messageStop", "metadata"])
      const text = frames.filter((f) => header(f, ":event-type") === "contentBlockDelta").map((f) => payload(f).delta.text).join("")
      assert.strictEqual(text, REFERENCE_TEXT)
      assert.strictEqual(payload(frames.at(-1)!).usage.outputTokens, REFERENCE_TEXT.split(" ").length)
    }))

  it.effect("ConverseStream: an exception after content is an exception frame of that type", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      mock.script("b5", [Behave.sseErrorAfter(3, { type: "throttlingException" })])
      const reply = yield* promise(() => signedPost(`${mock.apiBase("b5", "bedrock")}/model/amazon.nova-lite-v1%3A0/converse-stream`, converse))
      const frames = yield* promise(() => framesOf(reply.body))
      const last = frames.at(-1)!
      assert.strictEqual(header(last, ":message-type"), "exception")
      assert.strictEqual(header(last, ":exception-type"), "throttlingException")
      const text = frames.slice(0, -1).filter((f) => header(f, ":event-type") === "contentBlockDelta").map((f) => payload(f).delta.text).join("")
      assert.strictEqual(text, referencePrefix(3))
    }))

  it.effect("InvokeModel (Anthropic): requires anthropic_version and rejects a model key", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const url = `${mock.apiBase("b6", "bedrock")}/model/${claude}/invoke`
      const ok = yield* promise(() => signedPost(url, invokeBody))
      assert.strictEqual(ok.status, 200)
      assert.strictEqual(json(ok).content[0].text, REFERENCE_TEXT)
      const missing = yield* promise(() => signedPost(url, { ...invokeBody, anthropic_version: undefined }))
      assert.strictEqual(missing.status, 400)
      assert.match(json(missing).message, /anthropic_version/)
      const extra = yield* promise(() => signedPost(url, { ...invokeBody, model: "claude" }))
      assert.match(json(extra).message, /extraneous key \[model\]/)
    }))

  it.effect("InvokeModelWithResponseStream: each chunk frame carries one base64 Anthropic event", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const reply = yield* promise(() => signedPost(`${mock.apiBase("b7", "bedrock")}/model/${claude}/invoke-with-response-stream`, invokeBody))
      const events = (yield* promise(() => framesOf(reply.body))).map((f) => {
        assert.strictEqual(header(f, ":event-type"), "chunk")
        return JSON.parse(Buffer.from(payload(f).bytes, "base64").toString("utf8"))
      })
      assert.strictEqual(events[0].type, "message_start")
      assert.strictEqual(events.at(-1).type, "message_stop")
      assert.isDefined(events.at(-1)["amazon-bedrock-invocationMetrics"])
      const text = events.filter((e) => e.type === "content_block_delta").map((e) => e.delta.text).join("")
      assert.strictEqual(text, REFERENCE_TEXT)
    }))

  it.effect("scripted errors come in AWS's shape", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      mock.script("b8", [Behave.status(429)])
      const reply = yield* promise(() => signedPost(`${mock.apiBase("b8", "bedrock")}/model/${claude}/invoke`, invokeBody))
      assert.strictEqual(reply.status, 429)
      assert.match(String(reply.headers["x-amzn-errortype"]), /^ThrottlingException:/)
      assert.deepStrictEqual(Object.keys(json(reply)), ["message"])
    }))
})

layer(MockUpstream.layer(), { excludeTestServices: true })("mock cohere v2", (it) => {
  const auth = { authorization: "Bearer co-key" }
  it.effect("embed: input_type is required; embeddings come back by type", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const url = `${mock.apiBase("c1", "cohere")}/v2/embed`
      const missing = yield* promise(() => send(url, { body: { model: "embed-v4.0", texts: ["a"] }, headers: auth }))
      assert.strictEqual(missing.status, 400)
      assert.deepStrictEqual(Object.keys(json(missing)), ["id", "message"])
      const ok = yield* promise(() =>
        send(url, { body: { model: "embed-v4.0", texts: ["a", "b"], input_type: "search_query", embedding_types: ["float", "int8"] }, headers: auth }))
      assert.strictEqual(ok.status, 200)
      assert.strictEqual(json(ok).embeddings.float.length, 2)
      assert.strictEqual(json(ok).embeddings.int8.length, 2)
      const anonymous = yield* promise(() => send(url, { body: { model: "embed-v4.0", texts: ["a"], input_type: "search_query" } }))
      assert.strictEqual(anonymous.status, 401)
    }))

  it.effect("rerank: text documents, results by relevance", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const url = `${mock.apiBase("c2", "cohere")}/v2/rerank`
      const ok = yield* promise(() => send(url, { body: { model: "rerank-v3.5", query: "dog", documents: ["cat", "dog"] }, headers: auth }))
      assert.strictEqual(json(ok).results[0].index, 1)
      const objects = yield* promise(() => send(url, { body: { model: "rerank-v3.5", query: "dog", documents: [{ text: "dog" }] }, headers: auth }))
      assert.strictEqual(objects.status, 400)
    }))
})
