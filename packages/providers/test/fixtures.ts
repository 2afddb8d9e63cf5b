/**
 * Shared test wiring: the real providers over the real undici client, a real mock upstream, and
 * deployments pointing at it.
 */
import type { Deployment, Operation, Provider, ProviderError } from "@switchyard/core"
import { Providers } from "@switchyard/core"
import { deploymentOf } from "@switchyard/testkit"
import { MockUpstream } from "@switchyard/testkit/mock"
import { Effect, Layer, Redacted, Stream } from "effect"
import { ProvidersLive } from "../src/index.ts"

/** The key every test deployment uses; no message may ever contain it. */
export const TEST_KEY = "sk-test-abcdef0123456789"

/** A mock upstream and the live providers, for one test file. */
export const TestLayer = Layer.mergeAll(MockUpstream.layer(), ProvidersLive)

/** A deployment with only the fields a provider reads set. */
export const makeDeployment = (fields: Partial<Deployment> & Pick<Deployment, "id" | "provider" | "model">): Deployment =>
  deploymentOf({ apiKey: Redacted.make(TEST_KEY), ...fields })

/** A deployment of `provider` served by the mock under the name `id`. */
export const mockDeployment = (
  id: string,
  provider: "openai" | "azure" | "anthropic" | string,
  extra: Partial<Deployment> = {}
) =>
  Effect.map(MockUpstream, (mock) =>
    makeDeployment({
      id,
      provider,
      model: `${provider}-model`,
      apiBase: mock.apiBase(id, provider === "azure" ? "azure" : provider === "anthropic" ? "anthropic" : "openai"),
      ...extra
    }))

/** The one request a mock deployment received (the test fails if it got none or several). */
export const onlyRequest = (deployment: string) =>
  Effect.map(MockUpstream, (mock) => {
    const requests = mock.requests(deployment)
    if (requests.length !== 1) throw new Error(`expected one request to ${deployment}, got ${requests.length}`)
    return requests[0]!
  })

/** The provider registered under a prefix. */
export const providerFor = (prefix: string) =>
  Effect.map(Providers, (providers): Provider => {
    const provider = providers.get(prefix)
    if (provider === undefined) throw new Error(`no provider ${prefix}`)
    return provider
  })

/** Runs a call and returns its failure (the test fails if it succeeds). */
export const callFailure = <Req>(provider: Provider, operation: Operation<string, Req>, deployment: Deployment, request: Req) =>
  Effect.flip(provider.call(operation, deployment, request))

/** Runs a stream to the end, collecting the chunks it sent before it ended or failed. */
export const collectUntilFailure = <Chunk>(stream: Stream.Stream<Chunk, ProviderError>) =>
  Effect.gen(function*() {
    const chunks: Array<Chunk> = []
    const error = yield* stream.pipe(
      Stream.runForEach((chunk) => Effect.sync(() => void chunks.push(chunk))),
      Effect.flip,
      Effect.catch(() => Effect.succeed(undefined))
    )
    return { chunks, error }
  })

/**
 * An operation typed so `Provider.call` accepts it. Operations that do not stream have `Chunk = never`, and
 * core's `TextStreamSpec<Req, never>` is not assignable to `StreamSpec<Req, any>` (its `text` parameter is
 * contravariant), so they cannot be passed as they are typed today; this keeps their Req and Res types.
 */
export const plain = <
  O extends { readonly name: string; readonly request: { readonly Type: unknown }; readonly response: { readonly Type: unknown } }
>(operation: O) => operation as unknown as Operation<O["name"], O["request"]["Type"], O["response"]["Type"], any>
