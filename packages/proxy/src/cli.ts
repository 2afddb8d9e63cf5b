/**
 * The `switchyard` command. A bad command line or config exits 2 with the reason (every config issue
 * with its path); `--check` stops after validating; otherwise the gateway runs until SIGTERM/SIGINT,
 * then drains open requests and streams up to `--drain-timeout` and exits.
 */
import { argsOrExit, configOrExit, gatewayProcess, runGateway } from "./Launch.ts"

const { config, check, ...options } = argsOrExit(process.argv.slice(2))
const loaded = await configOrExit(config)

if (check) {
  const groups = new Set(loaded.config.model_list.map((m) => m.model_name)).size
  for (const w of loaded.warnings) console.log(`warning: ${w.path}: ${w.message}`)
  console.log(`config OK: ${config} (${groups} model groups, ${loaded.config.model_list.length} deployments)`)
  process.exit(0)
}

runGateway(gatewayProcess(loaded, options))
