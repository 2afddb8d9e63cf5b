/**
 * The local view on its own, without Redis: the interleavings of local writes with pushes in flight,
 * confirmed and failed, that the contract can only hit by chance.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Batch, LocalView, type RemoteEntry } from "../src/LocalView.ts"
import { decodeSnapshot, syncArguments } from "../src/SyncScript.ts"

const T = 600_000 // minute 10, second 0
const remote = (over: Partial<RemoteEntry> = {}): RemoteEntry => ({
  cooldownUntil: 0,
  strictUntil: 0,
  failures: [],
  usage: new Map(),
  othersInFlight: 0,
  latencyMillis: undefined,
  ...over
})
/** What Redis would hold after applying `batch` onto an empty store (for one deployment). */
const applied = (batch: Batch, id: string): RemoteEntry => {
  const p = batch.get(id)
  return remote({
    cooldownUntil: p?.cooldownUntil ?? 0,
    failures: p?.failures.map((f) => f.at) ?? [],
    usage: new Map([...(p?.usage ?? new Map())].map(([m, u]) => [m, { ...u }]))
  })
}
const writesOf = (args: ReadonlyArray<string>) => JSON.parse(args[6]!) as Array<Array<unknown>>

describe("LocalView", () => {
  it("a write made while a push is on its way is still counted once the push is confirmed", () => {
    const view = new LocalView("r1", 15_000)
    view.acquire("d", T)
    const batch = view.take(T)
    view.acquire("d", T + 1) // after the batch left
    assert.strictEqual(view.stats("d", T + 1).rpm, 2, "both overlaid while unconfirmed")
    view.confirm(new Map([["d", applied(batch, "d")]]), T + 2)
    assert.strictEqual(view.stats("d", T + 2).rpm, 2, "one from the snapshot, one still pending")
    assert.strictEqual(view.stats("d", T + 2).inFlight, 2, "own leases are counted locally, exactly")
  })

  it("a failed push goes back in front of newer writes, and a lease taken and released meanwhile is never sent", () => {
    const view = new LocalView("r1", 15_000)
    const first = view.acquire("d", T)
    view.take(T)
    const second = view.acquire("d", T)
    view.release("d", second, { latencyMillis: 10, tokens: 5 }, T)
    view.release("d", first, { latencyMillis: 20, tokens: 5 }, T)
    view.restore()
    const [write] = writesOf(syncArguments({
      now: T,
      prefix: "p:",
      replicaId: "r1",
      leaseTtlMillis: 15_000,
      retentionMillis: 60_000,
      batch: view.take(T),
      refresh: new Map(),
      repair: [],
      reads: []
    }))
    assert.deepStrictEqual(write![4], [[10, 2, 10]], "two requests and ten tokens in minute 10")
    assert.deepStrictEqual(write![5], [10, 20], "latencies in call order")
    assert.deepStrictEqual(write![6], [], "nothing left to hold")
    assert.deepStrictEqual(write![7], [], "nothing Redis ever saw to drop")
  })

  it("a cooldown resets the window even for failures already on their way to Redis", () => {
    const view = new LocalView("r1", 15_000)
    view.recordFailure("d", 60_000, T)
    view.recordFailure("d", 60_000, T)
    const batch = view.take(T)
    view.coolDown("d", T + 5_000)
    // Redis answers with the failures of the batch: the pending reset makes them history.
    view.confirm(new Map([["d", applied(batch, "d")]]), T)
    assert.strictEqual(view.recordFailure("d", 60_000, T + 5_000), 1)
  })

  it("failures from the snapshot and local ones count together, inside the window only", () => {
    const view = new LocalView("r1", 15_000)
    view.learn("d")
    view.take(T)
    view.confirm(new Map([["d", remote({ failures: [T - 50_000, T - 10_000] })]]), T)
    assert.strictEqual(view.recordFailure("d", 30_000, T), 2, "the one 50 s ago is out of a 30 s window")
  })

  it("other replicas' leases are trusted only while the snapshot is younger than the lease TTL", () => {
    const view = new LocalView("r1", 1_000)
    view.learn("d")
    view.take(T)
    view.confirm(new Map([["d", remote({ othersInFlight: 3 })]]), T)
    assert.strictEqual(view.stats("d", T + 999).inFlight, 3)
    assert.strictEqual(view.stats("d", T + 1_000).inFlight, 0, "they may be long gone: Redis is not answering")
  })

  it("after an outage the running cooldowns and every held lease are pushed again", () => {
    const view = new LocalView("r1", 15_000)
    const lease = view.acquire("c", T)
    view.learn("a")
    view.take(T)
    // Another replica cooled "a" down; "b"'s cooldown is already over.
    view.confirm(new Map([["a", remote({ cooldownUntil: T + 10_000 })], ["b", remote({ cooldownUntil: T - 1 })]]), T)
    view.coolDown("e", T + 20_000, { strict: true })
    view.take(T)
    view.restore() // the push failed: Redis is down, and comes back empty
    const writes = writesOf(syncArguments({
      now: T,
      prefix: "p:",
      replicaId: "r1",
      leaseTtlMillis: 15_000,
      retentionMillis: 60_000,
      batch: view.take(T),
      refresh: view.heldLeases(),
      repair: view.activeCooldowns(T),
      reads: view.reads()
    }))
    const byId = Object.fromEntries(writes.map((w) => [w[0], { cooldown: w[1], hold: w[6], strict: w[8] }]))
    assert.deepStrictEqual(byId, {
      a: { cooldown: T + 10_000, hold: [], strict: 0 },
      c: { cooldown: 0, hold: [lease], strict: 0 },
      e: { cooldown: T + 20_000, hold: [], strict: T + 20_000 }
    })
  })

  it("rejects a reply that does not have the script's shape", () => {
    assert.throws(() => decodeSnapshot([["d", "1"]], T))
    assert.throws(() => decodeSnapshot("OK", T))
    const ok = decodeSnapshot([["d", "5", "2", "3", "30", "1", "10", "12.5", "0", "599000"]], T)
    assert.deepStrictEqual(ok.get("d")?.failures, [599_000])
    assert.strictEqual(ok.get("d")?.latencyMillis, 12.5)
    assert.deepStrictEqual(ok.get("d")?.usage.get(10), { requests: 3, tokens: 30 })
  })
})
