import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    globalSetup: ["./vitest.global.ts"],
    projects: ["packages/*", "packaging", "examples", "clients"]
  }
})
