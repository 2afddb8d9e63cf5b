/**
 * Azure OpenAI: the OpenAI wire format at per-deployment URLs, with an `api-key` header and an
 * `api-version` query parameter. Azure has no moderation or rerank endpoint, so it does not declare them.
 */
import { NotFound, type OperationName, type Provider } from "@switchyard/core"
import { Effect, Redacted } from "effect"
import type { HttpClient } from "effect/http"
import { makeOpenAiShaped } from "./OpenAiCompatible.ts"

/** The api-version used when a deployment does not set one; a preview version, because Responses needs it. */
export const defaultAzureApiVersion = "2025-03-01-preview"

/** What Azure OpenAI serves. */
export const azureOperations: ReadonlyArray<OperationName> = [
  "chat",
  "completion",
  "embedding",
  "image",
  "speech",
  "transcription",
  "responses"
]

/** The Azure OpenAI provider. */
export const makeAzure = (client: HttpClient.HttpClient): Provider =>
  makeOpenAiShaped(client, {
    name: "azure",
    operations: azureOperations,
    endpoint: (deployment, operation) => {
      if (deployment.apiBase === undefined) {
        return Effect.fail(new NotFound({ message: `azure deployment ${deployment.id} has no api_base` }))
      }
      const base = deployment.apiBase.replace(/\/+$/, "")
      // Responses is addressed per resource, with the deployment named in the body; the rest per deployment.
      const url = operation.name === "responses"
        ? `${base}/openai/responses`
        : `${base}/openai/deployments/${encodeURIComponent(deployment.model)}${operation.path}`
      return Effect.succeed({
        url,
        urlParams: { "api-version": deployment.apiVersion ?? defaultAzureApiVersion },
        headers: deployment.apiKey === undefined ? {} : { "api-key": Redacted.value(deployment.apiKey) }
      })
    }
  })
