/**
 * The OpenAI Agents SDK as its users call it — `run(agent, input, { stream: true })` over the Responses
 * and chat completions models, with a function tool — against the real gateway. Tracing is off: it would
 * export to api.openai.com.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import {
  Agent,
  OpenAIChatCompletionsModel,
  OpenAIResponsesModel,
  run,
  setTracingDisabled,
  tool
} from "@openai/agents"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave } from "@switchyard/testkit/mock"
import OpenAI from "openai"
import { z } from "zod"
import { FAILED, PROMPT, startClientsGateway, UPSTREAM_MESSAGE } from "./env.ts"

setTracingDisabled(true)

let env: Awaited<ReturnType<typeof startClientsGateway>>
let client: OpenAI
beforeAll(async () => {
  env = await startClientsGateway()
  client = new OpenAI({ baseURL: `${env.gateway.url}/v1`, apiKey: "local", maxRetries: 0 })
})
afterAll(() => env.close())

type ModelOf = (id: string) => OpenAIResponsesModel | OpenAIChatCompletionsModel
const models: ReadonlyArray<readonly [string, ModelOf]> = [
  ["Responses", (id) => new OpenAIResponsesModel(client, id)],
  ["chat completions", (id) => new OpenAIChatCompletionsModel(client, id)]
]

/** Runs an agent streamed, as the SDK's examples do; returns the streamed text and the final output. */
const streamed = async (agent: Agent) => {
  const result = await run(agent, PROMPT, { stream: true })
  let text = ""
  for await (const piece of result.toTextStream()) text += piece
  await result.completed
  return { text, finalOutput: result.finalOutput, error: result.error }
}

describe.each(models)("Agents SDK over %s", (_, model) => {
  it("a plain run and a streamed run", async () => {
    const agent = new Agent({ name: "fox", instructions: "Answer.", model: model("gpt") })
    expect((await run(agent, PROMPT)).finalOutput).toBe(REFERENCE_TEXT)
    const { finalOutput, text } = await streamed(agent)
    expect(text).toBe(REFERENCE_TEXT)
    expect(finalOutput).toBe(REFERENCE_TEXT)
  })

  it("a tool call: the agent calls the tool, then answers", async () => {
    const calls: Array<string> = []
    const weather = tool({
      name: "weather",
      description: "The weather in a city",
      parameters: z.object({ city: z.string() }),
      execute: async ({ city }) => {
        calls.push(city)
        return "sunny"
      }
    })
    const agent = new Agent({ name: "weather", instructions: "Use the tool.", model: model("claude"), tools: [weather], modelSettings: { toolChoice: "required" } })
    const { finalOutput } = await streamed(agent)
    expect(calls).toEqual(["Paris"])
    expect(finalOutput).toBe(REFERENCE_TEXT)
  })

  it("a stream cut half way is continued: the whole text once, no error", async () => {
    env.mock.script("primary", [Behave.cutAfter(6)])
    const { finalOutput, text } = await streamed(new Agent({ name: "fox", instructions: "Answer.", model: model("gpt") }))
    expect(text).toBe(REFERENCE_TEXT)
    expect(finalOutput).toBe(REFERENCE_TEXT)
  })

  it("a break with no fallback: the run raises with the gateway's message", async () => {
    env.mock.script("solo", [Behave.sseErrorAfter(3, { message: UPSTREAM_MESSAGE })])
    await expect(streamed(new Agent({ name: "fox", instructions: "Answer.", model: model("solo") }))).rejects.toThrow(FAILED)
  })
})
