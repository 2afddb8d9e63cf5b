/**
 * Provider cost of Bedrock against OpenAI, client side only: the mock upstream runs in its own process
 * (core 1), the providers here (core 0), and this process's CPU time is divided by the replies. Rows:
 * a plain chat reply (OpenAI JSON vs SigV4-signed Converse vs Invoke) and a streamed one (OpenAI SSE vs
 * ConverseStream vs InvokeModelWithResponseStream eventstream frames), each with the ratio to OpenAI.
 * Run: npx tsx bench/bedrock.ts   (BENCH_REPLIES=400 by default)
 */
import { type Deployment, operations as Op } from "@switchyard/core"
import { ProvidersLive } from "@switchyard/providers"
import { deploymentOf } from "@switchyard/testkit"
import { MOCK_AWS_CREDENTIALS } from "@switchyard/testkit/mock"
import { Effect, Redacted, Stream } from "effect"
import { Providers } from "@switchyard/core"
import { freePort, ready, startTs, table } from "./harness.ts"

const N = Number(process.env.BENCH_REPLIES ?? 400)
const request = { model: "g", messages: [{ role: "user" as const, content: "hi" }] }

const port = await freePort()
const mock = startTs(1, ["packages/testkit/src/mock/main.ts", "--port", String(port)], "/tmp/switchyard-bench-bedrock-mock.log")
await ready(`http://127.0.0.1:${port}/_mock/connections`)
const url = `http://127.0.0.1:${port}`

const aws = {
  accessKeyId: MOCK_AWS_CREDENTIALS.accessKeyId,
  secretAccessKey: Redacted.make(MOCK_AWS_CREDENTIALS.secretAccessKey),
  sessionToken: undefined,
  regionName: "us-east-1",
  runtimeEndpoint: undefined
}
const deployments: ReadonlyArray<readonly [string, Deployment]> = [
  ["openai", deploymentOf({ id: "o", provider: "openai", model: "gpt-4o", apiBase: `${url}/d/o/v1`, apiKey: Redacted.make("sk-bench") })],
  ["bedrock converse", deploymentOf({ id: "c", provider: "bedrock", model: "amazon.nova-pro-v1:0", apiBase: `${url}/d/c`, aws })],
  ["bedrock invoke", deploymentOf({ id: "i", provider: "bedrock", model: "anthropic.claude-3-haiku-20240307-v1:0", apiBase: `${url}/d/i`, aws })]
]

/** CPU µs of this process per reply, over `N` sequential replies after a warm-up. */
const cpuPerReply = (once: Effect.Effect<unknown, unknown>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 50; i++) yield* once
    const start = process.cpuUsage()
    const t0 = performance.now()
    for (let i = 0; i < N; i++) yield* once
    const used = process.cpuUsage(start)
    return { cpu: (used.user + used.system) / N, wall: ((performance.now() - t0) * 1000) / N }
  })

const program = Effect.gen(function*() {
  const providers = yield* Providers
  const rows: Array<Array<string>> = []
  for (const mode of ["plain", "stream"] as const) {
    let baseline = 0
    for (const [name, d] of deployments) {
      const p = providers.get(d.provider)!
      const once = mode === "plain" ? p.call(Op.chat, d, request) : Stream.runDrain(p.stream(Op.chat, d, request))
      const { cpu, wall } = yield* cpuPerReply(once)
      if (name === "openai") baseline = cpu
      rows.push([mode, name, cpu.toFixed(0), wall.toFixed(0), (cpu / baseline).toFixed(2)])
    }
  }
  table(`Provider CPU per chat reply (client side, ${N} sequential replies; mock in its own process)`, [
    "mode",
    "provider",
    "CPU µs/reply",
    "wall µs/reply",
    "CPU ratio to openai"
  ], rows)
})

try {
  await Effect.runPromise(program.pipe(Effect.provide(ProvidersLive)))
} finally {
  mock.kill()
}
