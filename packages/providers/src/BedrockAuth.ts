/**
 * Who a Bedrock deployment is and how its requests are authenticated. LiteLLM's precedence: the
 * deployment's `api_key` (a Bedrock API key, sent as Bearer), its `aws_*` keys, then the environment
 * (`AWS_BEARER_TOKEN_BEDROCK`, `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`,
 * `AWS_REGION`/`AWS_DEFAULT_REGION`). SigV4 signing is `@smithy/signature-v4`'s, over the exact body bytes.
 */
import { Sha256 } from "@aws-crypto/sha256-js"
import { SignatureV4 } from "@smithy/signature-v4"
import { Authentication, type Deployment, type ProviderError } from "@switchyard/core"
import { Effect, Redacted } from "effect"
import { envVar as env } from "./OpenAiCompatible.ts"

/** How requests of one deployment authenticate. */
export type BedrockAuth =
  | { readonly _tag: "Bearer"; readonly token: string }
  | { readonly _tag: "SigV4"; readonly signer: SignatureV4 }

/** Where a Bedrock deployment's requests go and how they are signed. */
export interface BedrockTarget {
  /** The runtime endpoint, without a trailing slash (`https://bedrock-runtime.<region>.amazonaws.com`). */
  readonly endpoint: string
  readonly region: string
  readonly auth: BedrockAuth
  /** Values never to show in a message: the secret key, the session token, the bearer token. */
  readonly secrets: ReadonlyArray<string>
}

/** The region used when neither the deployment nor the environment names one (LiteLLM's default). */
export const defaultBedrockRegion = "us-east-1"

const signerOf = (region: string, accessKeyId: string, secretAccessKey: string, sessionToken: string | undefined) =>
  new SignatureV4({
    service: "bedrock",
    region,
    sha256: Sha256,
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) }
  })

/** Works out a deployment's endpoint, region and credentials; no credentials at all is an Authentication error. */
export const resolveBedrockTarget = (deployment: Deployment): Effect.Effect<BedrockTarget, ProviderError> =>
  Effect.gen(function*() {
    const aws = deployment.aws
    const region = aws?.regionName ?? (yield* env("AWS_REGION")) ?? (yield* env("AWS_DEFAULT_REGION")) ?? defaultBedrockRegion
    const endpoint = (aws?.runtimeEndpoint ?? deployment.apiBase ?? `https://bedrock-runtime.${region}.amazonaws.com`)
      .replace(/\/+$/, "")
    const target = (auth: BedrockAuth, secrets: ReadonlyArray<string | undefined>): BedrockTarget => ({
      endpoint,
      region,
      auth,
      secrets: secrets.filter((s): s is string => s !== undefined)
    })
    if (deployment.apiKey !== undefined) {
      const token = Redacted.value(deployment.apiKey)
      return target({ _tag: "Bearer", token }, [token])
    }
    if (aws?.accessKeyId !== undefined && aws.secretAccessKey !== undefined) {
      const secret = Redacted.value(aws.secretAccessKey)
      const session = aws.sessionToken && Redacted.value(aws.sessionToken)
      return target({ _tag: "SigV4", signer: signerOf(region, aws.accessKeyId, secret, session) }, [secret, session])
    }
    const bearer = yield* env("AWS_BEARER_TOKEN_BEDROCK")
    if (bearer !== undefined) return target({ _tag: "Bearer", token: bearer }, [bearer])
    const keyId = yield* env("AWS_ACCESS_KEY_ID")
    const secret = yield* env("AWS_SECRET_ACCESS_KEY")
    if (keyId !== undefined && secret !== undefined) {
      const session = yield* env("AWS_SESSION_TOKEN")
      return target({ _tag: "SigV4", signer: signerOf(region, keyId, secret, session) }, [secret, session])
    }
    return yield* Effect.fail(
      new Authentication({
        message: `bedrock deployment ${deployment.id} has no credentials: set api_key, aws_access_key_id/aws_secret_access_key, or AWS_* variables`
      })
    )
  })

/**
 * The headers that authenticate one POST of `body` to `url`: Bearer, or SigV4 over the method, path,
 * host, the given headers and the body. `host` is signed but not returned: the HTTP client sends the same.
 */
export const authHeaders = (
  target: BedrockTarget,
  url: string,
  headers: Readonly<Record<string, string>>,
  body: string,
  signingDate: Date
): Effect.Effect<Record<string, string>, ProviderError> => {
  const auth = target.auth
  if (auth._tag === "Bearer") return Effect.succeed({ ...headers, authorization: `Bearer ${auth.token}` })
  const parsed = new URL(url)
  return Effect.tryPromise({
    try: () =>
      auth.signer.sign({
        method: "POST",
        protocol: parsed.protocol,
        hostname: parsed.hostname,
        ...(parsed.port === "" ? {} : { port: Number(parsed.port) }),
        path: parsed.pathname,
        query: {},
        headers: { ...headers, host: parsed.host },
        body
      }, { signingDate }),
    catch: () => new Authentication({ message: "the request could not be signed with the deployment's AWS credentials" })
  }).pipe(Effect.map((signed) => {
    const { host: _host, ...rest } = signed.headers
    return rest
  }))
}
