/**
 * What Google auth costs a Vertex call, on loopback against the mock upstream: Claude on Anthropic's API
 * (an API key, the baseline), Claude on Vertex with the cached service-account token (what Switchyard does),
 * and Claude on Vertex fetching a token for every call (signing an RS256 JWT and exchanging it, which the
 * cache exists to avoid). Prints wall and CPU time per call and the ratios to the baseline.
 *
 *   npx tsx bench/vertex-auth.ts            (BENCH_CALLS=300 by default)
 */
import { type Deployment, operations, type Provider, Providers } from "@switchyard/core"
import { ProvidersLive } from "@switchyard/providers"
import { deploymentOf } from "@switchyard/testkit"
import { startMockUpstream } from "@switchyard/testkit/mock"
import { ManagedRuntime, Redacted } from "effect"

const CALLS = Number(process.env.BENCH_CALLS ?? 300)
const request = { model: "g", messages: [{ role: "user" as const, content: "hi" }] }

const mock = await startMockUpstream()
// The runtime keeps the providers' pooled client open for the whole run.
const runtime = ManagedRuntime.make(ProvidersLive)
const providers = await runtime.runPromise(Providers)
const anthropic = providers.get("anthropic")!
const vertex = providers.get("vertex_ai")!
const key = mock.google.serviceAccount()

const direct = deploymentOf({ id: "direct", provider: "anthropic", model: "claude-sonnet-4-5", apiBase: mock.apiBase("direct", "anthropic"), apiKey: Redacted.make("sk-bench") })
/** A fresh deployment per call with its own key id: the cache never hits, as if tokens were fetched per call. */
const vertexDeployment = (id: string, keyId: string): Deployment =>
  deploymentOf({
    id,
    provider: "vertex_ai",
    model: "claude-sonnet-4-5",
    apiBase: mock.vertexBase(id, "claude-sonnet-4-5"),
    vertexCredentials: Redacted.make(JSON.stringify({ ...key, private_key_id: keyId }))
  })
const cached = vertexDeployment("cached", "bench")

const measure = async (name: string, provider: Provider, deploymentFor: (i: number) => Deployment) => {
  for (let i = 0; i < 20; i++) await runtime.runPromise(provider.call(operations.chat, deploymentFor(-1 - i), request))
  const tokensBefore = mock.google.tokenRequests()
  const cpu = process.cpuUsage()
  const start = performance.now()
  for (let i = 0; i < CALLS; i++) await runtime.runPromise(provider.call(operations.chat, deploymentFor(i), request))
  const wall = (performance.now() - start) / CALLS
  const used = process.cpuUsage(cpu)
  return { name, wall, cpu: (used.user + used.system) / 1000 / CALLS, tokens: mock.google.tokenRequests() - tokensBefore }
}

const rows = [
  await measure("anthropic (API key)", anthropic, () => direct),
  await measure("vertex_ai, cached token", vertex, () => cached),
  await measure("vertex_ai, token per call", vertex, (i) => vertexDeployment(`fresh${i}`, `k${i}`))
]
const [base] = rows
console.log(`${CALLS} sequential chat calls each, mock upstream on 127.0.0.1 (CPU = this process: client and mock)\n`)
console.log("| path | ms/call | ×baseline | CPU ms/call | ×baseline | token requests |")
console.log("|---|---|---|---|---|---|")
for (const r of rows) {
  console.log(`| ${r.name} | ${r.wall.toFixed(3)} | ${(r.wall / base!.wall).toFixed(2)} | ${r.cpu.toFixed(3)} | ${(r.cpu / base!.cpu).toFixed(2)} | ${r.tokens} |`)
}
await runtime.dispose()
await mock.close()
