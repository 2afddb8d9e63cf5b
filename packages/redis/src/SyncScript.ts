/**
 * The one Lua script a replica runs against Redis per sync: apply this replica's batch of writes, then read
 * back every deployment it knows, in one atomic step and one round trip. The snapshot therefore always
 * includes the batch, which is what lets the local view drop its overlay when the answer arrives.
 *
 * Keys, per deployment `id` under the prefix `P` (the `{id}` hash tag keeps one deployment in one slot):
 *   P{id}:cd        cooldown end (epoch ms), expires with the cooldown
 *   P{id}:st        end of a strict cooldown (one a panicking group honours), expires with it
 *   P{id}:fail      sorted set of failures scored by time, expires after the failure window
 *   P{id}:use:<m>   hash {r: requests, t: tokens} of minute m, expires when it leaves the rolling minute
 *   P{id}:lease     sorted set of in-flight leases scored by expiry, expires after the lease TTL
 *   P{id}:lat       latency average, expires after the retention time
 *   Pdeployments    sorted set of the deployments written to, by last write: every sync also reads these,
 *                   so a replica knows another's cooldown before its own first request to that deployment
 * Keys are built inside the script from the prefix, so it targets a single Redis (or a Sentinel primary),
 * not Redis Cluster. Every time is the replica's Clock time, passed in: Redis never decides time itself.
 */
import { createHash } from "node:crypto"
import { Schema } from "effect"
import { type Batch, LATENCY_ALPHA, type RemoteEntry, type Usage } from "./LocalView.ts"

const MINUTE = 60_000

/** The Lua source of the sync script. */
export const syncScript = `
local now = tonumber(ARGV[1])
local prefix = ARGV[2]
local mine = ARGV[3]
local leaseTtl = tonumber(ARGV[4])
local retention = tonumber(ARGV[5])
local alpha = tonumber(ARGV[6])
local writes = cjson.decode(ARGV[7])
local reads = cjson.decode(ARGV[8])
local MINUTE = 60000
local function key(id, part) return prefix .. '{' .. id .. '}:' .. part end
local function int(n) return string.format('%d', n) end
local registry = prefix .. 'deployments'
-- Moves a cooldown end stored at k later (never earlier); it expires when it ends.
local function extend(k, untilMs)
  if untilMs <= now then return end
  local current = tonumber(redis.call('GET', k)) or 0
  if untilMs > current then redis.call('SET', k, int(untilMs), 'PX', int(untilMs - now)) end
end

for _, w in ipairs(writes) do
  local id = w[1]
  redis.call('ZADD', registry, now, id)
  extend(key(id, 'cd'), w[2])
  extend(key(id, 'st'), w[9])
  local fk = key(id, 'fail')
  if w[3] == 1 then redis.call('DEL', fk) end
  if #w[4] > 0 then
    local window = 0
    for _, f in ipairs(w[4]) do
      redis.call('ZADD', fk, f[1], f[3])
      if f[2] > window then window = f[2] end
    end
    redis.call('ZREMRANGEBYSCORE', fk, '-inf', int(now - window))
    if redis.call('PTTL', fk) < window then redis.call('PEXPIRE', fk, int(window)) end
  end
  for _, u in ipairs(w[5]) do
    local k = key(id, 'use:' .. int(u[1]))
    if u[2] > 0 then redis.call('HINCRBY', k, 'r', int(u[2])) end
    if u[3] > 0 then redis.call('HINCRBY', k, 't', int(u[3])) end
    redis.call('PEXPIRE', k, int((u[1] + 2) * MINUTE - now))
  end
  if #w[6] > 0 then
    local k = key(id, 'lat')
    local avg = tonumber(redis.call('GET', k))
    for _, s in ipairs(w[6]) do
      if avg == nil then avg = s else avg = avg + alpha * (s - avg) end
    end
    redis.call('SET', k, string.format('%.17g', avg), 'PX', int(retention))
  end
  local lk = key(id, 'lease')
  for _, m in ipairs(w[8]) do redis.call('ZREM', lk, m) end
  if #w[7] > 0 then
    for _, m in ipairs(w[7]) do redis.call('ZADD', lk, now + leaseTtl, m) end
    if redis.call('PTTL', lk) < leaseTtl then redis.call('PEXPIRE', lk, int(leaseTtl)) end
  end
end
if #writes > 0 then
  redis.call('ZREMRANGEBYSCORE', registry, '-inf', int(now - retention))
  redis.call('PEXPIRE', registry, int(retention))
end

-- The deployments this replica asked for, then every other one some replica wrote to lately.
local windows, ids = {}, {}
for _, r in ipairs(reads) do
  if windows[r[1]] == nil then windows[r[1]] = r[2]; ids[#ids + 1] = r[1] end
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', registry, int(now - retention), '+inf')) do
  if windows[id] == nil then windows[id] = MINUTE; ids[#ids + 1] = id end
end

local out = {}
local minute = math.floor(now / MINUTE)
for i, id in ipairs(ids) do
  local window = windows[id]
  local lk = key(id, 'lease')
  redis.call('ZREMRANGEBYSCORE', lk, '-inf', int(now))
  local others = 0
  for _, m in ipairs(redis.call('ZRANGE', lk, 0, -1)) do
    if string.sub(m, 1, #mine) ~= mine then others = others + 1 end
  end
  local cur = redis.call('HMGET', key(id, 'use:' .. int(minute)), 'r', 't')
  local prev = redis.call('HMGET', key(id, 'use:' .. int(minute - 1)), 'r', 't')
  local fails = redis.call('ZRANGEBYSCORE', key(id, 'fail'), '(' .. int(now - window), '+inf', 'WITHSCORES', 'LIMIT', 0, 1000)
  local entry = {
    id, redis.call('GET', key(id, 'cd')) or '0', tostring(others),
    cur[1] or '0', cur[2] or '0', prev[1] or '0', prev[2] or '0',
    redis.call('GET', key(id, 'lat')) or '',
    redis.call('GET', key(id, 'st')) or '0'
  }
  for j = 2, #fails, 2 do entry[#entry + 1] = fails[j] end
  out[i] = entry
end
return out
`

/** The SHA1 Redis caches the script under (EVALSHA). */
export const syncScriptSha = createHash("sha1").update(syncScript).digest("hex")

/** What a sync sends besides the batch. */
export interface SyncInput {
  readonly now: number
  readonly prefix: string
  readonly replicaId: string
  readonly leaseTtlMillis: number
  /** How long the latency average and the registry entry outlive the last write. */
  readonly retentionMillis: number
  readonly batch: Batch
  /** Leases to refresh although unchanged (all held ones, periodically and after an outage). */
  readonly refresh: ReadonlyMap<string, ReadonlySet<string>>
  /** Cooldowns to push again although unchanged (after an outage, in case Redis lost them). */
  readonly repair: ReadonlyArray<readonly [id: string, cooldownUntil: number, strictUntil: number]>
  readonly reads: ReadonlyArray<readonly [string, number]>
}

type Write = [
  id: string,
  cooldownUntil: number,
  reset: 0 | 1,
  failures: Array<[number, number, string]>,
  usage: Array<[number, number, number]>,
  latencies: Array<number>,
  hold: Array<string>,
  drop: Array<string>,
  strictUntil: number
]

/** The script's ARGV for one sync. */
export const syncArguments = (input: SyncInput): Array<string> => {
  const writes = new Map<string, Write>()
  const writeOf = (id: string): Write => {
    let w = writes.get(id)
    if (w === undefined) {
      w = [id, 0, 0, [], [], [], [], [], 0]
      writes.set(id, w)
    }
    return w
  }
  for (const [id, p] of input.batch) {
    const w = writeOf(id)
    // Redis stores whole milliseconds; rounding up never ends a cooldown early.
    w[1] = Math.ceil(p.cooldownUntil)
    w[2] = p.resetFailures ? 1 : 0
    w[3] = p.failures.map((f) => [f.at, f.windowMillis, f.member])
    w[4] = [...p.usage].map(([m, u]) => [m, u.requests, Math.round(u.tokens)])
    w[5] = p.latencies
    w[6] = [...p.held]
    w[7] = [...p.dropped]
    w[8] = Math.ceil(p.strictUntil)
  }
  for (const [id, leases] of input.refresh) {
    if (leases.size === 0) continue
    const w = writeOf(id)
    w[6] = [...new Set([...w[6], ...leases])]
  }
  for (const [id, until, strictUntil] of input.repair) {
    const w = writeOf(id)
    w[1] = Math.max(w[1], Math.ceil(until))
    w[8] = Math.max(w[8], Math.ceil(strictUntil))
  }
  return [
    String(input.now),
    input.prefix,
    `${input.replicaId}:`,
    String(input.leaseTtlMillis),
    String(input.retentionMillis),
    String(LATENCY_ALPHA),
    JSON.stringify([...writes.values()]),
    JSON.stringify(input.reads)
  ]
}

const Reply = Schema.Array(Schema.Array(Schema.String).check(Schema.isMinLength(9)))
const decodeReply = Schema.decodeUnknownSync(Reply)

/** The snapshot in the script's reply, by deployment; throws if the reply does not have the script's shape. */
export const decodeSnapshot = (reply: unknown, now: number): Map<string, RemoteEntry> => {
  const minute = Math.floor(now / MINUTE)
  const snapshot = new Map<string, RemoteEntry>()
  for (const row of decodeReply(reply)) {
    const n = (i: number) => Number(row[i] ?? 0)
    const usage = new Map<number, Usage>([
      [minute, { requests: n(3), tokens: n(4) }],
      [minute - 1, { requests: n(5), tokens: n(6) }]
    ])
    snapshot.set(row[0]!, {
      cooldownUntil: n(1),
      othersInFlight: n(2),
      usage,
      latencyMillis: row[7] === "" ? undefined : n(7),
      strictUntil: n(8),
      failures: row.slice(9).map(Number)
    })
  }
  return snapshot
}
