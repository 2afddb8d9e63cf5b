/**
 * The OpenAI chat shapes every translating provider (Anthropic, Bedrock) produces or reads: a complete
 * chat completion from its parts, and a tool call's JSON arguments as an object.
 */

/** The parts of a complete reply that differ between vendors. */
export interface CompletionParts {
  readonly id: string
  readonly created: number
  readonly model: string | undefined
  readonly text: string
  readonly toolCalls: ReadonlyArray<{ readonly id?: unknown; readonly name?: unknown; readonly input?: unknown }>
  readonly finishReason: string | null
  readonly usage: Record<string, unknown>
}

/** An OpenAI chat completion; a pure tool call has null content, as OpenAI answers it. */
export const chatCompletion = (parts: CompletionParts): Record<string, unknown> => {
  const toolCalls = parts.toolCalls.map((call) => ({
    id: call.id,
    type: "function",
    function: { name: call.name, arguments: JSON.stringify(call.input ?? {}) }
  }))
  return {
    id: parts.id,
    object: "chat.completion",
    created: parts.created,
    model: parts.model,
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: parts.text === "" && toolCalls.length > 0 ? null : parts.text,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {})
      },
      finish_reason: parts.finishReason
    }],
    usage: parts.usage
  }
}

/** A tool call's `arguments` string as the object vendors want; text that is not JSON is kept under `arguments`. */
export const parseArguments = (args: unknown): unknown => {
  if (typeof args !== "string" || args.trim() === "") return {}
  try {
    return JSON.parse(args)
  } catch {
    return { arguments: args }
  }
}
