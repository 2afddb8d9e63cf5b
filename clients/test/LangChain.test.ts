/**
 * LangChain's `ChatOpenAI` (chat completions and `useResponsesApi`) and `OpenAIEmbeddings`, as their
 * users call them — `invoke`, `stream`, `bindTools`, `embedDocuments` — against the real gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { ChatOpenAI, OpenAIEmbeddings } from "@langchain/openai"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave } from "@switchyard/testkit/mock"
import { FAILED, PROMPT, startClientsGateway, UPSTREAM_MESSAGE } from "./env.ts"

let env: Awaited<ReturnType<typeof startClientsGateway>>
beforeAll(async () => {
  env = await startClientsGateway()
})
afterAll(() => env.close())

const chatModel = (model: string, useResponsesApi: boolean) =>
  new ChatOpenAI({ model, apiKey: "local", configuration: { baseURL: `${env.gateway.url}/v1` }, maxRetries: 0, useResponsesApi })

/** The text of a message's content, whether a string or content blocks. */
const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
    ? content.map((c: { type?: string; text?: string }) => (c.type === "text" ? c.text ?? "" : "")).join("")
    : ""

const streamed = async (model: ChatOpenAI) => {
  let text = ""
  let ids = new Set<string>()
  for await (const chunk of await model.stream(PROMPT)) {
    text += textOf(chunk.content)
    if (chunk.id !== undefined) ids.add(chunk.id)
  }
  return { text, ids }
}

describe.each([["chat completions", false], ["Responses", true]] as const)("LangChain ChatOpenAI over %s", (_, responses) => {
  it("invoke and stream", async () => {
    const reply = await chatModel("gpt", responses).invoke(PROMPT)
    expect(textOf(reply.content)).toBe(REFERENCE_TEXT)
    expect((await streamed(chatModel("gpt", responses))).text).toBe(REFERENCE_TEXT)
  })

  it("a tool call", async () => {
    const model = chatModel("claude", responses).bindTools(
      [{ type: "function", function: { name: "weather", description: "The weather in a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }],
      { tool_choice: "weather" }
    )
    const reply = await model.invoke("Weather in Paris?")
    expect(reply.tool_calls?.map((c) => [c.name, c.args])).toEqual([["weather", { city: "Paris" }]])
  })

  it("a stream cut half way is continued: the whole text once, one id", async () => {
    env.mock.script("primary", [Behave.cutAfter(6)])
    const { ids, text } = await streamed(chatModel("gpt", responses))
    expect(text).toBe(REFERENCE_TEXT)
    expect(ids.size).toBeLessThanOrEqual(1)
  })

  it("a break with no fallback: stream raises with the gateway's message", async () => {
    env.mock.script("solo", [Behave.sseErrorAfter(3, { message: UPSTREAM_MESSAGE })])
    await expect(streamed(chatModel("solo", responses))).rejects.toThrow(FAILED)
  })
})

describe("LangChain OpenAIEmbeddings", () => {
  it("embedDocuments", async () => {
    const embeddings = new OpenAIEmbeddings({ model: "embed", apiKey: "local", configuration: { baseURL: `${env.gateway.url}/v1` }, maxRetries: 0 })
    const vectors = await embeddings.embedDocuments(["one", "two"])
    expect(vectors).toHaveLength(2)
    expect(vectors[0]!.length).toBeGreaterThan(0)
  })
})
