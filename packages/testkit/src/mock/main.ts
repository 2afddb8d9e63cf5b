/**
 * The standalone mock upstream: `switchyard-mock [--port N] [--script file.json]`. It prints its URL once
 * listening and runs until interrupted.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { parseMockArgs, readScriptFile } from "./Cli.ts"
import { startMockUpstreamScoped } from "./MockUpstream.ts"

const main = Effect.gen(function*() {
  const options = parseMockArgs(process.argv.slice(2))
  const scripts = options.scriptFile === undefined ? {} : readScriptFile(options.scriptFile)
  const server = yield* startMockUpstreamScoped({ port: options.port, scripts })
  // The first line is machine-readable: tools wait for it and take the URL from it.
  console.log(`switchyard-mock listening on ${server.url}`)
  return yield* Effect.never
})

NodeRuntime.runMain(Effect.scoped(main))
