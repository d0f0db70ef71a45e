/**
 * The range index's chunks: content-defined (the same keys give the same chunks whatever the
 * insertion order), a full chunk splits, and indexes share equal chunks through a pool with
 * copy-on-write (a change to one index never shows in another).
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import {
  addDigest,
  CHUNK_BOUNDARY_EVERY,
  CHUNK_ITEMS_MAX,
  ChunkPool,
  fingerprintOf,
  itemKey,
  RangeIndex,
} from '../../../src/core/range-index.ts'

const SEED = 20261205

function key(n: number): Uint8Array {
  const hlc = new Uint8Array(8)
  new DataView(hlc.buffer).setBigUint64(0, BigInt(1_000_000 + (n % 977) * 13 + n))
  return itemKey(hlc, createHash('sha256').update(`k-${n}`).digest())
}

/** Whether a key starts a chunk (the rule the index documents). */
const starts = (k: Uint8Array) => ((k[8] << 8) | k[9]) % CHUNK_BOUNDARY_EVERY === 0

function shuffled<T>(list: readonly T[], seed: number): T[] {
  const out = [...list]
  let s = seed >>> 0
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    const j = s % (i + 1)
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

function build(keys: readonly Uint8Array[]): RangeIndex {
  const idx = new RangeIndex()
  for (const k of keys) idx.insert(k)
  return idx
}

function allKeys(idx: RangeIndex): string[] {
  const out: string[] = []
  for (let i = 0; i < idx.size; i++) out.push(Buffer.from(idx.keyAt(i)).toString('hex'))
  return out
}

/** The fingerprint of [lo, hi) computed item by item. */
function naive(idx: RangeIndex, lo: number, hi: number): string {
  const sum = new Uint32Array(8)
  for (let i = lo; i < hi; i++) addDigest(sum, idx.keyAt(i), 8)
  return Buffer.from(fingerprintOf(sum, hi - lo)).toString('hex')
}

/** Keys with no run between boundary keys long enough to fill a chunk (a full chunk splits in
 *  half, the one boundary that depends on the insertion order). */
function contentChunked(n: number): Uint8Array[] {
  const sorted = Array.from({ length: n }, (_, i) => key(i)).sort((a, b) => Buffer.compare(a, b))
  const out: Uint8Array[] = []
  let run = 0
  for (const k of sorted) {
    run = starts(k) ? 1 : run + 1
    if (run < CHUNK_ITEMS_MAX - 24) out.push(k)
  }
  return out
}

describe('RangeIndex chunks', () => {
  const keys = contentChunked(6_000)

  test('the same keys give the same chunks and fingerprints in any insertion order', () => {
    const sorted = build([...keys].sort((a, b) => Buffer.compare(a, b)))
    const reversed = build([...keys].sort((a, b) => Buffer.compare(b, a)))
    const random = build(shuffled(keys, SEED))
    for (const idx of [reversed, random]) {
      assert.equal(idx.size, sorted.size)
      assert.equal(idx.chunkCount, sorted.chunkCount, 'chunk boundaries depend on the insertion order')
      assert.deepEqual(allKeys(idx), allKeys(sorted))
    }
    // ~6,000 / 256 content-defined chunks (forced splits aside).
    const boundaries = keys.filter(starts).length
    assert.ok(
      sorted.chunkCount >= boundaries && sorted.chunkCount <= boundaries + 1,
      `${sorted.chunkCount} chunks`,
    )
    for (const [lo, hi] of [
      [0, keys.length],
      [17, 4_321],
      [255, 256],
      [3_000, keys.length - 1],
    ]) {
      const f = Buffer.from(random.fingerprint(lo, hi)).toString('hex')
      assert.equal(f, naive(sorted, lo, hi))
      assert.equal(f, Buffer.from(sorted.fingerprint(lo, hi)).toString('hex'))
    }
  })

  test('a chunk without boundary keys splits in half when full, and keeps every key', () => {
    const plain = Array.from({ length: 4_000 }, (_, i) => key(10_000 + i)).filter((k) => !starts(k))
    assert.ok(plain.length > CHUNK_ITEMS_MAX * 2)
    const idx = build(shuffled(plain, SEED + 1))
    assert.ok(idx.chunkCount >= 3, `${idx.chunkCount} chunks`)
    assert.equal(idx.size, plain.length)
    assert.deepEqual(allKeys(idx), plain.map((k) => Buffer.from(k).toString('hex')).sort())
    assert.equal(Buffer.from(idx.fingerprint(0, idx.size)).toString('hex'), naive(idx, 0, idx.size))
  })

  test('indexes with equal keys share their chunks through a pool; a change copies, never leaks', () => {
    const pool = new ChunkPool()
    const a = build(shuffled(keys, SEED + 2))
    const b = build(shuffled(keys, SEED + 3))
    // A chunk is pooled once a share() finds it unchanged since the one before.
    a.share(pool)
    b.share(pool)
    assert.equal(pool.chunks, 0, 'chunks that just changed were pooled')
    a.share(pool)
    b.share(pool)
    assert.equal(pool.chunks, a.chunkCount, 'equal chunks are held once')
    assert.equal(pool.items, keys.length)
    const before = allKeys(b)
    const fpB = Buffer.from(b.fingerprint(0, b.size)).toString('hex')

    const extra = key(99_999)
    assert.equal(a.insert(extra), true)
    assert.equal(a.insert(extra), false)
    assert.equal(a.has(extra), true)
    assert.equal(b.has(extra), false, 'an insert into a shared chunk showed in another index')
    assert.deepEqual(allKeys(b), before)
    assert.equal(Buffer.from(b.fingerprint(0, b.size)).toString('hex'), fpB)
    assert.equal(Buffer.from(a.fingerprint(0, a.size)).toString('hex'), naive(a, 0, a.size))

    a.share(pool)
    a.share(pool)
    assert.ok(pool.chunks > a.chunkCount && pool.chunks <= a.chunkCount + 2, `${pool.chunks} pooled`)
    // Once b holds the same key, the old version of that chunk has no holder and leaves the pool.
    b.insert(extra)
    b.share(pool)
    b.share(pool)
    assert.equal(pool.chunks, a.chunkCount)
    assert.equal(pool.items, keys.length + 1)
  })
  test('insertSorted: batches merged into the chunks give the chunks and fingerprints of key-by-key inserts', () => {
    const byKey = build(keys)
    const cmp = (x: Uint8Array, y: Uint8Array) => Buffer.compare(x, y)
    // In batches of several sizes, each spread over the key space, some repeating held keys.
    const order = shuffled(keys, SEED + 4)
    const batched = new RangeIndex()
    let at = 0
    for (const size of [1, 7, 300, 2_000, 10_000]) {
      const batch = order.slice(at, at + size)
      at += batch.length
      const again = batch.slice(0, 3)
      assert.equal(batched.insertSorted([...batch, ...again, ...batch.slice(0, 1)].sort(cmp)), batch.length)
    }
    assert.equal(batched.insertSorted([]), 0)
    assert.equal(batched.size, keys.length)
    assert.equal(batched.chunkCount, byKey.chunkCount, 'chunk boundaries differ from key-by-key inserts')
    assert.deepEqual(allKeys(batched), allKeys(byKey))
    for (const [lo, hi] of [
      [0, keys.length],
      [17, 4_321],
      [255, 256],
    ])
      assert.equal(Buffer.from(batched.fingerprint(lo, hi)).toString('hex'), naive(byKey, lo, hi))
    // Runs longer than a chunk holds are halved, every key kept.
    const plain = Array.from({ length: 4_000 }, (_, i) => key(10_000 + i)).filter((k) => !starts(k))
    const big = new RangeIndex()
    const sortedPlain = [...plain].sort(cmp)
    // One key first, after the rest: the batch lands before it (a merge, not appends).
    big.insert(sortedPlain[sortedPlain.length - 1])
    assert.equal(big.insertSorted(sortedPlain), plain.length - 1)
    assert.ok(big.chunkCount >= 3, `${big.chunkCount} chunks`)
    assert.deepEqual(allKeys(big), plain.map((k) => Buffer.from(k).toString('hex')).sort())
    assert.equal(Buffer.from(big.fingerprint(0, big.size)).toString('hex'), naive(big, 0, big.size))
    assert.throws(() => big.insertSorted([new Uint8Array(39)]), RangeError)
  })

  test('insertSorted into pooled chunks leaves the other indexes that share them unchanged', () => {
    const pool = new ChunkPool()
    const half = keys.filter((_, i) => i % 2 === 0)
    const a = build(half)
    const b = build(half)
    for (const x of [a, b, a, b]) x.share(pool)
    assert.equal(pool.chunks, a.chunkCount)
    const before = allKeys(b)
    const rest = keys.filter((_, i) => i % 2 === 1)
    assert.equal(a.insertSorted(rest), rest.length)
    assert.deepEqual(allKeys(b), before, 'a batch into shared chunks showed in another index')
    assert.deepEqual(allKeys(a), allKeys(build(keys)))
    a.share(pool)
    a.share(pool)
    b.insertSorted(rest)
    b.share(pool)
    b.share(pool)
    assert.equal(pool.chunks, a.chunkCount, 'equal chunks after the same batch are not shared')
    assert.equal(pool.items, keys.length)
  })
})
