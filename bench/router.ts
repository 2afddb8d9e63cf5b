/**
 * In-process router overhead: `Router.call` on the scripted instant provider against calling that
 * provider's Effect directly, in the same run. Prints µs per call, calls per second and the ratio.
 * Run: npm run bench:router
 */
import { type Deployment, operations, parseConfig, Providers, Router, RouterState, ServerError } from "@switchyard/core"
import { makeScriptedProvider, Outcome } from "@switchyard/testkit"
import { Effect, Layer } from "effect"

const N = Number(process.env.BENCH_CALLS ?? 50_000)
const request = { model: "primary", messages: [{ role: "user" as const, content: "hi" }] }

const config = (fallbacks: boolean) => `
model_list:
  - { model_name: primary, litellm_params: { model: scripted/a } }
  - { model_name: primary, litellm_params: { model: scripted/b } }
  - { model_name: backup, litellm_params: { model: scripted/c } }
router_settings:
  num_retries: 2
${fallbacks ? "  fallbacks: [{ primary: [backup] }]" : ""}
`

const routerOf = (yaml: string, provider: ReturnType<typeof makeScriptedProvider>) =>
  Effect.runSync(
    Effect.flatMap(parseConfig(yaml), (loaded) =>
      Router.pipe(Effect.provide(Router.layer(loaded).pipe(Layer.provide([
        Layer.succeed(Providers, Providers.fromList([provider])),
        RouterState.memory
      ]))))) as Effect.Effect<Effect.Success<typeof Router>>
  )

/** Runs `n` sequential calls of `once` and returns µs per call (best of 5 rounds, after a warm-up). */
const measure = (once: Effect.Effect<unknown, unknown>, n = N) => {
  const loop = Effect.gen(function*() {
    for (let i = 0; i < n; i++) yield* once
  })
  Effect.runSync(loop as Effect.Effect<void>)
  let best = Infinity
  for (let round = 0; round < 5; round++) {
    const start = performance.now()
    Effect.runSync(loop as Effect.Effect<void>)
    best = Math.min(best, ((performance.now() - start) * 1000) / n)
  }
  return best
}

// A provider that answers instantly; `received` is cleared so memory stays flat.
const instant = () => {
  const provider = makeScriptedProvider()
  const call = provider.call
  return { ...provider, call: ((op, d, req) => Effect.tap(call(op, d, req), () => Effect.sync(() => { provider.received.length = 0 }))) as typeof call }
}

const direct = instant()
const deployment = { id: "primary#1", group: "primary" } as Deployment
const baseline = measure(direct.call(operations.chat, deployment, request))

const plain = routerOf(config(false), instant())
const withFallbacks = routerOf(config(true), instant())
// Failover: the whole primary group fails at once (ServerError, cooldowns off), the fallback serves.
const failing = instant()
for (const id of ["primary#1", "primary#2"]) failing.otherwise(id, Outcome.fail(new ServerError({ message: "boom" })))
const failover = routerOf(config(true).replace("num_retries: 2", "num_retries: 1\n  disable_cooldowns: true"), failing)

const rows = [
  ["provider Effect, direct (baseline)", baseline],
  ["Router.call, no fallbacks configured", measure(plain.chat(request))],
  ["Router.call, fallbacks configured", measure(withFallbacks.chat(request))],
  ["Router.call, failover (2 failures + fallback)", measure(failover.chat(request), N / 5)]
] as const

console.log(`\nRouter overhead, ${N} sequential calls per round, best of 5 rounds (node ${process.version})\n`)
console.log("| path | µs/call | calls/s | added µs | ratio to direct |")
console.log("|---|---:|---:|---:|---:|")
for (const [name, us] of rows) {
  console.log(`| ${name} | ${us.toFixed(2)} | ${Math.round(1e6 / us).toLocaleString("en")} | ${(us - baseline).toFixed(2)} | ${(us / baseline).toFixed(1)}× |`)
}
