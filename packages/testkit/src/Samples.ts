/**
 * A well-formed reply for each operation, tagged with the deployment that produced it, so a test can see
 * who served without inspecting the router.
 */
import type { Deployment, OperationName } from "@switchyard/core"

/** A deployment with every optional setting unset, for tests that build deployments by hand. */
export const deploymentOf = (fields: Pick<Deployment, "id" | "provider" | "model"> & Partial<Deployment>): Deployment => ({
  group: fields.id,
  apiBase: undefined,
  apiKey: undefined,
  apiVersion: undefined,
  rpm: undefined,
  tpm: undefined,
  weight: undefined,
  order: undefined,
  timeoutMillis: undefined,
  streamTimeoutMillis: undefined,
  numRetries: undefined,
  cooldownMillis: undefined,
  tags: [],
  supportsPrefill: undefined,
  info: {},
  ...fields
})

const usage = { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 }

/** A valid response body of `operation`, as deployment `served` would send it. */
export const sampleResponse = (operation: OperationName, served: string): unknown => {
  switch (operation) {
    case "chat":
      return {
        id: `chatcmpl-${served}`,
        object: "chat.completion",
        created: 0,
        model: served,
        choices: [{ index: 0, message: { role: "assistant", content: `hello from ${served}` }, finish_reason: "stop" }],
        usage
      }
    case "completion":
      return {
        id: `cmpl-${served}`,
        object: "text_completion",
        model: served,
        choices: [{ index: 0, text: `hello from ${served}`, finish_reason: "stop" }],
        usage
      }
    case "embedding":
      return { object: "list", model: served, data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2] }], usage }
    case "speech":
      return { contentType: "audio/mpeg", data: new TextEncoder().encode(`audio from ${served}`) }
    case "transcription":
      return { text: `transcript from ${served}` }
    case "image":
      return { created: 0, data: [{ url: `https://images.invalid/${served}.png` }] }
    case "rerank":
      return { id: `rerank-${served}`, results: [{ index: 0, relevance_score: 0.9 }] }
    case "responses":
      return {
        id: `resp-${served}`,
        object: "response",
        status: "completed",
        model: served,
        output: [{
          type: "message",
          role: "assistant",
          content: [{ type: "output_text", text: `hello from ${served}` }]
        }],
        usage: { input_tokens: 3, output_tokens: 5, total_tokens: 8 }
      }
    case "moderation":
      return { id: `modr-${served}`, model: served, results: [{ flagged: false }] }
    case "messages":
      return {
        id: `msg-${served}`,
        type: "message",
        role: "assistant",
        model: served,
        content: [{ type: "text", text: `hello from ${served}` }],
        stop_reason: "end_turn",
        usage: { input_tokens: 3, output_tokens: 5 }
      }
  }
}

/** A minimal valid request of `operation` for model group `model`. */
export const sampleRequest = (operation: OperationName, model: string): Record<string, unknown> => {
  switch (operation) {
    case "chat":
      return { model, messages: [{ role: "user", content: "hi" }] }
    case "completion":
      return { model, prompt: "Say hi" }
    case "embedding":
      return { model, input: "hi" }
    case "speech":
      return { model, input: "hello", voice: "alloy" }
    case "transcription":
      return { model, file: { filename: "a.wav", contentType: "audio/wav", data: new Uint8Array([1, 2, 3]) } }
    case "image":
      return { model, prompt: "a cat" }
    case "rerank":
      return { model, query: "q", documents: ["a", "b"] }
    case "responses":
      return { model, input: "hi" }
    case "moderation":
      return { model, input: "hi" }
    case "messages":
      return { model, max_tokens: 64, messages: [{ role: "user", content: "hi" }] }
  }
}

/** A chat chunk carrying a piece of one tool call's arguments; the `first` piece names the call. */
export const toolCallChunk = (args: string, first = false) => ({
  id: "t",
  choices: [{
    index: 0,
    delta: {
      tool_calls: [{ index: 0, ...(first ? { id: "call_1", type: "function", function: { name: "get_weather", arguments: args } } : { function: { arguments: args } }) }]
    }
  }]
})

/** The chat chunk that ends a reply made of tool calls. */
export const toolCallsFinish = { id: "t", choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] }
