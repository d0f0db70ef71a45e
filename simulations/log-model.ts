/**
 * Per-author logs in the simulator: what each node holds of every author's log, as the node's
 * store keeps it (src/core/log-book.ts: contiguous prefix, end, hole runs, fork), turned into
 * the log phase's wire summaries by the core's `toSummary` (src/core/log-summary.ts), so that a
 * session can plan its log phase with the core's `planLogs`, as the node does.
 *
 * Every simulated node writes one log (its own key, log id = the key's first 8 bytes), one
 * position per event. A prefix of an honest log is the same bytes on every node, so its Merkle
 * peaks and its summary are computed once per (author, length) and shared by every node that
 * holds that prefix without holes; a log with holes or a fork is summarised per node.
 */
import { emptyLogRecord, LOG_HOLES_MAX } from '../src/core/log-book.ts'
import { toSummary } from '../src/core/log-summary.ts'
import { leafHash, type Peak, peaksAppend } from '../src/core/merkle-log.ts'
import type { LogRecord } from '../src/core/ports.ts'
import type { AuthorKey } from '../src/core/types.ts'
import { toHex } from '../src/util/bytes.ts'

/** The summary type the core's planLogs reads (the wire's LogSummary). */
export type Summary = ReturnType<typeof toSummary>

/** What one node holds of the logs: per author, the contiguous prefix and the end. */
export interface LogView {
  readonly contig: Int32Array
  readonly end: Int32Array
  /** Authors whose log this node holds two versions of at some position. */
  forked: Set<number> | undefined
  /** Per author: bumped whenever the node stores an event of that log. */
  readonly ver: Int32Array
  /** Per author: the node's last summary of the log (not flagged `fetching`), valid while
   *  `cacheVer` equals `ver` and no fork appeared anywhere since (`cacheTwins`). */
  readonly cache: Array<Summary | undefined>
  readonly cacheVer: Int32Array
  cacheTwins: number
}

/** Encoded size estimate of a summary (protobuf): author, log id, lengths, root, hole runs. */
export function summaryBytes(l: Summary): number {
  return 2 + 32 + 2 + 8 + 2 * 6 + 2 + 32 + 4 + l.holes.length * 5
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1')

export class LogModel {
  /** Per author: the ordinal at each position (the first version written there). */
  readonly #ords: number[][] = []
  /** Further versions at a position (a forking member's): ord of the first → the others. */
  readonly #twins = new Map<number, number[]>()
  readonly #authorHex: string[] = []
  readonly #logHex: string[] = []
  /** Per author: peaks (hex) of the prefix of each length, computed as far as asked. */
  readonly #peaks: Array<Array<ReadonlyArray<{ height: number; hash: string }>>> = []
  readonly #acc: Peak[][] = []
  /** Per author: the summary of a hole-free, unforked prefix of each length (and flagged
   *  `fetching`), shared by every node that holds exactly it. */
  readonly #plain: Array<Array<Summary | undefined>> = []
  readonly #fetching: Array<Array<Summary | undefined>> = []
  readonly #digest: (ord: number) => Uint8Array
  /** Bumped when a fork appears (summaries of hole-free prefixes may change on every node). */
  #twinsVer = 0

  constructor(digestOf: (ord: number) => Uint8Array) {
    this.#digest = digestOf
  }

  /** Registers an author (a node) and its log. */
  addAuthor(publicKey: Uint8Array): void {
    const hex = toHex(publicKey)
    this.#authorHex.push(hex)
    this.#logHex.push(hex.slice(0, 16))
    this.#ords.push([])
    this.#peaks.push([[]])
    this.#acc.push([])
    this.#plain.push([])
    this.#fetching.push([])
  }

  get authors(): number {
    return this.#ords.length
  }

  /** An event at a position of its author's log (a second version at a position is a fork). */
  addEvent(author: number, seq: number, ord: number): void {
    const list = this.#ords[author]
    if (list[seq] === undefined) list[seq] = ord
    else {
      const first = list[seq]
      const more = this.#twins.get(first)
      if (more === undefined) this.#twins.set(first, [ord])
      else more.push(ord)
      this.#twinsVer++
    }
  }

  /** Versions at a position (usually one). */
  versions(author: number, seq: number): readonly number[] {
    const o = this.#ords[author][seq]
    if (o === undefined) return []
    const more = this.#twins.get(o)
    return more === undefined ? [o] : [o, ...more]
  }

  newView(): LogView {
    const n = this.authors
    return {
      contig: new Int32Array(n),
      end: new Int32Array(n),
      forked: undefined,
      ver: new Int32Array(n),
      cache: new Array<Summary | undefined>(n),
      cacheVer: new Int32Array(n).fill(-1),
      cacheTwins: this.#twinsVer,
    }
  }

  /** Whether `held` (durable) holds some version at the position. */
  #holds(held: Uint8Array, author: number, seq: number): boolean {
    const o = this.#ords[author][seq]
    if (o === undefined) return false
    if (held[o] === 2) return true
    const more = this.#twins.get(o)
    if (more !== undefined) for (const t of more) if (held[t] === 2) return true
    return false
  }

  /** A node stored (durably) the event at (author, seq): its prefix and end move on. */
  stored(v: LogView, held: Uint8Array, author: number, seq: number): void {
    v.ver[author]++
    if (seq + 1 > v.end[author]) v.end[author] = seq + 1
    if (this.#twins.has(this.#ords[author][seq])) {
      let n = 0
      for (const o of this.versions(author, seq)) if (held[o] === 2) n++
      if (n > 1) {
        v.forked ??= new Set()
        v.forked.add(author)
      }
    }
    if (seq !== v.contig[author]) return
    let c = seq
    while (this.#holds(held, author, c)) c++
    v.contig[author] = c
  }

  /** Peaks (hex) of the honest prefix of `length` positions of an author's log. */
  #peaksAt(author: number, length: number): ReadonlyArray<{ height: number; hash: string }> {
    const cache = this.#peaks[author]
    while (cache.length <= length) {
      const seq = cache.length - 1
      this.#acc[author] = peaksAppend(this.#acc[author], [leafHash(this.#digest(this.#ords[author][seq]))])
      cache.push(this.#acc[author].map((p) => ({ height: p.height, hash: toHex(p.hash) })))
    }
    return cache[length]
  }

  /** Peaks (hex) of the prefix a node holds of a forked log (its own versions). */
  #peaksOfHeld(held: Uint8Array, author: number, length: number): Array<{ height: number; hash: string }> {
    const leaves: Uint8Array[] = []
    for (let s = 0; s < length; s++) {
      const v = this.versions(author, s).find((o) => held[o] === 2) ?? this.#ords[author][s]
      leaves.push(leafHash(this.#digest(v)))
    }
    return peaksAppend([], leaves).map((p) => ({ height: p.height, hash: toHex(p.hash) }))
  }

  /** The node's summary of one author's log (undefined: it holds nothing of it). */
  summary(v: LogView, held: Uint8Array, author: number, fetching: boolean): Summary | undefined {
    if (fetching) return this.#summary(v, held, author, true)
    if (v.cacheTwins !== this.#twinsVer) {
      v.cacheTwins = this.#twinsVer
      v.cacheVer.fill(-1)
    }
    if (v.cacheVer[author] === v.ver[author]) return v.cache[author]
    const s = this.#summary(v, held, author, false)
    v.cache[author] = s
    v.cacheVer[author] = v.ver[author]
    return s
  }

  #summary(v: LogView, held: Uint8Array, author: number, fetching: boolean): Summary | undefined {
    const end = v.end[author]
    if (end === 0) return undefined
    const contig = v.contig[author]
    const forked = v.forked?.has(author) === true
    const forkedAuthor = forked || this.#hasTwinsBelow(author, contig)
    if (contig === end && !forkedAuthor) {
      const cache = fetching ? this.#fetching[author] : this.#plain[author]
      let s = cache[contig]
      if (s === undefined) {
        s = toSummary(this.#record(author, contig, end, this.#peaksAt(author, contig)), fetching)
        cache[contig] = s
      }
      return s
    }
    const peaks = forkedAuthor ? this.#peaksOfHeld(held, author, contig) : this.#peaksAt(author, contig)
    const r = this.#record(author, contig, end, peaks)
    const holes: Array<[number, number]> = []
    let heldBeyond = 0
    let unknown = false
    for (let s = contig; s < end; s++) {
      if (this.#holds(held, author, s)) {
        heldBeyond++
        continue
      }
      const last = holes[holes.length - 1]
      if (last !== undefined && last[1] === s) last[1] = s + 1
      else if (holes.length < LOG_HOLES_MAX) holes.push([s, s + 1])
      else unknown = true
    }
    const withHoles: LogRecord = {
      ...r,
      heldBeyond,
      ...(unknown ? { holesUnknown: true as const } : holes.length > 0 ? { holes } : {}),
      ...(forked ? { forkAt: 0 } : {}),
    }
    return toSummary(withHoles, fetching)
  }

  #hasTwinsBelow(author: number, length: number): boolean {
    if (this.#twins.size === 0) return false
    const list = this.#ords[author]
    for (let s = 0; s < length; s++) if (this.#twins.has(list[s])) return true
    return false
  }

  #record(
    author: number,
    contig: number,
    end: number,
    peaks: ReadonlyArray<{ height: number; hash: string }>,
  ): LogRecord {
    return {
      ...emptyLogRecord(this.#authorHex[author] as AuthorKey, this.#logHex[author]),
      contiguous: contig,
      end,
      peaks,
    }
  }

  /** Every log a node holds, as summaries (the node's `summaries()`), `fetching` flagged. */
  summaries(v: LogView, held: Uint8Array, fetching?: ReadonlySet<number>): Summary[] {
    const out: Summary[] = []
    for (let a = 0; a < v.end.length; a++) {
      const s = this.summary(v, held, a, fetching?.has(a) === true)
      if (s !== undefined) out.push(s)
    }
    return out
  }

  /** The same, indexed by author (undefined: the node holds nothing of that log). Logs two
   *  nodes summarise with the same shared object (a hole-free prefix of one length) agree. */
  summaryArray(v: LogView, held: Uint8Array, fetching?: ReadonlySet<number>): Array<Summary | undefined> {
    const out = new Array<Summary | undefined>(v.end.length)
    for (let a = 0; a < v.end.length; a++) out[a] = this.summary(v, held, a, fetching?.has(a) === true)
    return out
  }

  /** The author (node) of a summary or range: by its key. */
  authorOf(authorBytes: Uint8Array): number {
    return this.#byAuthor().get(latin1(authorBytes)) ?? -1
  }

  #index: Map<string, number> | undefined
  #byAuthor(): Map<string, number> {
    if (this.#index === undefined || this.#index.size !== this.#authorHex.length)
      this.#index = new Map(this.#authorHex.map((h, i) => [Buffer.from(h, 'hex').toString('latin1'), i]))
    return this.#index
  }

  /** Ordinals a node holds durably at positions [from, to) of an author's log, in order. */
  held(held: Uint8Array, author: number, from: number, to: number): number[] {
    const out: number[] = []
    const list = this.#ords[author]
    const hi = Math.min(to, list.length)
    for (let s = from; s < hi; s++) for (const o of this.versions(author, s)) if (held[o] === 2) out.push(o)
    return out
  }
}
