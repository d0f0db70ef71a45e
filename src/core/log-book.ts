/**
 * Per-author logs, kept by the ingest engine: which event holds each (author, log, seq)
 * position, how far each log is held without a hole (`contiguous`), the Merkle peaks over that
 * prefix, and the newest signed head. The node's own log gets the next position for each local
 * write and a signed head at most every OWN_HEAD_EVERY positions (one signature for many events): a
 * peer that fetches a range of the log verifies it with that one signature and hashing, and the
 * few events past the newest head by their own (docs/PROTOCOL.md "Per-author logs").
 *
 * Sans-IO like the Ingestor it serves: reads committed data through the StoreReader, keeps what
 * uncommitted groups changed in layers (one per group), and is told when a group was written
 * (`committed`) or dropped (`discard`).
 */
import { fromHex, toHex } from '../util/bytes.ts'
import type { Signer } from '../util/crypto.ts'
import { LruMap } from '../util/lru.ts'
import { headSignable, leafHashOfHex, type Peak, peaksAppend, rootHash } from './merkle-log.ts'
import type { LogHead, LogRecord, StoreReader } from './ports.ts'
import type { AuthorKey, Digest } from './types.ts'

/** The node keeps its own signed head every this many positions (the first head at or past each
 *  multiple), besides the newest: a peer fetching a long range verifies it page by page, one
 *  signature per page, holding at most a page of unverified events (4,096 × ~300 B ≈ 1.2 MB). */
export const LOG_CHECKPOINT_EVENTS = 4_096

/** The node signs its own log's head at a group commit once the log has grown this many
 *  positions past its newest head (and always at the first group and at a checkpoint), not at
 *  every group: a run of one-write groups (sequential single pushes) paid an Ed25519 signature
 *  each, ~65 µs and ~7 % of a one-event push's event loop. The cost: a peer that fetches the
 *  newest positions of this log verifies at most OWN_HEAD_EVERY - 1 events past the head by
 *  their own signatures (LogIntake does), a few milliseconds; the accepted set is the same. */
export const OWN_HEAD_EVERY = 64

/** Hole runs a log record tracks exactly (gossip that arrived out of order or was lost); beyond
 *  it the record says only that there are holes, and reconciliation's range phase finds them. */
export const LOG_HOLES_MAX = 256

/** Holes after `seqs` were claimed (each below the old end fills part of a hole; each past it
 *  opens one from the old end), cut below the new contiguous length; `unknown` past
 *  LOG_HOLES_MAX runs, or when they were unknown before. */
export function nextHoles(
  before: LogRecord,
  seqs: readonly number[],
  contiguous: number,
): { holes: Array<[number, number]>; unknown: boolean } {
  if (before.holesUnknown === true) return { holes: [], unknown: true }
  let holes: Array<[number, number]> = (before.holes ?? []).map(([a, b]) => [a, b])
  let end = before.end
  for (const s of [...seqs].sort((x, y) => x - y)) {
    if (s >= end) {
      if (s > end) holes.push([end, s])
      end = s + 1
      continue
    }
    const i = holes.findIndex(([a, b]) => a <= s && s < b)
    if (i < 0) continue
    const [a, b] = holes[i]
    const parts: Array<[number, number]> = []
    if (a < s) parts.push([a, s])
    if (s + 1 < b) parts.push([s + 1, b])
    holes.splice(i, 1, ...parts)
  }
  holes = holes.filter(([, b]) => b > contiguous).map(([a, b]) => [Math.max(a, contiguous), b])
  if (holes.length > LOG_HOLES_MAX) return { holes: [], unknown: true }
  return { holes, unknown: false }
}

/** Log records kept in memory: one per (author, log) a node hears from; small (peaks ≤ 48). */
export const LOG_CACHE_MAX = 10_000
/** Positions read per store run while a log's contiguous prefix advances over filled holes. */
const RUN_READ_MAX = 1_000

export interface LogPosition {
  readonly author: AuthorKey
  readonly log: string
  readonly seq: number
}

const logKeyOf = (author: string, log: string): string => `${author}/${log}`
const posKeyOf = (author: string, log: string, seq: number): string => `${author}/${log}/${seq}`

interface Layer {
  readonly positions: Map<string, Digest>
  readonly records: Map<string, LogRecord>
  readonly ownNext: number
}

export function emptyLogRecord(author: AuthorKey, log: string): LogRecord {
  return { author, log, contiguous: 0, peaks: [], end: 0, heldBeyond: 0 }
}

/** The decoded peaks of records this book made (finish): the next group of the same log appends
 *  to them without decoding ~log2(n) hex hashes again. Peaks are never changed in place. */
const decodedPeaks = new WeakMap<LogRecord, readonly Peak[]>()

export function peaksFromRecord(r: LogRecord): Peak[] {
  const known = decodedPeaks.get(r)
  if (known !== undefined) return [...known]
  return r.peaks.map((p) => ({ height: p.height, hash: fromHex(p.hash) as Uint8Array }))
}

/** The root of a record's contiguous prefix, hex. */
export function recordRoot(r: LogRecord): string {
  return toHex(rootHash(r.contiguous, peaksFromRecord(r)))
}

/** The group being ingested: positions it claims, in arrival order. */
export class LogGroup {
  readonly positions = new Map<string, Digest>()
  readonly prefetched = new Map<string, Digest | undefined>()
  readonly touched = new Map<string, { author: AuthorKey; log: string; seqs: number[] }>()
  readonly forks = new Map<string, number>()
}

/** Whether a record's known hole runs cover position `seq`. */
function inHole(r: LogRecord, seq: number): boolean {
  return r.holesUnknown !== true && (r.holes ?? []).some(([a, b]) => a <= seq && seq < b)
}

export class LogBook {
  readonly #store: StoreReader
  readonly #signer: Signer
  readonly #author: AuthorKey
  readonly #log: string
  readonly #records: LruMap<string, LogRecord>
  #layers: Layer[] = []
  /** Next position of the node's own log, as committed. */
  #ownNext: number

  constructor(store: StoreReader, signer: Signer, log: string, ownNext: number) {
    this.#store = store
    this.#signer = signer
    this.#author = toHex(signer.publicKey) as AuthorKey
    this.#log = log
    this.#ownNext = ownNext
    this.#records = new LruMap(LOG_CACHE_MAX)
  }

  /** The node's own log id. */
  get log(): string {
    return this.#log
  }

  /** The position the next local write takes (claimed by `claim` when it is accepted). */
  nextOwnSeq(group: LogGroup): number {
    const own = group.touched.get(logKeyOf(this.#author, this.#log))
    if (own !== undefined && own.seqs.length > 0) return own.seqs[own.seqs.length - 1] + 1
    return this.#layers.at(-1)?.ownNext ?? this.#ownNext
  }

  #pending(posKey: string): Digest | undefined {
    for (let i = this.#layers.length - 1; i >= 0; i--) {
      const d = this.#layers[i].positions.get(posKey)
      if (d !== undefined) return d
    }
    return undefined
  }

  /**
   * Which of these positions are known to hold no event, committed or uncommitted: those at or
   * past the end of their log's record (the newest layer's, else the committed one), or of a log
   * with no record. An event's digest covers its position, so an event at such a position is not
   * stored either: a catch-up of new positions skips the presence and position reads (two
   * batched reads of every event of the group). One batched read of the records it lacks.
   */
  async unheld(positions: readonly LogPosition[]): Promise<boolean[]> {
    const logs = new Map<string, { author: AuthorKey; log: string }>()
    for (const p of positions) logs.set(logKeyOf(p.author, p.log), { author: p.author, log: p.log })
    const list = [...logs.values()]
    const records = await this.#recordsOf(list)
    const ends = new Map(list.map((l, i) => [logKeyOf(l.author, l.log), records[i]?.end ?? 0]))
    return positions.map((p) => p.seq >= (ends.get(logKeyOf(p.author, p.log)) as number))
  }

  /** Reads in one round trip which events hold these positions (before the group's loop).
   *  `unheld` (from `unheld()`) marks positions known to be empty: not read. */
  async prefetch(
    group: LogGroup,
    positions: readonly LogPosition[],
    unheld?: ReadonlySet<LogPosition>,
  ): Promise<void> {
    const want: LogPosition[] = []
    for (const p of positions) {
      const k = posKeyOf(p.author, p.log, p.seq)
      if (group.prefetched.has(k)) continue
      const d = this.#pending(k)
      group.prefetched.set(k, d)
      if (d === undefined && unheld?.has(p) !== true) want.push(p)
    }
    for (let i = 0; i < want.length; i += 10_000) {
      const part = want.slice(i, i + 10_000)
      const found = await this.#store.getLogPositions(part)
      part.forEach((p, j) => {
        group.prefetched.set(posKeyOf(p.author, p.log, p.seq), found[j])
      })
    }
  }

  /** The event holding a position: this group's, an uncommitted group's, or the store's. */
  async heldAt(group: LogGroup, p: LogPosition): Promise<Digest | undefined> {
    const k = posKeyOf(p.author, p.log, p.seq)
    const mine = group.positions.get(k)
    if (mine !== undefined) return mine
    if (group.prefetched.has(k)) return group.prefetched.get(k)
    const pending = this.#pending(k)
    if (pending !== undefined) return pending
    return (await this.#store.getLogPositions([p]))[0]
  }

  /** The accepted event takes its position. */
  claim(group: LogGroup, p: LogPosition, digest: Digest): void {
    group.positions.set(posKeyOf(p.author, p.log, p.seq), digest)
    const lk = logKeyOf(p.author, p.log)
    let t = group.touched.get(lk)
    if (t === undefined) {
      t = { author: p.author, log: p.log, seqs: [] }
      group.touched.set(lk, t)
    }
    t.seqs.push(p.seq)
  }

  /** A second event at a held position: the log forks there. */
  fork(group: LogGroup, p: LogPosition): void {
    const lk = logKeyOf(p.author, p.log)
    const prev = group.forks.get(lk)
    group.forks.set(lk, prev === undefined ? p.seq : Math.min(prev, p.seq))
    if (!group.touched.has(lk)) group.touched.set(lk, { author: p.author, log: p.log, seqs: [] })
  }

  /** Current record of a log (uncommitted layers first), or undefined when none is held. */
  async record(author: AuthorKey, log: string): Promise<LogRecord | undefined> {
    return (await this.#recordsOf([{ author, log }]))[0]
  }

  async #recordsOf(
    logs: ReadonlyArray<{ author: AuthorKey; log: string }>,
  ): Promise<Array<LogRecord | undefined>> {
    const out: Array<LogRecord | undefined> = new Array(logs.length)
    const want: number[] = []
    logs.forEach((l, i) => {
      const k = logKeyOf(l.author, l.log)
      let r: LogRecord | undefined
      for (let j = this.#layers.length - 1; j >= 0 && r === undefined; j--) r = this.#layers[j].records.get(k)
      r ??= this.#records.get(k)
      if (r === undefined) want.push(i)
      out[i] = r
    })
    if (want.length > 0) {
      const found = await this.#store.getLogRecords(want.map((i) => logs[i]))
      want.forEach((i, j) => {
        out[i] = found[j]
      })
    }
    return out
  }

  /**
   * Closes the group: the new record of every log it touched (contiguous prefix advanced over
   * what is now held, peaks extended, the own log's head signed once). `verifiedHeads` are heads
   * of other authors' logs checked against these events (catch-up): kept when they are newer.
   */
  async finish(
    group: LogGroup,
    verifiedHeads: readonly LogHead[] = [],
  ): Promise<{ records: LogRecord[]; heads: LogHead[] }> {
    const heads: LogHead[] = []
    const newest = new Map<string, LogHead>()
    for (const h of verifiedHeads) {
      const k = logKeyOf(h.author, h.log)
      if (!group.touched.has(k)) continue
      heads.push(h)
      if ((newest.get(k)?.length ?? 0) < h.length) newest.set(k, h)
    }
    const touched = [...group.touched.values()]
    const current = await this.#recordsOf(touched)
    const records: LogRecord[] = []
    let ownNext = this.#layers.at(-1)?.ownNext ?? this.#ownNext
    for (const [i, t] of touched.entries()) {
      const lk = logKeyOf(t.author, t.log)
      const before = current[i] ?? emptyLogRecord(t.author, t.log)
      let end = before.end
      let heldBeyond = before.heldBeyond
      for (const s of t.seqs) {
        if (s >= before.contiguous) heldBeyond += 1
        if (s + 1 > end) end = s + 1
      }
      // Advance over what is held: this group's positions, uncommitted groups', the store's.
      let c = before.contiguous
      const leaves: Uint8Array[] = []
      while (heldBeyond - (c - before.contiguous) > 0) {
        const k = posKeyOf(t.author, t.log, c)
        const d = group.positions.get(k) ?? this.#pending(k)
        if (d !== undefined) {
          leaves.push(leafHashOfHex(d))
          c += 1
          continue
        }
        // A position the record knows is a hole (and this group did not fill) ends the prefix:
        // no store read (gossip into a log with a hole would otherwise seek once per group).
        if (inHole(before, c)) break
        const run = await this.#store.readLogRun(t.author, t.log, c, RUN_READ_MAX)
        if (run.length === 0) break
        for (const r of run) leaves.push(leafHashOfHex(r))
        c += run.length
      }
      heldBeyond -= c - before.contiguous
      let { holes, unknown } = nextHoles(before, t.seqs, c)
      // Nothing held past the prefix: the one hole is [c, end), known again.
      if (unknown && heldBeyond === 0) {
        unknown = false
        holes = end > c ? [[c, end]] : []
      }
      const beforePeaks = leaves.length === 0 ? undefined : peaksFromRecord(before)
      const grown = beforePeaks === undefined ? undefined : peaksAppend(beforePeaks, leaves)
      // Peaks the append left alone are the same objects: their hex is the record's already.
      const peaks =
        grown?.map((p, j) =>
          p === beforePeaks![j] ? before.peaks[j] : { height: p.height, hash: toHex(p.hash) },
        ) ?? before.peaks
      const forkSeq = group.forks.get(lk)
      const forkAt =
        forkSeq === undefined ? before.forkAt : Math.min(forkSeq, before.forkAt ?? Number.POSITIVE_INFINITY)
      let head = before.head
      const own = t.author === this.#author && t.log === this.#log
      const kept = before.head?.length ?? 0
      const checkpoint = Math.floor(c / LOG_CHECKPOINT_EVENTS) > Math.floor(kept / LOG_CHECKPOINT_EVENTS)
      if (own && c > kept && (kept === 0 || checkpoint || c - kept >= OWN_HEAD_EVERY)) {
        // One signature covers every event of the log so far (OWN_HEAD_EVERY says when).
        const root = rootHash(c, grown ?? peaksFromRecord(before))
        const signable = headSignable(this.#signer.publicKey, fromHex(this.#log) as Uint8Array, c, root)
        head = { length: c, root: toHex(root), signature: toHex(this.#signer.sign(signable)) }
        if (checkpoint || kept === 0) heads.push({ author: t.author, log: t.log, ...head })
      }
      if (own) ownNext = Math.max(ownNext, end)
      const verified = newest.get(lk)
      if (!own && verified !== undefined && verified.length > (head?.length ?? 0))
        head = { length: verified.length, root: verified.root, signature: verified.signature }
      const record: LogRecord = {
        author: t.author,
        log: t.log,
        contiguous: c,
        peaks,
        end,
        heldBeyond,
        ...(holes.length > 0 ? { holes } : {}),
        ...(unknown ? { holesUnknown: true as const } : {}),
        ...(head === undefined ? {} : { head }),
        ...(forkAt === undefined ? {} : { forkAt }),
      }
      if (grown !== undefined) decodedPeaks.set(record, grown)
      records.push(record)
    }
    this.#layers.push({
      positions: group.positions,
      records: new Map(records.map((r) => [logKeyOf(r.author, r.log), r])),
      ownNext,
    })
    return { records, heads }
  }

  /** The oldest uncommitted group was written. */
  committed(): void {
    const l = this.#layers.shift()
    if (l === undefined) return
    for (const [k, r] of l.records) this.#records.set(k, r)
    this.#ownNext = l.ownNext
  }

  /** The oldest uncommitted group was not written: forget it and every later one. */
  discard(): void {
    this.#layers = []
  }

  /** Rebuild support: records are not materialized state (the log keeps them), but forget
   *  pending layers. */
  reset(): void {
    this.#layers = []
  }
}
