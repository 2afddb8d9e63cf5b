/**
 * Every example runs as a new user runs it (its own process, tsx, the in-process mock) and still tells
 * the story it is there for: it exits 0 and prints its key lines. An example without an entry here fails.
 */
import { describe, expect, it } from "vitest"
import { exampleFiles, runExample } from "../run-all.ts"

/** What each example must print. */
const keyLines: Record<string, ReadonlyArray<string | RegExp>> = {
  "library-service.ts": [
    "served by assistant-backup#1",
    /3 attempts: assistant#1 \(ServerError\) → assistant#1 \(ServerError\) → assistant-backup#1 \(ok\); fallbacks: 1/,
    "handled UnknownModel",
    "handled AllAttemptsFailed after 1 attempt(s): Authentication"
  ],
  "speech-failover.ts": [
    "served by tts-azure; 2 attempt(s): tts-openai (ServerError) → tts-azure (ok)",
    "served by tts-azure; 1 attempt(s): tts-azure (ok)",
    /wrote 48000 bytes of audio\/mpeg in \d+ pieces/
  ],
  "kokoro.ts": [
    "failed: NotFound: could not find real modelID for kokoro",
    "served by server1/kokoro#1 after 1 fallback(s)",
    "served by server2/kokoro#1 after 2 fallback(s)"
  ],
  "responses-stream.ts": [
    "continued by writer-backup#1",
    "served by writer#1 then writer-backup#1 with 1 break(s)",
    /usage of both parts: .*\(estimated/,
    "the whole answer arrived exactly once: yes"
  ],
  "retry-policy.ts": [
    "3 attempts",
    "failed fast: 1 attempt, ServerError",
    "call 4: served by pool-b: pool-b (ok) — pool-a is cooling down"
  ],
  "embeddings-cooldown.ts": [
    /embed-big \(weight 3\): \d+ calls/,
    "embed-big cools down",
    "embed-big's cooldown is over",
    "served by embed-big again"
  ]
}

describe("examples", () => {
  it("every example has key lines to check", () => {
    expect(exampleFiles().sort()).toEqual(Object.keys(keyLines).sort())
  })

  it.concurrent.each(Object.keys(keyLines))("%s runs and prints its key lines", async (file) => {
    const { code, output } = await runExample(file)
    expect(code, output).toBe(0)
    for (const line of keyLines[file]!) {
      if (typeof line === "string") expect(output).toContain(line)
      else expect(output).toMatch(line)
    }
  })

  it("run-all runs the examples it is asked for and reports each", async () => {
    const { code, output } = await runExample("run-all.ts", ["speech"])
    expect(code, output).toBe(0)
    expect(output).toMatch(/^ok {4}speech-failover\.ts/m)
    expect(output).toContain("1 of 1 examples passed")
  })
})
