/**
 * Every operation end to end: the official `openai` client → the gateway → the real providers → the
 * HTTP mock upstream, including the streaming ones (chat, completion, responses; speech bytes) and a
 * multipart transcription upload.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { speechAudio } from "@switchyard/testkit/mock"
import { createHash } from "node:crypto"
import OpenAI, { toFile } from "openai"
import { startWithMock } from "./harness.ts"

let env: Awaited<ReturnType<typeof startWithMock>>
let client: OpenAI

beforeAll(async () => {
  env = await startWithMock((mock) => `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("gpt")}", api_key: sk-upstream-secret-0001 }
`)
  client = new OpenAI({ baseURL: `${env.gateway.url}/v1`, apiKey: "local", maxRetries: 0 })
})
afterAll(() => env.close())

describe("every operation through the gateway", () => {
  it("chat", async () => {
    const { data, response } = await client.chat.completions.create({
      model: "gpt",
      messages: [{ role: "user", content: "hi" }]
    }).withResponse()
    expect(data.choices[0]?.message.content).toBe(REFERENCE_TEXT)
    expect(response.headers.get("x-switchyard-deployment")).toBe("gpt#1")
    expect(response.headers.get("x-switchyard-attempts")).toBe("1")
    expect(response.headers.get("x-switchyard-fallbacks")).toBe("0")
    expect(Number(response.headers.get("x-switchyard-overhead-ms"))).toBeGreaterThanOrEqual(0)
  })

  it("chat stream", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true }
    })
    let text = ""
    let usage: unknown
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ""
      usage ??= chunk.usage ?? undefined
    }
    expect(text).toBe(REFERENCE_TEXT)
    expect(usage).toBeDefined()
  })

  it("the stream's wire format ends with data: [DONE]", async () => {
    const response = await fetch(`${env.gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt", messages: [{ role: "user", content: "hi" }], stream: true })
    })
    expect(response.headers.get("content-type")).toBe("text/event-stream")
    const body = await response.text()
    expect(body.endsWith("data: [DONE]\n\n")).toBe(true)
    for (const event of body.trim().split("\n\n")) expect(event).toMatch(/^data: /)
  })

  it("completion, plain and streamed", async () => {
    const plain = await client.completions.create({ model: "gpt", prompt: "Say" })
    expect(plain.choices[0]?.text).toBe(REFERENCE_TEXT)
    const stream = await client.completions.create({ model: "gpt", prompt: "Say", stream: true })
    let text = ""
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? ""
    expect(text).toBe(REFERENCE_TEXT)
  })

  it("embedding", async () => {
    const result = await client.embeddings.create({ model: "gpt", input: ["a", "b"] })
    expect(result.data).toHaveLength(2)
    expect(result.data[0]?.embedding).toHaveLength(8)
  })

  it("speech streams the upstream's bytes through, with its content type", async () => {
    const response = await client.audio.speech.create({ model: "gpt", input: "hello there", voice: "alloy" })
    expect(response.headers.get("content-type")).toBe("audio/mpeg")
    const bytes = new Uint8Array(await response.arrayBuffer())
    expect(Buffer.from(bytes).equals(Buffer.from(speechAudio("hello there", "mp3")))).toBe(true)
  })

  it("transcription: a multipart upload reaches the upstream intact", async () => {
    const audio = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251))
    const result = await client.audio.transcriptions.create({
      model: "gpt",
      file: await toFile(audio, "clip.wav", { type: "audio/wav" }),
      temperature: 0.2,
      language: "en"
    })
    expect(result.text).toBe("Transcript of clip.wav (5000 bytes).")
    const sent = env.mock.requests("gpt").findLast((r) => r.operation === "transcription")!
    expect(sent.file?.sha256).toBe(createHash("sha256").update(audio).digest("hex"))
    expect(sent.file?.filename).toBe("clip.wav")
    expect((sent.body as Record<string, unknown>).language).toBe("en")
  })

  it("image", async () => {
    const result = await client.images.generate({ model: "gpt", prompt: "a cat", n: 2 })
    expect(result.data).toHaveLength(2)
  })

  it("moderation", async () => {
    const result = await client.moderations.create({ model: "gpt", input: "I will attack" })
    expect(result.results[0]?.flagged).toBe(true)
  })

  it("rerank (not in the OpenAI client: a raw POST through it)", async () => {
    const result = await client.post<{ results: Array<{ index: number }> }>("/rerank", {
      body: { model: "gpt", query: "fox", documents: ["a dog", "a fox"] }
    })
    expect(result.results[0]?.index).toBe(1)
  })

  it("responses, plain and streamed", async () => {
    const plain = await client.responses.create({ model: "gpt", input: "hi" })
    expect(plain.output_text).toBe(REFERENCE_TEXT)
    const stream = await client.responses.create({ model: "gpt", input: "hi", stream: true })
    let text = ""
    let completed = false
    for await (const event of stream) {
      if (event.type === "response.output_text.delta") text += event.delta
      if (event.type === "response.completed") completed = true
    }
    expect(text).toBe(REFERENCE_TEXT)
    expect(completed).toBe(true)
  })

  it("the responses stream names every event and has no [DONE]", async () => {
    const response = await fetch(`${env.gateway.url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt", input: "hi", stream: true })
    })
    const events = (await response.text()).trim().split("\n\n")
    for (const event of events) expect(event).toMatch(/^event: response\.[a-z_.]+\ndata: \{/)
    expect(events.at(-1)).toMatch(/^event: response\.completed\n/)
  })

  it("the same routes answer without the /v1 prefix", async () => {
    const bare = new OpenAI({ baseURL: env.gateway.url, apiKey: "local", maxRetries: 0 })
    const result = await bare.chat.completions.create({ model: "gpt", messages: [{ role: "user", content: "hi" }] })
    expect(result.choices[0]?.message.content).toBe(REFERENCE_TEXT)
  })

  it("lists the model groups", async () => {
    const models = await client.models.list()
    expect(models.data.map((m) => m.id)).toEqual(["gpt"])
  })

  it("the upstream key never reaches a response or a log line", () => {
    expect(env.gateway.logs.length).toBeGreaterThan(0)
    for (const line of env.gateway.logs) expect(line).not.toContain("sk-upstream-secret-0001")
  })
})
