/**
 * The rebuild's read: every stored event once, each target's events together in (HLC, digest)
 * order, without one random read per event.
 *
 * The log is keyed by digest, so reading it in target order through the `tgt` index is one
 * random `ev` lookup per event: at a million events the rebuild waited on those reads for half
 * its wall time (docs/BENCHMARKS.md). Here the `ev` sublevel is read sequentially, once: each
 * event is appended to one of a few spill files by a hash of its target (a store on disk), and
 * each file is then read back sequentially into one buffer, sorted by its events' `tgt` keys
 * (type, target length, target, HLC, digest) and handed out in pages.
 *
 * A file (or, without a spill, the log itself) larger than the buffer is read in passes: a pass
 * keeps the events of one range of that order (one preallocated arena: each kept event's key,
 * then its stored value); when the arena is full it sorts what it holds, keeps the lower half by
 * bytes and narrows the range's upper bound to the first key it dropped; at the end the range is
 * sorted and handed out, and the next pass starts after its last key. A target split between
 * passes continues in HLC order, as a target split between pages does.
 *
 * Each event handed out is checked like any read (decodeEventValue: its signed bytes hash to its
 * key) and copied out of the arena; a value without an event header is corruption, named by its
 * key.
 */
import { mkdir, open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { AbstractSnapshot } from 'abstract-level'
import type { StoredEvent } from '../core/records.ts'
import { eventValueViews, SIGNATURE_BYTES } from './codecs.ts'
import { StorageCorruptionError } from './errors.ts'
import { HLC_AT, isEventHeader, TARGET_AT, TARGET_LEN_AT, TYPE_AT } from './event-header.ts'
import * as K from './keys.ts'

/** Entries read from the iterator at a time. */
const SCAN_CHUNK = 1_024

/** What a scan reports: passes made and entries read over all passes (a benchmark figure), and
 *  why the spill could not be written when the scan fell back to passes over the log. */
export interface ScanStats {
  passes: number
  scanned: number
  spillFailed?: string
}

/** Batches of (digest, stored value) pairs: one sequential read of the log or of a spill file. */
type Source = () => AsyncIterable<ReadonlyArray<readonly [Uint8Array, Uint8Array]>>

/**
 * Pages of at most `pageEvents` events, every stored event once, in target order.
 * `bufferBytes` must hold at least two of the largest stored events with their keys.
 *
 * With `spillDir` (a store on disk) the log is read once: each event is appended to one of
 * `buckets` files by a hash of its target, and each file is then read back, sorted and handed
 * out in target order (a file larger than the buffer is read in passes, like the log without a
 * spill). A failure to write the spill (a full disk) falls back to passes over the log. The
 * directory is emptied before and removed after.
 */
export async function* scanByTarget(
  db: K.LevelDatabase,
  s: K.Sublevels,
  opts: {
    bufferBytes: number
    pageEvents: number
    stats?: ScanStats
    spill?: { dir: string; buckets: number }
  },
): AsyncGenerator<StoredEvent[]> {
  const arena = Buffer.allocUnsafeSlow(opts.bufferBytes)
  const snapshot = db.snapshot()
  const fromLog: Source = () => logBatches(s, snapshot)
  try {
    let files: string[] | undefined
    if (opts.spill !== undefined) {
      try {
        files = await spillByTarget(fromLog, opts.spill.dir, opts.spill.buckets, opts.stats)
      } catch (err) {
        if (err instanceof StorageCorruptionError) throw err
        // No room for the spill: read the log in passes instead (no disk needed), and say why.
        if (opts.stats !== undefined) opts.stats.spillFailed = (err as Error)?.message ?? String(err)
        await removeSpill(opts.spill.dir)
        files = undefined
      }
    }
    if (files === undefined) yield* inPasses(fromLog, arena, opts)
    else {
      // The next file is read while this one's pages are merged (one file ahead, at most
      // `bufferBytes`; a larger one is read in passes when its turn comes).
      let next: Promise<Buffer | undefined> | undefined = readWhole(files[0], opts.bufferBytes)
      try {
        for (let i = 0; i < files.length; i++) {
          const file = files[i]
          const whole = await next
          next = i + 1 < files.length ? readWhole(files[i + 1], opts.bufferBytes) : undefined
          const source: Source =
            whole === undefined ? () => fileBatches(file) : () => bufferBatches(whole, file)
          yield* inPasses(source, arena, opts)
        }
      } finally {
        // A scan stopped early leaves the read ahead unobserved.
        next?.catch(() => undefined)
      }
    }
  } finally {
    await snapshot.close()
    if (opts.spill !== undefined) await removeSpill(opts.spill.dir)
  }
}

/** Removes a spill directory, best effort: one that cannot be removed (or never was made) must
 *  not fail the rebuild; the next rebuild empties it before use. */
function removeSpill(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true }).catch(() => undefined)
}

/** Every entry of `source` in target order, in pages, by as many passes as the buffer needs. */
async function* inPasses(
  source: Source,
  arena: Buffer,
  opts: { pageEvents: number; stats?: ScanStats },
): AsyncGenerator<StoredEvent[]> {
  // Exclusive lower bound of the next pass: the last key handed out.
  let lower: Buffer | undefined
  for (;;) {
    const pass = await scanPass(source, arena, lower)
    if (opts.stats !== undefined) {
      opts.stats.passes++
      opts.stats.scanned += pass.scanned
    }
    const { order, keyAt, keyLen } = pass
    for (let i = 0; i < order.length; i += opts.pageEvents)
      yield checkedPage(arena, pass, i, Math.min(order.length, i + opts.pageEvents))
    if (pass.upper === undefined) return
    if (order.length === 0) throw new Error('scanByTarget: a narrowed pass kept no event')
    const last = order[order.length - 1]
    lower = Buffer.from(arena.subarray(keyAt[last], keyAt[last] + keyLen[last]))
  }
}

async function* logBatches(
  s: K.Sublevels,
  snapshot: AbstractSnapshot,
): AsyncGenerator<ReadonlyArray<readonly [Uint8Array, Uint8Array]>> {
  const it = s.events.iterator({ snapshot })
  // One read ahead: LevelDB fills the next chunk on its thread while the caller checks and
  // spills this one (otherwise the main thread idles through every `nextv`).
  let next: Promise<Array<[Uint8Array, Uint8Array]>> | undefined = it.nextv(SCAN_CHUNK)
  try {
    for (;;) {
      const rows = await next
      next = undefined
      if (rows.length === 0) return
      next = it.nextv(SCAN_CHUNK)
      yield rows
    }
  } finally {
    // A caller that stops early leaves a read in flight: it ends before the iterator closes.
    await next?.catch(() => {})
    await it.close()
  }
}

/** Bytes of a spill file read at a time, and of each bucket's write buffer. */
const SPILL_READ_BYTES = 1 << 20
const SPILL_WRITE_BYTES = 1 << 16
/** Bytes of spill writes handed to the pool and not done yet, at most: the read of the log goes
 *  on while they are written (awaiting each 64 KiB write was one pool round trip per buffer, and
 *  the rebuild waited on them: ~7,700 for a million events). */
const SPILL_IN_FLIGHT_BYTES = 4 << 20

/** One read of the log into `buckets` files (record: digest 32 ‖ value length u32 ‖ value). */
async function spillByTarget(
  source: Source,
  dir: string,
  buckets: number,
  stats: ScanStats | undefined,
): Promise<string[]> {
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const files = Array.from({ length: buckets }, (_, i) => join(dir, `bucket-${i}.tmp`))
  const handles = await Promise.all(files.map((f) => open(f, 'wx')))
  const bufs: Buffer[] = files.map(() => Buffer.allocUnsafe(SPILL_WRITE_BYTES))
  const used = new Array<number>(buckets).fill(0)
  // Writes are positional (each bucket's next offset), so several may be in flight at once.
  const offsets = new Array<number>(buckets).fill(0)
  const inFlight = new Set<Promise<void>>()
  let inFlightBytes = 0
  const spare: Buffer[] = []
  let failure: { err: unknown } | undefined
  const write = (b: number, buf: Buffer, length: number, recycle: boolean) => {
    const position = offsets[b]
    offsets[b] += length
    inFlightBytes += length
    const p: Promise<void> = handles[b]
      .write(buf, 0, length, position)
      .then(({ bytesWritten }) => {
        if (bytesWritten !== length)
          throw new Error(`${files[b]}: wrote ${bytesWritten} of ${length} bytes (disk full?)`)
      })
      .catch((err: unknown) => {
        failure ??= { err }
      })
      .finally(() => {
        inFlight.delete(p)
        inFlightBytes -= length
        if (recycle) spare.push(buf)
      })
    inFlight.add(p)
  }
  const settle = async (limit: number) => {
    while (inFlightBytes > limit && inFlight.size > 0) await Promise.race(inFlight)
    if (failure !== undefined) throw failure.err
  }
  const flush = async (b: number) => {
    if (used[b] > 0) {
      write(b, bufs[b], used[b], true)
      bufs[b] = spare.pop() ?? Buffer.allocUnsafe(SPILL_WRITE_BYTES)
      used[b] = 0
    }
    await settle(SPILL_IN_FLIGHT_BYTES)
  }
  try {
    let scanned = 0
    for await (const rows of source()) {
      scanned += rows.length
      for (const [digest, value] of rows) {
        const signed = checkedSigned(digest, value)
        const b = bucketOf(signed, buckets)
        const need = 36 + value.byteLength
        if (used[b] + need > SPILL_WRITE_BYTES) await flush(b)
        if (need > SPILL_WRITE_BYTES) {
          const rec = Buffer.allocUnsafe(need)
          rec.set(digest, 0)
          rec.writeUInt32BE(value.byteLength, 32)
          rec.set(value, 36)
          write(b, rec, need, false)
          await settle(SPILL_IN_FLIGHT_BYTES)
          continue
        }
        const buf = bufs[b]
        buf.set(digest, used[b])
        buf.writeUInt32BE(value.byteLength, used[b] + 32)
        buf.set(value, used[b] + 36)
        used[b] += need
      }
    }
    for (let b = 0; b < buckets; b++) await flush(b)
    await settle(0)
    if (stats !== undefined) {
      stats.passes++
      stats.scanned += scanned
    }
    return files
  } finally {
    // No write may still be running when the files are closed (or removed, on a failure).
    await Promise.allSettled([...inFlight])
    await Promise.all(handles.map((h) => h.close()))
  }
}

/** FNV-1a of a target's type and id bytes (bytes[typeAt], bytes[at, end)). */
function targetFnv(bytes: Uint8Array, typeAt: number, at: number, end: number): number {
  let h = Math.imul(0x811c9dc5 ^ bytes[typeAt], 0x01000193)
  for (let i = at; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193)
  return h >>> 0
}

/** FNV-1a of the target's type and id: which spill file an event goes to. */
function bucketOf(signed: Uint8Array, buckets: number): number {
  const end = TARGET_AT + ((signed[TARGET_LEN_AT] << 8) | signed[TARGET_LEN_AT + 1])
  return targetFnv(signed, TYPE_AT, TARGET_AT, end) % buckets
}

/** The records of a spill file, in batches read a megabyte at a time (a record larger than
 *  that is read whole). */
async function* fileBatches(file: string): AsyncGenerator<ReadonlyArray<readonly [Uint8Array, Uint8Array]>> {
  const h = await open(file, 'r')
  const truncated = () => new StorageCorruptionError(`${file}: the rebuild's spill file ends inside a record`)
  try {
    let carry: Buffer = Buffer.alloc(0)
    for (;;) {
      let size = SPILL_READ_BYTES
      if (carry.byteLength >= 36) size = Math.max(size, 36 + carry.readUInt32BE(32))
      const chunk = Buffer.allocUnsafe(size)
      carry.copy(chunk, 0)
      const { bytesRead } = await h.read(chunk, carry.byteLength, chunk.byteLength - carry.byteLength)
      const end = carry.byteLength + bytesRead
      const rows: Array<readonly [Uint8Array, Uint8Array]> = []
      const at = takeRecords(chunk, 0, end, rows, Number.POSITIVE_INFINITY)
      if (bytesRead === 0) {
        if (at !== end) throw truncated()
        return
      }
      carry = chunk.subarray(at, end)
      if (rows.length > 0) yield rows
    }
  } finally {
    await h.close()
  }
}

/** Spill records (digest (32) ‖ length (u32) ‖ stored value) lying whole in buf[at, end),
 *  appended to `rows` until it holds `max`; returns where the first record not taken starts. */
function takeRecords(
  buf: Buffer,
  at: number,
  end: number,
  rows: Array<readonly [Uint8Array, Uint8Array]>,
  max: number,
): number {
  while (rows.length < max && at + 36 <= end) {
    const len = buf.readUInt32BE(at + 32)
    if (at + 36 + len > end) break
    rows.push([buf.subarray(at, at + 32), buf.subarray(at + 36, at + 36 + len)])
    at += 36 + len
  }
  return at
}

/** A spill file's bytes, when it holds at most `max`; undefined when larger. */
async function readWhole(file: string, max: number): Promise<Buffer | undefined> {
  const h = await open(file, 'r')
  try {
    return (await h.stat()).size > max ? undefined : await h.readFile()
  } finally {
    await h.close()
  }
}

/** The records of a spill file read whole, in batches of SCAN_CHUNK. */
async function* bufferBatches(
  buf: Buffer,
  file: string,
): AsyncGenerator<ReadonlyArray<readonly [Uint8Array, Uint8Array]>> {
  let at = 0
  for (;;) {
    const rows: Array<readonly [Uint8Array, Uint8Array]> = []
    at = takeRecords(buf, at, buf.byteLength, rows, SCAN_CHUNK)
    if (rows.length === 0) break
    yield rows
  }
  if (at !== buf.byteLength)
    throw new StorageCorruptionError(`${file}: the rebuild's spill file ends inside a record`)
}

/** The signed bytes of a stored value whose header is an event's; else corruption, named. */
function checkedSigned(digest: Uint8Array, value: Uint8Array): Uint8Array {
  const signed = value.subarray(SIGNATURE_BYTES)
  if (digest.byteLength !== 32 || value.byteLength <= SIGNATURE_BYTES || !isEventHeader(signed))
    throw new StorageCorruptionError(
      `${K.describeKey('ev', digest)}: value is not signature + signed event bytes`,
    )
  return signed
}

/** Entries order[from, to) of a pass, copied out of the arena into one buffer for the page (one
 *  allocation a page, not one an event) and each checked like any read (eventValueViews: a
 *  header, signed bytes that hash to the key, whose last 32 bytes are the digest). */
function checkedPage(
  arena: Buffer,
  pass: Pick<Pass, 'order' | 'keyAt' | 'keyLen' | 'valLen'>,
  from: number,
  to: number,
): StoredEvent[] {
  const { order, keyAt, keyLen, valLen } = pass
  let bytes = 0
  for (let j = from; j < to; j++) bytes += valLen[order[j]]
  const own = new Uint8Array(bytes)
  const page: StoredEvent[] = []
  let at = 0
  for (let j = from; j < to; j++) {
    const e = order[j]
    const valueAt = keyAt[e] + keyLen[e]
    arena.copy(own, at, valueAt, valueAt + valLen[e])
    page.push(eventValueViews(arena.subarray(valueAt - 32, valueAt), own.subarray(at, at + valLen[e])))
    at += valLen[e]
  }
  return page
}

interface Pass {
  /** Entry numbers in target order. */
  order: number[]
  keyAt: number[]
  keyLen: number[]
  valLen: number[]
  /** The exclusive upper bound the pass narrowed to; undefined when it kept every event after
   *  `lower` (the last pass). */
  upper: Buffer | undefined
  scanned: number
}

/** One sequential read of `source`, keeping the events after `lower` that fit. */
async function scanPass(source: Source, arena: Buffer, lower: Buffer | undefined): Promise<Pass> {
  let keyAt: number[] = []
  let keyLen: number[] = []
  let valLen: number[] = []
  let used = 0
  let upper: Buffer | undefined
  let scanned = 0
  const compare = (a: number, b: number) =>
    arena.compare(arena, keyAt[b], keyAt[b] + keyLen[b], keyAt[a], keyAt[a] + keyLen[a])
  const sorted = () => {
    const order = keyAt.map((_, i) => i)
    order.sort(compare)
    return order
  }
  /** Keeps the lower half (by bytes) of the entries and sets `upper` to the first key dropped. */
  const halve = () => {
    const order = sorted()
    let bytes = 0
    let cut = 0
    // At least one entry stays (a pass always hands out something) and at least one goes.
    while (
      cut < order.length - 1 &&
      (cut === 0 || bytes + keyLen[order[cut]] + valLen[order[cut]] <= used / 2)
    ) {
      bytes += keyLen[order[cut]] + valLen[order[cut]]
      cut++
    }
    const first = order[cut]
    upper = Buffer.from(arena.subarray(keyAt[first], keyAt[first] + keyLen[first]))
    const keep = new Uint8Array(keyAt.length)
    for (const i of order.slice(0, cut)) keep[i] = 1
    // Entries lie in the arena in insertion order: moving the kept ones down is safe in place.
    const nextAt: number[] = []
    const nextKey: number[] = []
    const nextVal: number[] = []
    let at = 0
    for (let i = 0; i < keyAt.length; i++) {
      if (keep[i] === 0) continue
      const len = keyLen[i] + valLen[i]
      if (keyAt[i] !== at) arena.copyWithin(at, keyAt[i], keyAt[i] + len)
      nextAt.push(at)
      nextKey.push(keyLen[i])
      nextVal.push(valLen[i])
      at += len
    }
    keyAt = nextAt
    keyLen = nextKey
    valLen = nextVal
    used = at
  }

  for await (const rows of source()) {
    scanned += rows.length
    for (const [digest, value] of rows) {
      const signed = checkedSigned(digest, value)
      const targetLen = (signed[TARGET_LEN_AT] << 8) | signed[TARGET_LEN_AT + 1]
      const kLen = 1 + 2 + targetLen + 8 + 32
      const need = kLen + value.byteLength
      if (need > arena.byteLength / 2)
        throw new RangeError(
          `rebuild buffer of ${arena.byteLength} bytes is too small for event ${K.describeKey('ev', digest)} (${value.byteLength} bytes)`,
        )
      if (used + need > arena.byteLength) halve()
      // The key is written where the entry would go, then compared with the bounds.
      const at = used
      arena[at] = signed[TYPE_AT]
      arena.set(signed.subarray(TARGET_LEN_AT, TARGET_AT + targetLen), at + 1)
      arena.set(signed.subarray(HLC_AT, HLC_AT + 8), at + 3 + targetLen)
      arena.set(digest, at + 11 + targetLen)
      if (lower !== undefined && arena.compare(lower, 0, lower.byteLength, at, at + kLen) <= 0) continue
      if (upper !== undefined && arena.compare(upper, 0, upper.byteLength, at, at + kLen) >= 0) continue
      arena.set(value, at + kLen)
      keyAt.push(at)
      keyLen.push(kLen)
      valLen.push(value.byteLength)
      used += need
    }
  }
  // A pass that kept every entry of the source (no bounds) hands them out in any order that
  // keeps each target together in (HLC, digest) order: the order of targets is free.
  const whole = lower === undefined && upper === undefined
  return { order: whole ? grouped(arena, keyAt, keyLen) : sorted(), keyAt, keyLen, valLen, upper, scanned }
}

/**
 * Entry numbers with each target's entries together, in (HLC, digest) order, and the targets in
 * the order of a 32-bit hash of their type and id: the sort compares numbers (the hash, the
 * HLC's wall and counter), not the keys' bytes, and falls back to the bytes only for entries of
 * equal hash and HLC. Two targets of the same hash would interleave: the order is checked
 * (one comparison of adjacent entries of equal hash) and, on such a collision, the entries are
 * sorted by their keys' bytes instead.
 */
function grouped(arena: Buffer, keyAt: readonly number[], keyLen: readonly number[]): number[] {
  const n = keyAt.length
  const hashOf = new Float64Array(n)
  const wallOf = new Float64Array(n)
  const counterOf = new Float64Array(n)
  // Key: type (1) ‖ target length (u16) ‖ target ‖ HLC (u48 wall ‖ u16 counter) ‖ digest (32).
  for (let i = 0; i < n; i++) {
    const at = keyAt[i]
    const hlcAt = at + 3 + ((arena[at + 1] << 8) | arena[at + 2])
    hashOf[i] = targetFnv(arena, at, at + 3, hlcAt)
    wallOf[i] = arena.readUIntBE(hlcAt, 6)
    counterOf[i] = (arena[hlcAt + 6] << 8) | arena[hlcAt + 7]
  }
  const byKey = (a: number, b: number) =>
    arena.compare(arena, keyAt[b], keyAt[b] + keyLen[b], keyAt[a], keyAt[a] + keyLen[a])
  const order = Array.from({ length: n }, (_, i) => i)
  order.sort(
    (a, b) => hashOf[a] - hashOf[b] || wallOf[a] - wallOf[b] || counterOf[a] - counterOf[b] || byKey(a, b),
  )
  // The end of the key's target part (type, length and id).
  const end = (i: number) => keyAt[i] + 3 + ((arena[keyAt[i] + 1] << 8) | arena[keyAt[i] + 2])
  for (let j = 1; j < n; j++) {
    const a = order[j - 1]
    const b = order[j]
    if (hashOf[a] !== hashOf[b]) continue
    if (arena.compare(arena, keyAt[b], end(b), keyAt[a], end(a)) !== 0) return order.sort(byKey)
  }
  return order
}
