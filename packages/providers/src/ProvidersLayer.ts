/**
 * The Providers service with every built-in provider over ONE HttpClient, so connections are pooled and
 * kept alive across all deployments and requests.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Providers } from "@switchyard/core"
import { Effect, Layer } from "effect"
import { HttpClient } from "effect/http"
import { makeAnthropic } from "./Anthropic.ts"
import { makeAzure } from "./Azure.ts"
import { makeBedrock } from "./Bedrock.ts"
import { makeCohere } from "./Cohere.ts"
import { makeGemini } from "./Gemini.ts"
import { withMessagesOverChat } from "./MessagesOverChat.ts"
import { makeOpenAi, openAiAliases } from "./OpenAi.ts"
import { makeVertex } from "./Vertex.ts"

/** Every config prefix that names a built-in provider under another name (`groq` → `openai`, …). */
export const providerAliases: Readonly<Record<string, string>> = { ...openAiAliases }

/** The built-in providers (openai and its families, azure, anthropic, vertex_ai, gemini, bedrock, cohere) over a client; each serves `messages`, natively or over chat. */
export const makeProviders = (client: HttpClient.HttpClient): Providers["Service"] =>
  Providers.fromList([
    makeOpenAi(client),
    makeAzure(client),
    makeAnthropic(client),
    makeVertex(client),
    makeGemini(client),
    makeBedrock(client),
    makeCohere(client)
  ].map(withMessagesOverChat), providerAliases)

/** The built-in providers over the HttpClient in context (tests and embedders may bring their own). */
export const providersLayer: Layer.Layer<Providers, never, HttpClient.HttpClient> = Layer.effect(
  Providers,
  Effect.map(HttpClient.HttpClient, makeProviders)
)

/**
 * One undici-backed client with keep-alive pooling: `NodeHttpClient.layerUndici` without its
 * `layerMergedContext` wrapper. That wrapper merges the context the layer was built in into the context
 * of every request, copying the whole context map per call (in profiles: ~10 KB allocated per request);
 * the requests run in the gateway's own fibers, which already carry every service the client reads.
 */
const undiciClient: Layer.Layer<HttpClient.HttpClient> = Layer.effect(HttpClient.HttpClient, NodeHttpClient.makeUndici).pipe(
  Layer.provide(NodeHttpClient.layerDispatcher)
)

/** The built-in providers over one undici-backed client with keep-alive pooling. */
export const ProvidersLive: Layer.Layer<Providers> = providersLayer.pipe(Layer.provide(undiciClient))
