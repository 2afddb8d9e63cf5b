/**
 * Runs once around the whole vitest run. Under `npm test`, whose pretest started the test Redis, it stops
 * that Redis when the run ends, whether the tests passed or failed (npm skips a `posttest` after a failed
 * test), so `npm test` leaves nothing running. `ci-setup.sh --stop` stops only a Redis it started.
 */
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const ciSetup = fileURLToPath(new URL("packages/redis/ci-setup.sh", import.meta.url))

/** Nothing to set up; the teardown stops the Redis of `npm test`. */
export default () => () => {
  if (process.env.npm_lifecycle_event === "test") execFileSync("bash", [ciSetup, "--stop"], { stdio: "inherit" })
}
