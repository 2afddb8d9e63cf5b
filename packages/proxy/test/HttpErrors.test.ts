/**
 * The error table as pure functions: every failure class of the core has a row, and the redactor
 * blanks every configured key from text that leaves the gateway.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  AllAttemptsFailed,
  type Deployment,
  NoDeploymentAvailable,
  type ProviderErrorTag,
  RateLimited,
  ServerError,
  UnknownModel
} from "@switchyard/core"
import { Redacted } from "effect"
import { fromRouterError, upstreamErrors } from "../src/HttpErrors.ts"
import { makeRedactor } from "../src/Secrets.ts"

/** The statuses the brief asks for, per class; `satisfies` makes a new class a compile error until listed. */
const expected = {
  BadRequest: 400,
  ContextWindowExceeded: 400,
  ContentPolicy: 400,
  UnsupportedOperation: 400,
  RateLimited: 429,
  Timeout: 504,
  Connection: 502,
  ServerError: 502,
  Overloaded: 503,
  MalformedResponse: 502,
  MidStream: 502,
  Authentication: 502,
  NotFound: 502
} satisfies { readonly [K in ProviderErrorTag]: number }

const failed = (lastError: AllAttemptsFailed["lastError"]) =>
  new AllAttemptsFailed({
    model: "gpt",
    attempts: [{ deployment: "gpt#1", group: "gpt", error: lastError._tag, durationMillis: 3 }],
    lastError,
    message: "failed"
  })

describe("the error table", () => {
  it("has the status of every failure class", () => {
    for (const [tag, status] of Object.entries(expected)) expect(upstreamErrors[tag as ProviderErrorTag].status).toBe(status)
    expect(upstreamErrors.Authentication.type).toBe("upstream_error")
    expect(upstreamErrors.NotFound.type).toBe("upstream_error")
  })

  it("maps router errors", () => {
    expect(fromRouterError(new UnknownModel({ model: "x", message: "no" }))).toMatchObject({ status: 404, code: "model_not_found" })
    const none = new NoDeploymentAvailable({ group: "gpt", retryAfterMillis: 1500, message: "busy" })
    expect(fromRouterError(none)).toMatchObject({ status: 429, retryAfterSeconds: 2 })
    expect(fromRouterError(failed(none))).toMatchObject({ status: 429, code: "no_deployment_available" })
    expect(fromRouterError(failed(new RateLimited({ message: "slow", retryAfterMillis: 2001 })))).toMatchObject({
      status: 429,
      retryAfterSeconds: 3
    })
    expect(fromRouterError(failed(new RateLimited({ message: "slow" }))).retryAfterSeconds).toBeUndefined()
    // A group that is really down: the upstream's error, and when its first deployment comes back.
    const down = new AllAttemptsFailed({
      model: "gpt",
      attempts: [{ deployment: "gpt#1", group: "gpt", error: "ServerError", durationMillis: 3 }],
      lastError: new ServerError({ message: "boom", status: 500 }),
      retryAfterMillis: 4_200,
      message: "failed"
    })
    expect(fromRouterError(down)).toMatchObject({ status: 502, code: "upstream_server_error", retryAfterSeconds: 5 })
    const server = fromRouterError(failed(new ServerError({ message: "stack trace at 10.0.0.7" })))
    expect(server.message).not.toContain("10.0.0.7")
  })
})

describe("the redactor", () => {
  it("blanks upstream and gateway keys, longest first, and leaves short placeholders alone", () => {
    const deployment = (key: string) => ({ apiKey: Redacted.make(key) }) as unknown as Deployment
    const redact = makeRedactor([deployment("sk-upstream-abcdef"), deployment("none")], ["sk-master-123456", "sk-upstream-abcdef-longer"])
    expect(redact("a sk-upstream-abcdef-longer b sk-upstream-abcdef c sk-master-123456 d none"))
      .toBe("a [redacted] b [redacted] c [redacted] d none")
  })
})
