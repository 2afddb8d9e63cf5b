/**
 * Whatever the break positions (none, one, or two breaks, continued on the Anthropic wire and then on
 * OpenAI's), a client reads one well-formed stream: for the Responses API, `sequence_number` 0, 1, 2, …,
 * one `response.created` first and one `response.completed` last with the whole text, one response id,
 * model and creation time, one item id, output and content index; for chat, every chunk under the first
 * chunk's id, model and created, one role chunk, one finish, and a usage chunk exactly when asked, last.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { REFERENCE_TEXT } from "@switchyard/testkit"
import { Behave, type MockBehavior, REFERENCE_CHUNKS } from "@switchyard/testkit/mock"
import { Effect, Schema } from "effect"
import { startWithMock } from "./harness.ts"

let env: Awaited<ReturnType<typeof startWithMock>>
beforeAll(async () => {
  env = await startWithMock((mock) => `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("primary")}", api_key: sk-primary-000000 }
  - model_name: claude
    litellm_params: { model: anthropic/claude-sonnet-4-6, api_base: "${mock.apiBase("claude", "anthropic")}", api_key: sk-ant-000000 }
  - model_name: last
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${mock.apiBase("last")}", api_key: sk-last-000000 }
router_settings:
  num_retries: 0
  fallbacks: [{ gpt: [claude, last] }]
`)
})
afterAll(() => env.close())

/** The JSON data of every SSE event of a body, with its `event:` name when it has one. */
const eventsOf = (body: string) =>
  body.trim().split("\n\n").filter((e) => !e.includes("data: [DONE]")).map((e) => {
    const data = JSON.parse(e.slice(e.indexOf("data: ") + "data: ".length))
    return { name: e.startsWith("event: ") ? e.slice("event: ".length, e.indexOf("\n")) : undefined, data }
  })

const post = async (path: string, body: object) => {
  const response = await fetch(`${env.gateway.url}/v1/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt", stream: true, ...body })
  })
  expect(response.status).toBe(200)
  return eventsOf(await response.text())
}

const single = <A>(values: ReadonlyArray<A>) => expect(new Set(values).size).toBe(1)

const breaks = {
  // Where the primary and then the Anthropic fallback break (in words); `undefined`: it does not break.
  first: Schema.UndefinedOr(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: REFERENCE_CHUNKS.length - 2 }))),
  second: Schema.UndefinedOr(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 8 })))
}

const script = (first: number | undefined, second: number | undefined) => {
  const queue = (k: number | undefined): Array<MockBehavior> => (k === undefined ? [] : [Behave.cutAfter(k)])
  env.mock.script("primary", queue(first))
  // The fallback only breaks when the primary did: otherwise it is never asked.
  env.mock.script("claude", queue(first === undefined ? undefined : second))
}

describe("the stream grammar a client reads, for any break positions", () => {
  it.live.prop("Responses API", breaks, ({ first, second }) =>
    Effect.promise(async () => {
      script(first, second)
      const events = (await post("responses", { input: "Tell me about the fox" })).map((e) => e.data)
      const types = events.map((e) => e.type)
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
      expect(types[0]).toBe("response.created")
      expect(types.at(-1)).toBe("response.completed")
      expect(types.filter((t) => t === "response.created")).toHaveLength(1)
      expect(types.filter((t) => t === "response.completed")).toHaveLength(1)
      const responses = events.flatMap((e) => (e.response === undefined ? [] : [e.response]))
      single(responses.map((r) => r.id))
      single(responses.map((r) => r.model))
      single(responses.map((r) => r.created_at))
      single(events.flatMap((e) => [e.item_id, e.item?.id].filter((id) => id !== undefined)))
      single(events.flatMap((e) => (e.output_index === undefined ? [] : [e.output_index])))
      single(events.flatMap((e) => (e.content_index === undefined ? [] : [e.content_index])))
      const deltas = events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join("")
      expect(deltas).toBe(REFERENCE_TEXT)
      expect(events.find((e) => e.type === "response.output_text.done").text).toBe(REFERENCE_TEXT)
      const completed = events.at(-1).response
      expect(completed.output.flatMap((o: any) => o.content ?? []).map((c: any) => c.text).join("")).toBe(REFERENCE_TEXT)
      expect(completed.usage.total_tokens).toBe(completed.usage.input_tokens + completed.usage.output_tokens)
    }), { timeout: 120_000, arbitrary: { runs: 12, maxShrinks: 20 } })

  it.live.prop("chat completions", { ...breaks, usage: Schema.Boolean }, ({ first, second, usage }) =>
    Effect.promise(async () => {
      script(first, second)
      const chunks = (await post("chat/completions", {
        messages: [{ role: "user", content: "Tell me about the fox" }],
        ...(usage ? { stream_options: { include_usage: true } } : {})
      })).map((e) => e.data)
      single(chunks.map((c) => c.id))
      single(chunks.map((c) => c.model))
      single(chunks.map((c) => c.created))
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(REFERENCE_TEXT)
      expect(chunks.filter((c) => c.choices[0]?.delta.role !== undefined)).toHaveLength(1)
      expect(chunks.filter((c) => c.choices[0]?.finish_reason)).toHaveLength(1)
      const usages = chunks.filter((c) => c.usage != null)
      expect(usages).toHaveLength(usage ? 1 : 0)
      if (usage) expect(chunks.at(-1).usage).toBeDefined()
    }), { timeout: 120_000, arbitrary: { runs: 12, maxShrinks: 20 } })
})
