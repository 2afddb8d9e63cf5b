/**
 * Streams through the gateway: a break that cannot be continued ends in an SSE error event (never
 * `[DONE]`); a failure before the first chunk is a plain JSON error; audio is passed through as it
 * arrives; and a client that leaves closes the upstream stream.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Operation, operationNames, type Provider } from "@switchyard/core"
import { Behave } from "@switchyard/testkit/mock"
import { Deferred, Effect, Stream } from "effect"
import OpenAI from "openai"
import { startGateway, startWithMock } from "./harness.ts"

const single = (mock: { apiBase: (d: string) => string }) => `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("gpt")}" }
router_settings:
  num_retries: 0
`
const streamBody = (body: object) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ model: "gpt", stream: true, ...body })
})

describe("a stream that breaks and cannot be continued", () => {
  it("chat: ends with an error event, never [DONE], and the client raises", async () => {
    const env = await startWithMock(single)
    try {
      env.mock.script("gpt", [Behave.cutAfter(5), Behave.cutAfter(5)])
      const raw = await fetch(`${env.gateway.url}/v1/chat/completions`, streamBody({ messages: [{ role: "user", content: "hi" }] }))
      expect(raw.status).toBe(200)
      const text = await raw.text()
      expect(text).not.toContain("[DONE]")
      const last = JSON.parse(text.trim().split("\n\n").at(-1)!.slice("data: ".length))
      expect(last.error).toMatchObject({ type: "upstream_error", code: "upstream_stream_interrupted" })

      const client = new OpenAI({ baseURL: `${env.gateway.url}/v1`, apiKey: "x", maxRetries: 0 })
      const stream = await client.chat.completions.create({ model: "gpt", messages: [{ role: "user", content: "hi" }], stream: true })
      let received = ""
      await expect((async () => {
        for await (const chunk of stream) received += chunk.choices[0]?.delta.content ?? ""
      })()).rejects.toThrow()
      expect(received.length).toBeGreaterThan(0)
      expect(env.gateway.logs.at(-1)).toContain("status=502")
    } finally {
      await env.close()
    }
  })

  it("responses: ends with `event: error`, which the client raises", async () => {
    const env = await startWithMock(single)
    try {
      env.mock.script("gpt", [Behave.cutAfter(3)])
      const client = new OpenAI({ baseURL: `${env.gateway.url}/v1`, apiKey: "x", maxRetries: 0 })
      const stream = await client.responses.create({ model: "gpt", input: "hi", stream: true })
      const types: Array<string> = []
      await expect((async () => {
        for await (const event of stream) types.push(event.type)
      })()).rejects.toThrow(/failed after/)
      expect(types).not.toContain("response.completed")
    } finally {
      await env.close()
    }
  })

  it("a failure before the first chunk is a plain JSON error with its status", async () => {
    const env = await startWithMock(single)
    try {
      env.mock.otherwise("gpt", Behave.status(500))
      const r = await fetch(`${env.gateway.url}/v1/chat/completions`, streamBody({ messages: [{ role: "user", content: "hi" }] }))
      expect(r.status).toBe(502)
      expect(r.headers.get("content-type")).toContain("application/json")
      expect((await r.json() as any).error.type).toBe("upstream_error")
    } finally {
      await env.close()
    }
  })

  it("speech: a break after bytes were sent cuts the body short", async () => {
    const env = await startWithMock(single)
    try {
      env.mock.script("gpt", [Behave.cutAfter(2)])
      const r = await fetch(`${env.gateway.url}/v1/audio/speech`, streamBody({ input: "hello", voice: "alloy" }))
      expect(r.status).toBe(200)
      await expect(r.arrayBuffer()).rejects.toThrow()
    } finally {
      await env.close()
    }
  })
})

/** A provider whose streams are driven by the test: each chunk waits for the test to release it. */
const steppedProvider = () => {
  const gates: Array<Deferred.Deferred<void>> = Array.from({ length: 4 }, () => Deferred.makeUnsafe<void>())
  let markClosed: () => void = () => {}
  const closed = new Promise<void>((resolve) => (markClosed = resolve))
  const provider: Provider = {
    name: "stepped",
    operations: new Set(operationNames),
    supportsPrefill: true,
    call: () => Effect.die("not used"),
    stream: <Req, Chunk>(operation: Operation<string, Req, any, Chunk>) => {
      const chunk = (i: number): unknown =>
        operation.name === "speech"
          ? { contentType: "audio/wav", data: new Uint8Array([i, i, i]) }
          : { id: "c", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: `part${i} ` } }] }
      return Stream.fromIterable([0, 1, 2, 3]).pipe(
        Stream.mapEffect((i) => (i === 0 ? Effect.succeed(chunk(i)) : Effect.as(Deferred.await(gates[i]!), chunk(i)))),
        Stream.ensuring(Effect.sync(() => markClosed()))
      ) as Stream.Stream<Chunk>
    }
  }
  /** `closed` resolves when the upstream stream has been closed. */
  return { provider, release: (i: number) => Deferred.doneUnsafe(gates[i]!, Effect.void), closed }
}

const steppedConfig = `
model_list:
  - model_name: gpt
    litellm_params: { model: stepped/x }
`

describe("streaming without buffering", () => {
  it("speech bytes reach the client while the upstream is still sending", async () => {
    const stepped = steppedProvider()
    const gateway = await startGateway(steppedConfig, [stepped.provider])
    try {
      const r = await fetch(`${gateway.url}/v1/audio/speech`, streamBody({ input: "hi", voice: "alloy" }))
      expect(r.headers.get("content-type")).toBe("audio/wav")
      const reader = r.body!.getReader()
      // The first chunk arrives although the upstream has not sent the second yet.
      expect(Array.from((await reader.read()).value!)).toEqual([0, 0, 0])
      for (const i of [1, 2, 3]) {
        stepped.release(i)
        expect(Array.from((await reader.read()).value!)).toEqual([i, i, i])
      }
      expect((await reader.read()).done).toBe(true)
    } finally {
      await gateway.close()
    }
  })

  it("a client that leaves mid-stream closes the upstream stream", async () => {
    const stepped = steppedProvider()
    const gateway = await startGateway(steppedConfig, [stepped.provider])
    try {
      const controller = new AbortController()
      const r = await fetch(`${gateway.url}/v1/chat/completions`, {
        ...streamBody({ messages: [{ role: "user", content: "hi" }] }),
        signal: controller.signal
      })
      const reader = r.body!.getReader()
      expect(new TextDecoder().decode((await reader.read()).value)).toContain("part0")
      controller.abort()
      // Each wait is an event; a gateway that never closes the upstream or logs the 499 fails by the test timeout.
      await stepped.closed
      await gateway.logged("status=499")
      expect(gateway.logs.some((l) => l.includes("status=499"))).toBe(true)
    } finally {
      await gateway.close()
    }
  })
})
