/**
 * The last line of defence for keys: every text the gateway writes to a client or a log that came from
 * elsewhere (an upstream's error message) passes through `redact`, which blanks every key the config
 * holds. Providers already scrub their own messages; this catches what a vendor echoes in a new way.
 */
import type { Deployment } from "@switchyard/core"
import { Redacted } from "effect"

/** Keys this short are placeholders (`none`, `sk-1`) and too likely to match ordinary words. */
const MIN_SECRET_LENGTH = 8

/** Replaces every occurrence of a known key in a text. */
export type Redactor = (text: string) => string

/** Builds a redactor over the upstream keys of the deployments and the gateway's own keys. */
export const makeRedactor = (deployments: ReadonlyArray<Deployment>, gatewayKeys: ReadonlyArray<string>): Redactor => {
  const secrets = [
    ...deployments.flatMap((d) => (d.apiKey === undefined ? [] : [Redacted.value(d.apiKey)])),
    ...deployments.flatMap((d) => [d.aws?.secretAccessKey, d.aws?.sessionToken].flatMap((s) => (s === undefined ? [] : [Redacted.value(s)]))),
    ...gatewayKeys
  ].filter((s) => s.length >= MIN_SECRET_LENGTH)
  // Longest first, so a key that contains another is blanked whole.
  const ordered = [...new Set(secrets)].sort((a, b) => b.length - a.length)
  return (text) => ordered.reduce((out, secret) => out.split(secret).join("[redacted]"), text)
}
