import { assert, layer } from "@effect/vitest"
import { operations as Op } from "@switchyard/core"
import { MockUpstream } from "@switchyard/testkit/mock"
import { Effect } from "effect"
import { mockDeployment, plain, providerFor, TestLayer } from "./fixtures.ts"

layer(TestLayer, { excludeTestServices: true })("connection reuse", (it) => {
  it.effect("50 sequential calls over the shared undici client open at most 2 sockets", () =>
    Effect.gen(function*() {
      const mock = yield* MockUpstream
      const openai = yield* providerFor("openai")
      const chat = yield* mockDeployment("pool-chat", "openai")
      const embed = yield* mockDeployment("pool-embed", "openai")
      for (let i = 0; i < 25; i++) {
        yield* openai.call(Op.chat, chat, { model: "g", messages: [{ role: "user", content: `hi ${i}` }] })
        yield* openai.call(plain(Op.embedding), embed, { model: "g", input: `text ${i}` })
      }
      assert.strictEqual(mock.requests().length, 50)
      assert.isAtLeast(mock.connections(), 1)
      assert.isAtMost(mock.connections(), 2)
    }))
})
