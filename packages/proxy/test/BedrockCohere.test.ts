/**
 * Bedrock, Cohere and an OpenAI-compatible family through the gateway with the official `openai` client:
 * real providers against the mock, which verifies every Bedrock request's SigV4 signature.
 */
import { describe, expect, it } from "@effect/vitest"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave, MOCK_AWS_CREDENTIALS, type MockServer } from "@switchyard/testkit/mock"
import type { Deployment } from "@switchyard/core"
import { Redacted } from "effect"
import OpenAI from "openai"
import { makeRedactor } from "../src/Secrets.ts"
import { postJson, startWithMock } from "./harness.ts"

const aws = `aws_access_key_id: ${MOCK_AWS_CREDENTIALS.accessKeyId}, aws_secret_access_key: "${MOCK_AWS_CREDENTIALS.secretAccessKey}", aws_region_name: us-east-1`

const config = (mock: MockServer) => `
model_list:
  - model_name: claude
    litellm_params: { model: "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", api_base: "${mock.apiBase("claude", "bedrock")}", ${aws} }
  - model_name: nova
    litellm_params: { model: "bedrock/amazon.nova-pro-v1:0", aws_bedrock_runtime_endpoint: "${mock.apiBase("nova", "bedrock")}", ${aws} }
  - model_name: titan
    litellm_params: { model: "bedrock/amazon.titan-embed-text-v2:0", api_base: "${mock.apiBase("titan", "bedrock")}", ${aws} }
  - model_name: backup
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("backup")}" }
  - model_name: co-embed
    litellm_params: { model: cohere/embed-v4.0, api_base: "${mock.apiBase("co-embed", "cohere")}", api_key: co-test-key }
  - model_name: co-rerank
    litellm_params: { model: cohere/rerank-v3.5, api_base: "${mock.apiBase("co-rerank", "cohere")}", api_key: co-test-key }
  - model_name: local
    litellm_params: { model: ollama/llama3.2, api_base: "${mock.url}/d/ollama" }
router_settings:
  num_retries: 0
  fallbacks: [{ nova: [backup] }, { claude: [backup] }]
`

const hi = [{ role: "user" as const, content: "hi" }]
const clientOf = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: "x", maxRetries: 0 })

const streamText = async (client: OpenAI, model: string) => {
  let text = ""
  for await (const c of await client.chat.completions.create({ model, messages: hi, stream: true })) text += c.choices[0]?.delta.content ?? ""
  return text
}

describe("bedrock through the gateway", () => {
  it("chat (Converse and Invoke), stream, tools and embeddings, every request signed", async () => {
    const env = await startWithMock(config)
    try {
      const client = clientOf(env.gateway.url)
      for (const model of ["nova", "claude"]) {
        const reply = await client.chat.completions.create({ model, messages: hi })
        expect(reply.choices[0]!.message.content).toBe(REFERENCE_TEXT)
        expect(await streamText(client, model)).toBe(REFERENCE_TEXT)
      }
      const tool = await client.chat.completions.create({
        model: "nova",
        messages: hi,
        tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
        tool_choice: "required"
      })
      expect(tool.choices[0]!.finish_reason).toBe("tool_calls")
      expect(JSON.parse(tool.choices[0]!.message.tool_calls![0]!.type === "function" ? (tool.choices[0]!.message.tool_calls![0] as any).function.arguments : "")).toEqual({ city: "Paris" })
      // The official client asks for base64 and decodes it back to floats.
      const embedding = await client.embeddings.create({ model: "titan", input: ["one", "two"] })
      expect(embedding.data.map((d) => d.embedding.length)).toEqual([8, 8])
      const signed = [...env.mock.requests("nova"), ...env.mock.requests("claude"), ...env.mock.requests("titan")]
      expect(signed.length).toBe(7)
      for (const r of signed) expect(r.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAMOCKSWITCHYARD01\//)
      expect(env.mock.requests("backup")).toHaveLength(0)
    } finally {
      await env.close()
    }
  })

  it("an exception frame before content fails like a failed call: the fallback answers", async () => {
    const env = await startWithMock(config)
    try {
      env.mock.script("nova", [Behave.sseErrorAfter(0, { type: "throttlingException", message: "Too many tokens, please wait" })])
      expect(await streamText(clientOf(env.gateway.url), "nova")).toBe(REFERENCE_TEXT)
      expect(env.mock.requests("nova")).toHaveLength(1)
      expect(env.mock.requests("backup")).toHaveLength(1)
      // Nothing had been sent, so the fallback is a fresh request, not a continuation.
      expect((env.mock.requests("backup")[0]!.body as any).messages).toEqual(hi)
    } finally {
      await env.close()
    }
  })

  it("an exception frame after content is a break the router continues: the client gets the exact text", async () => {
    const env = await startWithMock(config)
    try {
      env.mock.script("claude", [Behave.sseErrorAfter(5, { type: "modelStreamErrorException", message: "The model stopped" })])
      env.mock.script("nova", [Behave.sseErrorAfter(4, { type: "serviceUnavailableException" })])
      const client = clientOf(env.gateway.url)
      expect(await streamText(client, "claude")).toBe(REFERENCE_TEXT)
      expect(await streamText(client, "nova")).toBe(REFERENCE_TEXT)
      expect(env.mock.requests("backup")).toHaveLength(2)
    } finally {
      await env.close()
    }
  })
})

describe("cohere through the gateway", () => {
  it("embeddings (embed v2) and rerank (rerank v2)", async () => {
    const env = await startWithMock(config)
    try {
      const client = clientOf(env.gateway.url)
      const embedding = await client.embeddings.create({ model: "co-embed", input: "hello" })
      expect(embedding.data[0]!.embedding).toHaveLength(8)
      expect((env.mock.requests("co-embed")[0]!.body as any).input_type).toBe("search_document")
      const rerank = await postJson(`${env.gateway.url}/v1/rerank`, { model: "co-rerank", query: "dog", documents: ["cat", "dog"], top_n: 1 })
      expect(rerank.status).toBe(200)
      expect(rerank.json.results.map((r: any) => r.index)).toEqual([1])
      expect(env.mock.requests("co-rerank")[0]!.path).toBe("/d/co-rerank/v2/rerank")
      expect(env.mock.requests("co-rerank")[0]!.headers.authorization).toBe("Bearer co-test-key")
    } finally {
      await env.close()
    }
  })
})

describe("an OpenAI-compatible family row", () => {
  it("ollama: a bare-host api_base gets /v1, and the server is spoken to as OpenAI", async () => {
    const env = await startWithMock(config)
    try {
      const reply = await clientOf(env.gateway.url).chat.completions.create({ model: "local", messages: hi })
      expect(reply.choices[0]!.message.content).toBe(REFERENCE_TEXT)
      const seen = env.mock.requests("ollama")
      expect(seen.map((r) => r.path)).toEqual(["/d/ollama/v1/chat/completions"])
      expect((seen[0]!.body as any).model).toBe("llama3.2")
    } finally {
      await env.close()
    }
  })
})

describe("the gateway's redactor", () => {
  it("blanks a Bedrock deployment's secret key and session token", () => {
    const deployment = {
      apiKey: undefined,
      aws: { secretAccessKey: Redacted.make("aws-secret-abcdef0123"), sessionToken: Redacted.make("aws-session-token-456") }
    } as unknown as Deployment
    expect(makeRedactor([deployment], [])("a aws-secret-abcdef0123 b aws-session-token-456 c")).toBe("a [redacted] b [redacted] c")
  })
})
