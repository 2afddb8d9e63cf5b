/**
 * Runs every example as its own process and prints one line for each; exits 1 if any failed (and shows
 * that one's output). Arguments filter by name: `npx tsx examples/run-all.ts kokoro speech`.
 *
 *   npx tsx examples/run-all.ts
 */
import { spawn } from "node:child_process"
import { readdirSync } from "node:fs"
import { fileURLToPath } from "node:url"

const here = fileURLToPath(new URL(".", import.meta.url))
const root = fileURLToPath(new URL("..", import.meta.url))

/** Every `examples/*.ts` except this runner and the vitest config. */
export const exampleFiles = (): Array<string> =>
  readdirSync(here).filter((f) => f.endsWith(".ts") && f !== "run-all.ts" && f !== "vitest.config.ts").sort()

/** Runs one example with the same node and tsx's loader; resolves with its exit code and output. */
export const runExample = (file: string, args: ReadonlyArray<string> = []) =>
  new Promise<{ code: number; output: string; millis: number }>((resolve) => {
    const started = Date.now()
    // From the repository root, so `--import tsx` and the workspace packages resolve as they do for npx.
    // An example that hangs is killed after a minute and counts as failed.
    const child = spawn(process.execPath, ["--import", "tsx", `examples/${file}`, ...args], { cwd: root, timeout: 60_000 })
    let output = ""
    child.stdout.on("data", (b: Buffer) => (output += b.toString()))
    child.stderr.on("data", (b: Buffer) => (output += b.toString()))
    child.on("close", (code, signal) =>
      resolve({ code: code ?? 1, output: signal ? `${output}\n(killed: ${signal})` : output, millis: Date.now() - started }))
  })

const main = async () => {
  const filters = process.argv.slice(2)
  const files = exampleFiles().filter((f) => filters.length === 0 || filters.some((name) => f.includes(name)))
  let failed = 0
  for (const file of files) {
    const { code, millis, output } = await runExample(file)
    const seconds = `${(millis / 1000).toFixed(1)} s`
    if (code === 0) {
      console.log(`ok    ${file.padEnd(26)} ${seconds}`)
    } else {
      failed++
      console.log(`FAIL  ${file.padEnd(26)} ${seconds}, exit code ${code}\n${output.replace(/^/gm, "      | ")}`)
    }
  }
  console.log(`${files.length - failed} of ${files.length} examples passed`)
  process.exitCode = failed > 0 || files.length === 0 ? 1 : 0
}

// Run only when started as a script: the test imports `exampleFiles` and `runExample` from here.
if (process.argv[1] === fileURLToPath(import.meta.url)) await main()
