/**
 * Stories 1 and 2 of STORIES.md at the library level: the configs as written, over scripted providers
 * named `openai` and `azure`. Speech goes through the same retry, cooldown and fallback as chat.
 */
import { assert, describe, it } from "@effect/vitest"
import { NotFound, type OperationName, type Routed } from "@switchyard/core"
import { makeScriptedProvider, Outcome, type ScriptedProvider } from "@switchyard/testkit"
import { Effect, Random } from "effect"
import { TestClock } from "effect/testing"
import {
  failureOf,
  operationCall,
  routerFor,
  runSettled,
  stories,
  successOf,
  withEnv,
  withoutSleeping
} from "./harness.ts"

/** Story 1 with LiteLLM's per-minute failure count set explicitly (its old default, 3). */
const ttsCounted = `${stories.tts}router_settings: { allowed_fails: 3 }\n`

/** The router of a story, over an `openai` and an `azure` scripted provider. */
const storyRouter = (yaml: string) =>
  Effect.gen(function*() {
    const openai = makeScriptedProvider({ name: "openai" })
    const azure = makeScriptedProvider({ name: "azure" })
    const { router, state } = yield* routerFor(yaml, [openai, azure]).pipe(
      withEnv({ OPENAI_KEY: "sk-openai-test", AZURE_KEY: "azure-test" })
    )
    return { router, state, openai, azure }
  })

const audioFrom = (routed: Routed<unknown>) => new TextDecoder().decode((routed.response as { data: Uint8Array }).data)
const route = (routed: Routed<unknown>) => routed.attempts.map((a) => `${a.deployment}:${a.error ?? "ok"}`)

describe("story 1: two TTS deployments under one model_name", () => {
  /**
   * Sends `n` requests of `operation` while the OpenAI deployment (tts#1) fails with `tag`; every one
   * must succeed without waiting. Seeded, so two runs pick deployments in the same order.
   */
  const outage = (operation: OperationName, tag: "ServerError" | "Connection", n: number, yaml: string = stories.tts) =>
    Effect.gen(function*() {
      const { router, state, openai, azure } = yield* storyRouter(yaml)
      openai.otherwise("tts#1", Outcome.fail(failureOf(tag)))
      const served: Array<Routed<unknown>> = []
      for (let i = 0; i < n; i++) served.push(successOf(yield* withoutSleeping(operationCall(router, operation, "tts"))))
      const [primary] = yield* state.stats(["tts#1"])
      return { served, openai, azure, cooldownUntil: primary!.cooldownUntil }
    }).pipe(Random.withSeed(2026))

  for (const tag of ["ServerError", "Connection"] as const) {
    it.effect(`the OpenAI deployment fails with ${tag}: every speech request is served by Azure, at once`, () =>
      Effect.gen(function*() {
        const { served, openai, azure } = yield* outage("speech", tag, 20)
        assert.isTrue(served.every((r) => r.deployment === "tts#2" && r.group === "tts"))
        assert.isTrue(served.every((r) => audioFrom(r) === "audio from tts#2"))
        assert.strictEqual(azure.received.length, 20)
        assert.isTrue(azure.received.every((r) => r.operation === "speech"))
        const retried = served.filter((r) => r.attempts.length === 2)
        assert.isNotEmpty(retried, "some requests met the failing deployment first")
        for (const r of retried) assert.deepStrictEqual(route(r), [`tts#1:${tag}`, "tts#2:ok"])
        assert.strictEqual(openai.received.length, retried.length)
      }))
  }

  it.effect("the failing deployment cools down after allowed_fails failures, exactly as it would for chat", () =>
    Effect.gen(function*() {
      const speech = yield* outage("speech", "ServerError", 30, ttsCounted)
      // LiteLLM's default allowed_fails is 3: the fourth failure in a minute starts a 5 s cooldown.
      assert.strictEqual(speech.openai.received.length, 4)
      assert.isAbove(speech.cooldownUntil, 0)
      const lastHit = speech.served.findLastIndex((r) => r.attempts.length === 2)
      assert.isTrue(speech.served.slice(lastHit + 1).every((r) => r.attempts.length === 1), "no attempt while it cools")

      const chat = yield* outage("chat", "ServerError", 30, ttsCounted)
      assert.deepStrictEqual(speech.served.map(route), chat.served.map(route), "the same attempts, request by request")
      assert.strictEqual(speech.cooldownUntil, chat.cooldownUntil)
    }))

  it.effect("once the cooldown is over, the OpenAI deployment is tried again", () =>
    Effect.gen(function*() {
      const { router, openai } = yield* storyRouter(ttsCounted)
      openai.script("tts#1", Array.from({ length: 4 }, () => Outcome.fail(failureOf("ServerError"))))
      /** Sends speech requests (each must succeed) until tts#1 has received `hits`, or 100 were sent. */
      const speakUntil = (hits: number) =>
        Effect.gen(function*() {
          for (let i = 0; i < 100 && openai.received.length < hits; i++) {
            successOf(yield* withoutSleeping(operationCall(router, "speech", "tts")))
          }
        })
      yield* speakUntil(4)
      yield* speakUntil(5)
      assert.strictEqual(openai.received.length, 4, "cooling down after the fourth failure")
      yield* TestClock.adjust("5 seconds")
      yield* speakUntil(5)
      assert.strictEqual(openai.received.length, 5, "back after 5 s, and serving")
      assert.strictEqual(openai.received.at(-1)!.operation, "speech")
    }))

  it.effect("with both deployments down, speech is retried with backoff like chat, then fails", () =>
    Effect.gen(function*() {
      const { router, openai, azure } = yield* storyRouter(stories.tts)
      openai.otherwise("tts#1", Outcome.fail(failureOf("ServerError")))
      azure.otherwise("tts#2", Outcome.fail(failureOf("ServerError")))
      const exit = yield* runSettled(operationCall(router, "speech", "tts"))
      assert.strictEqual(exit._tag, "Failure")
      // num_retries defaults to 2: three attempts, the first two on different deployments.
      const all = [...openai.received, ...azure.received].sort((a, b) => a.at - b.at)
      assert.strictEqual(all.length, 3)
      assert.notStrictEqual(all[0]!.deployment, all[1]!.deployment)
      assert.strictEqual(all[1]!.at, all[0]!.at)
      assert.isAtLeast(all[2]!.at - all[1]!.at, 800)
    }))
})

describe("story 2: speech fallbacks between model groups", () => {
  const placeholderFails = (openai: ScriptedProvider) =>
    openai.otherwise(
      "kokoro#1",
      Outcome.fail(new NotFound({ message: "could not find real modelID for kokoro", status: 400 }))
    )

  it.effect("the placeholder fails with NotFound once, and server1/kokoro serves", () =>
    Effect.gen(function*() {
      const { router, openai } = yield* storyRouter(stories.kokoro)
      placeholderFails(openai)
      const routed = successOf(yield* withoutSleeping(operationCall(router, "speech", "kokoro")))
      assert.strictEqual(routed.group, "server1/kokoro")
      assert.strictEqual(routed.fallbacks, 1)
      assert.strictEqual(audioFrom(routed), "audio from server1/kokoro#1")
      assert.deepStrictEqual(route(routed), ["kokoro#1:NotFound", "server1/kokoro#1:ok"])
      assert.deepStrictEqual(openai.received.map((r) => r.operation), ["speech", "speech"])
    }))

  it.effect("when server1 fails too, it is retried, then server2/kokoro serves", () =>
    Effect.gen(function*() {
      const { router, openai } = yield* storyRouter(stories.kokoro)
      placeholderFails(openai)
      openai.otherwise("server1/kokoro#1", Outcome.fail(failureOf("Connection")))
      const routed = successOf(yield* runSettled(operationCall(router, "speech", "kokoro")))
      assert.strictEqual(routed.group, "server2/kokoro")
      assert.strictEqual(routed.fallbacks, 2)
      assert.deepStrictEqual(route(routed), [
        "kokoro#1:NotFound",
        "server1/kokoro#1:Connection",
        "server1/kokoro#1:Connection",
        "server1/kokoro#1:Connection",
        "server2/kokoro#1:ok"
      ])
      assert.strictEqual(audioFrom(routed), "audio from server2/kokoro#1")
    }))

  it.effect("when server1 is not found either, server2/kokoro serves at once", () =>
    Effect.gen(function*() {
      const { router, openai } = yield* storyRouter(stories.kokoro)
      placeholderFails(openai)
      openai.otherwise("server1/kokoro#1", Outcome.fail(failureOf("NotFound")))
      const routed = successOf(yield* withoutSleeping(operationCall(router, "speech", "kokoro")))
      assert.deepStrictEqual(route(routed), ["kokoro#1:NotFound", "server1/kokoro#1:NotFound", "server2/kokoro#1:ok"])
    }))

  it.effect("the placeholder is never tried three times: one attempt per request, every request served", () =>
    Effect.gen(function*() {
      const { router, openai } = yield* storyRouter(stories.kokoro)
      placeholderFails(openai)
      for (let i = 0; i < 5; i++) {
        const routed = successOf(yield* withoutSleeping(operationCall(router, "speech", "kokoro")))
        assert.strictEqual(routed.attempts.filter((a) => a.deployment === "kokoro#1").length, 1)
      }
      assert.strictEqual(openai.requestsTo("kokoro#1").length, 5)
      assert.strictEqual(openai.requestsTo("server1/kokoro#1").length, 5)
    }))

  it.effect("speech takes exactly the route chat takes", () =>
    Effect.gen(function*() {
      const routes: Array<ReadonlyArray<string>> = []
      for (const operation of ["speech", "chat"] as const) {
        const { router, openai } = yield* storyRouter(stories.kokoro)
        placeholderFails(openai)
        const faults = [Outcome.fail(failureOf("ServerError")), Outcome.fail(failureOf("RateLimited", 3_000))]
        openai.script("server1/kokoro#1", faults)
        routes.push(route(successOf(yield* runSettled(operationCall(router, operation, "kokoro")))))
      }
      assert.deepStrictEqual(routes[0], [
        "kokoro#1:NotFound",
        "server1/kokoro#1:ServerError",
        "server1/kokoro#1:RateLimited",
        "server1/kokoro#1:ok"
      ])
      assert.deepStrictEqual(routes[0], routes[1])
    }))
})
