/**
 * The Anthropic Messages API end to end: the official `@anthropic-ai/sdk` against the real gateway, over
 * the mock upstream's Anthropic and OpenAI wires. Plain, streamed and tool-use turns on both; streams cut
 * mid-text and inside a tool-use block continued on a fallback with the exact reply; a stream that cannot
 * be continued ends with an Anthropic `error` event; errors and count_tokens in Anthropic's shapes.
 */
import Anthropic from "@anthropic-ai/sdk"
import { describe, expect, it } from "@effect/vitest"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave, type MockServer } from "@switchyard/testkit/mock"
import { postJson, startWithMock } from "./harness.ts"

const config = (mock: MockServer) => `
model_list:
  - model_name: claude
    litellm_params: { model: anthropic/claude-3-5-sonnet-20241022, api_base: "${mock.apiBase("claude", "anthropic")}", api_key: sk-ant-000001 }
  - model_name: claude-backup
    litellm_params: { model: anthropic/claude-3-5-sonnet-20241022, api_base: "${mock.apiBase("claude2", "anthropic")}", api_key: sk-ant-000002 }
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("gpt")}", api_key: sk-openai-000001 }
  - model_name: gpt-backup
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("gpt2")}", api_key: sk-openai-000002 }
router_settings:
  num_retries: 0
  fallbacks: [{ claude: [claude-backup] }, { gpt: [gpt-backup] }]
general_settings:
  master_key: sk-gateway-key
`

const clientOf = (url: string, apiKey = "sk-gateway-key") => new Anthropic({ baseURL: url, apiKey, maxRetries: 0 })
const ask = [{ role: "user" as const, content: "Tell me about the fox" }]
const weather = {
  name: "get_weather",
  description: "The weather in a city",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] }
}
const textOf = (message: Anthropic.Message) => message.content.map((b) => (b.type === "text" ? b.text : "")).join("")

/** Streams a request and returns every event and the SDK's assembled final message. */
const streamed = async (client: Anthropic, params: Omit<Anthropic.MessageCreateParams, "stream">) => {
  const events: Array<Anthropic.RawMessageStreamEvent> = []
  const stream = client.messages.stream(params)
  stream.on("streamEvent", (event) => void events.push(event))
  const final = await stream.finalMessage()
  return { events, final }
}

/** The grammar a client relies on: one start and stop, blocks opened in order and each stopped once. */
const expectGrammar = (events: ReadonlyArray<Anthropic.RawMessageStreamEvent>) => {
  expect(events.filter((e) => e.type === "message_start")).toHaveLength(1)
  expect(events.filter((e) => e.type === "message_stop")).toHaveLength(1)
  expect(events.at(-1)!.type).toBe("message_stop")
  const starts = events.flatMap((e) => (e.type === "content_block_start" ? [e.index] : []))
  expect(starts).toEqual(starts.map((_, i) => i))
  expect(events.flatMap((e) => (e.type === "content_block_stop" ? [e.index] : []))).toEqual(starts)
}

describe("POST /v1/messages with the Anthropic SDK", () => {
  it.each(["claude", "gpt"])("%s: a plain call and a stream give the reference reply, with usage", async (model) => {
    const env = await startWithMock(config)
    try {
      const client = clientOf(env.gateway.url)
      const message = await client.messages.create({ model, max_tokens: 256, system: "Be brief.", messages: ask })
      expect(textOf(message)).toBe(REFERENCE_TEXT)
      expect(message.stop_reason).toBe("end_turn")
      expect(message.usage.output_tokens).toBeGreaterThan(0)
      expect(message.usage.input_tokens).toBeGreaterThan(0)

      const { events, final } = await streamed(client, { model, max_tokens: 256, messages: ask })
      expectGrammar(events)
      expect(textOf(final)).toBe(REFERENCE_TEXT)
      expect(final.stop_reason).toBe("end_turn")
      expect(final.usage.input_tokens).toBeGreaterThan(0)
      expect(final.usage.output_tokens).toBeGreaterThan(0)
      // The system prompt reached the OpenAI wire as a system message.
      if (model === "gpt") expect((env.mock.requests("gpt")[0]!.body as any).messages[0]).toEqual({ role: "system", content: "Be brief." })
    } finally {
      await env.close()
    }
  })

  it.each(["claude", "gpt"])("%s: a forced tool call, plain and streamed, then the tool result turn", async (model) => {
    const env = await startWithMock(config)
    try {
      const client = clientOf(env.gateway.url)
      const params = { model, max_tokens: 256, messages: ask, tools: [weather], tool_choice: { type: "tool" as const, name: "get_weather" } }
      const call = await client.messages.create(params)
      expect(call.stop_reason).toBe("tool_use")
      const use = call.content.find((b) => b.type === "tool_use")!
      expect(use).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "Paris" } })

      const { events, final } = await streamed(client, params)
      expectGrammar(events)
      expect(final.content).toEqual([expect.objectContaining({ type: "tool_use", name: "get_weather", input: { city: "Paris" } })])
      expect(final.stop_reason).toBe("tool_use")

      const answer = await client.messages.create({
        model,
        max_tokens: 256,
        tools: [weather],
        messages: [...ask, { role: "assistant", content: call.content }, {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: use.id, content: "Sunny, 21 °C" }]
        }]
      })
      expect(textOf(answer)).toBe(REFERENCE_TEXT)
      const sent = env.mock.requests(model).at(-1)!.body as any
      if (model === "claude") {
        expect(sent.messages[2].content[0]).toEqual({ type: "tool_result", tool_use_id: use.id, content: "Sunny, 21 °C" })
        expect(sent.model).toBe("claude-3-5-sonnet-20241022")
      } else {
        expect(sent.messages.slice(1)).toEqual([
          { role: "assistant", content: null, tool_calls: [{ id: use.id, type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } }] },
          { role: "tool", tool_call_id: use.id, content: "Sunny, 21 °C" }
        ])
      }
    } finally {
      await env.close()
    }
  })

  it("gpt: tools, tool_use and tool_result turns and images are translated to chat", async () => {
    const env = await startWithMock(config)
    try {
      const answer = await clientOf(env.gateway.url).messages.create({
        model: "gpt",
        max_tokens: 256,
        tools: [weather],
        tool_choice: { type: "any" },
        messages: [
          { role: "user", content: [{ type: "text", text: "Weather here?" }, { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } }] },
          { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "Sunny" }] }] }
        ]
      })
      expect(answer.stop_reason).toBe("tool_use")
      const sent = env.mock.requests("gpt")[0]!.body as any
      expect(sent.tools).toEqual([{ type: "function", function: { name: "get_weather", description: "The weather in a city", parameters: weather.input_schema } }])
      expect(sent.tool_choice).toBe("required")
      expect(sent.max_tokens).toBe(256)
      expect(sent.messages).toEqual([
        { role: "user", content: [{ type: "text", text: "Weather here?" }, { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } }] },
        { role: "assistant", content: null, tool_calls: [{ id: "toolu_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } }] },
        { role: "tool", tool_call_id: "toolu_1", content: "Sunny" }
      ])
    } finally {
      await env.close()
    }
  })
})

describe("a /v1/messages stream that breaks", () => {
  it.each([["claude", "claude2"], ["gpt", "gpt2"]])("%s: cut mid-text, continued on the fallback with the exact reply and summed usage", async (model, backup) => {
    const env = await startWithMock(config)
    try {
      env.mock.script(model, [Behave.cutAfter(7)])
      const { events, final } = await streamed(clientOf(env.gateway.url), { model, max_tokens: 256, messages: ask })
      expectGrammar(events)
      expect(events.filter((e) => e.type === "content_block_start")).toHaveLength(1)
      expect(textOf(final)).toBe(REFERENCE_TEXT)
      expect(final.stop_reason).toBe("end_turn")
      expect(env.mock.requests(backup)).toHaveLength(1)
      // The broken part's tokens are estimated and added to the continuation's reported ones.
      const continued = events.find((e) => e.type === "message_delta")!
      const backupOutput = REFERENCE_TEXT.split(/\s+/).length - 7
      expect(continued.usage.output_tokens).toBeGreaterThan(backupOutput)
    } finally {
      await env.close()
    }
  })

  it.each([["claude", "claude2", "toolu_mock_1"], ["gpt", "gpt2", "call_mock_1"]])("%s: cut inside a tool_use block, the fallback's block arrives whole, once", async (model, backup, id) => {
    const env = await startWithMock(config)
    try {
      env.mock.script(model, [Behave.cutAfter(model === "gpt" ? 2 : 1)])
      const { events, final } = await streamed(clientOf(env.gateway.url), {
        model,
        max_tokens: 256,
        messages: ask,
        tools: [weather],
        tool_choice: { type: "tool", name: "get_weather" }
      })
      expectGrammar(events)
      expect(final.content).toEqual([{ type: "tool_use", id, name: "get_weather", input: { city: "Paris" } }])
      expect(final.stop_reason).toBe("tool_use")
      const json = events.flatMap((e) => (e.type === "content_block_delta" && e.delta.type === "input_json_delta" ? [e.delta.partial_json] : []))
      expect(json.join("")).toBe("{\"city\": \"Paris\"}")
      expect(env.mock.requests(backup)).toHaveLength(1)
    } finally {
      await env.close()
    }
  })

  it("with no fallback left: ends with an Anthropic error event, which the SDK raises", async () => {
    const env = await startWithMock(config)
    try {
      env.mock.script("claude", [Behave.cutAfter(4), Behave.cutAfter(4)])
      env.mock.script("claude2", [Behave.status(500), Behave.status(500)])
      const client = clientOf(env.gateway.url)
      const { events: _events, ...params } = { events: [], model: "claude", max_tokens: 256, messages: ask, stream: true }
      const raw = await fetch(`${env.gateway.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "sk-gateway-key" },
        body: JSON.stringify(params)
      })
      expect(raw.status).toBe(200)
      const frames = (await raw.text()).trim().split("\n\n")
      expect(frames.some((f) => f.startsWith("event: message_stop"))).toBe(false)
      const last = frames.at(-1)!
      expect(last.split("\n")[0]).toBe("event: error")
      expect(JSON.parse(last.split("\n")[1]!.slice("data: ".length))).toEqual({ type: "error", error: { type: "api_error", message: expect.stringContaining("failed after") } })

      const seen: Array<string> = []
      const stream = client.messages.stream({ model: "claude", max_tokens: 256, messages: ask })
      stream.on("streamEvent", (event) => void seen.push(event.type))
      await expect(stream.finalMessage()).rejects.toThrow(/failed after/)
      expect(seen).toContain("content_block_delta")
      expect(seen).not.toContain("message_stop")
    } finally {
      await env.close()
    }
  })
})

describe("the Messages route's edges", () => {
  it("errors come in Anthropic's shape with their status; x-api-key and Bearer both authenticate", async () => {
    const env = await startWithMock(config)
    try {
      await expect(clientOf(env.gateway.url, "wrong").messages.create({ model: "claude", max_tokens: 8, messages: ask }))
        .rejects.toBeInstanceOf(Anthropic.AuthenticationError)
      const unknown = await postJson(`${env.gateway.url}/v1/messages`, { model: "nope", max_tokens: 8, messages: ask }, { "x-api-key": "sk-gateway-key" })
      expect(unknown.status).toBe(404)
      expect(unknown.json).toEqual({ type: "error", error: { type: "not_found_error", message: expect.any(String) } })
      const missing = await postJson(`${env.gateway.url}/v1/messages`, { model: "claude", messages: ask }, { authorization: "Bearer sk-gateway-key" })
      expect(missing.status).toBe(400)
      expect(missing.json.error.type).toBe("invalid_request_error")
      env.mock.script("claude", [Behave.status(529)])
      env.mock.script("claude2", [Behave.status(529)])
      const busy = await postJson(`${env.gateway.url}/v1/messages`, { model: "claude", max_tokens: 8, messages: ask }, { "x-api-key": "sk-gateway-key" })
      expect(busy.status).toBe(503)
      expect(busy.json.error.type).toBe("overloaded_error")
    } finally {
      await env.close()
    }
  })

  it("count_tokens is answered from the tokenizer", async () => {
    const env = await startWithMock(config)
    try {
      const client = clientOf(env.gateway.url)
      const short = await client.messages.countTokens({ model: "claude", messages: ask })
      const long = await client.messages.countTokens({ model: "gpt", system: "Be brief.", messages: ask, tools: [weather] })
      expect(short.input_tokens).toBeGreaterThan(3)
      expect(long.input_tokens).toBeGreaterThan(short.input_tokens)
      expect(env.mock.requests()).toHaveLength(0)
      await expect(clientOf(env.gateway.url, "wrong").messages.countTokens({ model: "claude", messages: ask }))
        .rejects.toBeInstanceOf(Anthropic.AuthenticationError)
    } finally {
      await env.close()
    }
  })
})
