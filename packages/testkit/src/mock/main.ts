/**
 * The standalone mock upstream: `switchyard-mock [--port N] [--script file.json]`. It prints its URL once
 * listening and runs until interrupted; `--help` prints the usage, a bad command line exits 2 with it.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { mockUsage, parseMockArgs, readScriptFile, wantsMockHelp } from "./Cli.ts"
import { startMockUpstreamScoped } from "./MockUpstream.ts"

/** The options, or the usage on stdout (exit 0) for `--help` and on stderr (exit 2) for a bad line. */
const optionsOrExit = (argv: ReadonlyArray<string>) => {
  if (wantsMockHelp(argv)) {
    console.log(mockUsage)
    return process.exit(0)
  }
  try {
    return parseMockArgs(argv)
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${mockUsage}`)
    return process.exit(2)
  }
}

const main = Effect.gen(function*() {
  const options = optionsOrExit(process.argv.slice(2))
  const scripts = options.scriptFile === undefined ? {} : readScriptFile(options.scriptFile)
  const server = yield* startMockUpstreamScoped({ port: options.port, scripts })
  // The first line is machine-readable: tools wait for it and take the URL from it.
  console.log(`switchyard-mock listening on ${server.url}`)
  return yield* Effect.never
})

NodeRuntime.runMain(Effect.scoped(main))
