/**
 * `POST /v1/messages/count_tokens`, which Claude Code and the Anthropic SDKs call before long requests.
 * It is answered here from the tokenizer (cl100k_base, an estimate of Claude's own count): no upstream
 * call is spent on it, and it works whatever wire the model group is routed to.
 */
import { countTokens, operations } from "@switchyard/core"
import { Effect } from "effect"
import { type HttpServerRequest, HttpServerResponse } from "effect/http"
import type { AuthShape } from "./Auth.ts"
import { ApiErrors, errorResponse } from "./HttpErrors.ts"
import { readBody } from "./RequestBody.ts"

/** The text of a Messages request that the model reads: system prompt, turns and tool definitions. */
export const promptOfMessages = (body: Record<string, unknown>): string =>
  [body.system, body.messages, body.tools].filter((part) => part !== undefined).map((part) =>
    typeof part === "string" ? part : JSON.stringify(part)
  ).join("\n")

/** The handler of the count_tokens route. */
export const countTokensHandler = (auth: AuthShape, bodyLimitBytes: number) =>
(request: HttpServerRequest.HttpServerRequest) =>
  Effect.gen(function*() {
    const principal = yield* auth.authenticate(request.headers)
    const body = yield* readBody(request, operations.messages, bodyLimitBytes)
    if (typeof body.model !== "string" || !Array.isArray(body.messages)) {
      return yield* Effect.fail(ApiErrors.invalidParam("messages", "model and messages are required"))
    }
    yield* auth.authorize(principal, [body.model])
    const input_tokens = yield* countTokens(promptOfMessages(body))
    return HttpServerResponse.jsonUnsafe({ input_tokens })
  }).pipe(Effect.catch((error) => Effect.succeed(errorResponse(error, "messages"))))
