/**
 * The official `openai` client, as its users call it, against the real gateway: plain and streamed chat
 * and Responses, embeddings, a tool call, a stream cut half way and continued on another wire (one
 * identity, the whole text once, usage as asked), and a break with no fallback (the client raises with
 * the upstream's message).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave } from "@switchyard/testkit/mock"
import OpenAI from "openai"
import { FAILED, PROMPT, startClientsGateway, UPSTREAM_MESSAGE } from "./env.ts"

let env: Awaited<ReturnType<typeof startClientsGateway>>
let client: OpenAI
beforeAll(async () => {
  env = await startClientsGateway()
  client = new OpenAI({ baseURL: `${env.gateway.url}/v1`, apiKey: "local", maxRetries: 0 })
})
afterAll(() => env.close())

/** The gateway's `switchyard_tokens_total` for the `gpt` chat route, of one kind. */
const tokensSpent = async (kind: "prompt" | "completion") => {
  const text = await (await fetch(`${env.gateway.url}/metrics`)).text()
  const line = text.split("\n").find((l) =>
    l.startsWith("switchyard_tokens_total{") && l.includes(`kind="${kind}"`) && l.includes(`model="gpt"`) && l.includes(`operation="chat"`)
  )
  return line === undefined ? 0 : Number(line.split(" ").at(-1))
}

const messages = [{ role: "user" as const, content: PROMPT }]

describe("openai client", () => {
  it("chat", async () => {
    const reply = await client.chat.completions.create({ model: "gpt", messages })
    expect(reply.choices[0]!.message.content).toBe(REFERENCE_TEXT)
    expect(reply.usage!.prompt_tokens).toBeGreaterThan(0)
  })

  it("chat stream: no usage chunk unless asked", async () => {
    const stream = await client.chat.completions.create({ model: "gpt", messages, stream: true })
    let text = ""
    const usages: Array<unknown> = []
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ""
      if (chunk.usage) usages.push(chunk.usage)
    }
    expect(text).toBe(REFERENCE_TEXT)
    expect(usages).toEqual([])
  })

  it("responses, plain and streamed", async () => {
    const reply = await client.responses.create({ model: "gpt", input: PROMPT })
    expect(reply.output_text).toBe(REFERENCE_TEXT)
    const stream = await client.responses.create({ model: "gpt", input: PROMPT, stream: true })
    let text = ""
    for await (const event of stream) if (event.type === "response.output_text.delta") text += event.delta
    expect(text).toBe(REFERENCE_TEXT)
  })

  it("embeddings", async () => {
    const reply = await client.embeddings.create({ model: "embed", input: ["one", "two"] })
    expect(reply.data).toHaveLength(2)
    expect(reply.data[0]!.embedding.length).toBeGreaterThan(0)
  })

  it("a tool call", async () => {
    const reply = await client.chat.completions.create({
      model: "claude",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [{ type: "function", function: { name: "weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
      tool_choice: "required"
    })
    const call = reply.choices[0]!.message.tool_calls![0]! as { function: { name: string; arguments: string } }
    expect(call.function.name).toBe("weather")
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris" })
  })

  it("a chat stream cut half way is continued on another wire: one identity, the whole text once, the client's own usage", async () => {
    env.mock.script("primary", [Behave.cutAfter(6)])
    const spentBefore = await tokensSpent("prompt")
    const { data: stream, response } = await client.chat.completions
      .create({ model: "gpt", messages, stream: true, stream_options: { include_usage: true } })
      .withResponse()
    let text = ""
    const ids = new Set<string>()
    const models = new Set<string>()
    const created = new Set<number>()
    const usages: Array<OpenAI.CompletionUsage> = []
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ""
      ids.add(chunk.id)
      models.add(chunk.model)
      created.add(chunk.created)
      if (chunk.usage) usages.push(chunk.usage)
    }
    expect(text).toBe(REFERENCE_TEXT)
    expect([ids.size, models.size, created.size]).toEqual([1, 1, 1])
    expect(usages).toHaveLength(1)
    // The client's usage describes its own question (estimated: the broken part never reported it) and
    // the whole answer; what the continuation's prompt cost is counted in /metrics, not shown here.
    const usage = usages[0]!
    expect(usage.prompt_tokens).toBeLessThan(20)
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens)
    const spentPrompt = await tokensSpent("prompt")
    expect(spentPrompt - spentBefore).toBeGreaterThan(usage.prompt_tokens + REFERENCE_TEXT.length / 8)
    expect(response.headers.get("x-switchyard-deployment")).not.toBeNull()
  })

  it("a Responses stream cut half way is continued: one created, one completed with the whole text, ordered sequence numbers", async () => {
    env.mock.script("primary", [Behave.cutAfter(5)])
    const stream = await client.responses.create({ model: "gpt", input: PROMPT, stream: true })
    let text = ""
    const sequence: Array<number> = []
    const types: Array<string> = []
    const responseIds = new Set<string>()
    let completed: OpenAI.Responses.Response | undefined
    for await (const event of stream) {
      types.push(event.type)
      sequence.push(event.sequence_number)
      if (event.type === "response.output_text.delta") text += event.delta
      if (event.type === "response.created" || event.type === "response.completed") responseIds.add(event.response.id)
      if (event.type === "response.completed") completed = event.response
    }
    expect(text).toBe(REFERENCE_TEXT)
    expect(sequence).toEqual(sequence.map((_, i) => i))
    expect(types.filter((t) => t === "response.created")).toHaveLength(1)
    expect(types.filter((t) => t === "response.completed")).toHaveLength(1)
    expect(responseIds.size).toBe(1)
    expect(completed!.output_text ?? completed!.output.flatMap((o: any) => o.content ?? []).map((c: any) => c.text).join("")).toBe(REFERENCE_TEXT)
  })

  it("a break with no fallback: the chat stream raises with the upstream's message", async () => {
    env.mock.script("solo", [Behave.sseErrorAfter(3, { message: UPSTREAM_MESSAGE })])
    const stream = await client.chat.completions.create({ model: "solo", messages, stream: true })
    let text = ""
    await expect((async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ""
    })()).rejects.toThrow(FAILED)
    expect(text.length).toBeGreaterThan(0)
  })

  it("a break with no fallback: the Responses stream raises with the upstream's message", async () => {
    env.mock.script("solo", [Behave.sseErrorAfter(3, { message: UPSTREAM_MESSAGE })])
    const stream = await client.responses.create({ model: "solo", input: PROMPT, stream: true })
    await expect((async () => {
      for await (const _ of stream) { /* drain */ }
    })()).rejects.toThrow(FAILED)
    // On the wire: the `error` event as the Responses API defines it, numbered after the last event.
    env.mock.script("solo", [Behave.sseErrorAfter(3, { message: UPSTREAM_MESSAGE })])
    const raw = await fetch(`${env.gateway.url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "solo", input: PROMPT, stream: true })
    })
    const events = (await raw.text()).trim().split("\n\n").map((e) => JSON.parse(e.split("\ndata: ")[1]!))
    const error = events.at(-1)
    expect(error).toMatchObject({ type: "error", code: "upstream_stream_interrupted", message: expect.stringMatching(FAILED) })
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
  })
})
