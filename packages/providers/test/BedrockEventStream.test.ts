/** Eventstream bodies: frames split wherever the socket splits them, CRCs checked, exceptions typed. */
import { assert, describe, it } from "@effect/vitest"
import { exceptionFrame } from "@switchyard/testkit/mock"
import { EventStreamCodec } from "@smithy/eventstream-codec"
import { fromUtf8, toUtf8 } from "@smithy/util-utf8"
import { Effect, Stream } from "effect"
import { HttpClientRequest, HttpClientResponse } from "effect/http"
import { bedrockEvents } from "../src/index.ts"

const codec = new EventStreamCodec(toUtf8, fromUtf8)
const event = (type: string, payload: unknown) =>
  codec.encode({
    headers: {
      ":event-type": { type: "string", value: type },
      ":message-type": { type: "string", value: "event" },
      ":content-type": { type: "string", value: "application/json" }
    },
    body: fromUtf8(JSON.stringify(payload))
  })
const concat = (parts: ReadonlyArray<Uint8Array>) => new Uint8Array(Buffer.concat(parts))

/** A response whose body arrives in pieces of `size` bytes. */
const responseOf = (bytes: Uint8Array, size = 7) => {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.length; at += size) controller.enqueue(bytes.slice(at, at + size))
      controller.close()
    }
  })
  return HttpClientResponse.fromWeb(HttpClientRequest.post("http://127.0.0.1/x"), new Response(body))
}

const collect = (bytes: Uint8Array) =>
  Effect.gen(function*() {
    const seen: Array<string> = []
    const error = yield* bedrockEvents(responseOf(bytes), ["secret-never-shown"]).pipe(
      Stream.runForEach((e) => Effect.sync(() => void seen.push(`${e.eventType}:${JSON.stringify(e.payload)}`))),
      Effect.flip,
      Effect.catch(() => Effect.succeed(undefined))
    )
    return { seen, error }
  })

describe("bedrockEvents", () => {
  it.effect("frames split across reads decode in order", () =>
    Effect.gen(function*() {
      const { seen, error } = yield* collect(concat([event("messageStart", { role: "assistant" }), event("contentBlockDelta", { delta: { text: "hi" } })]))
      assert.isUndefined(error)
      assert.deepStrictEqual(seen, ["messageStart:{\"role\":\"assistant\"}", "contentBlockDelta:{\"delta\":{\"text\":\"hi\"}}"])
    }))

  it.effect("a frame whose CRC does not match is a MalformedResponse, after the good frames", () =>
    Effect.gen(function*() {
      const bad = event("contentBlockDelta", { delta: { text: "x" } })
      bad[bad.length - 6] = bad[bad.length - 6]! ^ 0xff // a payload byte: the message CRC no longer matches
      const { seen, error } = yield* collect(concat([event("messageStart", {}), bad]))
      assert.strictEqual(seen.length, 1)
      assert.strictEqual(error?._tag, "MalformedResponse")
      assert.match(error!.message, /checksum/)
    }))

  it.effect("a body cut inside a frame is a MalformedResponse", () =>
    Effect.gen(function*() {
      const whole = event("contentBlockDelta", { delta: { text: "hello" } })
      const { error } = yield* collect(whole.slice(0, whole.length - 5))
      assert.strictEqual(error?._tag, "MalformedResponse")
    }))

  it.effect("an exception frame fails with the typed error of its class", () =>
    Effect.gen(function*() {
      const throttled = yield* collect(concat([event("messageStart", {}), exceptionFrame("throttlingException", "slow down")]))
      assert.strictEqual(throttled.error?._tag, "RateLimited")
      assert.strictEqual(throttled.error?.message, "slow down")
      const unavailable = yield* collect(exceptionFrame("serviceUnavailableException"))
      assert.strictEqual(unavailable.error?._tag, "Overloaded")
    }))
})
