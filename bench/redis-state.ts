/**
 * What the Redis state costs the router: `Router.call` throughput and added latency with the Redis state
 * against the in-memory state, in the same run, over the scripted instant provider; plus the hot-path
 * `stats` read alone, and how long a cooldown takes to reach a second replica. Needs a Redis at
 * SWITCHYARD_TEST_REDIS_URL (default redis://127.0.0.1:6399, see packages/redis/ci-setup.sh).
 * Run: npx tsx bench/redis-state.ts
 */
import { parseConfig, Providers, Router, RouterState, type RouterStateShape } from "@switchyard/core"
import { makeRedisState } from "@switchyard/redis"
import { makeScriptedProvider } from "@switchyard/testkit"
import { Effect, Layer, type Scope } from "effect"

const N = Number(process.env.BENCH_CALLS ?? 20_000)
const CONCURRENCY = 64
const url = process.env.SWITCHYARD_TEST_REDIS_URL ?? "redis://127.0.0.1:6399"
const request = { model: "primary", messages: [{ role: "user" as const, content: "hi" }] }

// Least-busy with rpm limits: every pick reads inFlight and rpm of all three deployments.
const yaml = `
model_list:
  - { model_name: primary, litellm_params: { model: scripted/a, rpm: 1000000000 } }
  - { model_name: primary, litellm_params: { model: scripted/b, rpm: 1000000000 } }
  - { model_name: primary, litellm_params: { model: scripted/c, rpm: 1000000000 } }
router_settings:
  routing_strategy: least-busy
`

// A provider that answers instantly; `received` is cleared so memory stays flat.
const instant = () => {
  const provider = makeScriptedProvider()
  const call = provider.call
  return {
    ...provider,
    call: ((op, d, req) =>
      Effect.tap(call(op, d, req), () => Effect.sync(() => (provider.received.length = 0)))) as typeof call
  }
}

const routerOn = (state: RouterStateShape) =>
  Effect.flatMap(parseConfig(yaml), (loaded) =>
    Router.pipe(Effect.provide(Router.layer(loaded).pipe(Layer.provide([
      Layer.succeed(Providers, Providers.fromList([instant()])),
      Layer.succeed(RouterState, state)
    ])))))

/** Best µs per run of `once` over `n` sequential runs, 5 rounds after a warm-up. Async, so the syncer runs. */
const sequential = (once: Effect.Effect<unknown, unknown>, n = N) =>
  Effect.gen(function*() {
    const loop = Effect.gen(function*() {
      for (let i = 0; i < n; i++) yield* once
    })
    yield* Effect.ignore(loop)
    let best = Infinity
    for (let round = 0; round < 5; round++) {
      const start = performance.now()
      yield* Effect.ignore(loop)
      best = Math.min(best, ((performance.now() - start) * 1000) / n)
    }
    return best
  })

/** Calls per second with `CONCURRENCY` fibers sharing `n` calls (best of 3). */
const concurrent = (once: Effect.Effect<unknown, unknown>, n = N) =>
  Effect.gen(function*() {
    const worker = Effect.ignore(Effect.gen(function*() {
      for (let i = 0; i < n / CONCURRENCY; i++) yield* once
    }))
    const all = Effect.all(Array.from({ length: CONCURRENCY }, () => worker), { concurrency: "unbounded" })
    yield* all
    let best = 0
    for (let round = 0; round < 3; round++) {
      const start = performance.now()
      yield* all
      best = Math.max(best, n / ((performance.now() - start) / 1000))
    }
    return best
  })

/** Milliseconds from `a.coolDown` until `b` reports it, median of `rounds`. */
const propagation = (rounds = 20) =>
  Effect.gen(function*() {
    const prefix = `switchyard-bench:${Date.now()}:`
    const a = yield* makeRedisState({ url, prefix })
    const b = yield* makeRedisState({ url, prefix })
    const times: Array<number> = []
    for (let i = 0; i < rounds; i++) {
      const id = `d${i}`
      yield* b.stats([id])
      // A random phase against B's refresh, so the median is that of a cooldown set at any moment.
      yield* Effect.sleep(Math.random() * 250)
      const start = performance.now()
      yield* a.coolDown(id, Date.now() + 60_000)
      while ((yield* b.stats([id]))[0]!.cooldownUntil === 0) yield* Effect.sleep(1)
      times.push(performance.now() - start)
    }
    times.sort((x, y) => x - y)
    return { median: times[Math.floor(rounds / 2)]!, max: times[rounds - 1]! }
  })

const program: Effect.Effect<void, unknown, Scope.Scope> = Effect.gen(function*() {
  const memory = (yield* RouterState.pipe(Effect.provide(RouterState.memory))) as RouterStateShape
  const redis = yield* makeRedisState({ url, prefix: `switchyard-bench:${Date.now()}:` })
  if ((yield* redis.health) !== "ok") throw new Error(`Redis is not reachable at ${url}`)
  const onMemory = yield* routerOn(memory)
  const onRedis = yield* routerOn(redis)
  const ids = ["primary#1", "primary#2", "primary#3"]

  // Each side is measured twice, interleaved (A B A B), so JIT warm-up and GC do not favour the one run first.
  const both = <A>(measure: (side: "memory" | "redis") => Effect.Effect<number, A>, better: (x: number, y: number) => number) =>
    Effect.gen(function*() {
      const m1 = yield* measure("memory")
      const r1 = yield* measure("redis")
      const m2 = yield* measure("memory")
      const r2 = yield* measure("redis")
      return [better(m1, m2), better(r1, r2)] as const
    })
  const routerOf = (side: "memory" | "redis") => (side === "memory" ? onMemory : onRedis)
  const stateOf = (side: "memory" | "redis") => (side === "memory" ? memory : redis)
  const [seqMemory, seqRedis] = yield* both((side) => sequential(routerOf(side).chat(request)), Math.min)
  const [conMemory, conRedis] = yield* both((side) => concurrent(routerOf(side).chat(request)), Math.max)
  const [statsMemory, statsRedis] = yield* both((side) => sequential(stateOf(side).stats(ids), N * 5), Math.min)
  const rows: Array<readonly [string, number, number, string]> = [
    ["Router.call, sequential (µs/call)", seqMemory, seqRedis, "µs"],
    [`Router.call, ${CONCURRENCY} fibers (calls/s)`, conMemory, conRedis, "/s"],
    ["stats of 3 deployments (µs/read)", statsMemory, statsRedis, "µs"]
  ]
  const spread = yield* propagation()

  console.log(`\nRedis state vs in-memory state, ${N} calls per round (node ${process.version}, Redis ${url})\n`)
  console.log("| measure | in-memory | Redis | Redis / in-memory |")
  console.log("|---|---:|---:|---:|")
  for (const [name, m, r, unit] of rows) {
    const fmt = (v: number) => (unit === "/s" ? Math.round(v).toLocaleString("en") : v.toFixed(2))
    console.log(`| ${name} | ${fmt(m)} | ${fmt(r)} | ${(r / m).toFixed(2)}× |`)
  }
  console.log(`\nadded latency per call with Redis: ${(seqRedis - seqMemory).toFixed(2)} µs`)
  console.log(`cooldown from replica A to replica B: median ${spread.median.toFixed(1)} ms, max ${spread.max.toFixed(1)} ms (bound: 1000 ms)`)
})

await Effect.runPromise(Effect.scoped(program))
