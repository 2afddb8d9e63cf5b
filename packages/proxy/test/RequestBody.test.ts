/**
 * Multipart bodies are decoded like JSON ones, with the operation's schema: the file part becomes
 * `{ filename, contentType, data }`, fields are coerced where the schema wants numbers, and the rest pass
 * through as strings (repeated or `name[]` fields as arrays).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { makeScriptedProvider, type ScriptedProvider } from "@switchyard/testkit"
import { startGateway, type TestGateway } from "./harness.ts"

let provider: ScriptedProvider
let gateway: TestGateway

beforeAll(async () => {
  provider = makeScriptedProvider()
  gateway = await startGateway(`
model_list:
  - model_name: whisper
    litellm_params: { model: scripted/whisper }
`, [provider])
})
afterAll(() => gateway.close())

const upload = (fields: Record<string, string | Array<string>>, file?: Blob) => {
  const form = new FormData()
  for (const [k, v] of Object.entries(fields)) for (const value of [v].flat()) form.append(k, value)
  if (file) form.append("file", file, "clip.wav")
  return fetch(`${gateway.url}/v1/audio/transcriptions`, { method: "POST", body: form })
}

describe("multipart bodies", () => {
  it("decodes the file, coerces numeric fields, and keeps the rest", async () => {
    const bytes = new Uint8Array([1, 2, 3, 250, 251])
    const response = await upload(
      { model: "whisper", temperature: "0.25", language: "en", prompt: "42", "timestamp_granularities[]": ["word", "segment"], extra: "7" },
      new Blob([bytes], { type: "audio/wav" })
    )
    expect(response.status).toBe(200)
    const request = provider.received.at(-1)!.request as Record<string, any>
    expect(request.file.filename).toBe("clip.wav")
    expect(request.file.contentType).toBe("audio/wav")
    expect(Array.from(request.file.data as Uint8Array)).toEqual([1, 2, 3, 250, 251])
    expect(request.temperature).toBe(0.25)
    // A string field stays a string even when it looks like a number; unknown fields stay strings.
    expect(request.prompt).toBe("42")
    expect(request.extra).toBe("7")
    expect(request.timestamp_granularities).toEqual(["word", "segment"])
  })

  it("names the field a coercion could not fix", async () => {
    const response = await upload({ model: "whisper", temperature: "warm" }, new Blob([new Uint8Array([1])]))
    expect(response.status).toBe(400)
    expect((await response.json() as any).error.param).toBe("temperature")
  })
})
