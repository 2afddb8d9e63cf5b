/**
 * Bad input is answered with an OpenAI-shaped 4xx that names the problem, costs no upstream request, and
 * never hurts the process: a valid request right after garbage still works.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { postJson, startWithMock } from "./harness.ts"

let env: Awaited<ReturnType<typeof startWithMock>>

beforeAll(async () => {
  env = await startWithMock((mock) => `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("gpt")}" }
general_settings:
  max_request_body_mb: 0.01
`)
})
afterAll(() => env.close())

const send = (path: string, body: string | Uint8Array, contentType = "application/json") =>
  fetch(`${env.gateway.url}${path}`, { method: "POST", headers: { "content-type": contentType }, body })
    .then(async (r) => ({ status: r.status, json: await r.json() as any }))

const cases: ReadonlyArray<{
  readonly name: string
  readonly path?: string
  readonly body: string | Uint8Array
  readonly contentType?: string
  readonly status: number
  readonly param?: string | null
  readonly code?: string
}> = [
  { name: "malformed JSON", body: "{\"model\": \"gpt\", ", status: 400, code: "invalid_json", param: null },
  { name: "an empty body", body: "", status: 400, code: "invalid_json" },
  { name: "a JSON array", body: "[1, 2]", status: 400, code: "invalid_json" },
  { name: "binary garbage", body: new Uint8Array([0xff, 0xfe, 0x00, 0x13, 0x37]), status: 400, code: "invalid_json" },
  { name: "a missing model", body: JSON.stringify({ messages: [{ role: "user", content: "x" }] }), status: 400, param: "model" },
  { name: "messages of the wrong type", body: JSON.stringify({ model: "gpt", messages: "hi" }), status: 400, param: "messages" },
  { name: "no messages", body: JSON.stringify({ model: "gpt", messages: [] }), status: 400, param: "messages" },
  {
    name: "a bad role deep inside",
    body: JSON.stringify({ model: "gpt", messages: [{ role: "user", content: "a" }, { role: "robot", content: "b" }] }),
    status: 400,
    param: "messages[1].role"
  },
  { name: "an unknown model", body: JSON.stringify({ model: "nope", messages: [{ role: "user", content: "x" }] }), status: 404, code: "model_not_found", param: "model" },
  {
    name: "an unknown fallback model",
    body: JSON.stringify({ model: "gpt", fallbacks: ["nope"], messages: [{ role: "user", content: "x" }] }),
    status: 404,
    code: "model_not_found"
  },
  { name: "a body over the limit", body: JSON.stringify({ model: "gpt", prompt: "x".repeat(20_000) }), path: "/v1/completions", status: 413, code: "request_too_large" },
  { name: "a broken multipart body", path: "/v1/audio/transcriptions", body: "--x\r\nnot a part", contentType: "multipart/form-data; boundary=x", status: 400 },
  { name: "a transcription without a file", path: "/v1/audio/transcriptions", body: "--x\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ngpt\r\n--x--\r\n", contentType: "multipart/form-data; boundary=x", status: 400, param: "file" },
  { name: "an unknown route", path: "/v1/chat/complete", body: "{}", status: 404, code: "unknown_url" }
]

describe("bad input", () => {
  for (const c of cases) {
    it(`${c.name} → ${c.status}`, async () => {
      const r = await send(c.path ?? "/v1/chat/completions", c.body, c.contentType)
      expect(r.status).toBe(c.status)
      expect(Object.keys(r.json.error).sort()).toEqual(["code", "message", "param", "type"])
      expect(r.json.error.type).toBe("invalid_request_error")
      if (c.param !== undefined) expect(r.json.error.param).toBe(c.param)
      if (c.code !== undefined) expect(r.json.error.code).toBe(c.code)
    })
  }

  it("none of it reached the upstream", () => {
    expect(env.mock.requests()).toHaveLength(0)
  })

  it("a schema violation reports every bad field", async () => {
    const r = await send("/v1/embeddings", JSON.stringify({ model: 42, input: { not: "valid" } }))
    expect(r.status).toBe(400)
    expect(r.json.error.message).toContain("model")
    expect(r.json.error.message).toContain("input")
  })

  it("unknown fields are kept and sent upstream", async () => {
    const r = await postJson(`${env.gateway.url}/v1/chat/completions`, {
      model: "gpt",
      messages: [{ role: "user", content: "hi", name: "ann" }],
      vendor_knob: { depth: 3 }
    })
    expect(r.status).toBe(200)
    const sent = env.mock.requests("gpt").at(-1)!.body as Record<string, any>
    expect(sent.vendor_knob).toEqual({ depth: 3 })
    expect(sent.messages[0].name).toBe("ann")
  })

  it("garbage, then a valid request that still works", async () => {
    const garbage = [
      send("/v1/chat/completions", "\u0000\u0001{{{"),
      send("/v1/responses", "null"),
      send("/v1/audio/speech", "{\"model\":\"gpt\",\"input\":1}"),
      fetch(`${env.gateway.url}/v1/chat/completions`, { method: "POST", body: "x".repeat(50_000) }).then((r) => r.text())
    ]
    await Promise.all(garbage)
    const r = await postJson(`${env.gateway.url}/v1/chat/completions`, { model: "gpt", messages: [{ role: "user", content: "hi" }] })
    expect(r.status).toBe(200)
    expect(r.json.choices[0].message.content).toBe(REFERENCE_TEXT)
  })
})
