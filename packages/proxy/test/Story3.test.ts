/**
 * Story 3 (/work/shared/STORIES.md) on its real wires: the story's config as written, plus only the keys that
 * point its endpoints and credentials at the mock upstream. A Responses API stream is served by Anthropic's
 * Messages API, breaks, and is continued by Claude on Vertex AI (a service-account token, `streamRawPredict`,
 * no prefill: claude-sonnet-4-6 refuses one), through the gateway, read with the official `openai` client.
 */
import { describe, expect, it } from "@effect/vitest"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave, countTokens, type MockServer, REFERENCE_CHUNKS, startMockUpstream, wordChunks } from "@switchyard/testkit/mock"
import { ConfigProvider } from "effect"
import OpenAI from "openai"
import { startGateway } from "./harness.ts"

const config = (mock: MockServer) => `
model_list:
  - model_name: anthropic/claude-sonnet-4-6
    litellm_params: { model: anthropic/claude-sonnet-4-6, api_key: os.environ/ANTHROPIC_KEY, api_base: "${mock.apiBase("anthropic", "anthropic")}" }
  - model_name: vertex_ai/claude-sonnet-4-6
    litellm_params: { model: vertex_ai/claude-sonnet-4-6, api_key: os.environ/VERTEX_KEY, api_base: "${mock.vertexBase("vertex", "claude-sonnet-4-6")}", vertex_credentials: os.environ/VERTEX_CREDENTIALS }
router_settings:
  fallbacks:
    - anthropic/claude-sonnet-4-6: [vertex_ai/claude-sonnet-4-6]
`

const start = async () => {
  const mock = await startMockUpstream()
  const env = ConfigProvider.fromUnknown({
    ANTHROPIC_KEY: "sk-ant-story3-000000",
    VERTEX_KEY: "vertex-story3-000000",
    VERTEX_CREDENTIALS: JSON.stringify(mock.google.serviceAccount())
  })
  const gateway = await startGateway(config(mock), undefined, { extra: ConfigProvider.layer(env) }).catch(async (e) => {
    await mock.close()
    throw e
  })
  return { mock, gateway, close: async () => (await gateway.close(), await mock.close()) }
}

interface Usage {
  readonly input_tokens: number
  readonly output_tokens: number
  readonly total_tokens: number
}

/** Reads a Responses stream through the official client: every event, the text, and the completed response. */
const assemble = async (url: string) => {
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "local", maxRetries: 0 })
  const stream = await client.responses.create({ model: "anthropic/claude-sonnet-4-6", input: "Tell me about the fox", stream: true })
  const types: Array<string> = []
  let text = ""
  let completed: { output: Array<{ type: string; content?: Array<{ text?: string }> }>; usage: Usage } | undefined
  for await (const event of stream) {
    types.push(event.type)
    if (event.type === "response.output_text.delta") text += event.delta
    if (event.type === "response.completed") completed = event.response as never
  }
  return { types, text, completed }
}

interface ClaudeBody {
  readonly anthropic_version?: string
  readonly model?: string
  readonly stream?: boolean
  readonly messages: ReadonlyArray<{ readonly role: string; readonly content: ReadonlyArray<{ readonly text?: string }> }>
}

describe("story 3 on its real wires: Anthropic → Vertex Claude, Responses API stream", () => {
  it("after partial content: Vertex Claude continues without prefill; the whole answer arrives once, with the client's own usage", { timeout: 30_000 }, async () => {
    const env = await start()
    try {
      // Anthropic breaks after six words and stays down: its retries fail, and the fallback group continues.
      env.mock.script("anthropic", [Behave.cutAfter(6)], Behave.reset())
      const { types, text, completed } = await assemble(env.gateway.url)
      expect(text).toBe(REFERENCE_TEXT)
      expect(types.filter((t) => t === "response.created")).toHaveLength(1)
      expect(types[types.length - 1]).toBe("response.completed")
      expect(completed!.output[0]!.content![0]!.text).toBe(REFERENCE_TEXT)

      const [first] = env.mock.requests("anthropic")
      expect(first!.path).toBe("/d/anthropic/v1/messages")
      expect(first!.headers["x-api-key"]).toBe("sk-ant-story3-000000")
      const vertex = env.mock.requests("vertex")
      expect(vertex).toHaveLength(1)
      expect(vertex[0]!.path).toMatch(/\/publishers\/anthropic\/models\/claude-sonnet-4-6:streamRawPredict$/)
      expect(vertex[0]!.headers.authorization).toMatch(/^Bearer ya29\.mock-/)
      const body = vertex[0]!.body as ClaudeBody
      expect(body.anthropic_version).toBe("vertex-2023-10-16")
      expect(body.model).toBeUndefined()
      // claude-sonnet-4-6 refuses a prefill: the partial reply is an assistant turn followed by the instruction.
      expect(body.messages[0]!.content[0]!.text).toBe("Tell me about the fox")
      const partial = body.messages[1]!
      expect(partial.role).toBe("assistant")
      expect(REFERENCE_TEXT.startsWith(partial.content[0]!.text!)).toBe(true)
      expect(partial.content[0]!.text!.length).toBeGreaterThan(0)
      expect(body.messages[body.messages.length - 1]!.role).toBe("user")
      expect(env.mock.google.tokenRequests()).toBe(1)

      // The client's usage: its own prompt and both parts' output (Vertex's count and what the cut Anthropic
      // stream had produced). What the gateway spent, the continuation's prompt too, is on the log line.
      const vertexOutput = wordChunks(REFERENCE_TEXT.slice(partial.content[0]!.text!.length)).length
      const vertexInput = countTokens(body.messages)
      expect(completed!.usage.output_tokens).toBeGreaterThan(vertexOutput)
      expect(completed!.usage.input_tokens).toBeLessThan(vertexInput)
      expect(completed!.usage.total_tokens).toBe(completed!.usage.input_tokens + completed!.usage.output_tokens)
      await env.gateway.logged("continuations=1")
      const spent = Number(env.gateway.logs.find((l) => l.includes("continuations=1"))!.match(/prompt_tokens=(\d+)/)![1])
      expect(spent).toBeGreaterThan(vertexInput)
      expect(env.gateway.logs.some((l) => l.includes("continuations=1"))).toBe(true)
    } finally {
      await env.close()
    }
  })

  it("before the first chunk: Vertex Claude is asked the original input", { timeout: 30_000 }, async () => {
    const env = await start()
    try {
      env.mock.script("anthropic", [Behave.cutAfter(0)], Behave.reset())
      const { types, text, completed } = await assemble(env.gateway.url)
      expect(text).toBe(REFERENCE_TEXT)
      expect(types[0]).toBe("response.created")
      expect(types[types.length - 1]).toBe("response.completed")
      expect(completed!.usage.output_tokens).toBe(REFERENCE_CHUNKS.length)
      const body = env.mock.requests("vertex")[0]!.body as ClaudeBody
      expect(body.messages).toEqual([{ role: "user", content: [{ type: "text", text: "Tell me about the fox" }] }])
    } finally {
      await env.close()
    }
  })
})
