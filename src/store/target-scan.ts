/**
 * The rebuild's read: every stored event in target order (the order of the `tgt` index: type,
 * target length, target, HLC, digest) without one random read per event.
 *
 * The log is keyed by digest, so reading it in target order through the `tgt` index is one
 * random `ev` lookup per event: at a million events the rebuild waited on those reads for half
 * its wall time (docs/BENCHMARKS.md). Here the `ev` sublevel is read sequentially instead, in
 * passes. A pass keeps the events of one range of the target order in a buffer of at most
 * `bufferBytes` (one preallocated arena: each kept event's target-order key, then its stored
 * value); when the buffer is full it sorts what it holds, keeps the lower half by bytes and
 * narrows the range's upper bound to the first key it dropped. At the end of the scan the range
 * is sorted and handed out in pages, and the next pass starts after its last key. A pass costs one
 * sequential read of the log; the passes number about log bytes / (¾ · bufferBytes).
 *
 * Each event handed out is checked like any read (decodeEventValue: its signed bytes hash to its
 * key) and copied out of the arena; an event whose value has no event header is corruption,
 * named by its key, whichever pass meets it.
 */
import type { AbstractSnapshot } from 'abstract-level'
import type { StoredEvent } from '../core/records.ts'
import { decodeEventValue, SIGNATURE_BYTES } from './codecs.ts'
import { StorageCorruptionError } from './errors.ts'
import { isEventHeader } from './event-header.ts'
import * as K from './keys.ts'

/** Entries read from the iterator at a time. */
const SCAN_CHUNK = 1_024

/** Offsets in the signed bytes (src/store/event-header.ts). */
const TYPE_AT = 4
const HLC_AT = 21
const TARGET_LEN_AT = 61
const TARGET_AT = 63

/** What a scan reports: passes made and entries read over all passes (a benchmark figure). */
export interface ScanStats {
  passes: number
  scanned: number
}

/**
 * Pages of at most `pageEvents` events, every stored event once, in target order.
 * `bufferBytes` must hold at least two of the largest stored events with their keys.
 */
export async function* scanByTarget(
  db: K.LevelDatabase,
  s: K.Sublevels,
  opts: { bufferBytes: number; pageEvents: number; stats?: ScanStats },
): AsyncGenerator<StoredEvent[]> {
  const arena = Buffer.allocUnsafeSlow(opts.bufferBytes)
  const snapshot = db.snapshot()
  try {
    // Exclusive lower bound of the next pass: the last key handed out.
    let lower: Buffer | undefined
    for (;;) {
      const pass = await scanPass(s, snapshot, arena, lower)
      if (opts.stats !== undefined) {
        opts.stats.passes++
        opts.stats.scanned += pass.scanned
      }
      const { order, keyAt, keyLen, valLen } = pass
      for (let i = 0; i < order.length; i += opts.pageEvents) {
        const page: StoredEvent[] = []
        for (const e of order.slice(i, i + opts.pageEvents)) {
          const key = arena.subarray(keyAt[e], keyAt[e] + keyLen[e])
          page.push(
            decodeArenaEvent(key, arena.subarray(keyAt[e] + keyLen[e], keyAt[e] + keyLen[e] + valLen[e])),
          )
        }
        yield page
      }
      if (pass.upper === undefined) return
      if (order.length === 0) throw new Error('scanByTarget: a narrowed pass kept no event')
      const last = order[order.length - 1]
      lower = Buffer.from(arena.subarray(keyAt[last], keyAt[last] + keyLen[last]))
    }
  } finally {
    await snapshot.close()
  }
}

/** Checks and copies one event out of the arena (the digest is the key's last 32 bytes). */
function decodeArenaEvent(key: Buffer, value: Buffer): StoredEvent {
  return decodeEventValue(key.subarray(key.byteLength - 32), value)
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

/** One sequential read of the `ev` sublevel, keeping the events after `lower` that fit. */
async function scanPass(
  s: K.Sublevels,
  snapshot: AbstractSnapshot,
  arena: Buffer,
  lower: Buffer | undefined,
): Promise<Pass> {
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

  const it = s.events.iterator({ snapshot })
  try {
    for (;;) {
      const rows = await it.nextv(SCAN_CHUNK)
      if (rows.length === 0) break
      scanned += rows.length
      for (const [digest, value] of rows) {
        const signed = value.subarray(SIGNATURE_BYTES)
        if (digest.byteLength !== 32 || value.byteLength <= SIGNATURE_BYTES || !isEventHeader(signed))
          throw new StorageCorruptionError(
            `${K.describeKey('ev', digest)}: value is not signature + signed event bytes`,
          )
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
  } finally {
    await it.close()
  }
  return { order: sorted(), keyAt, keyLen, valLen, upper, scanned }
}
