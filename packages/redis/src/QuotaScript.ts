/**
 * Exact per-minute quotas on Redis: one script call counts an amount against a limit in the key of the
 * current minute, or refuses it without counting, so every replica shares one count.
 */
import { createHash } from "node:crypto"

/**
 * ARGV: the minute's key, the amount, the limit, the key's lifetime in ms. Returns 1 when the amount
 * fit (and was counted), 0 when it was refused.
 */
export const quotaScript = `
local key = ARGV[1]
local amount = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local used = tonumber(redis.call('GET', key) or '0')
if used + amount > limit then return 0 end
redis.call('INCRBY', key, amount)
redis.call('PEXPIRE', key, ARGV[4])
return 1
`

/** The script's SHA, for EVALSHA. */
export const quotaScriptSha = createHash("sha1").update(quotaScript).digest("hex")

const MINUTE = 60_000

/** The script's arguments for `key` at `now`: the minute's key outlives the minute a little, for clock skew. */
export const quotaArgs = (prefix: string, key: string, amount: number, limit: number, now: number): ReadonlyArray<string> => [
  `${prefix}quota:${key}:${Math.floor(now / MINUTE)}`,
  String(amount),
  String(limit),
  String(2 * MINUTE)
]

/** Milliseconds until the minute of `now` ends. */
export const quotaResetIn = (now: number): number => (Math.floor(now / MINUTE) + 1) * MINUTE - now
