/**
 * How the mock checks a Bedrock request's credentials as AWS does: a Bedrock API key as Bearer, or a
 * SigV4 signature recomputed with `@smithy/signature-v4` over the request as received (method, path,
 * the signed headers, the body) with the test credentials. A wrong secret gives a different signature.
 */
import { createHash } from "node:crypto"
import { Sha256 } from "@aws-crypto/sha256-js"
import { SignatureV4 } from "@smithy/signature-v4"

/** The AWS credentials the mock knows (and a client under test signs with). */
export const MOCK_AWS_CREDENTIALS = {
  accessKeyId: "AKIAMOCKSWITCHYARD01",
  secretAccessKey: "mockSecretKey/Switchyard/0123456789abcdefghij",
  region: "us-east-1"
} as const

/** The Bedrock API key the mock accepts as `Authorization: Bearer …`. */
export const MOCK_BEDROCK_API_KEY = "ABSKbW9jay1iZWRyb2NrLWFwaS1rZXktMDEyMzQ1Njc4OQ=="

/** A rejected request: the AWS error type and message. */
export interface AuthRejection {
  readonly status: number
  readonly type: string
  readonly message: string
}

/** The request as the mock received it. */
export interface SignedRequest {
  readonly method: string
  /** The path exactly as sent (still percent-encoded). */
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
}

const invalidToken: AuthRejection = {
  status: 403,
  type: "UnrecognizedClientException",
  message: "The security token included in the request is invalid."
}
const mismatch: AuthRejection = {
  status: 403,
  type: "InvalidSignatureException",
  message:
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
}

/** `20261130T010203Z` as a Date. */
const amzDate = (value: string): Date | undefined => {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined
}

/** Recomputes the signature of a request with the mock's secret; undefined when it matches. */
const verifySigV4 = async (request: SignedRequest, authorization: string): Promise<AuthRejection | undefined> => {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/
    .exec(authorization)
  if (m === null) return { status: 400, type: "IncompleteSignatureException", message: "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'." }
  const [, keyId, , region, service, signedList, signature] = m
  if (keyId !== MOCK_AWS_CREDENTIALS.accessKeyId) return invalidToken
  if (service !== "bedrock") return { ...mismatch, message: "Credential should be scoped to correct service: 'bedrock'." }
  const date = amzDate(request.headers["x-amz-date"] ?? "")
  if (date === undefined) return { status: 400, type: "IncompleteSignatureException", message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header." }
  const signedNames = signedList!.split(";")
  if (!signedNames.includes("host")) return mismatch
  const claimed = request.headers["x-amz-content-sha256"]
  if (claimed !== undefined && claimed !== createHash("sha256").update(request.body).digest("hex")) return mismatch
  const headers = Object.fromEntries(signedNames.map((name) => [name, request.headers[name] ?? ""]))
  const signer = new SignatureV4({
    service: "bedrock",
    region: region!,
    sha256: Sha256,
    credentials: { accessKeyId: keyId!, secretAccessKey: MOCK_AWS_CREDENTIALS.secretAccessKey }
  })
  const [host, port] = (request.headers.host ?? "").split(":")
  const expected = await signer.sign({
    method: request.method,
    protocol: "http:",
    hostname: host!,
    ...(port === undefined ? {} : { port: Number(port) }),
    path: request.path,
    query: {},
    headers,
    body: request.body
  }, { signingDate: date })
  const ours = /Signature=([0-9a-f]{64})/.exec(expected.headers.authorization ?? "")?.[1]
  return ours === signature ? undefined : mismatch
}

/** Checks a Bedrock request's credentials; undefined when they are good. */
export const bedrockAuthRejection = async (request: SignedRequest): Promise<AuthRejection | undefined> => {
  const authorization = request.headers.authorization
  if (authorization === undefined) return { status: 403, type: "MissingAuthenticationTokenException", message: "Missing Authentication Token" }
  if (/^Bearer\s/i.test(authorization)) {
    return authorization.slice("Bearer ".length).trim() === MOCK_BEDROCK_API_KEY ? undefined : invalidToken
  }
  return verifySigV4(request, authorization)
}
