/**
 * One gateway over the mock upstream for every client test file: a primary OpenAI deployment whose
 * fallback continues on the Anthropic wire, a Claude deployment for tool calls, one with no fallback
 * (a break reaches the client), and an embeddings deployment.
 */
import { startWithMock } from "../../packages/proxy/test/harness.ts"

/** The message the upstream sends when the stream with no fallback fails. */
export const UPSTREAM_MESSAGE = "The server had an error while processing your request. Sorry about that!"

/**
 * What the client reads when the stream with no fallback fails: the gateway's error event, which names
 * the model and the failure class (a server error's own text is not passed on, as for a plain call).
 */
export const FAILED = /the upstream of "solo" failed after 1 attempt\(s\)/

/** The prompt every test asks. */
export const PROMPT = "Tell me about the fox"

/** Starts the shared gateway; close it when the file is done. */
export const startClientsGateway = () =>
  startWithMock((mock) => `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("primary")}", api_key: sk-primary-000000 }
  - model_name: backup
    litellm_params: { model: anthropic/claude-sonnet-4-6, api_base: "${mock.apiBase("backup", "anthropic")}", api_key: sk-ant-000000 }
  - model_name: claude
    litellm_params: { model: anthropic/claude-sonnet-4-6, api_base: "${mock.apiBase("claude", "anthropic")}", api_key: sk-ant-000000 }
  - model_name: solo
    litellm_params: { model: openai/gpt-4o, api_base: "${mock.apiBase("solo")}", api_key: sk-solo-000000 }
  - model_name: embed
    litellm_params: { model: openai/text-embedding-3-small, api_base: "${mock.apiBase("embed")}", api_key: sk-embed-000000 }
router_settings:
  num_retries: 0
  fallbacks: [{ gpt: [backup] }]
`)
