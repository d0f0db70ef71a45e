/**
 * The three event-list queries of the Store port. Each reads its index keys and then the events
 * from one snapshot, so an answer never mixes two commits; an index entry whose event is missing
 * or does not hash to its key is reported as corruption.
 */
import type { AbstractSnapshot } from 'abstract-level'
import { HLC_WALL_MS_MAX, TARGET_ID_BYTES_MAX } from '../core/constants.ts'
import type { StoredEvent } from '../core/records.ts'
import { type Digest, EVENT_TYPES, type EventType } from '../core/types.ts'
import { fromHex, toHex, utf8 } from '../util/bytes.ts'
import { checkLimit, checkSeq, codeOf, misuse } from './arguments.ts'
import { decodeEventValue } from './codecs.ts'
import { StorageCorruptionError } from './errors.ts'
import * as K from './keys.ts'

export async function readLog(
  db: K.LevelDatabase,
  s: K.Sublevels,
  afterSeq: number,
  limit: number,
  types?: readonly EventType[],
): Promise<Array<{ seq: number; event: StoredEvent }>> {
  checkSeq(afterSeq, 'afterSeq')
  checkLimit(limit)
  const codes = [...new Set((types ?? EVENT_TYPES).map(codeOf))]
  if (limit === 0 || codes.length === 0) return []
  return withSnapshot(db, async (snapshot) => {
    const entries = await mergeTypeRanges(s, codes, afterSeq, limit, snapshot)
    const events = await readEvents(
      s,
      entries.map((e) => e.digest),
      snapshot,
      'tseq',
    )
    return entries.map((e, i) => ({ seq: e.seq, event: events[i] }))
  })
}

/** Chunk of one type's `tseq` range read at a time while merging (bounded work per type even
 *  when the page is filled by another type). */
const MERGE_CHUNK = 256

/**
 * The first `limit` log entries after `afterSeq` of the given types, by seq: one `tseq` range per
 * type, read in chunks and merged (format 2 keeps no separate arrival-order index: `tseq`
 * answers both the filtered and the whole log). Never reads entries of other types, and reads
 * at most `limit` + one chunk per type.
 */
async function mergeTypeRanges(
  s: K.Sublevels,
  codes: readonly number[],
  afterSeq: number,
  limit: number,
  snapshot: AbstractSnapshot,
): Promise<Array<{ seq: number; digest: Uint8Array }>> {
  const decode = ([k, v]: [Uint8Array, Uint8Array]) => {
    const seq = K.readSeq(k, 1)
    if (k.byteLength !== 9 || seq === undefined || v.byteLength !== 32)
      throw new StorageCorruptionError(`${K.describeKey('tseq', k)}: not a log entry`)
    return { seq, digest: v }
  }
  if (codes.length === 1) {
    const c = codes[0]
    const rows = await s.typeSeq
      .iterator({ gt: K.typeSeqKey(c, afterSeq), lt: K.typeSeqKey(c + 1, 0), limit, snapshot })
      .all()
    return rows.map(decode)
  }
  const chunk = Math.min(limit, MERGE_CHUNK)
  const cursors = codes.map((c) => ({
    it: s.typeSeq.iterator({ gt: K.typeSeqKey(c, afterSeq), lt: K.typeSeqKey(c + 1, 0), snapshot }),
    buf: [] as Array<{ seq: number; digest: Uint8Array }>,
    at: 0,
    done: false,
  }))
  try {
    const out: Array<{ seq: number; digest: Uint8Array }> = []
    while (out.length < limit) {
      let best: (typeof cursors)[number] | undefined
      for (const c of cursors) {
        if (c.at === c.buf.length && !c.done) {
          const rows = await c.it.nextv(chunk)
          c.buf = rows.map(decode)
          c.at = 0
          c.done = rows.length < chunk
        }
        if (c.at < c.buf.length && (best === undefined || c.buf[c.at].seq < best.buf[best.at].seq)) best = c
      }
      if (best === undefined) break
      out.push(best.buf[best.at++])
    }
    return out
  } finally {
    await Promise.all(cursors.map((c) => c.it.close()))
  }
}

export async function readByTime(
  db: K.LevelDatabase,
  s: K.Sublevels,
  type: EventType,
  sinceMs: number,
  limit: number,
  after?: { hlcKey: string; digest: Digest },
): Promise<StoredEvent[]> {
  const code = codeOf(type)
  checkLimit(limit)
  if (typeof sinceMs !== 'number' || Number.isNaN(sinceMs)) misuse(`sinceMs must be a number, got ${sinceMs}`)
  const since = Math.max(0, Math.ceil(sinceMs))
  if (limit === 0 || since > HLC_WALL_MS_MAX) return []
  const from = Uint8Array.of(code, ...K.hlcBytesAtMs(since))
  let range: { gte: Uint8Array } | { gt: Uint8Array } = { gte: from }
  if (after !== undefined) {
    const hlc = K.hlcBytesFromKey(after.hlcKey)
    const digest = K.digestKey(after.digest)
    if (hlc === undefined || digest === undefined)
      return misuse('after needs a 16-hex-char hlcKey and a hex digest')
    const position = K.timeKey(code, hlc, digest)
    if (Buffer.compare(position, from) >= 0) range = { gt: position }
  }
  return withSnapshot(db, async (snapshot) => {
    const keys = await s.time.keys({ ...range, lt: Uint8Array.of(code + 1), limit, snapshot }).all()
    for (const k of keys)
      if (k.byteLength !== 41)
        throw new StorageCorruptionError(`${K.describeKey('time', k)}: not a time index key`)
    return readEvents(
      s,
      keys.map((k) => k.subarray(9)),
      snapshot,
      'time',
    )
  })
}

export async function scanEventKeys(
  db: K.LevelDatabase,
  s: K.Sublevels,
  type: EventType,
  after: Uint8Array | undefined,
  limit: number,
): Promise<Uint8Array[]> {
  const code = codeOf(type)
  checkLimit(limit)
  if (limit === 0) return []
  if (after !== undefined && after.byteLength !== 40) misuse('after must be a 40-byte (HLC, digest) key')
  const range = after === undefined ? { gte: Uint8Array.of(code) } : { gt: Uint8Array.of(code, ...after) }
  return withSnapshot(db, async (snapshot) => {
    const keys = await s.time.keys({ ...range, lt: Uint8Array.of(code + 1), limit, snapshot }).all()
    return keys.map((k) => {
      if (k.byteLength !== 41)
        throw new StorageCorruptionError(`${K.describeKey('time', k)}: not a time index key`)
      return k.subarray(1)
    })
  })
}

/** A page of one target's events: newest first or oldest first, after (exclusive, in that
 *  order) the event at a position. */
export interface TargetPage {
  readonly newestFirst?: boolean
  readonly after?: { hlcKey: string; digest: Digest }
}

export async function readTarget(
  db: K.LevelDatabase,
  s: K.Sublevels,
  type: EventType,
  target: string,
  limit: number,
  page?: TargetPage,
): Promise<StoredEvent[]> {
  const code = codeOf(type)
  checkLimit(limit)
  const bytes = typeof target === 'string' ? utf8(target) : new Uint8Array(0)
  if (limit === 0 || bytes.byteLength < 1 || bytes.byteLength > TARGET_ID_BYTES_MAX) return []
  const prefix = K.targetPrefix(code, bytes)
  const range: { gte?: Uint8Array; gt?: Uint8Array; lt?: Uint8Array; lte?: Uint8Array } =
    K.prefixRange(prefix)
  if (page?.after !== undefined) {
    const hlc = K.hlcBytesFromKey(page.after.hlcKey)
    const digest = K.digestKey(page.after.digest)
    if (hlc === undefined || digest === undefined)
      return misuse('after needs a 16-hex-char hlcKey and a hex digest')
    const position = K.targetIndexKey(code, bytes, hlc, digest)
    if (page.newestFirst === true) range.lt = position
    else {
      delete range.gte
      range.gt = position
    }
  }
  return withSnapshot(db, async (snapshot) => {
    const keys = await s.target.keys({ ...range, limit, reverse: page?.newestFirst === true, snapshot }).all()
    for (const k of keys)
      if (k.byteLength !== prefix.byteLength + 40)
        throw new StorageCorruptionError(`${K.describeKey('tgt', k)}: not a target index key`)
    return readEvents(
      s,
      keys.map((k) => k.subarray(k.byteLength - 32)),
      snapshot,
      'tgt',
    )
  })
}

export async function withSnapshot<T>(
  db: K.LevelDatabase,
  fn: (snapshot: AbstractSnapshot) => Promise<T>,
): Promise<T> {
  const snapshot = db.snapshot()
  try {
    return await fn(snapshot)
  } finally {
    await snapshot.close()
  }
}

/** Events for index entries, in order; an index entry without its event is corruption. */
/**
 * Every event grouped by target (the `tgt` index order: type, target, HLC, digest), a page at a
 * time after an opaque cursor. A rebuild reads this order so each target's events arrive
 * together and its state is built and written once, not once per event.
 */
export async function readByTargetOrder(
  db: K.LevelDatabase,
  s: K.Sublevels,
  after: string | undefined,
  limit: number,
): Promise<{ events: StoredEvent[]; next: string | undefined }> {
  checkLimit(limit)
  const gt = after === undefined ? undefined : fromHex(after)
  if (after !== undefined && gt === undefined)
    throw new StorageCorruptionError('readByTargetOrder: cursor is not hex')
  return withSnapshot(db, async (snapshot) => {
    const keys = await s.target.keys({ ...(gt === undefined ? {} : { gt }), limit, snapshot }).all()
    const events = await readEvents(
      s,
      keys.map((k) => k.subarray(k.byteLength - 32)),
      snapshot,
      'tgt',
    )
    return { events, next: keys.length === 0 ? after : toHex(keys[keys.length - 1]) }
  })
}

async function readEvents(
  s: K.Sublevels,
  digests: Uint8Array[],
  snapshot: AbstractSnapshot,
  index: string,
): Promise<StoredEvent[]> {
  if (digests.length === 0) return []
  const values = await s.events.getMany(digests, { snapshot })
  return values.map((v, i) => {
    if (v === undefined)
      throw new StorageCorruptionError(`${index} index names event ${toHex(digests[i])}, which is not stored`)
    return decodeEventValue(digests[i], v)
  })
}
