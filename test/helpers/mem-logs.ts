/**
 * An in-memory node's per-author logs for driving LogSession (src/core/log-session.ts) without
 * a store: implements the LogPort reads from the events it holds, and runs the session's store
 * actions ('verified' events stored as they are, 'signed' events after their signature check).
 * Records are computed from the held positions as the ingest engine keeps them (contiguous
 * prefix, its Merkle peaks, end, hole runs up to LOG_HOLES_MAX, first fork, newest head).
 */
import type { PushResult } from '../../src/core/api.ts'
import { eventFromWire } from '../../src/core/event.ts'
import { LOG_HOLES_MAX } from '../../src/core/log-book.ts'
import type { LogPort } from '../../src/core/log-frames.ts'
import type { LogStoreAction } from '../../src/core/log-intake.ts'
import type { LogSession } from '../../src/core/log-session.ts'
import { leafHash, peaksOf } from '../../src/core/merkle-log.ts'
import type { LogHead, LogRecord } from '../../src/core/ports.ts'
import type { StoredEvent } from '../../src/core/records.ts'
import type { AuthorKey, Digest, SignedEvent } from '../../src/core/types.ts'
import { fromHex, toHex } from '../../src/util/bytes.ts'
import type { ReconcileFrame } from '../../src/wire/index.ts'

export const NOW = 1_764_000_000_000
export const VERIFY = { nowMs: NOW + 1_000_000_000, driftMaxMs: 60_000 }

const keyOf = (author: string, log: string) => `${author}/${log}`

export class MemLogs implements LogPort {
  /** Per log, per position: the events held there (two or more = a fork), first first. */
  readonly logs = new Map<string, { author: AuthorKey; log: string; at: Map<number, StoredEvent[]> }>()
  readonly heads = new Map<string, LogHead[]>()

  add(e: SignedEvent): boolean {
    const k = keyOf(e.author, e.log)
    let l = this.logs.get(k)
    if (l === undefined) {
      l = { author: e.author, log: e.log, at: new Map() }
      this.logs.set(k, l)
    }
    const held = l.at.get(e.seq) ?? []
    if (held.some((h) => h.digest === e.digest)) return false
    held.push({ signed: e.signed, signature: e.signature, digest: e.digest })
    l.at.set(e.seq, held)
    return true
  }

  addHead(h: LogHead): void {
    const list = this.heads.get(keyOf(h.author, h.log)) ?? []
    if (!list.some((x) => x.length === h.length)) list.push(h)
    list.sort((a, b) => a.length - b.length)
    this.heads.set(keyOf(h.author, h.log), list)
  }

  /** (log key, position, digest) of every event held. */
  contents(): Set<string> {
    const out = new Set<string>()
    for (const [k, l] of this.logs)
      for (const [seq, es] of l.at) for (const e of es) out.add(`${k}/${seq}/${e.digest}`)
    return out
  }

  /** (log key, position) of every position held. */
  positions(): Set<string> {
    const out = new Set<string>()
    for (const [k, l] of this.logs) for (const seq of l.at.keys()) out.add(`${k}/${seq}`)
    return out
  }

  apply(a: LogStoreAction): PushResult {
    const r: PushResult = { accepted: 0, duplicates: 0, rejected: [], digests: [] }
    for (const s of a.events as ReadonlyArray<StoredEvent>) {
      let e: SignedEvent
      try {
        // eventFromWire checks the signature ('signed': one check per event).
        e = a.kind === 'verified' ? (s as SignedEvent) : eventFromWire(s.signed, s.signature, VERIFY)
      } catch (err) {
        const error = (err as { code?: string }).code ?? 'invalid'
        r.rejected.push({ event_id: null, error, message: String(err) })
        continue
      }
      if (this.add(e)) {
        r.accepted++
        r.digests.push(e.digest)
      } else r.duplicates++
    }
    if (a.kind === 'verified' && a.head !== undefined) this.addHead(a.head)
    return r
  }

  #record(k: string): LogRecord | undefined {
    const l = this.logs.get(k)
    if (l === undefined || l.at.size === 0) return undefined
    let contiguous = 0
    while (l.at.has(contiguous)) contiguous++
    const end = Math.max(...l.at.keys()) + 1
    const leaves: Uint8Array[] = []
    for (let s = 0; s < contiguous; s++) leaves.push(leafHash(fromHex(l.at.get(s)![0].digest!)!))
    const peaks = peaksOf(leaves).map((p) => ({ height: p.height, hash: toHex(p.hash) }))
    const holes: Array<[number, number]> = []
    for (let s = contiguous; s < end; s++) {
      if (l.at.has(s)) continue
      const last = holes.at(-1)
      if (last !== undefined && last[1] === s) last[1] = s + 1
      else holes.push([s, s + 1])
    }
    let forkAt: number | undefined
    for (const [s, es] of l.at) if (es.length > 1 && (forkAt === undefined || s < forkAt)) forkAt = s
    const head = (this.heads.get(k) ?? []).filter((h) => h.length <= contiguous).at(-1)
    return {
      author: l.author,
      log: l.log,
      contiguous,
      peaks,
      end,
      heldBeyond: [...l.at.keys()].filter((s) => s >= contiguous).length,
      ...(holes.length > LOG_HOLES_MAX ? { holesUnknown: true as const } : holes.length > 0 ? { holes } : {}),
      ...(head === undefined
        ? {}
        : { head: { length: head.length, root: head.root, signature: head.signature } }),
      ...(forkAt === undefined ? {} : { forkAt }),
    }
  }

  async listLogs(after: { author: AuthorKey; log: string } | undefined, limit: number): Promise<LogRecord[]> {
    const keys = [...this.logs.keys()].sort()
    const from = after === undefined ? '' : keyOf(after.author, after.log)
    return keys
      .filter((k) => k > from)
      .map((k) => this.#record(k))
      .filter((r): r is LogRecord => r !== undefined)
      .slice(0, limit)
  }

  async getLogRecords(logs: ReadonlyArray<{ author: AuthorKey; log: string }>) {
    return logs.map((l) => this.#record(keyOf(l.author, l.log)))
  }

  async getLogHeads(author: AuthorKey, log: string, from: number, to: number, limit: number) {
    return (this.heads.get(keyOf(author, log)) ?? [])
      .filter((h) => h.length > from && h.length <= to)
      .slice(0, limit)
      .map((h) => ({ ...h }))
  }

  async readLogRange(author: AuthorKey, log: string, from: number, to: number, limit: number) {
    const l = this.logs.get(keyOf(author, log))
    if (l === undefined) return []
    return [...l.at.keys()]
      .filter((s) => s >= from && s < to)
      .sort((a, b) => a - b)
      .slice(0, limit)
      .map((seq) => ({ seq, event: l.at.get(seq)![0] }))
  }

  async readLogHeld(author: AuthorKey, log: string, from: number, to: number, limit: number) {
    const l = this.logs.get(keyOf(author, log))
    if (l === undefined) return []
    return [...l.at.keys()]
      .filter((s) => s >= from && s < to)
      .sort((a, b) => a - b)
      .slice(0, limit)
  }

  async getLogPositions(ps: ReadonlyArray<{ author: AuthorKey; log: string; seq: number }>) {
    return ps.map(
      (p): Digest | undefined => this.logs.get(keyOf(p.author, p.log))?.at.get(p.seq)?.[0].digest as Digest,
    )
  }
}

/** Wire bytes and round trips of one session between two in-memory sides. */
export interface Drive {
  readonly bytes: number
  readonly frames: number
  /** The session's latency in round trips (frames pipelined within one count once). */
  readonly roundTrips: number
  /** Bytes of the initiator's first message (before any answer arrived). */
  readonly firstBytes: number
  /** Bytes of the events frames (fetched and pushed) and of the rest. */
  readonly eventFrameBytes: number
}

/**
 * Runs a log phase between an initiator and a responder over in-memory queues until the
 * initiator is done, storing what each side's session hands over. `encode` measures frames.
 */
/** A side of `drive`: its session, and how it stores what the session hands over. */
export interface DriveSide {
  readonly logs: { apply(a: LogStoreAction): PushResult }
  readonly session: LogSession
}

export async function drive(
  a: DriveSide,
  b: DriveSide,
  encode: (f: Partial<ReconcileFrame>) => ReconcileFrame,
  frameBytes: (f: ReconcileFrame) => number,
  framesMax = 100_000,
): Promise<Drive> {
  // Each frame carries the time it arrives: its sender's time plus one one-way trip (half a
  // round trip); a side's time is that of the last frame it handled. Processing takes no time,
  // so the initiator's time at its end, in round trips, is the session's latency.
  const toB: Array<{ f: ReconcileFrame; at: number }> = []
  const toA: Array<{ f: ReconcileFrame; at: number }> = []
  const time = new Map<DriveSide, number>([
    [a, 0],
    [b, 0],
  ])
  let bytes = 0
  let frames = 0
  let firstBytes = 0
  let eventFrameBytes = 0
  let answered = false
  await a.session.start()
  const pump = async (side: DriveSide, out: Array<{ f: ReconcileFrame; at: number }>) => {
    for (let o = await side.session.poll(); o !== undefined; o = await side.session.poll()) {
      if (o.kind === 'frame') {
        const f = encode(o.frame)
        const n = frameBytes(f)
        bytes += n
        if (side === a && !answered) firstBytes += n
        if (f.events.length > 0) eventFrameBytes += n
        frames++
        out.push({ f, at: (time.get(side) ?? 0) + 1 })
      } else if (o.kind === 'store') side.session.stored(o.action, side.logs.apply(o.action))
    }
  }
  for (let steps = 0; steps < framesMax; steps++) {
    await pump(a, toB)
    if (a.session.done && toB.length === 0) break
    const fb = toB.shift()
    if (fb !== undefined) {
      time.set(b, Math.max(time.get(b) ?? 0, fb.at))
      await b.session.handle(fb.f, VERIFY)
      await pump(b, toA)
      continue
    }
    const fa = toA.shift()
    if (fa === undefined) throw new Error('deadlock: no frame in flight and the initiator is not done')
    answered = true
    time.set(a, Math.max(time.get(a) ?? 0, fa.at))
    await a.session.handle(fa.f, VERIFY)
  }
  // What the responder still holds (the initiator ended without a final frame) is stored.
  for (const act of b.session.abort()) b.session.stored(act, b.logs.apply(act))
  return { bytes, frames, roundTrips: Math.ceil((time.get(a) ?? 0) / 2), firstBytes, eventFrameBytes }
}
