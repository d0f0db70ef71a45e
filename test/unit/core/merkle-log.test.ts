/**
 * Per-author Merkle logs (docs/PROTOCOL.md "Per-author logs and signed heads"): fixed byte
 * vectors, and seeded properties checked against a naive implementation written here from the
 * spec text (recursive full-tree hashing with createHash; it shares no code with the module).
 * Seeded: FC_SEED=n reproduces a run; the seed is in the suite's name.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import {
  decodePeaks,
  encodePeaks,
  HEAD_SIGNABLE_BYTES,
  headSignable,
  LOG_LENGTH_MAX,
  leafHash,
  leafHashOfHex,
  MerkleAccumulator,
  MerkleProofError,
  type Peak,
  parentHash,
  peakHeights,
  peaksAppend,
  peaksOf,
  rootHash,
  verifyRange,
} from '../../../src/core/merkle-log.ts'
import {
  buildInclusionProof,
  buildPrefixProof,
  depthOf,
  inclusionProofIndices,
  leafIndex,
  nodeIndex,
  offsetOf,
  prefixProofIndices,
  verifyInclusion,
  verifyPrefix,
} from '../../../src/core/merkle-proof.ts'

const SEED = Number(process.env.FC_SEED ?? 20261205)

// ---- the naive reference, from the spec text ----

const H = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest()
}
const naiveLeaf = (d: Uint8Array) => H(Buffer.from([0]), d)
/** Root of a perfect tree over a power-of-two count of leaf hashes, by halving. */
function naiveTree(leaves: readonly Uint8Array[]): Buffer {
  if (leaves.length === 1) return Buffer.from(leaves[0])
  const half = leaves.length / 2
  return H(Buffer.from([1]), naiveTree(leaves.slice(0, half)), naiveTree(leaves.slice(half)))
}
/** Peaks: split the leaves from the left into the largest power-of-two runs. */
function naivePeaks(leaves: readonly Uint8Array[]): Array<{ height: number; hash: Buffer }> {
  const out: Array<{ height: number; hash: Buffer }> = []
  let start = 0
  while (start < leaves.length) {
    let height = 0
    while (2 ** (height + 1) <= leaves.length - start) height++
    out.push({ height, hash: naiveTree(leaves.slice(start, start + 2 ** height)) })
    start += 2 ** height
  }
  return out
}
function naiveRootOfPeaks(length: number, peaks: Array<{ height: number; hash: Uint8Array }>): Buffer {
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(length))
  return H(Buffer.from([2]), len, ...peaks.flatMap((p) => [Buffer.from([p.height]), p.hash]))
}
const naiveRoot = (leaves: readonly Uint8Array[]) => naiveRootOfPeaks(leaves.length, naivePeaks(leaves))

// ---- inputs ----

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const digestOf = (i: number, salt = 0) => H(Buffer.from(`digest-${salt}-${i}`))
const leavesOf = (n: number, salt = 0) => Array.from({ length: n }, (_, i) => naiveLeaf(digestOf(i, salt)))
const isMerkleError = { name: 'MerkleProofError' }

describe('merkle log: byte vectors', () => {
  // Digests 00…00, 01…01, 02…02: the worked example of docs/PROTOCOL.md.
  const digests = [0, 1, 2].map((i) => new Uint8Array(32).fill(i))
  const leaves = digests.map(leafHash)
  const ROOT3 = '42b58db810b7532961c703fc823dabebd1f850d23b1e3774246db8713b5bfcfe'

  test('leaf, parent, peaks and root of three leaves', () => {
    assert.equal(hex(leaves[0]), '7f9c9e31ac8256ca2f258583df262dbc7d6f68f2a03043d5c99a4ae5a7396ce9')
    assert.equal(hex(leaves[1]), 'dcffe786ded16d283c663846ad0c4ff26558fccde36ca9d30b2ea19eade9fc0e')
    assert.equal(hex(leaves[2]), 'cba8c596120bdb69debbd923d92cba948bde7c7d06a465a1bb7d98d3116038fa')
    assert.equal(
      hex(parentHash(leaves[0], leaves[1])),
      '28fb81e496897e0ce886f08602392e9239b65c659041e5202163e58ad898f444',
    )
    const peaks = peaksOf(leaves)
    assert.deepEqual(
      peaks.map((p) => [p.height, hex(p.hash)]),
      [
        [1, '28fb81e496897e0ce886f08602392e9239b65c659041e5202163e58ad898f444'],
        [0, 'cba8c596120bdb69debbd923d92cba948bde7c7d06a465a1bb7d98d3116038fa'],
      ],
    )
    assert.equal(hex(rootHash(3, peaks)), ROOT3)
    // The same values from the naive reference.
    assert.deepEqual(leaves.map(hex), digests.map(naiveLeaf).map(hex))
    assert.equal(hex(naiveRoot(leaves)), ROOT3)
  })

  test('the empty log', () => {
    assert.equal(hex(rootHash(0, [])), '4322fd2bc0a137d1375b37b3b2e2b4715b3d3dd7ca9682438d4fea0f8437fad3')
    assert.equal(hex(rootHash(0, [])), hex(naiveRoot([])))
    assert.equal(hex(new MerkleAccumulator().root()), hex(rootHash(0, [])))
  })

  test('peak encoding and head signable', () => {
    const peaks = peaksOf(leaves)
    assert.equal(
      hex(encodePeaks(peaks)),
      '02' +
        '01' +
        '28fb81e496897e0ce886f08602392e9239b65c659041e5202163e58ad898f444' +
        '00' +
        'cba8c596120bdb69debbd923d92cba948bde7c7d06a465a1bb7d98d3116038fa',
    )
    const author = new Uint8Array(32).fill(0x11)
    const epoch = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 1])
    const signable = headSignable(author, epoch, 3, rootHash(3, peaks))
    assert.equal(signable.length, HEAD_SIGNABLE_BYTES)
    assert.equal(
      hex(signable),
      '474b4831' + '11'.repeat(32) + '0000000000000001' + '0300000000000000' + ROOT3,
    )
  })

  test('inclusion proof of leaf 1 of 3', () => {
    const root = rootHash(3, peaksOf(leaves))
    assert.deepEqual(inclusionProofIndices(1, 3), [0, 4])
    assert.deepEqual(inclusionProofIndices(5, 7), [8, 3, 12])
    assert.deepEqual(prefixProofIndices(3, 11), [6, 11, 17, 20])
    assert.deepEqual(peakHeights(11), [3, 1, 0])
    const proof = buildInclusionProof(1, 3, (i) => leaves[i])
    assert.deepEqual(proof.map(hex), [hex(leaves[0]), hex(leaves[2])])
    assert.ok(verifyInclusion(leaves[1], 1, 3, proof, root))
  })
})

describe(`merkle log: properties (seed ${SEED})`, () => {
  test('peaks of n leaves give the naive root, for n ≤ 300', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 1000 }), (n, salt) => {
        const leaves = leavesOf(n, salt)
        const peaks = peaksOf(leaves)
        assert.deepEqual(
          peaks.map((p) => [p.height, hex(p.hash)]),
          naivePeaks(leaves).map((p) => [p.height, hex(p.hash)]),
        )
        assert.deepEqual(
          peaks.map((p) => p.height),
          peakHeights(n),
        )
        assert.equal(hex(rootHash(n, peaks)), hex(naiveRoot(leaves)))
      }),
      { seed: SEED, numRuns: 120 },
    )
  })

  test('appending in any chunking gives the same root; verifyRange accepts exactly the right leaves', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
        fc.nat(),
        (n, chunkSizes, splitSeed) => {
          const leaves = leavesOf(n, n)
          const want = hex(naiveRoot(leaves))
          let peaks: Peak[] = []
          const acc = new MerkleAccumulator()
          let at = 0
          for (let c = 0; at < n; c++) {
            const chunk = leaves.slice(at, at + chunkSizes[c % chunkSizes.length])
            peaks = peaksAppend(peaks, chunk)
            if (c % 2 === 0) acc.appendLeafHashes(chunk)
            else for (const l of chunk) acc.appendLeafHash(l)
            at += chunk.length
          }
          assert.equal(hex(rootHash(n, peaks)), want)
          assert.equal(acc.length, n)
          assert.equal(hex(acc.root()), want)
          // A range [a, n) verified from the peaks at a.
          const a = n === 0 ? 0 : splitSeed % (n + 1)
          const start = peaksOf(leaves.slice(0, a))
          const next = verifyRange(start, a, leaves.slice(a), naiveRoot(leaves))
          assert.ok(next)
          assert.equal(hex(rootHash(n, next)), want)
          const resumed = new MerkleAccumulator(a, start)
          resumed.appendLeafHashes(leaves.slice(a))
          assert.equal(hex(resumed.root()), want)
          if (n > a) {
            const forged = leaves.slice(a)
            forged[splitSeed % forged.length] = naiveLeaf(digestOf(-1))
            assert.equal(verifyRange(start, a, forged, naiveRoot(leaves)), null)
            assert.equal(verifyRange(start, a, leaves.slice(a, n - 1), naiveRoot(leaves)), null)
          }
        },
      ),
      { seed: SEED, numRuns: 80 },
    )
  })

  test('inclusion proofs verify for every index and fail for a flipped byte or a wrong index', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.nat(), (n, pick) => {
        const leaves = leavesOf(n, 7)
        const root = naiveRoot(leaves)
        const peakCount = peakHeights(n).length
        for (let i = 0; i < n; i++) {
          const indices = inclusionProofIndices(i, n)
          const proof = buildInclusionProof(i, n, (k) => leaves[k])
          assert.equal(proof.length, indices.length)
          assert.ok(indices.length <= 2 * Math.ceil(Math.log2(n + 1)) + peakCount)
          assert.ok(verifyInclusion(leaves[i], i, n, proof, root), `leaf ${i} of ${n}`)
          // A flipped byte anywhere: proof, leaf, root.
          if (proof.length > 0) {
            const bad = proof.map((h) => Uint8Array.from(h))
            bad[pick % bad.length][pick % 32] ^= 1
            assert.equal(verifyInclusion(leaves[i], i, n, bad, root), false)
          }
          const badLeaf = Uint8Array.from(leaves[i])
          badLeaf[pick % 32] ^= 0x80
          assert.equal(verifyInclusion(badLeaf, i, n, proof, root), false)
          const badRoot = Uint8Array.from(root)
          badRoot[0] ^= 1
          assert.equal(verifyInclusion(leaves[i], i, n, proof, badRoot), false)
          // Another index, another length, a short or long proof.
          if (n > 1)
            assert.equal(verifyInclusion(leaves[i], (i + 1 + (pick % (n - 1))) % n, n, proof, root), false)
          assert.equal(verifyInclusion(leaves[i], i, n + 1, proof, root), false)
          assert.equal(verifyInclusion(leaves[i], i, n, proof.slice(1), root), false)
          assert.equal(verifyInclusion(leaves[i], i, n, [...proof, leaves[0]], root), false)
          assert.equal(verifyInclusion(leaves[i], n, n, proof, root), false)
        }
      }),
      { seed: SEED, numRuns: 30 },
    )
  })

  test('prefix proofs: an old log extends to the new root; a forked old log or a bad proof does not', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.nat(), fc.nat(), (n, mSeed, pick) => {
        const leaves = leavesOf(n, 3)
        const m = mSeed % (n + 1)
        const root = naiveRoot(leaves)
        const old = peaksOf(leaves.slice(0, m))
        const proof = buildPrefixProof(m, n, (i) => leaves[i])
        assert.equal(proof.length, prefixProofIndices(m, n).length)
        assert.ok(proof.length <= 2 * 8)
        const next = verifyPrefix(old, m, n, proof, root)
        assert.ok(next, `${m} -> ${n}`)
        assert.deepEqual(
          next.map((p) => [p.height, hex(p.hash)]),
          naivePeaks(leaves).map((p) => [p.height, hex(p.hash)]),
        )
        if (m > 0) {
          // A fork: the old log differs in one entry.
          const forked = leaves.slice(0, m)
          forked[pick % m] = naiveLeaf(digestOf(-2))
          assert.equal(verifyPrefix(peaksOf(forked), m, n, proof, root), null)
        }
        if (proof.length > 0) {
          const bad = proof.map((h) => Uint8Array.from(h))
          bad[pick % bad.length][pick % 32] ^= 4
          assert.equal(verifyPrefix(old, m, n, bad, root), null)
          assert.equal(verifyPrefix(old, m, n, proof.slice(1), root), null)
        }
        assert.equal(verifyPrefix(old, m, n + 1, proof, root), null)
      }),
      { seed: SEED, numRuns: 100 },
    )
  })

  test('decodePeaks of any bytes gives the peaks of the length or a MerkleProofError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 64 }), (bytes, length) => {
        try {
          const peaks = decodePeaks(bytes, length)
          assert.deepEqual(
            peaks.map((p) => p.height),
            peakHeights(length),
          )
          assert.deepEqual(encodePeaks(peaks), bytes)
        } catch (e) {
          assert.ok(e instanceof MerkleProofError, String(e))
        }
      }),
      { seed: SEED, numRuns: 500 },
    )
  })
})

describe('merkle log: refusals and limits', () => {
  const h = (b: number) => new Uint8Array(32).fill(b)
  const good = encodePeaks([
    { height: 2, hash: h(1) },
    { height: 0, hash: h(2) },
  ])

  test('leafHashOfHex is leafHash of the decoded digest; anything but 64 hex characters is refused', () => {
    for (let b = 0; b < 256; b += 17) {
      const d = new Uint8Array(32).map((_, i) => (b + i * 7) & 0xff)
      assert.deepEqual(leafHashOfHex(Buffer.from(d).toString('hex')), leafHash(d))
    }
    for (const bad of ['', 'ab', 'zz'.repeat(32), `${'a'.repeat(63)}g`, 'a'.repeat(66)])
      assert.throws(() => leafHashOfHex(bad), MerkleProofError)
  })

  test('decodePeaks refuses malformed or inconsistent peaks with a named error', () => {
    assert.equal(decodePeaks(good, 5).length, 2)
    const cases: Array<[string, Uint8Array, number]> = [
      ['no bytes', new Uint8Array(0), 0],
      ['truncated', good.subarray(0, good.length - 1), 5],
      ['trailing byte', Uint8Array.from([...good, 0]), 5],
      ['count says 3', Uint8Array.from([3, ...good.subarray(1)]), 5],
      ['wrong length', good, 6],
      ['not decreasing', encodeRaw([0, 2]), 5],
      ['equal heights', encodeRaw([1, 1]), 4],
      ['height above 47', encodeRaw([48]), 0],
      ['49 peaks', Uint8Array.from([49]), 0],
      ['length beyond 2^48', encodeRaw([]), 2 ** 48],
      ['negative length', encodeRaw([]), -1],
      ['fractional length', encodeRaw([]), 1.5],
    ]
    for (const [what, bytes, length] of cases)
      assert.throws(() => decodePeaks(bytes, length), isMerkleError, what)
    assert.deepEqual(decodePeaks(Uint8Array.from([0]), 0), [])
  })

  test('roots, accumulators and signables refuse peaks or sizes that do not fit', () => {
    const peaks = decodePeaks(good, 5)
    assert.throws(() => rootHash(4, peaks), isMerkleError)
    assert.throws(() => new MerkleAccumulator(6, peaks), isMerkleError)
    assert.throws(() => leafHash(new Uint8Array(31)), isMerkleError)
    assert.throws(() => parentHash(h(1), new Uint8Array(33)), isMerkleError)
    assert.throws(() => peaksAppend([...peaks].reverse(), []), isMerkleError)
    assert.throws(() => headSignable(h(1), new Uint8Array(7), 1, h(2)), isMerkleError)
    assert.throws(() => headSignable(h(1), new Uint8Array(8), LOG_LENGTH_MAX + 1, h(2)), isMerkleError)
    assert.throws(() => inclusionProofIndices(5, 5), isMerkleError)
    assert.throws(() => prefixProofIndices(6, 5), isMerkleError)
    assert.throws(() => verifyPrefix(peaks, 4, 5, [], h(0)), isMerkleError)
    assert.equal(verifyPrefix(peaks, 5, 4, [], h(0)), null)
    assert.throws(() => verifyRange(peaks, 4, [], h(0)), isMerkleError)
    assert.equal(verifyRange(peaks, 5, [new Uint8Array(3)], h(0)), null)
  })

  test('lengths beyond 2^32 keep exact arithmetic (no 32-bit wrap)', () => {
    const n = LOG_LENGTH_MAX
    assert.equal(peakHeights(n).length, 48)
    assert.equal(peakHeights(n)[0], 47)
    const big = 2 ** 33 + 1
    const peaks = [
      { height: 33, hash: h(3) },
      { height: 0, hash: h(4) },
    ]
    assert.equal(hex(rootHash(big, peaks)), hex(naiveRootOfPeaks(big, peaks)))
    const signable = headSignable(h(1), new Uint8Array(8), n, h(2))
    assert.equal(hex(signable.subarray(44, 52)), 'ffffffffffff0000')
    // Flat indices: leaf 2^40+5 of 2^41, its sibling is leaf 2^40+4.
    const i = 2 ** 40 + 5
    const indices = inclusionProofIndices(i, 2 ** 41)
    assert.equal(indices.length, 41)
    assert.equal(indices[0], leafIndex(i - 1))
    assert.equal(indices[1], nodeIndex(1, 2 ** 39 + 3))
    assert.equal(indices[40], nodeIndex(40, 0))
    for (const [d, o] of [
      [0, 2 ** 47 - 1],
      [40, 2 ** 7 + 3],
      [47, 0],
      [12, 12345],
    ]) {
      const f = nodeIndex(d, o)
      assert.equal(depthOf(f), d)
      assert.equal(offsetOf(f), o)
    }
  })
})

function encodeRaw(heights: number[]): Uint8Array {
  return Uint8Array.from([heights.length, ...heights.flatMap((x) => [x, ...new Uint8Array(32)])])
}
