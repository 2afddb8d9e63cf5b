/**
 * The command line: argument parsing, and `--check`, which exits 0 for a usable config and 2 with every
 * problem at its path otherwise.
 */
import { describe, expect, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseCliArgs, UsageError, wantsHelp } from "../src/CliArgs.ts"

const BIN = fileURLToPath(new URL("../bin/switchyard.js", import.meta.url))
const EXAMPLE = fileURLToPath(new URL("../../../examples/proxy-demo.yaml", import.meta.url))

/** Runs the CLI in its own process to its end. */
const run = (args: ReadonlyArray<string>) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { timeout: 20_000 })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    child.on("close", (status) => resolve({ status, stdout, stderr }))
  })

const configFile = (yaml: string) => {
  const file = join(mkdtempSync(join(tmpdir(), "switchyard-cli-")), "config.yaml")
  writeFileSync(file, yaml)
  return file
}

describe("parseCliArgs", () => {
  it("reads every option, with defaults", () => {
    expect(parseCliArgs(["--config", "a.yaml"])).toEqual({
      config: "a.yaml",
      port: 4000,
      host: "127.0.0.1",
      check: false,
      drainTimeoutMillis: 10_000,
      logFormat: "logfmt"
    })
    expect(parseCliArgs(["--config=b.yaml", "--port", "0", "--host", "0.0.0.0", "--check", "--drain-timeout", "2.5", "--log-format", "json"]))
      .toEqual({ config: "b.yaml", port: 0, host: "0.0.0.0", check: true, drainTimeoutMillis: 2500, logFormat: "json" })
  })

  it("rejects what it cannot use", () => {
    for (const argv of [[], ["--config", "a", "--port", "x"], ["--config", "a", "--port", "70000"], ["--config", "a", "--nope"], ["--config", "a", "--log-format", "xml"]]) {
      expect(() => parseCliArgs(argv)).toThrow(UsageError)
    }
  })
})

describe("switchyard --check", { timeout: 30_000 }, () => {
  it("accepts the demo config", async () => {
    const result = await run(["--config", EXAMPLE, "--check"])
    expect(result.stdout).toContain("config OK")
    expect(result.status).toBe(0)
  })

  it("exits 2 and names every bad field by its path", async () => {
    const file = configFile(`
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_key: os.environ/SWITCHYARD_CLI_TEST_UNSET, rpm: 5 }
  - model_name: bad
    litellm_params: { model: no-slash, rpm: -3 }
router_settings:
  fallbacks: [{ gpt: [missing-group] }]
`)
    const result = await run(["--config", file, "--check"])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain("model_list[1].litellm_params.model")
    expect(result.stderr).toContain("model_list[1].litellm_params.rpm")
  })

  it("reports unset environment variables and unknown providers", async () => {
    const unset = configFile(`
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_key: os.environ/SWITCHYARD_CLI_TEST_UNSET }
general_settings:
  master_key: os.environ/SWITCHYARD_CLI_TEST_UNSET_MASTER
`)
    const result = await run(["--config", unset, "--check"])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain("model_list[0].litellm_params.api_key: environment variable SWITCHYARD_CLI_TEST_UNSET is not set")
    expect(result.stderr).toContain("general_settings.master_key")
    const unknown = configFile(`
model_list:
  - model_name: gpt
    litellm_params: { model: nosuchvendor/gpt-4o }
`)
    const second = await run(["--config", unknown, "--check"])
    expect(second.status).toBe(2)
    expect(second.stderr).toContain("model_list[0].litellm_params.model: unknown provider")
  })

  it("runs every stage at once: a schema error does not hide an unset variable, an unknown provider or a bad fallback", async () => {
    const file = configFile(`
model_list:
  - model_name: gpt
    litellm_params: { model: gpt-4o, api_key: os.environ/SWITCHYARD_CLI_TEST_UNSET, rpm: 20_000 }
  - model_name: bad
    litellm_params: { model: openai/x, rpm: -3 }
  - model_name: vendor
    litellm_params: { model: nosuchvendor/x }
router_settings:
  fallbacks: [{ gpt: [missing-group] }]
`)
    const result = await run(["--config", file, "--check"])
    expect(result.status).toBe(2)
    for (const path of [
      "model_list[1].litellm_params.rpm",
      "model_list[0].litellm_params.api_key: environment variable SWITCHYARD_CLI_TEST_UNSET is not set",
      "model_list[2].litellm_params.model: unknown provider",
      "router_settings.fallbacks[0].gpt[0]"
    ]) expect(result.stderr).toContain(path)
  })

  it("prints each warning once, naming the ignored keys", async () => {
    const file = configFile(`
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_key: sk-x, max_retries: 4, temperature: 0.2 }
litellm_settings: { num_retries: 2, drop_params: true, success_callback: [langfuse] }
router_settings: { num_retries: 1 }
`)
    const result = await run(["--config", file, "--check"])
    expect(result.status).toBe(0)
    const lines = (result.stdout + result.stderr).split("\n").filter((l) => l.includes("warning"))
    expect(new Set(lines).size).toBe(lines.length)
    for (const key of [
      "model_list[0].litellm_params.max_retries",
      "model_list[0].litellm_params.temperature",
      "litellm_settings.num_retries: overridden by router_settings.num_retries",
      "litellm_settings.drop_params",
      "litellm_settings.success_callback"
    ]) expect(lines.filter((l) => l.includes(key))).toHaveLength(1)
  })

  it("--help prints the usage on stdout and exits 0 (so does -h)", async () => {
    expect([wantsHelp(["--help"]), wantsHelp(["--config", "a.yaml", "-h"]), wantsHelp(["--config", "a.yaml"])]).toEqual([true, true, false])
    const help = await run(["--help"])
    expect(help.status).toBe(0)
    expect(help.stdout).toContain("usage: switchyard --config FILE")
    expect(help.stdout).toContain("--drain-timeout SECONDS")
  })

  it("exits 2 with usage on a bad command line, and on a missing file", async () => {
    const usage = await run(["--port", "1"])
    expect(usage.status).toBe(2)
    expect(usage.stderr).toContain("usage: switchyard")
    const missing = await run(["--config", "/nonexistent/switchyard.yaml", "--check"])
    expect(missing.status).toBe(2)
    expect(missing.stderr).toContain("cannot read /nonexistent/switchyard.yaml")
  })
})
