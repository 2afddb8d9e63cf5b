import { defineProject } from "vitest/config"
import { sourceResolve } from "../vitest.shared.ts"

export default defineProject({
  ...sourceResolve,
  // The real clients (openai, the AI SDK, LangChain, the Agents SDK) against the real gateway.
  test: { name: "clients", include: ["test/**/*.test.ts"], testTimeout: 30_000 }
})
