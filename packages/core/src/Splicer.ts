/**
 * The splicer owns what the client of a continued stream has been sent: the text, the tool-call chunks
 * held until a reply finishes, the overlap trim of a continuation's start, the usage of every part, and
 * the identity fields (ids, sequence numbers) the client saw first. It is pure and synchronous: the
 * driver feeds it the chunks of one upstream after another and sends on what it returns.
 */
import type { TextStreamSpec } from "./Operation.ts"
import type { StreamIdentity } from "./TextStreams.ts"
import { addUsage, type Usage } from "./Usage.ts"

/** Overlaps shorter than this are taken for legitimate repetition, unless the whole partial repeats. */
const MIN_OVERLAP = 12

/**
 * How many leading characters of a continuation repeat the tail of `sent`; `undefined` while more of the
 * continuation is needed to tell.
 */
export const overlapLength = (sent: string, continuation: string, ended: boolean): number | undefined => {
  let best = 0
  for (let k = sent.length; k >= 1; k--) {
    if (k < MIN_OVERLAP && k !== sent.length) break
    const tail = sent.slice(sent.length - k)
    if (continuation.length < k) {
      if (!ended && tail.startsWith(continuation)) return undefined
    } else if (best === 0 && continuation.startsWith(tail)) {
      best = k
    }
  }
  return best
}

/** What one upstream's part of the reply added, once it ended or broke. */
export interface StreamPart {
  /** The text the part added (after the overlap trim). */
  readonly text: string
  /** The usage the upstream reported, if it did. */
  readonly usage: Usage | undefined
}

/** Fits the chunks of successive upstreams into one reply. One per stream; not shared between fibers. */
export class Splicer<Chunk> {
  /** Every character the client has been sent; a continuation asks for what comes after it. */
  sent = ""
  /** Breaks survived so far: how many upstreams were continued. */
  breaks = 0
  private readonly parts: Array<Usage> = []
  private readonly held: Array<Chunk> = []
  private partText = ""
  private partUsage: Usage | undefined = undefined
  /** While a continuation's start may still repeat the tail of `sent`, its chunks wait here. */
  private trimming: Array<Chunk> | undefined = undefined
  private readonly identity: StreamIdentity = { sequence: -1 }
  /** Whether any chunk has gone to the client. */
  private started = false
  /** Whether the current upstream continues a reply the client has begun (else it starts it afresh). */
  private resuming = false

  /** `usageAsked`: whether the client asked for usage; if not, the usage the upstreams report stays here. */
  constructor(private readonly spec: TextStreamSpec<unknown, Chunk>, private readonly usageAsked = true) {}

  /** The chunks of the current upstream, as they arrive; returns the chunks the client gets now. */
  push(chunks: ReadonlyArray<Chunk>): Array<Chunk> {
    const out: Array<Chunk> = []
    const resuming = this.resuming
    for (const raw of chunks) {
      const chunk = resuming ? this.spec.resumed(raw, this.sent) : raw
      if (chunk === undefined) continue
      if (this.trimming === undefined) this.emit(chunk, out)
      else {
        this.trimming.push(chunk)
        this.decideTrim(false, out)
      }
    }
    return out
  }

  /** The current upstream ended cleanly: whatever was held goes out. */
  end(): Array<Chunk> {
    const out: Array<Chunk> = []
    this.decideTrim(true, out)
    for (const chunk of this.held.splice(0)) out.push(chunk)
    return out
  }

  /** What the current upstream's part added so far: its text and the usage it reported. */
  part(): StreamPart {
    return { text: this.partText, usage: this.partUsage }
  }

  /**
   * The current upstream broke: the tool calls it held are dropped (the next one sends them whole), its
   * part counts with `usage` (reported or estimated), and the next chunks are a continuation's.
   */
  broke(usage: Usage): void {
    this.held.length = 0
    this.trimming = this.sent === "" ? undefined : []
    this.parts.push(usage)
    this.partUsage = undefined
    this.partText = ""
    this.breaks++
    this.resuming = this.started
  }

  /** The usage of all parts added up; `undefined` while no part has reported or been estimated. */
  usage(): Usage | undefined {
    let sum: Usage | undefined
    for (const u of this.parts) sum = sum === undefined ? u : addUsage(sum, u)
    const u = this.partUsage
    return u === undefined ? sum : sum === undefined ? u : addUsage(sum, u)
  }

  /**
   * The usage the client sees: its own prompt (the first part's) and every completion token it got. What
   * the continuation prompts cost is in `usage()`, which goes to the gateway's accounting instead.
   */
  clientUsage(): Usage | undefined {
    const total = this.usage()
    const first = this.parts[0] ?? this.partUsage
    if (total === undefined || first === undefined) return total
    const promptTokens = first.promptTokens
    return { ...total, promptTokens, totalTokens: promptTokens + total.completionTokens }
  }

  /** Sends one chunk on: holds tool-call chunks, tracks text and usage, keeps the client's identity. */
  private emit(raw: Chunk, out: Array<Chunk>): void {
    const spec = this.spec
    let chunk = raw
    if (this.resuming) chunk = spec.reidentify(raw, this.identity)
    else spec.noteIdentity(this.identity, raw)
    if (spec.holds(chunk)) return void this.held.push(chunk)
    if (this.held.length > 0) for (const h of this.held.splice(0)) out.push(h)
    this.started = true
    const usage = spec.usage(chunk)
    if (usage !== undefined) this.partUsage = usage
    const piece = spec.text(chunk)
    this.sent += piece
    this.partText += piece
    if (usage === undefined) return void out.push(chunk)
    // The upstream is always asked for usage (for the accounting); the client gets it only if it asked.
    const shown = !this.usageAsked
      ? (spec.withoutUsage === undefined ? chunk : spec.withoutUsage(chunk))
      : this.breaks > 0
      ? spec.withUsage(chunk, this.clientUsage()!)
      : chunk
    if (shown !== undefined) out.push(shown)
  }

  /** Releases the chunks held for the overlap decision once it can be made, minus the repeated text. */
  private decideTrim(ended: boolean, out: Array<Chunk>): void {
    const buffer = this.trimming
    if (buffer === undefined) return
    let joined = ""
    for (const c of buffer) joined += this.spec.text(c)
    const overlap = overlapLength(this.sent, joined, ended)
    if (overlap === undefined) return
    this.trimming = undefined
    let left = overlap
    for (const chunk of buffer) {
      const piece = this.spec.text(chunk)
      if (left === 0 || piece === "") this.emit(chunk, out)
      else if (piece.length <= left) left -= piece.length
      else {
        this.emit(this.spec.setText(chunk, piece.slice(left)), out)
        left = 0
      }
    }
  }
}
