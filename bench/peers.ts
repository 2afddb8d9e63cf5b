/**
 * Switchyard against a peer gateway (Portkey, @portkey-ai/gateway from bench/peers) under the same load,
 * in the same run, against the same mock upstream: non-stream chat and a 20-chunk SSE stream.
 * The load generator and the mock share core 0; each gateway in turn gets core 1.
 * Run: npm run bench:peers   (installs bench/peers first; BENCH_SECONDS, BENCH_CONNECTIONS)
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  chatBodies,
  CONNECTIONS,
  freePort,
  hasTaskset,
  load,
  pin,
  ready,
  root,
  SECONDS,
  sequential,
  start,
  startTs,
  table
} from "./harness.ts"

const bodies = { "chat, non-stream": chatBodies.chat, "chat, 20-chunk SSE": chatBodies.stream }

const main = async () => {
  pin(0)
  const dir = mkdtempSync(join(tmpdir(), "switchyard-peers-"))
  const mockPort = await freePort()
  const mock = startTs(0, ["packages/testkit/src/mock/main.ts", "--port", String(mockPort)], join(dir, "mock.log"))
  const upstream = `http://127.0.0.1:${mockPort}/d/bench/v1`
  await ready(`http://127.0.0.1:${mockPort}/_mock/requests`)

  const config = join(dir, "bench.yaml")
  writeFileSync(config, `model_list:
  - { model_name: bench, litellm_params: { model: openai/bench, api_base: "${upstream}", api_key: sk-bench } }
`)
  const oursPort = await freePort()
  const ours = startTs(1, ["packages/proxy/src/cli.ts", "--config", config, "--port", String(oursPort)], join(dir, "switchyard.log"))
  await ready(`http://127.0.0.1:${oursPort}/health/liveliness`)

  const portkeyPort = await freePort()
  const portkey = start(1, process.execPath, [
    join(root, "bench/peers/node_modules/@portkey-ai/gateway/build/start-server.js"),
    `--port=${portkeyPort}`,
    "--headless"
  ], join(dir, "portkey.log"))
  await ready(`http://127.0.0.1:${portkeyPort}/`)
  const portkeyHeaders = { "x-portkey-provider": "openai", "x-portkey-custom-host": upstream, authorization: "Bearer sk-bench" }

  const rows: Array<Array<string>> = []
  for (const [name, body] of Object.entries(bodies)) {
    const direct = await load(`${upstream}/chat/completions`, body)
    const s = await load(`http://127.0.0.1:${oursPort}/v1/chat/completions`, body)
    const p = await load(`http://127.0.0.1:${portkeyPort}/v1/chat/completions`, body, { headers: portkeyHeaders })
    rows.push([
      name,
      `${Math.round(direct.rps)}`,
      `${Math.round(s.rps)} (p50 ${s.p50} / p99 ${s.p99} ms)`,
      `${Math.round(p.rps)} (p50 ${p.p50} / p99 ${p.p99} ms)`,
      `${(s.rps / p.rps).toFixed(2)}×`,
      `${s.errors} / ${p.errors}`
    ])
  }
  const body = bodies["chat, non-stream"]
  const sd = await sequential(`${upstream}/chat/completions`, body, 300)
  const ss = await sequential(`http://127.0.0.1:${oursPort}/v1/chat/completions`, body, 300)
  const sp = await sequential(`http://127.0.0.1:${portkeyPort}/v1/chat/completions`, body, 300, portkeyHeaders)
  rows.push([
    "one at a time: p50 ms added over direct",
    sd.p50.toFixed(3),
    `+${(ss.p50 - sd.p50).toFixed(3)}`,
    `+${(sp.p50 - sd.p50).toFixed(3)}`,
    `${((ss.p50 - sd.p50) / (sp.p50 - sd.p50)).toFixed(2)}× (lower is better)`,
    ""
  ])

  table(
    `Switchyard vs Portkey ${"1.15.2"} on loopback, ${CONNECTIONS} connections × ${SECONDS} s after a 2 s warm-up; ` +
      `${hasTaskset ? "load + mock on core 0, gateway on core 1 (taskset)" : "unpinned (no taskset)"}; node ${process.version}`,
    ["load", "direct rps", "Switchyard rps", "Portkey rps", "Switchyard / Portkey", "errors S / P"],
    rows
  )
  for (const child of [ours, portkey, mock]) child.kill("SIGTERM")
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
