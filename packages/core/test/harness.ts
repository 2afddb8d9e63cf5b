/** Test harness: a router over scripted providers, and ways to run it under TestClock. */
import {
  Authentication,
  BadRequest,
  Connection,
  ContentPolicy,
  ContextWindowExceeded,
  MalformedResponse,
  MidStream,
  NotFound,
  type Operation,
  type OperationName,
  operations,
  Overloaded,
  parseConfig,
  type Provider,
  type ProviderError,
  type ProviderErrorTag,
  Providers,
  RateLimited,
  Router,
  type RouterShape,
  RouterState,
  type RouterStateShape,
  ServerError,
  Timeout,
  UnsupportedOperation
} from "@switchyard/core"
import { sampleRequest } from "@switchyard/testkit"
import { Cause, ConfigProvider, type Duration, Effect, Exit, Fiber, Layer, Option } from "effect"
import { TestClock } from "effect/testing"

/** Builds a router from YAML over the given providers, with a fresh in-memory state it also returns. */
export const routerFor = (yaml: string, providers: ReadonlyArray<Provider>, aliases: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const loaded = yield* parseConfig(yaml)
    const context = yield* Layer.build(
      Router.layer(loaded).pipe(
        Layer.provideMerge(Layer.mergeAll(
          Layer.succeed(Providers, Providers.fromList(providers, aliases)),
          RouterState.memory
        ))
      )
    )
    const router = yield* Router.pipe(Effect.provide(context))
    const state: RouterStateShape = yield* RouterState.pipe(Effect.provide(context))
    return { router, state }
  })

/** Runs an effect to its end, moving the TestClock forward in steps while it sleeps. */
export const runToEnd = <A, E>(effect: Effect.Effect<A, E>, step: Duration.Input = "100 millis", maxSteps = 10_000) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(effect)
    for (let i = 0; i < maxSteps; i++) {
      yield* TestClock.adjust(step)
      const exit = fiber.pollUnsafe()
      if (exit) return exit
    }
    return yield* Effect.die(new Error("effect did not finish under the TestClock"))
  })

/** Runs an effect that must finish without the clock moving: a sleep anywhere fails the test. */
export const withoutSleeping = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(effect)
    yield* TestClock.adjust(0)
    const exit = fiber.pollUnsafe()
    if (exit === undefined) {
      yield* Fiber.interrupt(fiber)
      return yield* Effect.die(new Error("the effect slept, but a healthy deployment was available"))
    }
    return exit
  })

/** The value of a successful exit, or a defect that shows the failure. */
export const successOf = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isSuccess(exit)) return exit.value
  throw new Error(`expected success, got ${String(exit.cause)}`)
}

/** An instance of a failure class; `retryAfterMillis` is kept by the classes that can carry one. */
export const failureOf = (tag: ProviderErrorTag, retryAfterMillis?: number): ProviderError => {
  const message = `scripted ${tag}`
  const backoff = retryAfterMillis === undefined ? { message } : { message, retryAfterMillis }
  switch (tag) {
    case "RateLimited":
      return new RateLimited({ ...backoff, status: 429 })
    case "Overloaded":
      return new Overloaded({ ...backoff, status: 529 })
    case "Timeout":
      return new Timeout({ message })
    case "Connection":
      return new Connection({ message })
    case "ServerError":
      return new ServerError({ message, status: 500 })
    case "BadRequest":
      return new BadRequest({ message, status: 400 })
    case "Authentication":
      return new Authentication({ message, status: 401 })
    case "NotFound":
      return new NotFound({ message, status: 404 })
    case "ContextWindowExceeded":
      return new ContextWindowExceeded({ message, status: 400 })
    case "ContentPolicy":
      return new ContentPolicy({ message, status: 400 })
    case "MalformedResponse":
      return new MalformedResponse({ message })
    case "MidStream":
      return new MidStream({ message, received: "" })
    case "UnsupportedOperation":
      return new UnsupportedOperation({ message, operation: "chat" })
  }
}

/** Milliseconds between consecutive received requests. */
export const gapsOf = (received: ReadonlyArray<{ readonly at: number }>): Array<number> =>
  received.slice(1).map((r, i) => r.at - received[i]!.at)

/** Resolves `os.environ/NAME` references in `effect` from `env` instead of the process environment. */
export const withEnv = (env: Readonly<Record<string, string>>) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provide(effect, ConfigProvider.layer(ConfigProvider.fromUnknown(env)))

/** The failure of an exit, or a defect that shows it succeeded. */
export const failureOfExit = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isFailure(exit)) {
    const error = Cause.findErrorOption(exit.cause)
    if (Option.isSome(error)) return error.value
    throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
  }
  throw new Error(`expected a failure, got ${JSON.stringify(exit.value)}`)
}

/** Like `runToEnd`, but the clock moves only while the effect sleeps: one that never sleeps ends when it began. */
export const runSettled = <A, E>(effect: Effect.Effect<A, E>, step: Duration.Input = "100 millis", maxSteps = 10_000) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(effect)
    yield* TestClock.adjust(0)
    for (let i = 0; i < maxSteps; i++) {
      const exit = fiber.pollUnsafe()
      if (exit) return exit
      yield* TestClock.adjust(step)
    }
    return yield* Effect.die(new Error("effect did not finish under the TestClock"))
  })

/** Makes `n` calls one after another and returns their exits, moving the TestClock only while one sleeps. */
export const callsInSequence = <A, E>(n: number, call: () => Effect.Effect<A, E>) =>
  Effect.forEach(Array.from({ length: n }), () => runSettled(Effect.suspend(call)))

/** A sample request of `operation` to `model` through the router, built afresh each time the effect runs. */
export const operationCall = (
  router: RouterShape,
  operation: OperationName,
  model: string,
  extra: Readonly<Record<string, unknown>> = {}
) => Effect.suspend(() => router.call(operations[operation] as Operation, { ...sampleRequest(operation, model), ...extra }))

/** A chat request to `model` through the router, built afresh each time the effect runs. */
export const chatCall = (router: RouterShape, model: string, extra: Readonly<Record<string, unknown>> = {}) =>
  operationCall(router, "chat", model, extra)

/** The configs of STORIES.md, as written there. */
export const stories = {
  /** Story 1: two TTS deployments under one model_name (an OpenAI and an Azure one). */
  tts: `
model_list:
  - model_name: tts
    litellm_params: { model: openai/tts-1, api_base: http://primary.example/v1, api_key: os.environ/OPENAI_KEY }
  - model_name: tts
    litellm_params: { model: azure/tts, api_base: https://backup.example, api_key: os.environ/AZURE_KEY, api_version: "2025-03-01-preview" }
`,
  /** Story 2: the kokoro placeholder with fallbacks to two real Kokoro servers. */
  kokoro: `
model_list:
  - model_name: kokoro
    litellm_params: { model: openai/dummy, api_base: http://localhost/v1, api_key: sk-llama }
  - model_name: server1/kokoro
    litellm_params: { model: openai/kokoro, api_base: http://server1:8880/v1, api_key: none }
  - model_name: server2/kokoro
    litellm_params: { model: openai/kokoro, api_base: http://server2:8880/v1, api_key: none }
router_settings:
  fallbacks:
    - kokoro: [server1/kokoro, server2/kokoro]
`,
  /** Story 3: a cross-provider fallback for the Responses API. */
  responses: `
model_list:
  - model_name: anthropic/claude-sonnet-4-6
    litellm_params: { model: anthropic/claude-sonnet-4-6, api_key: os.environ/ANTHROPIC_KEY }
  - model_name: vertex_ai/claude-sonnet-4-6
    litellm_params: { model: vertex_ai/claude-sonnet-4-6, api_key: os.environ/VERTEX_KEY }
router_settings:
  fallbacks:
    - anthropic/claude-sonnet-4-6: [vertex_ai/claude-sonnet-4-6]
`
} as const
