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
 * Items live in chunks, each one flat Uint8Array (40 bytes an item, no object per item:
 * 1,000,000 events take 40 MB of keys, ~55 MB with the chunks' spare room).
 * Chunk boundaries are content-defined: a key whose digest's first two bytes are 0 mod
 * CHUNK_BOUNDARY_EVERY starts a chunk, so the chunks over a key range are a function of the keys
 * in it, whatever order they were inserted in (a chunk that reaches CHUNK_ITEMS_MAX splits in
 * half, the one exception). HLC-ordered writes append to the last chunk.
 *
 * Sharing: indexes that hold the same keys in a range hold equal chunks there, and `share(pool)`
 * replaces each chunk by an equal one a ChunkPool already holds (read-only from then on: an
 * index copies a shared chunk before it changes it). The simulator shares its thousand nodes'
 * indexes this way; a node's single index never needs it.
 */
import { sha256 } from '../util/crypto.ts'

export const KEY_BYTES = 40
export const HLC_BYTES = 8
export const DIGEST_BYTES = 32
export const FINGERPRINT_BYTES = 16
/** Items per chunk at most: a partial chunk costs at most this many 32-byte additions per
 *  fingerprint, and an insert moves at most this many keys (40 KB); 1,024 keeps both well under
 *  a millisecond. */
export const CHUNK_ITEMS_MAX = 1024
/** A key starts a chunk with probability 1/this (digests are uniform): chunks of 256 items on
 *  average, the chunk list of a million events at ~4,000 entries, and a chunk reaching
 *  CHUNK_ITEMS_MAX (split in half, not by content) about once in 55 (e^-4). */
export const CHUNK_BOUNDARY_EVERY = 256
/** Spare keys of a new chunk or a private copy of a shared one; a full buffer doubles. */
const GROW_KEYS = 64

interface Chunk {
  keys: Uint8Array
  n: number
  /** Σ digests mod 2^256 as eight little-endian u32 words. */
  readonly sum: Uint32Array
  /** Set while the chunk is shared through a pool: read-only, copied before a change. */
  pool?: ChunkPool
  /** Indexes holding the chunk (while pooled). */
  refs: number
  poolKey?: string
  /** Changed since the last share(): not pooled yet (it is likely to change again). */
  touched: boolean
}

/** Whether two chunks hold the same keys (their buffers start at offset 0: compared by words). */
function sameKeys(a: Chunk, b: Chunk): boolean {
  if (a.n !== b.n) return false
  const words = (a.n * KEY_BYTES) >>> 2
  const x = new Int32Array(a.keys.buffer, a.keys.byteOffset, words)
  const y = new Int32Array(b.keys.buffer, b.keys.byteOffset, words)
  for (let i = 0; i < words; i++) if (x[i] !== y[i]) return false
  return true
}

/** Whether the key at `offset` starts a chunk (content-defined boundary). */
function isBoundary(keys: Uint8Array, offset: number): boolean {
  return ((keys[offset + HLC_BYTES] << 8) | keys[offset + HLC_BYTES + 1]) % CHUNK_BOUNDARY_EVERY === 0
}

/**
 * Chunks shared by indexes that hold equal ones (the simulator's thousand nodes holding mostly
 * the same events): each distinct chunk is kept once, counted by the indexes that hold it, and
 * dropped when the last one lets it go.
 */
export class ChunkPool {
  readonly #byKey = new Map<string, Chunk[]>()
  #chunks = 0
  #items = 0

  /** The pooled chunk equal to `c` (one more holder), or `c` itself, now pooled. */
  intern(c: Chunk): Chunk {
    let key = `${c.n}`
    for (let w = 0; w < 8; w++) key += `:${c.sum[w]}`
    let list = this.#byKey.get(key)
    if (list !== undefined)
      for (const o of list)
        if (sameKeys(o, c)) {
          o.refs++
          return o
        }
    if (c.keys.length > c.n * KEY_BYTES) c.keys = c.keys.slice(0, c.n * KEY_BYTES)
    c.pool = this
    c.refs = 1
    c.poolKey = key
    if (list === undefined) {
      list = []
      this.#byKey.set(key, list)
    }
    list.push(c)
    this.#chunks++
    this.#items += c.n
    return c
  }

  /** One holder fewer; the last one drops the chunk from the pool. */
  release(c: Chunk): void {
    if (c.pool !== this || --c.refs > 0) return
    const list = this.#byKey.get(c.poolKey!)!
    list.splice(list.indexOf(c), 1)
    if (list.length === 0) this.#byKey.delete(c.poolKey!)
    this.#chunks--
    this.#items -= c.n
  }

  /** Distinct chunks held, and the items in them. */
  get chunks(): number {
    return this.#chunks
  }

  get items(): number {
    return this.#items
  }
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
  const n = Math.min(alen, blen)
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
  /** Some chunk changed since the last share(). */
  #unshared = false

  get size(): number {
    return this.#size
  }

  /** Adds a key (40 bytes). Returns false when it was already there. */
  insert(key: Uint8Array): boolean {
    if (key.length !== KEY_BYTES) throw new RangeError(`a range index key is ${KEY_BYTES} bytes`)
    if (this.#chunks.length === 0) {
      this.#chunks.push(newChunk(GROW_KEYS))
    }
    // In-order writes (HLC order) append: compare with the last key only.
    const lastChunk = this.#chunks.length - 1
    const tail = this.#chunks[lastChunk]
    const appends =
      tail.n === 0 || compareAt(tail.keys, (tail.n - 1) * KEY_BYTES, KEY_BYTES, key, 0, KEY_BYTES) < 0
    // Late arrivals mostly land in the last chunk: no search over the chunk list for them.
    const ci =
      appends || compareAt(tail.keys, 0, KEY_BYTES, key, 0, KEY_BYTES) <= 0 ? lastChunk : this.#chunkFor(key)
    const at = appends ? tail.n : lowerIn(this.#chunks[ci], key)
    {
      const c = this.#chunks[ci]
      if (at < c.n && compareAt(c.keys, at * KEY_BYTES, KEY_BYTES, key, 0, KEY_BYTES) === 0) return false
    }
    this.#size++
    this.#startsDirty = true
    this.#unshared = true
    if (at > 0 && isBoundary(key, 0)) {
      this.#splitAt(ci, at, key)
      return true
    }
    if (at === 0 && this.#chunks[ci].n > 0 && isBoundary(this.#chunks[ci].keys, 0)) {
      // Before the first chunk, which starts at a boundary: the key opens a chunk of its own.
      this.#chunks.splice(ci, 0, oneKeyChunk(key))
      return true
    }
    const c = this.#own(ci)
    if (c.n * KEY_BYTES === c.keys.length) {
      const grown = new Uint8Array(Math.min(c.n * 2, CHUNK_ITEMS_MAX) * KEY_BYTES)
      grown.set(c.keys)
      c.keys = grown
    }
    c.keys.copyWithin((at + 1) * KEY_BYTES, at * KEY_BYTES, c.n * KEY_BYTES)
    c.keys.set(key, at * KEY_BYTES)
    c.n++
    c.touched = true
    addDigest(c.sum, key, HLC_BYTES)
    if (c.n === CHUNK_ITEMS_MAX) this.#split(ci)
    return true
  }

  /**
   * Adds keys given in ascending order (compareKeys); keys already held, and repeats, are
   * skipped. Returns how many were added. The index ends as a run of `insert`s would leave it
   * (the same keys, cut at the same content-defined boundaries), but each chunk that receives
   * keys is merged with them once and cut again, instead of moving its tail once per key: a
   * batch spread over the whole index (a node catching up after a partition) costs one pass
   * over the chunks it touches.
   */
  insertSorted(keys: readonly Uint8Array[]): number {
    for (const k of keys)
      if (k.length !== KEY_BYTES) throw new RangeError(`a range index key is ${KEY_BYTES} bytes`)
    if (keys.length === 0) return 0
    if (this.#chunks.length === 0) this.#chunks.push(newChunk(GROW_KEYS))
    let added = 0
    let byKey = 0
    // From the last key down: the keys of one chunk are a run, and a chunk's pieces spliced in
    // do not move the chunks before it.
    let hi = keys.length
    while (hi > 0) {
      const ci = this.#chunkFor(keys[hi - 1])
      let lo = hi - 1
      if (ci === 0) lo = 0
      else {
        const first = this.#chunks[ci].keys
        while (lo > 0 && compareAt(keys[lo - 1], 0, KEY_BYTES, first, 0, KEY_BYTES) >= 0) lo--
      }
      const c = this.#chunks[ci]
      const appends =
        c.n === 0 || compareAt(c.keys, (c.n - 1) * KEY_BYTES, KEY_BYTES, keys[lo], 0, KEY_BYTES) < 0
      if (hi - lo <= 2 || (appends && c.pool === undefined)) {
        // A few keys, or keys after a private chunk's last one: key by key is cheaper.
        for (let q = hi - 1; q >= lo; q--) if (this.insert(keys[q])) byKey++
      } else added += this.#mergeInto(ci, keys, lo, hi)
      hi = lo
    }
    if (added > 0) {
      this.#size += added
      this.#startsDirty = true
      this.#unshared = true
    }
    return added + byKey
  }

  /** Merges keys[lo..hi) (ascending) into chunk ci and cuts the result at its boundary keys. */
  #mergeInto(ci: number, keys: readonly Uint8Array[], lo: number, hi: number): number {
    const c = this.#chunks[ci]
    const most = c.n + hi - lo
    // Room for every key, and some spare when it stays one chunk (it may take appends later).
    const target = new Uint8Array(Math.max(most, Math.min(most + GROW_KEYS, CHUNK_ITEMS_MAX)) * KEY_BYTES)
    let n = 0
    let i = 0
    let added = 0
    const extra = new Uint32Array(8)
    for (let j = lo; j < hi; j++) {
      const k = keys[j]
      // The chunk's keys before k go in one copy.
      let at = i
      let top = c.n
      while (at < top) {
        const mid = (at + top) >>> 1
        if (compareAt(c.keys, mid * KEY_BYTES, KEY_BYTES, k, 0, KEY_BYTES) < 0) at = mid + 1
        else top = mid
      }
      if (at > i) {
        target.set(c.keys.subarray(i * KEY_BYTES, at * KEY_BYTES), n * KEY_BYTES)
        n += at - i
        i = at
      }
      // Equal to a held key, or to the key just added: skipped.
      if (i < c.n && compareAt(c.keys, i * KEY_BYTES, KEY_BYTES, k, 0, KEY_BYTES) === 0) continue
      if (n > 0 && compareAt(target, (n - 1) * KEY_BYTES, KEY_BYTES, k, 0, KEY_BYTES) === 0) continue
      target.set(k, n * KEY_BYTES)
      n++
      addDigest(extra, k, HLC_BYTES)
      added++
    }
    if (i < c.n) {
      target.set(c.keys.subarray(i * KEY_BYTES, c.n * KEY_BYTES), n * KEY_BYTES)
      n += c.n - i
    }
    if (added === 0) return 0
    // Pieces: a new one at every boundary key after the first position; a piece that reaches
    // CHUNK_ITEMS_MAX is halved (as a full chunk is).
    const starts: number[] = [0]
    for (let p = 1; p < n; p++) if (isBoundary(target, p * KEY_BYTES)) starts.push(p)
    starts.push(n)
    const pieces: Chunk[] = []
    const piece = (from: number, to: number) => {
      if (to - from >= CHUNK_ITEMS_MAX) {
        const half = from + ((to - from) >>> 1)
        piece(from, half)
        piece(half, to)
        return
      }
      if (from === 0 && to === n) {
        // The whole chunk in one piece: the merged buffer is its buffer, its sum the old one
        // plus the keys added.
        const ch = newChunk(0)
        ch.keys = target
        ch.n = n
        ch.sum.set(c.sum)
        addSum(ch.sum, extra)
        pieces.push(ch)
        return
      }
      const ch = newChunk(to - from + GROW_KEYS)
      ch.keys.set(target.subarray(from * KEY_BYTES, to * KEY_BYTES))
      ch.n = to - from
      for (let q = 0; q < ch.n; q++) addDigest(ch.sum, ch.keys, q * KEY_BYTES + HLC_BYTES)
      pieces.push(ch)
    }
    for (let s = 0; s + 1 < starts.length; s++) piece(starts[s], starts[s + 1])
    c.pool?.release(c)
    this.#chunks.splice(ci, 1, ...pieces)
    // Either end may now fit together with a half left by a full chunk's split.
    this.#mergeNext(ci + pieces.length - 1)
    if (ci > 0) this.#mergeNext(ci - 1)
    return added
  }

  /**
   * Replaces each private chunk that did not change since the last call by an equal one `pool`
   * holds (or pools it): indexes holding the same keys in a range then hold one copy of them.
   * A chunk that changed is left private until a call finds it unchanged (appends keep changing
   * the last chunk: pooling it would copy it back at the next insert). Shared chunks are
   * read-only; the index copies one before changing it.
   */
  share(pool: ChunkPool): void {
    if (!this.#unshared) return
    let pending = false
    for (let i = 0; i < this.#chunks.length; i++) {
      const c = this.#chunks[i]
      if (c.pool !== undefined || c.n === 0) continue
      if (c.touched) {
        c.touched = false
        pending = true
      } else this.#chunks[i] = pool.intern(c)
    }
    this.#unshared = pending
  }

  /** Chunks in the index (tests and statistics). */
  get chunkCount(): number {
    return this.#chunks.length
  }

  /** The chunk at ci, private to this index (a shared one is copied first). */
  #own(ci: number): Chunk {
    const c = this.#chunks[ci]
    if (c.pool === undefined) return c
    const copy = newChunk(c.n + GROW_KEYS)
    copy.keys.set(c.keys.subarray(0, c.n * KEY_BYTES))
    copy.n = c.n
    copy.sum.set(c.sum)
    c.pool.release(c)
    this.#chunks[ci] = copy
    return copy
  }

  /** A boundary key at position `at` > 0 of chunk ci: it starts a new chunk with the keys after it. */
  #splitAt(ci: number, at: number, key: Uint8Array): void {
    if (at === this.#chunks[ci].n) {
      // After the chunk's last key: the chunk itself does not change (nor is it copied).
      this.#chunks.splice(ci + 1, 0, oneKeyChunk(key))
      this.#mergeNext(ci + 1)
      return
    }
    const c = this.#own(ci)
    c.touched = true
    const moved = c.n - at
    const right = newChunk(Math.max(moved + 1 + GROW_KEYS, CHUNK_BOUNDARY_EVERY))
    right.keys.set(key, 0)
    right.keys.set(c.keys.subarray(at * KEY_BYTES, c.n * KEY_BYTES), KEY_BYTES)
    right.n = moved + 1
    for (let i = 0; i < right.n; i++) addDigest(right.sum, right.keys, i * KEY_BYTES + HLC_BYTES)
    c.n = at
    c.sum.fill(0)
    for (let i = 0; i < c.n; i++) addDigest(c.sum, c.keys, i * KEY_BYTES + HLC_BYTES)
    this.#chunks.splice(ci + 1, 0, right)
    // Either side may now fit together with a half left by a full chunk's split.
    this.#mergeNext(ci + 1)
    if (ci > 0) this.#mergeNext(ci - 1)
  }

  /**
   * Joins chunk ci+1 into chunk ci when ci+1 does not start at a boundary (it is a half left by
   * a full chunk's split) and both fit in one chunk: once the boundary keys that split such a
   * chunk's runs arrive, the chunks are again the ones the content defines.
   */
  #mergeNext(ci: number): void {
    const d = this.#chunks[ci + 1]
    if (d === undefined || d.n === 0 || isBoundary(d.keys, 0)) return
    if (this.#chunks[ci].n + d.n >= CHUNK_ITEMS_MAX) return
    const c = this.#own(ci)
    c.touched = true
    if (c.keys.length < (c.n + d.n) * KEY_BYTES) {
      const grown = new Uint8Array(Math.min(c.n + d.n + GROW_KEYS, CHUNK_ITEMS_MAX) * KEY_BYTES)
      grown.set(c.keys.subarray(0, c.n * KEY_BYTES))
      c.keys = grown
    }
    c.keys.set(d.keys.subarray(0, d.n * KEY_BYTES), c.n * KEY_BYTES)
    c.n += d.n
    addSum(c.sum, d.sum)
    d.pool?.release(d)
    this.#chunks.splice(ci + 1, 1)
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

  /** Splits a full (private) chunk in two halves: the one boundary not defined by content. */
  #split(ci: number): void {
    const c = this.#chunks[ci]
    c.touched = true
    const half = c.n >>> 1
    const right = newChunk(c.n - half + GROW_KEYS)
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

function newChunk(capacityKeys: number): Chunk {
  return {
    keys: new Uint8Array(Math.min(capacityKeys, CHUNK_ITEMS_MAX) * KEY_BYTES),
    n: 0,
    sum: new Uint32Array(8),
    refs: 0,
    touched: true,
  }
}

function oneKeyChunk(key: Uint8Array): Chunk {
  // A chunk opened at a boundary grows to CHUNK_BOUNDARY_EVERY items on average.
  const c = newChunk(CHUNK_BOUNDARY_EVERY)
  c.keys.set(key, 0)
  c.n = 1
  addDigest(c.sum, key, HLC_BYTES)
  return c
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
