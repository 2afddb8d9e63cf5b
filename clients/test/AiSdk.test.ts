/**
 * The Vercel AI SDK (`ai` with `@ai-sdk/openai`, Responses and chat models, and `@ai-sdk/openai-compatible`)
 * as its users call it — `generateText`, `streamText`, `embedMany`, a tool — against the real gateway: a
 * stream cut half way is continued (the whole text once, no error part), and a break with no fallback
 * reaches the user as an error carrying the gateway's message, not a validation failure.
 */
import { createOpenAI } from "@ai-sdk/openai"
import { createOpenAICompatible } from "@ai-sdk/openai-compatible"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave } from "@switchyard/testkit/mock"
import { embedMany, generateText, type LanguageModel, streamText, tool } from "ai"
import { z } from "zod"
import { FAILED, PROMPT, startClientsGateway, UPSTREAM_MESSAGE } from "./env.ts"

let env: Awaited<ReturnType<typeof startClientsGateway>>
let openai: ReturnType<typeof createOpenAI>
let compatible: ReturnType<typeof createOpenAICompatible>
beforeAll(async () => {
  env = await startClientsGateway()
  openai = createOpenAI({ baseURL: `${env.gateway.url}/v1`, apiKey: "local" })
  compatible = createOpenAICompatible({ name: "switchyard", baseURL: `${env.gateway.url}/v1`, apiKey: "local", includeUsage: true })
})
afterAll(() => env.close())

/** Streams one answer; returns its text and every error part. */
const stream = async (model: LanguageModel) => {
  // The error parts are read below; without onError the SDK also prints them.
  const result = streamText({ model, prompt: PROMPT, maxRetries: 0, onError: () => {} })
  let text = ""
  const errors: Array<unknown> = []
  for await (const part of result.fullStream) {
    if (part.type === "text-delta") text += part.text
    if (part.type === "error") errors.push(part.error)
  }
  return { text, errors }
}

const models: ReadonlyArray<readonly [string, (id: string) => LanguageModel]> = [
  ["@ai-sdk/openai Responses", (id) => openai.responses(id)],
  ["@ai-sdk/openai chat", (id) => openai.chat(id)],
  ["@ai-sdk/openai-compatible", (id) => compatible.chatModel(id)]
]

describe.each(models)("AI SDK: %s", (_, model) => {
  it("generateText and streamText", async () => {
    const { text, usage } = await generateText({ model: model("gpt"), prompt: PROMPT, maxRetries: 0 })
    expect(text).toBe(REFERENCE_TEXT)
    expect(usage.inputTokens).toBeGreaterThan(0)
    expect(await stream(model("gpt"))).toEqual({ text: REFERENCE_TEXT, errors: [] })
  })

  it("a tool call", async () => {
    const { toolCalls } = await generateText({
      model: model("claude"),
      prompt: "Weather in Paris?",
      tools: { weather: tool({ description: "The weather in a city", inputSchema: z.object({ city: z.string() }) }) },
      toolChoice: "required",
      maxRetries: 0
    })
    expect(toolCalls.map((c) => [c.toolName, c.input])).toEqual([["weather", { city: "Paris" }]])
  })

  it("a stream cut half way is continued: the whole text once, no error", async () => {
    env.mock.script("primary", [Behave.cutAfter(6)])
    expect(await stream(model("gpt"))).toEqual({ text: REFERENCE_TEXT, errors: [] })
    expect(env.mock.requests("backup").length).toBeGreaterThan(0)
  })

  it("a break with no fallback: the user gets an error with the gateway's message", async () => {
    env.mock.script("solo", [Behave.sseErrorAfter(3, { message: UPSTREAM_MESSAGE })])
    const { errors, text } = await stream(model("solo"))
    expect(text.length).toBeGreaterThan(0)
    expect(errors).toHaveLength(1)
    const error = errors[0] as { name?: string; message?: string }
    expect(error.name ?? "").not.toMatch(/TypeValidation/)
    expect(JSON.stringify(error) + String(error.message)).toMatch(FAILED)
  })
})

describe("AI SDK: embeddings", () => {
  it("embedMany", async () => {
    const { embeddings } = await embedMany({ model: openai.embedding("embed"), values: ["one", "two"], maxRetries: 0 })
    expect(embeddings).toHaveLength(2)
    expect(embeddings[0]!.length).toBeGreaterThan(0)
  })
})
