/** Test harness: a router over scripted providers, and ways to run it under TestClock. */
import { parseConfig, type Provider, Providers, Router, RouterState, type RouterStateShape } from "@switchyard/core"
import { type Duration, Effect, Exit, Fiber, Layer } from "effect"
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
