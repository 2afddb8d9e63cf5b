/** The OpenAI-compatible families table: every row resolves to a base URL and a key, and adding one is a row. */
import { assert, describe, it } from "@effect/vitest"
import { deploymentOf } from "@switchyard/testkit"
import { ConfigProvider, Effect } from "effect"
import { apiKeyOf, openAiAliases, openAiBaseOf, openAiFamilies, providerAliases } from "../src/index.ts"

const d = (provider: string, apiBase?: string) =>
  deploymentOf({ id: provider, provider, model: "m", ...(apiBase === undefined ? {} : { apiBase }) })

describe("OpenAI-compatible families", () => {
  it("every family the issue names is a row, and every row is an alias of the openai provider", () => {
    for (const name of ["ollama", "ollama_chat", "huggingface", "xinference", "siliconflow", "zhipu", "text-completion-openai", "nvidia_nim", "cerebras", "sambanova", "dashscope", "moonshot"]) {
      assert.isDefined(openAiFamilies[name], name)
      assert.strictEqual(providerAliases[name], "openai", name)
    }
    assert.deepStrictEqual(Object.keys(openAiAliases).sort(), Object.keys(openAiFamilies).filter((n) => n !== "openai").sort())
  })

  it("every hosted row has an https base URL and a key variable; local ones default to localhost", () => {
    for (const [name, family] of Object.entries(openAiFamilies)) {
      if (family.base === undefined) continue
      const url = new URL(family.base)
      if (url.hostname === "localhost" || url.hostname === "127.0.0.1") continue
      assert.strictEqual(url.protocol, "https:", name)
      assert.isAbove(family.keyEnv?.length ?? 0, 0, name)
    }
    assert.strictEqual(openAiBaseOf(d("ollama")), "http://localhost:11434/v1")
    assert.strictEqual(openAiBaseOf(d("ollama_chat")), "http://localhost:11434/v1")
  })

  it("a configured api_base wins; Ollama-style rows add /v1 to a bare host, others take it as given", () => {
    assert.strictEqual(openAiBaseOf(d("ollama", "http://gpu-box:11434/")), "http://gpu-box:11434/v1")
    assert.strictEqual(openAiBaseOf(d("ollama", "http://gpu-box:11434/v1")), "http://gpu-box:11434/v1")
    assert.strictEqual(openAiBaseOf(d("huggingface", "https://xyz.endpoints.huggingface.cloud")), "https://xyz.endpoints.huggingface.cloud/v1")
    assert.strictEqual(openAiBaseOf(d("zhipu")), "https://open.bigmodel.cn/api/paas/v4")
    assert.strictEqual(openAiBaseOf(d("openai", "https://proxy.example/openai")), "https://proxy.example/openai")
    assert.isUndefined(openAiBaseOf(d("hosted_vllm")))
  })

  it.effect("without api_key, the row's key variables are read in order", () =>
    Effect.gen(function*() {
      const key = yield* apiKeyOf(d("huggingface"), openAiFamilies.huggingface!.keyEnv!).pipe(
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { HUGGINGFACE_API_KEY: "hf-second" } })))
      )
      assert.strictEqual(key, "hf-second")
    }))
})
