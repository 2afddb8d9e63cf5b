import { defineProject } from "vitest/config"
import { sourceResolve } from "../vitest.shared.ts"

export default defineProject({
  ...sourceResolve,
  test: { name: "examples", include: ["test/**/*.test.ts"], testTimeout: 120_000 }
})
