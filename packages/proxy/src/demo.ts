/**
 * `npm start`: the bundled mock upstream on 127.0.0.1:4010, scripted to fail the way the demo config
 * describes, and the gateway on examples/proxy-demo.yaml, in one process. It prints lines to paste.
 * `npm start -- --port 4100` moves the gateway; the mock stays on 4010, where the config points.
 */
import { Behave, type MockScript, startMockUpstreamScoped } from "@switchyard/testkit/mock"
import { Effect, Layer } from "effect"
import { fileURLToPath } from "node:url"
import { argsOrExit, configOrExit, gatewayProcess, runGateway } from "./Launch.ts"

const MOCK_PORT = 4010
const CONFIG = fileURLToPath(new URL("../../../examples/proxy-demo.yaml", import.meta.url))

/** What each mock deployment of the demo does; the rest answer normally. */
const scripts: Record<string, MockScript> = {
  "gpt-4o-east": { behaviors: [], otherwise: Behave.status(500) },
  "gpt-4o-mini": { behaviors: [], otherwise: Behave.status(503) },
  storyteller: { behaviors: [], otherwise: Behave.cutAfter(8) },
  "tts-primary": { behaviors: [], otherwise: Behave.status(500) },
  "kokoro-placeholder": { behaviors: [], otherwise: Behave.modelIdNotFound("kokoro") }
}

const instructions = (url: string) => `
The demo is running: the mock upstream on http://127.0.0.1:${MOCK_PORT}, the gateway on ${url}.

  # a chat call: gpt-4o-east fails (500), gpt-4o-west answers; see the x-switchyard-* headers
  curl -si ${url}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}'

  # a stream cut after 8 words and continued by the fallback group: one whole reply
  curl -sN ${url}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"storyteller","stream":true,"messages":[{"role":"user","content":"Tell me a story"}]}'

  # the official openai client, a Responses API stream through the same break (run from the repository root)
  OPENAI_BASE_URL=${url}/v1 OPENAI_API_KEY=demo node --input-type=module -e 'import OpenAI from "openai"; for await (const e of await new OpenAI().responses.create({ model: "storyteller", input: "Tell me a story", stream: true })) if (e.type === "response.output_text.delta") process.stdout.write(e.delta); console.log()'

  # kokoro speech: the placeholder fails, server1/kokoro answers
  curl -s ${url}/v1/audio/speech -H 'content-type: application/json' -d '{"model":"kokoro","input":"Hello","voice":"af_heart"}' -o speech.mp3 -D -

  # metrics
  curl -s ${url}/metrics | grep switchyard_
`

const { config, check: _check, ...options } = argsOrExit(["--config", CONFIG, ...process.argv.slice(2)])
const loaded = await configOrExit(config)

const mock = Layer.effectDiscard(Effect.gen(function*() {
  const server = yield* startMockUpstreamScoped({ port: MOCK_PORT, scripts })
  console.log(`switchyard-mock listening on ${server.url}`)
}))
const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.port}`
const guide = Layer.effectDiscard(Effect.sync(() => console.log(instructions(url))))

runGateway(guide.pipe(Layer.provide(gatewayProcess(loaded, options)), Layer.provide(mock)))
