/**
 * `npm start`: the bundled mock upstream, scripted to fail the way the demo config describes, and the
 * gateway on examples/proxy-demo.yaml, in one process. It prints lines to paste. `npm start -- --port N`
 * moves both: the gateway to N, the mock to N + 10 (4000 and 4010 by default; `--port 0` picks free
 * ports), so two demos can run side by side. Files it writes (its config, the speech sample) go to a
 * temporary folder, never the working directory.
 */
import { Behave, type MockScript, startMockUpstreamScoped } from "@switchyard/testkit/mock"
import { Effect, Layer } from "effect"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { argsOrExit, configOrExit, gatewayProcess, runGateway } from "./Launch.ts"

const CONFIG = fileURLToPath(new URL("../../../examples/proxy-demo.yaml", import.meta.url))
/** Where the demo config points its api_base lines; replaced by the mock's real URL. */
const CONFIG_MOCK_URL = "http://127.0.0.1:4010"
/** The mock listens this far above the gateway's port. */
const MOCK_PORT_OFFSET = 10

/** The demo's usage, for `npm start -- --help`. */
const demoUsage = `usage: npm start -- [--port 4000] [--host 127.0.0.1] [--log-format logfmt|json]

  The gateway on examples/proxy-demo.yaml with the bundled mock upstream (no API keys).
  --port N   the gateway's port (default 4000); the mock listens on N + 10 (0: both pick free ports)`

/** What each mock deployment of the demo does; the rest answer normally. */
const scripts: Record<string, MockScript> = {
  "gpt-4o-east": { behaviors: [], otherwise: Behave.status(500) },
  "gpt-4o-mini": { behaviors: [], otherwise: Behave.status(503) },
  storyteller: { behaviors: [], otherwise: Behave.cutAfter(8) },
  "tts-primary": { behaviors: [], otherwise: Behave.status(500) },
  "kokoro-placeholder": { behaviors: [], otherwise: Behave.modelIdNotFound("kokoro") }
}

const instructions = (mockUrl: string, url: string, speechFile: string) => `
The demo is running: the mock upstream on ${mockUrl}, the gateway on ${url}.

  # a chat call: gpt-4o-east fails (500), gpt-4o-west answers; see the x-switchyard-* headers
  curl -si ${url}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}'

  # a stream cut after 8 words and continued by the fallback group: one whole reply
  curl -sN ${url}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"storyteller","stream":true,"messages":[{"role":"user","content":"Tell me a story"}]}'

  # the official openai client, a Responses API stream through the same break (run from the repository root)
  OPENAI_BASE_URL=${url}/v1 OPENAI_API_KEY=demo node --input-type=module -e 'import OpenAI from "openai"; for await (const e of await new OpenAI().responses.create({ model: "storyteller", input: "Tell me a story", stream: true })) if (e.type === "response.output_text.delta") process.stdout.write(e.delta); console.log()'

  # kokoro speech: the placeholder fails, server1/kokoro answers
  curl -s ${url}/v1/audio/speech -H 'content-type: application/json' -d '{"model":"kokoro","input":"Hello","voice":"af_heart"}' -o ${speechFile} -D -

  # metrics
  curl -s ${url}/metrics | grep switchyard_
`

const { config: _config, check: _check, ...options } = argsOrExit(["--config", CONFIG, ...process.argv.slice(2)], demoUsage)
const workDir = mkdtempSync(join(tmpdir(), "switchyard-demo-"))
const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.port}`

/** The demo config with every api_base on the mock's real URL, written to the temporary folder. */
const demoConfigFor = (mockUrl: string): string => {
  const path = join(workDir, "proxy-demo.yaml")
  writeFileSync(path, readFileSync(CONFIG, "utf8").replaceAll(CONFIG_MOCK_URL, mockUrl))
  return path
}

// The mock starts first: with `--port 0` its URL, which the config needs, is known only once it listens.
const demo = Layer.unwrap(Effect.gen(function*() {
  const mockPort = options.port === 0 ? 0 : options.port + MOCK_PORT_OFFSET
  const mock = yield* startMockUpstreamScoped({ port: mockPort, scripts })
  console.log(`switchyard-mock listening on ${mock.url}`)
  const loaded = yield* Effect.promise(() => configOrExit(demoConfigFor(mock.url)))
  const guide = Layer.effectDiscard(Effect.sync(() => console.log(instructions(mock.url, url, join(workDir, "speech.mp3")))))
  return guide.pipe(Layer.provide(gatewayProcess(loaded, options)))
}))

runGateway(demo)
