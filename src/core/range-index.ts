/**
 * RangeIndex: the sorted set of a node's events of one type, keyed (HLC, digest), with range
 * fingerprints in O(chunks + chunk size) — the data structure range-based set reconciliation
 * (src/core/reconcile-session.ts) asks questions of. Pure and in memory: the node builds it
 * from the store's time index at start-up and adds every committed event.
 *
 * An item is a 40-byte key: the event's 8 HLC bytes (as in its signed bytes, so byte order is
 * HLC order) then its 32-byte digest. A range's fingerprint is the first 16 bytes of
 * sha256(Σ digests mod 2^256, little-endian ‖ u32 LE count) — negentropy's construction, which
 * is order-independent and incremental: a chunk keeps the sum of its digests, so a range costs
 * the whole chunks inside it plus at most two partial chunks.
 *
 * Items live in chunks of at most CHUNK_ITEMS_MAX keys, each one flat Uint8Array (40 bytes an
 * item, no object per item: 1,000,000 events take ~40 MB plus ~1% for chunk headers). Inserting
 * into a full chunk splits it in two; HLC-ordered writes append to the last chunk.
 */
import { sha256 } from '../util/crypto.ts'

export const KEY_BYTES = 40
export const HLC_BYTES = 8
export const DIGEST_BYTES = 32
export const FINGERPRINT_BYTES = 16
/** Items per chunk: a partial chunk costs at most this many 32-byte additions per fingerprint,
 *  and an insert moves at most this many keys (40 KB); 1,024 keeps both well under a
 *  millisecond and the chunk list of a million events at ~1,000 entries. */
export const CHUNK_ITEMS_MAX = 1024

interface Chunk {
  keys: Uint8Array
  n: number
  /** Σ digests mod 2^256 as eight little-endian u32 words. */
  readonly sum: Uint32Array
}

/** Adds a 32-byte little-endian number into an 8-word accumulator, mod 2^256. */
export function addDigest(acc: Uint32Array, bytes: Uint8Array, offset: number): void {
  let carry = 0
  for (let w = 0; w < 8; w++) {
    const o = offset + w * 4
    const word = (bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24)) >>> 0
    const s = acc[w] + word + carry
    acc[w] = s >>> 0
    carry = s > 0xffffffff ? 1 : 0
  }
}

function addSum(acc: Uint32Array, other: Uint32Array): void {
  let carry = 0
  for (let w = 0; w < 8; w++) {
    const s = acc[w] + other[w] + carry
    acc[w] = s >>> 0
    carry = s > 0xffffffff ? 1 : 0
  }
}

/** The fingerprint of a sum and a count (16 bytes). */
export function fingerprintOf(sum: Uint32Array, count: number): Uint8Array {
  const buf = new Uint8Array(36)
  const view = new DataView(buf.buffer)
  for (let w = 0; w < 8; w++) view.setUint32(w * 4, sum[w], true)
  view.setUint32(32, count >>> 0, true)
  return sha256(buf).subarray(0, FINGERPRINT_BYTES)
}

/** Bytewise compare of a[ao..ao+len) with b[bo..bo+blen); a shorter prefix sorts first. */
function compareAt(a: Uint8Array, ao: number, alen: number, b: Uint8Array, bo: number, blen: number): number {
  const n = alen < blen ? alen : blen
  for (let i = 0; i < n; i++) {
    const d = a[ao + i] - b[bo + i]
    if (d !== 0) return d
  }
  return alen - blen
}

export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  return compareAt(a, 0, a.length, b, 0, b.length)
}

/** Builds the 40-byte key of an event. */
export function itemKey(hlc8: Uint8Array, digest32: Uint8Array): Uint8Array {
  const k = new Uint8Array(KEY_BYTES)
  k.set(hlc8.subarray(0, HLC_BYTES), 0)
  k.set(digest32.subarray(0, DIGEST_BYTES), HLC_BYTES)
  return k
}

export class RangeIndex {
  #chunks: Chunk[] = []
  #size = 0
  /** Items before each chunk; rebuilt lazily after an insert. */
  #starts: number[] = []
  #startsDirty = false

  get size(): number {
    return this.#size
  }

  /** Adds a key (40 bytes). Returns false when it was already there. */
  insert(key: Uint8Array): boolean {
    if (key.length !== KEY_BYTES) throw new RangeError(`a range index key is ${KEY_BYTES} bytes`)
    if (this.#chunks.length === 0) {
      this.#chunks.push(newChunk())
    }
    // In-order writes (HLC order) append: compare with the last key only.
    const lastChunk = this.#chunks.length - 1
    const tail = this.#chunks[lastChunk]
    const appends =
      tail.n === 0 || compareAt(tail.keys, (tail.n - 1) * KEY_BYTES, KEY_BYTES, key, 0, KEY_BYTES) < 0
    const ci = appends ? lastChunk : this.#chunkFor(key)
    const c = this.#chunks[ci]
    const at = appends ? c.n : lowerIn(c, key)
    if (at < c.n && compareAt(c.keys, at * KEY_BYTES, KEY_BYTES, key, 0, KEY_BYTES) === 0) return false
    if (c.n * KEY_BYTES === c.keys.length) {
      const grown = new Uint8Array(Math.min(c.keys.length * 2, CHUNK_ITEMS_MAX * KEY_BYTES))
      grown.set(c.keys)
      c.keys = grown
    }
    c.keys.copyWithin((at + 1) * KEY_BYTES, at * KEY_BYTES, c.n * KEY_BYTES)
    c.keys.set(key, at * KEY_BYTES)
    c.n++
    addDigest(c.sum, key, HLC_BYTES)
    this.#size++
    if (c.n === CHUNK_ITEMS_MAX) this.#split(ci, at === c.n - 1 && ci === this.#chunks.length - 1)
    this.#startsDirty = true
    return true
  }

  has(key: Uint8Array): boolean {
    if (this.#chunks.length === 0) return false
    const c = this.#chunks[this.#chunkFor(key)]
    const at = lowerIn(c, key)
    return at < c.n && compareAt(c.keys, at * KEY_BYTES, KEY_BYTES, key, 0, KEY_BYTES) === 0
  }

  /** Position of the first item >= bound (a key or any prefix of one; empty = 0). */
  lowerBound(bound: Uint8Array): number {
    if (this.#chunks.length === 0 || bound.length === 0) return 0
    const starts = this.#startsArray()
    const ci = this.#chunkFor(bound)
    return starts[ci] + lowerIn(this.#chunks[ci], bound)
  }

  /** The key at a position (a copy). */
  keyAt(pos: number): Uint8Array {
    const [c, i] = this.#locate(pos)
    return c.keys.slice(i * KEY_BYTES, (i + 1) * KEY_BYTES)
  }

  /** The fingerprint of items [lo, hi). */
  fingerprint(lo: number, hi: number): Uint8Array {
    const sum = new Uint32Array(8)
    this.#sumRange(lo, hi, sum)
    return fingerprintOf(sum, Math.max(0, hi - lo))
  }

  /** Digests (32 bytes each, copies) of items [lo, hi). */
  digests(lo: number, hi: number): Uint8Array[] {
    const out: Uint8Array[] = []
    this.#each(lo, hi, (keys, o) => {
      out.push(keys.slice(o + HLC_BYTES, o + KEY_BYTES))
    })
    return out
  }

  /**
   * The shortest prefix of the key at `pos` that sorts after the key at `pos - 1`: a bound that
   * splits [.., pos) from [pos, ..) in as few bytes as possible (negentropy's bound trimming).
   */
  boundAt(pos: number): Uint8Array {
    if (pos <= 0) return new Uint8Array(0)
    const cur = this.keyAt(pos)
    const prev = this.keyAt(pos - 1)
    let i = 0
    while (i < KEY_BYTES && cur[i] === prev[i]) i++
    return cur.slice(0, Math.min(KEY_BYTES, i + 1))
  }

  #startsArray(): number[] {
    if (this.#startsDirty || this.#starts.length !== this.#chunks.length) {
      const starts = new Array<number>(this.#chunks.length)
      let s = 0
      for (let i = 0; i < this.#chunks.length; i++) {
        starts[i] = s
        s += this.#chunks[i].n
      }
      this.#starts = starts
      this.#startsDirty = false
    }
    return this.#starts
  }

  /** The chunk whose range holds `key`: the last chunk whose first key is <= key (or the first). */
  #chunkFor(key: Uint8Array): number {
    let lo = 0
    let hi = this.#chunks.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      const c = this.#chunks[mid]
      if (compareAt(c.keys, 0, KEY_BYTES, key, 0, key.length) <= 0) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  #locate(pos: number): [Chunk, number] {
    if (pos < 0 || pos >= this.#size) throw new RangeError(`position ${pos} outside 0..${this.#size - 1}`)
    const starts = this.#startsArray()
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (starts[mid] <= pos) lo = mid
      else hi = mid - 1
    }
    return [this.#chunks[lo], pos - starts[lo]]
  }

  /** Splits a full chunk in two halves; an append at the very end instead starts a new last
   *  chunk with the one new key, so HLC-ordered writes leave full chunks behind (not half-full
   *  ones, which would double the memory of a log written in order). */
  #split(ci: number, appended: boolean): void {
    const c = this.#chunks[ci]
    const half = appended ? c.n - 1 : c.n >>> 1
    const right = newChunk()
    right.keys = new Uint8Array(CHUNK_ITEMS_MAX * KEY_BYTES)
    right.keys.set(c.keys.subarray(half * KEY_BYTES, c.n * KEY_BYTES))
    right.n = c.n - half
    c.n = half
    c.sum.fill(0)
    for (let i = 0; i < c.n; i++) addDigest(c.sum, c.keys, i * KEY_BYTES + HLC_BYTES)
    for (let i = 0; i < right.n; i++) addDigest(right.sum, right.keys, i * KEY_BYTES + HLC_BYTES)
    this.#chunks.splice(ci + 1, 0, right)
  }

  #each(lo: number, hi: number, f: (keys: Uint8Array, offset: number) => void): void {
    if (hi <= lo) return
    const starts = this.#startsArray()
    for (let ci = 0; ci < this.#chunks.length; ci++) {
      const c = this.#chunks[ci]
      const s = starts[ci]
      if (s + c.n <= lo) continue
      if (s >= hi) break
      const from = Math.max(lo, s) - s
      const to = Math.min(hi, s + c.n) - s
      for (let i = from; i < to; i++) f(c.keys, i * KEY_BYTES)
    }
  }

  #sumRange(lo: number, hi: number, acc: Uint32Array): void {
    if (hi <= lo) return
    const starts = this.#startsArray()
    // First chunk with items >= lo.
    let a = 0
    let b = starts.length - 1
    while (a < b) {
      const mid = (a + b + 1) >>> 1
      if (starts[mid] <= lo) a = mid
      else b = mid - 1
    }
    for (let ci = a; ci < this.#chunks.length; ci++) {
      const c = this.#chunks[ci]
      const s = starts[ci]
      if (s >= hi) break
      const from = Math.max(lo, s) - s
      const to = Math.min(hi, s + c.n) - s
      if (from === 0 && to === c.n) addSum(acc, c.sum)
      else for (let i = from; i < to; i++) addDigest(acc, c.keys, i * KEY_BYTES + HLC_BYTES)
    }
  }
}

function newChunk(): Chunk {
  return { keys: new Uint8Array(64 * KEY_BYTES), n: 0, sum: new Uint32Array(8) }
}

/** First index in the chunk whose key is >= `key` (a key or prefix). */
function lowerIn(c: Chunk, key: Uint8Array): number {
  let lo = 0
  let hi = c.n
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareAt(c.keys, mid * KEY_BYTES, KEY_BYTES, key, 0, key.length) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}
