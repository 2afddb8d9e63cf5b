/**
 * The checks and replies of the mock's Google endpoints: Vertex AI (Claude under `publishers/anthropic`,
 * Gemini under `publishers/google`) behind an OAuth token the mock issued, and Gemini on AI Studio behind
 * an `x-goog-api-key`. Claude on Vertex takes the Messages body with Vertex's `anthropic_version` and
 * without `model` (the path names it), and refuses what Anthropic's API refuses.
 */
import { claudeBodyRejection } from "./ClaudeRules.ts"
import { errorReply } from "./ErrorBodies.ts"
import { geminiRejection, geminiReply, googleErrorReply } from "./GeminiMock.ts"
import type { GoogleAuthMock, GoogleReply } from "./GoogleAuthMock.ts"
import { okReply, type Reply } from "./Replies.ts"
import type { MockRoute } from "./Routes.ts"

/** The `anthropic_version` Claude on Vertex requires in the body. */
export const VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16"

const NO_API_KEY =
  "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."

const parsed = (reply: { readonly status: number; readonly body: string }): GoogleReply => ({
  status: reply.status,
  body: JSON.parse(reply.body) as unknown
})

/** Claude's 400 in Anthropic's shape (Vertex passes the model's own errors through). */
const claudeBadRequest = (message: string) =>
  parsed(errorReply("anthropic", { status: 400, message }, { model: undefined, presentedKey: undefined }))

/** What the Google endpoint refuses before answering (auth first, then the body), or undefined. */
export const googleRejection = (
  route: MockRoute,
  headers: Readonly<Record<string, string>>,
  body: Record<string, unknown>,
  google: GoogleAuthMock
): GoogleReply | undefined => {
  const { model, method, vertex } = route.google!
  if (vertex) {
    const auth = google.rejection(headers.authorization)
    if (auth !== undefined) return auth
  } else if (!headers["x-goog-api-key"]) {
    return parsed(googleErrorReply({ status: 403, message: NO_API_KEY }))
  }
  if (route.wire === "anthropic") {
    if (body.anthropic_version !== VERTEX_ANTHROPIC_VERSION) {
      return claudeBadRequest(`anthropic_version: Input should be '${VERTEX_ANTHROPIC_VERSION}'`)
    }
    if ("model" in body) return claudeBadRequest("model: Extra inputs are not permitted")
    const rejection = claudeBodyRejection(model, body)
    return rejection === undefined ? undefined : claudeBadRequest(rejection)
  }
  const rejection = geminiRejection(method, body)
  return rejection === undefined ? undefined : parsed(googleErrorReply({ status: 400, message: rejection }))
}

/** The successful reply of any mock route (the model of a Google route comes from its path). */
export const replyOf = (route: MockRoute, body: Record<string, unknown>): Reply => {
  const google = route.google
  if (google === undefined) return okReply({ wire: route.wire, operation: route.operation!, body, stream: body.stream === true })
  if (route.wire === "google") return geminiReply(google.method, google.model, body, google.method === "streamGenerateContent")
  return okReply({ wire: "anthropic", operation: "messages", body: { ...body, model: google.model }, stream: google.method === "streamRawPredict" })
}
