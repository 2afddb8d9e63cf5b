/**
 * Switchyard as its users get it: every package packed and installed from the tarballs into a project
 * outside the repository (packaging/app.sh, the Dockerfile's steps), then a user's Effect service on
 * `Router` type-checked with `tsc` and run with plain `node`, and the packed `switchyard` bin started
 * on a config. Nothing here may resolve into the repository: no source condition, no tsx, no workspace.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const ROOT = fileURLToPath(new URL("../..", import.meta.url))
const CONSUMER = fileURLToPath(new URL("../consumer", import.meta.url))
/** The repository's Node 24 and tsc, as a user's own toolchain would be. */
const NODE = join(ROOT, "node_modules/.bin/node")
const TSC = join(ROOT, "node_modules/.bin/tsc")
const PACKAGES = ["core", "providers", "proxy", "redis", "testkit"]

/**
 * The environment of a user's shell: none of the variables npm sets for the repository's scripts (its
 * local prefix, `--conditions=@switchyard/source` in NODE_OPTIONS), Node 24 first on PATH, and npm served
 * from its cache when it can.
 */
const userEnv = (): NodeJS.ProcessEnv => {
  const keep = new Set(["npm_config_cache", "npm_config_registry"])
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => key !== "NODE_OPTIONS" && (!key.toLowerCase().startsWith("npm_") || keep.has(key)))
  )
  return { ...env, PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`, npm_config_prefer_offline: "true" }
}

interface Run {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command to its end in `cwd`, never throwing: the test asserts on the result. */
const run = (command: string, args: ReadonlyArray<string>, cwd: string, timeout = 240_000, env: NodeJS.ProcessEnv = {}) =>
  new Promise<Run>((resolve) => {
    execFile(command, [...args], { cwd, env: { ...userEnv(), ...env }, timeout, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      resolve({ status: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }))
  })

/** Resolves with the URL once the child prints `<name> listening on URL`; rejects if it exits first. */
const listening = (child: ChildProcess, name: string) =>
  new Promise<string>((resolve, reject) => {
    let out = ""
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const match = new RegExp(`${name} listening on (http://\\S+)`).exec(out)
      if (match) resolve(match[1]!)
    })
    child.stderr!.on("data", (chunk: Buffer) => (out += chunk.toString()))
    child.on("exit", (code) => reject(new Error(`${name} exited with ${code} before listening:\n${out}`)))
  })

let app = ""

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), "switchyard-consumer-"))
  for (const step of ["pack", "install"]) {
    const result = await run("bash", [join(ROOT, "packaging/app.sh"), step, app], ROOT)
    if (result.status !== 0) throw new Error(`packaging/app.sh ${step} failed:\n${result.stdout}\n${result.stderr}`)
  }
  for (const file of readdirSync(CONSUMER)) copyFileSync(join(CONSUMER, file), join(app, file))
})

afterAll(() => {
  if (app !== "") rmSync(app, { recursive: true, force: true })
})

describe("the packed packages, installed outside the repository", () => {
  it("are publishable, export built JavaScript with declarations, and need no dev tools at run time", () => {
    expect(app.startsWith(ROOT)).toBe(false)
    for (const name of PACKAGES) {
      const dir = join(app, "node_modules/@switchyard", name)
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
      expect(manifest.private, name).toBeUndefined()
      expect(manifest.sideEffects, name).toBe(false)
      for (const entry of Object.values<Record<string, string>>(manifest.exports)) {
        expect(entry.types, name).toMatch(/^\.\/dist\/.*\.d\.ts$/)
        expect(entry.default, name).toMatch(/^\.\/dist\/.*\.js$/)
        expect(existsSync(join(dir, entry.types!)), entry.types).toBe(true)
        expect(existsSync(join(dir, entry.default!)), entry.default).toBe(true)
        expect(existsSync(join(dir, entry.default!.replace(/\.js$/, ".js.map"))), `${entry.default} map`).toBe(true)
      }
    }
    expect(existsSync(join(app, "node_modules/tsx"))).toBe(false)
    expect(existsSync(join(app, "node_modules/typescript"))).toBe(false)
  })

  it("type-check a user's Effect service on Router with tsc", async () => {
    const result = await run(TSC, ["-p", "tsconfig.json"], app)
    expect(result.stdout + result.stderr).toBe("")
    expect(result.status).toBe(0)
  })

  it("run that service with plain node", async () => {
    const result = await run(NODE, ["service.ts"], app, 60_000)
    expect(result.stderr).toBe("")
    expect(result.stdout).toContain("consumer: served by backup#1: text")
    expect(result.stdout).toContain("consumer: handled UnknownModel")
    expect(result.status).toBe(0)
  })

  it("give the switchyard and switchyard-mock bins a --help that exits 0", async () => {
    const gateway = await run(NODE, ["node_modules/.bin/switchyard", "--help"], app, 60_000)
    expect(gateway.stdout).toContain("usage: switchyard --config FILE")
    expect(gateway.status).toBe(0)
    const mock = await run(NODE, ["node_modules/.bin/switchyard-mock", "-h"], app, 60_000)
    expect(mock.stdout).toContain("usage: switchyard-mock")
    expect(mock.status).toBe(0)
  })

  it("accept the container's config (compose.yaml's replicas) with switchyard --check", async () => {
    const env = { OPENAI_API_KEY: "sk-x", ANTHROPIC_API_KEY: "sk-y", SWITCHYARD_MASTER_KEY: "k", REDIS_URL: "redis://redis:6379" }
    const result = await run(NODE, ["node_modules/.bin/switchyard", "--config", join(ROOT, "examples/replicas.yaml"), "--check"], app, 60_000, env)
    expect(result.stderr).toBe("")
    expect(result.stdout).toContain("config OK")
    expect(result.status).toBe(0)
  })

  it("start the switchyard bin on a config: /health/liveliness answers, SIGTERM exits 0", async () => {
    const child = spawn(NODE, ["node_modules/.bin/switchyard", "--config", "switchyard.yaml", "--port", "0"], {
      cwd: app,
      env: userEnv(),
      stdio: ["ignore", "pipe", "pipe"]
    })
    try {
      const url = await listening(child, "switchyard")
      const response = await fetch(`${url}/health/liveliness`)
      expect(response.status).toBe(200)
      expect(await response.json()).toEqual({ status: "alive" })
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
      child.kill("SIGTERM")
      expect(await exited).toBe(0)
    } finally {
      child.kill("SIGKILL")
    }
  })
})

describe("the container image", () => {
  it("runs packaging/app.sh's two steps, as a non-root user, with a health check on /health/liveliness", () => {
    const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8")
    expect(dockerfile).toMatch(/^FROM \S+ AS build$/m)
    expect(dockerfile).toContain("bash packaging/app.sh pack /app")
    expect(dockerfile).toMatch(/app\.sh install \/app/)
    expect(dockerfile).toMatch(/^USER node$/m)
    expect(dockerfile).toMatch(/^HEALTHCHECK [^]*\/health\/liveliness/m)
    expect(readFileSync(join(ROOT, "packaging/app.sh"), "utf8")).toContain("npm ci --omit=dev")
  })
})
