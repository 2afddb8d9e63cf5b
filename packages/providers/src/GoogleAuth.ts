/**
 * Google service-account auth, as Google's own libraries do it: the key (a file or its JSON) signs an RS256
 * JWT that is exchanged at the key's own `token_uri` for an access token. Tokens are cached per credential
 * and refreshed before they expire, so a request never waits on the token endpoint unless a token is due.
 * Any failure on the way (no key, a bad key, the endpoint refusing) is an `Authentication` failure: the
 * deployment is misconfigured, so the router fails over and cools it down.
 */
import { readFileSync } from "node:fs"
import { Authentication, Wire } from "@switchyard/core"
import { Clock, Config, Effect, Option, Result, Schema, Semaphore } from "effect"
import { type HttpClient, HttpClientRequest } from "effect/http"
import { importPKCS8, SignJWT } from "jose"
import { scrubSecrets } from "./ErrorMapping.ts"
import { parseJsonOrText } from "./Upstream.ts"

const optional = Schema.optionalKey

/** Where Google's libraries exchange a JWT when a key names no `token_uri`. */
export const defaultTokenUri = "https://oauth2.googleapis.com/token"
/** The scope Vertex AI needs. */
export const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"
/** How long before its expiry a token is replaced (Google's libraries use five minutes too). */
export const refreshMarginMillis = 5 * 60_000

/** The fields of a service-account key file that signing reads; the rest are kept. */
export const ServiceAccountKey = Wire.open({
  type: optional(Schema.String),
  project_id: optional(Schema.String),
  private_key_id: optional(Schema.String),
  private_key: Schema.String,
  client_email: Schema.String,
  token_uri: optional(Schema.String)
})
export type ServiceAccountKey = typeof ServiceAccountKey.Type

/** The token endpoint's answer. */
const TokenReply = Wire.open({
  access_token: Schema.String,
  expires_in: optional(Schema.Number),
  token_type: optional(Schema.String)
})

const authFailure = (message: string, secrets: ReadonlyArray<string> = [], status?: number) =>
  new Authentication({ message: scrubSecrets(message, secrets).slice(0, 1000), ...(status === undefined ? {} : { status }) })

const decodeKey = Schema.decodeUnknownResult(ServiceAccountKey)

/** A key from JSON text; the text is never quoted in the error (it holds the private key). */
const keyFromJson = (text: string, origin: string): Result.Result<ServiceAccountKey, Authentication> => {
  const parsed = parseJsonOrText(text)
  if (typeof parsed === "string") return Result.fail(authFailure(`${origin} is not JSON`))
  const key = decodeKey(parsed)
  return Result.isSuccess(key)
    ? Result.succeed(key.success)
    : Result.fail(authFailure(`${origin} is not a service-account key (it needs client_email and private_key)`))
}

/** A key from `vertex_credentials`: its JSON text, or the path of a key file. */
const keyFromSource = (source: string): Result.Result<ServiceAccountKey, Authentication> => {
  if (source.trimStart().startsWith("{")) return keyFromJson(source, "vertex_credentials")
  try {
    return keyFromJson(readFileSync(source, "utf8"), `the key file ${source}`)
  } catch (error) {
    return Result.fail(authFailure(`the key file ${source} cannot be read: ${(error as Error).message}`))
  }
}

/**
 * The service-account key of a deployment: `vertex_credentials` (already resolved from `os.environ/`), else
 * the file `GOOGLE_APPLICATION_CREDENTIALS` names (read through the current ConfigProvider).
 */
export const loadServiceAccount = (source: string | undefined): Effect.Effect<ServiceAccountKey, Authentication> =>
  source !== undefined
    ? Effect.fromResult(keyFromSource(source))
    : Effect.flatMap(
      Effect.orElseSucceed(Config.option(Config.String("GOOGLE_APPLICATION_CREDENTIALS")), () => Option.none<string>()),
      (path) =>
        Option.isSome(path)
          ? Effect.fromResult(keyFromSource(path.value))
          : Effect.fail(authFailure("no Google credentials: set vertex_credentials or GOOGLE_APPLICATION_CREDENTIALS"))
    )

/** The access tokens of service accounts, cached per credential. */
export interface GoogleTokens {
  /** A valid access token for `key`: the cached one, or a fresh one when it is missing or due. */
  readonly token: (key: ServiceAccountKey) => Effect.Effect<string, Authentication>
  /** Forgets `key`'s token (the upstream rejected it), so the next call fetches another. */
  readonly invalidate: (key: ServiceAccountKey) => Effect.Effect<void>
}

interface Cached {
  readonly token: string
  readonly refreshAtMillis: number
}

const cacheKey = (key: ServiceAccountKey) => `${key.client_email}\n${key.token_uri ?? defaultTokenUri}\n${key.private_key_id ?? ""}`

/** Builds the token cache over a shared HttpClient; one token request per credential at a time. */
export const makeGoogleTokens = (client: HttpClient.HttpClient, scope = cloudPlatformScope): GoogleTokens => {
  const tokens = new Map<string, Cached>()
  const locks = new Map<string, Semaphore.Semaphore>()
  const signingKeys = new Map<string, ReturnType<typeof importPKCS8>>()

  const signingKey = (key: ServiceAccountKey) => {
    let imported = signingKeys.get(key.private_key)
    if (imported === undefined) signingKeys.set(key.private_key, imported = importPKCS8(key.private_key, "RS256"))
    return imported
  }

  /** The signed assertion: issued now, for an hour, to the key's own token endpoint. */
  const assertion = (key: ServiceAccountKey, nowSeconds: number) =>
    Effect.tryPromise({
      try: async () =>
        new SignJWT({ scope })
          .setProtectedHeader({ alg: "RS256", typ: "JWT", ...(key.private_key_id ? { kid: key.private_key_id } : {}) })
          .setIssuer(key.client_email)
          .setSubject(key.client_email)
          .setAudience(key.token_uri ?? defaultTokenUri)
          .setIssuedAt(nowSeconds)
          .setExpirationTime(nowSeconds + 3600)
          .sign(await signingKey(key)),
      catch: (error) => authFailure(`the private key of ${key.client_email} cannot sign: ${(error as Error).message}`)
    })

  const exchange = (key: ServiceAccountKey) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const jwt = yield* assertion(key, Math.floor(now / 1000))
      const tokenUri = key.token_uri ?? defaultTokenUri
      const request = HttpClientRequest.post(tokenUri).pipe(
        HttpClientRequest.bodyUrlParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: jwt })
      )
      const response = yield* Effect.mapError(
        client.execute(request),
        (error) => authFailure(`the token endpoint ${tokenUri} cannot be reached: ${error.message}`, [jwt])
      )
      const text = yield* Effect.mapError(response.text, (error) => authFailure(`reading the token reply failed: ${error.message}`))
      const body = parseJsonOrText(text)
      if (response.status < 200 || response.status >= 300) {
        // Google answers `{error, error_description}`; anything else is quoted briefly.
        const fields = typeof body === "object" && body !== null ? body as Record<string, unknown> : undefined
        const said = fields !== undefined
          ? [fields.error, fields.error_description].filter((s) => typeof s === "string").join(": ")
          : String(body).slice(0, 200)
        return yield* Effect.fail(authFailure(`the token endpoint refused ${key.client_email}: ${said || response.status}`, [jwt], response.status))
      }
      const reply = Schema.decodeUnknownResult(TokenReply)(body)
      if (Result.isFailure(reply)) return yield* Effect.fail(authFailure("the token endpoint answered without an access_token"))
      const lifetime = (reply.success.expires_in ?? 3600) * 1000
      const cached = {
        token: reply.success.access_token,
        // A short-lived token is replaced half way through its life rather than never.
        refreshAtMillis: now + Math.max(lifetime - refreshMarginMillis, lifetime / 2)
      }
      tokens.set(cacheKey(key), cached)
      return cached.token
    })

  const lockOf = (id: string) => {
    let lock = locks.get(id)
    if (lock === undefined) locks.set(id, lock = Semaphore.makeUnsafe(1))
    return lock
  }

  /** The cached token of `key` if it is not yet due for refresh. */
  const cachedToken = (key: ServiceAccountKey) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      const cached = tokens.get(cacheKey(key))
      return cached !== undefined && now < cached.refreshAtMillis ? cached.token : undefined
    })
  const cachedOr = (key: ServiceAccountKey, orElse: Effect.Effect<string, Authentication>) =>
    Effect.flatMap(cachedToken(key), (hit) => (hit === undefined ? orElse : Effect.succeed(hit)))

  return {
    // Concurrent callers queue behind the one exchange in flight and then read its token.
    token: (key) => cachedOr(key, lockOf(cacheKey(key)).withPermits(1)(cachedOr(key, exchange(key)))),
    invalidate: (key) => Effect.sync(() => void tokens.delete(cacheKey(key)))
  }
}
