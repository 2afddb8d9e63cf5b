/**
 * The three stories Switchyard was started for (/work/shared/STORIES.md), through the gateway: the
 * official OpenAI client, the real providers, and the HTTP mock upstream breaking on command.
 */
import { describe, expect, it } from "@effect/vitest"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave, speechAudio } from "@switchyard/testkit/mock"
import OpenAI from "openai"
import { startWithMock } from "./harness.ts"

const clientOf = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: "local", maxRetries: 0 })

describe("story 1: two TTS deployments under one model_name, the first failing", () => {
  it("every speech request succeeds, and the failing deployment cools down", async () => {
    const env = await startWithMock((mock) => `
model_list:
  - model_name: tts
    litellm_params: { model: openai/tts-1, api_base: "${mock.apiBase("primary")}", api_key: sk-primary-key-000 }
    model_info: { id: tts-primary }
  - model_name: tts
    litellm_params: { model: azure/tts, api_base: "${mock.apiBase("backup", "azure")}", api_key: azure-backup-key-000, api_version: "2025-03-01-preview" }
    model_info: { id: tts-backup }
router_settings:
  allowed_fails: 0
  cooldown_time: 60
`)
    try {
      env.mock.otherwise("primary", Behave.status(500))
      const client = clientOf(env.gateway.url)
      const served: Array<string | null> = []
      for (let i = 0; i < 8; i++) {
        const { data, response } = await client.audio.speech.create({ model: "tts", input: `line ${i}`, voice: "alloy" })
          .withResponse()
        const bytes = Buffer.from(await data.arrayBuffer())
        expect(bytes.equals(Buffer.from(speechAudio(`line ${i}`, "mp3")))).toBe(true)
        served.push(response.headers.get("x-switchyard-deployment"))
      }
      expect(served.every((d) => d === "tts-backup")).toBe(true)
      // Once it failed, the primary cooled down: it was called at most once.
      expect(env.mock.requests("primary").length).toBeLessThanOrEqual(1)
      expect(env.mock.requests("backup")).toHaveLength(8)
    } finally {
      await env.close()
    }
  })
})

describe("story 2: speech fallbacks between model groups", () => {
  const config = (mock: { apiBase: (d: string) => string }) => `
model_list:
  - model_name: kokoro
    litellm_params: { model: openai/dummy, api_base: "${mock.apiBase("placeholder")}", api_key: sk-llama }
  - model_name: server1/kokoro
    litellm_params: { model: openai/kokoro, api_base: "${mock.apiBase("server1")}", api_key: none }
  - model_name: server2/kokoro
    litellm_params: { model: openai/kokoro, api_base: "${mock.apiBase("server2")}", api_key: none }
router_settings:
  num_retries: 0
  fallbacks:
    - kokoro: [server1/kokoro, server2/kokoro]
`

  it("the placeholder's 'could not find real modelID' goes to server1/kokoro", async () => {
    const env = await startWithMock(config)
    try {
      env.mock.otherwise("placeholder", Behave.modelIdNotFound("kokoro"))
      const { data, response } = await clientOf(env.gateway.url).audio.speech
        .create({ model: "kokoro", input: "hello", voice: "af_heart" }).withResponse()
      expect(Buffer.from(await data.arrayBuffer()).equals(Buffer.from(speechAudio("hello", "mp3")))).toBe(true)
      expect(response.headers.get("x-switchyard-deployment")).toBe("server1/kokoro#1")
      expect(response.headers.get("x-switchyard-fallbacks")).toBe("1")
      // A model missing at the deployment is not retried there: one call, then the fallback.
      expect(env.mock.requests("placeholder")).toHaveLength(1)
    } finally {
      await env.close()
    }
  })

  it("goes on to server2/kokoro when server1 fails too", async () => {
    const env = await startWithMock(config)
    try {
      env.mock.otherwise("placeholder", Behave.modelIdNotFound("kokoro"))
      env.mock.otherwise("server1", Behave.reset())
      const { data, response } = await clientOf(env.gateway.url).audio.speech
        .create({ model: "kokoro", input: "hello", voice: "af_heart" }).withResponse()
      expect((await data.arrayBuffer()).byteLength).toBeGreaterThan(0)
      expect(response.headers.get("x-switchyard-deployment")).toBe("server2/kokoro#1")
      expect(response.headers.get("x-switchyard-fallbacks")).toBe("2")
    } finally {
      await env.close()
    }
  })
})

describe("story 3: a Responses API stream breaks half way", () => {
  const config = (mock: { apiBase: (d: string) => string }) => `
model_list:
  - model_name: anthropic/claude-sonnet-4-6
    litellm_params: { model: openai/claude-sonnet-4-6, api_base: "${mock.apiBase("primary")}", api_key: sk-primary-000 }
  - model_name: vertex_ai/claude-sonnet-4-6
    litellm_params: { model: openai/claude-sonnet-4-6, api_base: "${mock.apiBase("vertex")}", api_key: sk-vertex-000 }
router_settings:
  num_retries: 0
  fallbacks:
    - anthropic/claude-sonnet-4-6: [vertex_ai/claude-sonnet-4-6]
`
  const assemble = async (url: string) => {
    const stream = await clientOf(url).responses.create({
      model: "anthropic/claude-sonnet-4-6",
      input: "Tell me about the fox",
      stream: true
    })
    let text = ""
    let completed: { output_text?: string; usage?: unknown } | undefined
    for await (const event of stream) {
      if (event.type === "response.output_text.delta") text += event.delta
      if (event.type === "response.completed") completed = event.response
    }
    return { text, completed }
  }

  it("after partial content: the fallback continues, and the client has the whole answer once", async () => {
    const env = await startWithMock(config)
    try {
      env.mock.script("primary", [Behave.cutAfter(6)])
      const { text, completed } = await assemble(env.gateway.url)
      expect(text).toBe(REFERENCE_TEXT)
      expect(completed).toBeDefined()
      // The fallback was asked to continue: the original input plus the partial output.
      const continuation = env.mock.requests("vertex")[0]!.body as { input: Array<{ role: string; content: string }> }
      expect(continuation.input[0]).toEqual({ role: "user", content: "Tell me about the fox" })
      const partial = continuation.input.findLast((item) => item.role === "assistant")!
      expect(partial.content.length).toBeGreaterThan(0)
      expect(REFERENCE_TEXT.startsWith(partial.content)).toBe(true)
      expect(env.gateway.logs.some((l) => l.includes("continuations=1"))).toBe(true)
    } finally {
      await env.close()
    }
  })

  it("before the first chunk: the fallback gets the original input", async () => {
    const env = await startWithMock(config)
    try {
      env.mock.script("primary", [Behave.cutAfter(0)])
      const { text } = await assemble(env.gateway.url)
      expect(text).toBe(REFERENCE_TEXT)
      expect((env.mock.requests("vertex")[0]!.body as { input: unknown }).input).toBe("Tell me about the fox")
    } finally {
      await env.close()
    }
  })

  it("the same holds for a chat stream broken on the Anthropic wire and continued on OpenAI's", async () => {
    const env = await startWithMock((mock) => `
model_list:
  - model_name: claude
    litellm_params: { model: anthropic/claude-sonnet-4-6, api_base: "${mock.apiBase("anthropic", "anthropic")}", api_key: sk-ant-000000 }
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("openai")}", api_key: sk-openai-000000 }
router_settings:
  num_retries: 0
  fallbacks: [{ claude: [gpt] }]
`)
    try {
      env.mock.script("anthropic", [Behave.cutAfter(9)])
      const stream = await clientOf(env.gateway.url).chat.completions.create({
        model: "claude",
        messages: [{ role: "user", content: "Tell me about the fox" }],
        stream: true
      })
      let text = ""
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ""
      expect(text).toBe(REFERENCE_TEXT)
    } finally {
      await env.close()
    }
  })
})
