/**
 * The RouterState contract, as a suite any implementation runs unchanged: the in-memory default here, a
 * Redis one later. Every test runs on a fresh layer and under TestClock, starting at epoch 0.
 */
import { assert, describe, it } from "@effect/vitest"
import { RouterState } from "@switchyard/core"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"

const MINUTE = 60_000
const noOutcome = { latencyMillis: undefined, tokens: 0 }

/**
 * Registers the contract tests for one RouterState implementation. `layer` must give every test a state
 * of its own (for a shared store: a fresh namespace), and must read time from effect's `Clock`.
 */
export const routerStateContract = (name: string, layer: Layer.Layer<RouterState>) =>
  describe(`RouterState contract: ${name}`, () => {
    const test = (title: string, body: Effect.Effect<void, never, RouterState>) =>
      it.effect(title, () => Effect.provide(body, Layer.fresh(layer)))
    const statsOf = (id: string) => Effect.map(RouterState.use((s) => s.stats([id])), ([s]) => s!)

    test("a deployment it has never seen is healthy, idle, unmeasured and unused", Effect.gen(function*() {
      const state = yield* RouterState
      const stats = yield* state.stats(["a", "b", "a"])
      assert.strictEqual(stats.length, 3)
      for (const s of stats) {
        assert.deepStrictEqual(s, { cooldownUntil: 0, inFlight: 0, latencyMillis: undefined, rpm: 0, tpm: 0, failures: 0, strictUntil: 0 })
      }
      assert.deepStrictEqual(yield* state.stats([]), [])
    }))

    test("take admits up to the limit in a clock minute, refuses without counting, and opens at the next minute", Effect.gen(function*() {
      const state = yield* RouterState
      yield* TestClock.adjust(15_000)
      const results = []
      for (let i = 0; i < 4; i++) results.push(yield* state.take("vk:a", 3, 1))
      assert.deepStrictEqual(results.map((r) => r.admitted), [true, true, true, false])
      assert.strictEqual(results[3]!.resetInMillis, 45_000)
      assert.strictEqual((yield* state.take("vk:b", 3, 1)).admitted, true, "quotas are per key")
      assert.strictEqual((yield* state.take("vk:c", 3, 5)).admitted, false, "an amount over the limit is refused whole")
      assert.strictEqual((yield* state.take("vk:c", 3, 3)).admitted, true, "a refused amount was not counted")
      yield* TestClock.adjust(45_000)
      assert.strictEqual((yield* state.take("vk:a", 3, 1)).admitted, true)
    }))

    test("stats come back in the order asked, each for its own deployment", Effect.gen(function*() {
      const state = yield* RouterState
      yield* state.acquire("b")
      yield* state.coolDown("c", 5_000)
      const [c, a, b] = yield* state.stats(["c", "a", "b"])
      assert.deepStrictEqual([c!.cooldownUntil, a!.cooldownUntil, b!.cooldownUntil], [5_000, 0, 0])
      assert.deepStrictEqual([c!.inFlight, a!.inFlight, b!.inFlight], [0, 0, 1])
    }))

    test("recordFailure counts the failures inside the window, and older ones expire", Effect.gen(function*() {
      const state = yield* RouterState
      assert.strictEqual(yield* state.recordFailure("a", 30_000), 1)
      yield* TestClock.adjust(10_000)
      assert.strictEqual(yield* state.recordFailure("a", 30_000), 2)
      assert.strictEqual(yield* state.recordFailure("other", 30_000), 1, "windows are per deployment")
      yield* TestClock.adjust(25_000) // t = 35s: the failure at 0 is out, the one at 10s is in
      assert.strictEqual(yield* state.recordFailure("a", 30_000), 2)
      yield* TestClock.adjust(31_000) // t = 66s: only this one
      assert.strictEqual(yield* state.recordFailure("a", 30_000), 1)
    }))

    test("coolDown holds until its end, then the deployment is healthy again", Effect.gen(function*() {
      const state = yield* RouterState
      yield* TestClock.adjust(1_000)
      yield* state.coolDown("a", 6_000)
      assert.strictEqual((yield* statsOf("a")).cooldownUntil, 6_000)
      yield* TestClock.adjust(4_999)
      assert.strictEqual((yield* statsOf("a")).cooldownUntil, 6_000, "still cooling 1 ms before the end")
      yield* TestClock.adjust(1)
      assert.strictEqual((yield* statsOf("a")).cooldownUntil, 0, "over at its end")
    }))

    test("a cooldown is never shortened by a later, shorter one", Effect.gen(function*() {
      const state = yield* RouterState
      yield* state.coolDown("a", 10_000)
      yield* state.coolDown("a", 3_000)
      yield* TestClock.adjust(5_000)
      assert.strictEqual((yield* statsOf("a")).cooldownUntil, 10_000)
      yield* state.coolDown("a", 20_000)
      assert.strictEqual((yield* statsOf("a")).cooldownUntil, 20_000, "but a longer one extends it")
    }))

    test("coolDown resets the failure window", Effect.gen(function*() {
      const state = yield* RouterState
      yield* state.recordFailure("a", MINUTE)
      yield* state.recordFailure("a", MINUTE)
      yield* state.coolDown("a", 5_000)
      yield* TestClock.adjust(5_000)
      assert.strictEqual(yield* state.recordFailure("a", MINUTE), 1)
    }))

    test("stats count the failures in the window; a cooldown that keeps them does not reset them", Effect.gen(function*() {
      const state = yield* RouterState
      yield* state.recordFailure("a", MINUTE)
      yield* TestClock.adjust(10_000)
      yield* state.recordFailure("a", MINUTE)
      assert.strictEqual((yield* statsOf("a")).failures, 2)
      yield* state.coolDown("a", 15_000, { keepFailures: true })
      assert.strictEqual((yield* statsOf("a")).failures, 2, "kept")
      assert.strictEqual(yield* state.recordFailure("a", MINUTE), 3)
      yield* TestClock.adjust(55_000) // t = 65 s: the failure at 0 is out of the window
      assert.strictEqual((yield* statsOf("a")).failures, 2)
      yield* state.coolDown("a", 70_000)
      assert.strictEqual((yield* statsOf("a")).failures, 0, "a cooldown that does not keep them resets them")
    }))

    test("a strict cooldown shows as strictUntil until its end; an ordinary one does not", Effect.gen(function*() {
      const state = yield* RouterState
      yield* state.coolDown("a", 8_000, { strict: true })
      yield* state.coolDown("b", 8_000)
      const [a, b] = yield* state.stats(["a", "b"])
      assert.deepStrictEqual([a!.cooldownUntil, a!.strictUntil], [8_000, 8_000])
      assert.deepStrictEqual([b!.cooldownUntil, b!.strictUntil], [8_000, 0])
      yield* state.coolDown("a", 20_000)
      assert.deepStrictEqual([(yield* statsOf("a")).cooldownUntil, (yield* statsOf("a")).strictUntil], [20_000, 8_000])
      yield* TestClock.adjust(8_000)
      assert.deepStrictEqual([(yield* statsOf("a")).cooldownUntil, (yield* statsOf("a")).strictUntil], [20_000, 0])
    }))

    test("acquire and release count the calls in flight, per lease", Effect.gen(function*() {
      const state = yield* RouterState
      const first = yield* state.acquire("a")
      const second = yield* state.acquire("a")
      yield* state.acquire("b")
      assert.notStrictEqual(first, second, "each call gets its own lease")
      assert.deepStrictEqual((yield* state.stats(["a", "b"])).map((s) => s.inFlight), [2, 1])
      yield* state.release("a", first, noOutcome)
      assert.strictEqual((yield* statsOf("a")).inFlight, 1)
      yield* state.release("a", first, noOutcome)
      assert.strictEqual((yield* statsOf("a")).inFlight, 1, "releasing a lease twice frees it once")
      yield* state.release("a", second, noOutcome)
      yield* state.release("a", "never-acquired", noOutcome)
      assert.deepStrictEqual((yield* state.stats(["a", "b"])).map((s) => s.inFlight), [0, 1])
    }))

    test("latency is an exponentially weighted average of successful calls", Effect.gen(function*() {
      const state = yield* RouterState
      const call = (latencyMillis: number | undefined) =>
        Effect.flatMap(state.acquire("a"), (lease) => state.release("a", lease, { latencyMillis, tokens: 0 }))
      yield* call(100)
      assert.strictEqual((yield* statsOf("a")).latencyMillis, 100, "the first sample is the average")
      yield* call(undefined)
      assert.strictEqual((yield* statsOf("a")).latencyMillis, 100, "a call without a latency changes nothing")
      yield* call(200)
      const moved = (yield* statsOf("a")).latencyMillis!
      assert.isTrue(moved > 100 && moved < 200, `moves toward the new sample without jumping to it: ${moved}`)
      for (let i = 0; i < 30; i++) yield* call(200)
      assert.approximately((yield* statsOf("a")).latencyMillis!, 200, 1, "and converges to a steady latency")
      assert.isUndefined((yield* statsOf("b")).latencyMillis)
    }))

    test("rpm and tpm count the current minute in full", Effect.gen(function*() {
      const state = yield* RouterState
      for (let i = 0; i < 3; i++) {
        const lease = yield* state.acquire("a")
        yield* TestClock.adjust(1_000)
        yield* state.release("a", lease, { latencyMillis: 1_000, tokens: 40 })
      }
      yield* state.acquire("a") // started, not finished: a request, no tokens yet
      const stats = yield* statsOf("a")
      assert.strictEqual(stats.rpm, 4)
      assert.strictEqual(stats.tpm, 120)
      assert.deepStrictEqual(yield* statsOf("b"), { cooldownUntil: 0, inFlight: 0, latencyMillis: undefined, rpm: 0, tpm: 0, failures: 0, strictUntil: 0 })
    }))

    test("rpm and tpm roll: usage fades over the next minute and is gone after it", Effect.gen(function*() {
      const state = yield* RouterState
      yield* TestClock.adjust(30_000)
      for (let i = 0; i < 10; i++) yield* state.release("a", yield* state.acquire("a"), { latencyMillis: 5, tokens: 100 })
      let previous = yield* statsOf("a")
      assert.deepStrictEqual([previous.rpm, previous.tpm], [10, 1_000])
      for (let t = 35_000; t <= 150_000; t += 5_000) {
        yield* TestClock.adjust(5_000)
        const now = yield* statsOf("a")
        assert.isTrue(now.rpm <= previous.rpm && now.tpm <= previous.tpm, `never grows without new calls (t=${t})`)
        if (t < MINUTE) assert.deepStrictEqual([now.rpm, now.tpm], [10, 1_000], `all inside the rolling minute (t=${t})`)
        previous = now
      }
      assert.deepStrictEqual([previous.rpm, previous.tpm], [0, 0], "two minutes later nothing is left")
    }))
  })

routerStateContract("in memory", RouterState.memory)
