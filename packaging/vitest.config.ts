import { defineProject } from "vitest/config"
import { sourceResolve } from "../vitest.shared.ts"

export default defineProject({
  ...sourceResolve,
  // One pack and one install for the whole file: slow on a busy machine, never a timed test.
  test: { name: "packaging", include: ["test/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 300_000 }
})
