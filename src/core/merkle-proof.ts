/**
 * Proofs over per-author Merkle logs (merkle-log.ts): flat-tree indices, inclusion proofs of one
 * entry, prefix (consistency) proofs from one length to a longer one, and provers that compute
 * proof nodes from leaf hashes. Specified in docs/PROTOCOL.md ("Per-author logs and signed
 * heads"). Verifiers answer false / null for any bad proof and never throw on a peer's bytes.
 *
 * Flat-tree indices: leaf i is node 2i; node(depth d, offset o) = (2o+1)·2^d − 1. All arithmetic
 * is on plain numbers below 2^49 with Math and division, never 32-bit bit operators.
 */
import { bytesEqual } from '../util/bytes.ts'
import {
  checkLogLength,
  checkPeaks,
  HASH_BYTES,
  LOG_LENGTH_MAX,
  MerkleProofError,
  type Peak,
  parentHash,
  peakHeights,
  rootHash,
} from './merkle-log.ts'

/** Flat index of leaf i: 2i. */
export function leafIndex(i: number): number {
  return 2 * i
}

/** Flat index of the node at depth d (leaves are depth 0), offset o: (2o+1)·2^d − 1. */
export function nodeIndex(depth: number, offset: number): number {
  return (2 * offset + 1) * 2 ** depth - 1
}

/** Depth of a flat index: its count of trailing one bits (counted by division, not bit ops). */
export function depthOf(flat: number): number {
  let d = 0
  let x = flat
  while (x % 2 === 1) {
    x = (x - 1) / 2
    d++
  }
  return d
}

/** Offset of a flat index within its depth. */
export function offsetOf(flat: number): number {
  const span = 2 ** depthOf(flat)
  return ((flat + 1) / span - 1) / 2
}

/** Where leaf `index` sits in a log of `length`: its peak (position, height, first leaf). */
function peakOfLeaf(index: number, length: number): { position: number; height: number; start: number } {
  const heights = peakHeights(length)
  let start = 0
  for (let position = 0; position < heights.length; position++) {
    const size = 2 ** heights[position]
    if (index < start + size) return { position, height: heights[position], start }
    start += size
  }
  throw new MerkleProofError(`leaf ${index} is not in a log of length ${length}`)
}

function checkIndex(index: number, length: number): void {
  checkLogLength(length)
  if (!Number.isSafeInteger(index) || index < 0 || index >= length)
    throw new MerkleProofError(`leaf index must be in 0..${length - 1}, got ${index}`)
}

/**
 * Flat indices of the nodes an inclusion proof of leaf `index` in a log of `length` carries, in
 * order: the siblings from the leaf up to its peak, then every other peak, largest first.
 * Count: the leaf's peak height + (number of peaks − 1) ≤ 2·log2(length).
 */
export function inclusionProofIndices(index: number, length: number): number[] {
  checkIndex(index, length)
  const { position, height } = peakOfLeaf(index, length)
  const out: number[] = []
  let offset = index
  for (let depth = 0; depth < height; depth++) {
    out.push(nodeIndex(depth, offset % 2 === 0 ? offset + 1 : offset - 1))
    offset = Math.floor(offset / 2)
  }
  const heights = peakHeights(length)
  let start = 0
  for (let p = 0; p < heights.length; p++) {
    const size = 2 ** heights[p]
    if (p !== position) out.push(nodeIndex(heights[p], start / size))
    start += size
  }
  return out
}

/**
 * Whether `proofHashes` (in `inclusionProofIndices` order) prove that leaf `index` of a log of
 * `length` is `leaf` under `expectedRoot`. False, never a throw, for any bad input.
 */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  length: number,
  proofHashes: readonly Uint8Array[],
  expectedRoot: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(length) || length < 1 || length > LOG_LENGTH_MAX) return false
  if (!Number.isSafeInteger(index) || index < 0 || index >= length) return false
  if (leaf?.length !== HASH_BYTES || expectedRoot?.length !== HASH_BYTES) return false
  if (!proofHashes.every((h) => h instanceof Uint8Array && h.length === HASH_BYTES)) return false
  const { position, height } = peakOfLeaf(index, length)
  const heights = peakHeights(length)
  if (proofHashes.length !== height + heights.length - 1) return false
  let hash = leaf
  let offset = index
  for (let depth = 0; depth < height; depth++) {
    const sibling = proofHashes[depth]
    hash = offset % 2 === 0 ? parentHash(hash, sibling) : parentHash(sibling, hash)
    offset = Math.floor(offset / 2)
  }
  const peaks: Peak[] = []
  let next = height
  for (let p = 0; p < heights.length; p++)
    peaks.push({ height: heights[p], hash: p === position ? hash : proofHashes[next++] })
  return bytesEqual(rootHash(length, peaks), expectedRoot)
}

/**
 * The hash of the node at flat index `flat`, computed from leaf hashes: 2^depth leaf reads and
 * 2^depth − 1 parent hashes. For tests and small logs; a store keeps interior nodes by index.
 */
export function nodeHash(flat: number, leafHashAt: (i: number) => Uint8Array): Uint8Array {
  const depth = depthOf(flat)
  const first = offsetOf(flat) * 2 ** depth
  const stack: Peak[] = []
  for (let i = first; i < first + 2 ** depth; i++) {
    let top: Peak = { height: 0, hash: leafHashAt(i) }
    while (stack.length > 0 && stack[stack.length - 1].height === top.height)
      top = { height: top.height + 1, hash: parentHash((stack.pop() as Peak).hash, top.hash) }
    stack.push(top)
  }
  return stack[0].hash
}

/**
 * The proof hashes `verifyInclusion` takes for leaf `index` of a log of `length`, computed from
 * its leaf hashes. Cost: every leaf of the log is read and hashed into its node once, so
 * O(length) parent hashes per proof (siblings cover the leaf's peak, other peaks the rest). A
 * server of many proofs should store interior nodes by flat index and read them instead.
 */
export function buildInclusionProof(
  index: number,
  length: number,
  leafHashAt: (i: number) => Uint8Array,
): Uint8Array[] {
  return inclusionProofIndices(index, length).map((flat) => nodeHash(flat, leafHashAt))
}

/**
 * Flat indices of a prefix (consistency) proof from length `oldLength` to `newLength`: the
 * largest aligned perfect subtrees covering entries [oldLength, newLength), left to right. Each
 * starts where the one before ends, at a position divisible by its size, so appending them to
 * the old peaks with binary-counter merges gives exactly the new peaks. At most 2·48 nodes.
 */
export function prefixProofIndices(oldLength: number, newLength: number): number[] {
  checkLogLength(oldLength, 'old length')
  checkLogLength(newLength, 'new length')
  if (newLength < oldLength)
    throw new MerkleProofError(`new length ${newLength} is below old length ${oldLength}`)
  const out: number[] = []
  for (let pos = oldLength; pos < newLength; ) {
    let height = 0
    while (pos % 2 ** (height + 1) === 0 && pos + 2 ** (height + 1) <= newLength) height++
    out.push(nodeIndex(height, pos / 2 ** height))
    pos += 2 ** height
  }
  return out
}

/**
 * Whether the log with trusted `peaksOld` at `oldLength` is a prefix of the log whose root at
 * `newLength` is `expectedRoot`, given the hashes of the `prefixProofIndices` nodes. Returns the
 * peaks at `newLength` when it is, null when not (never throws on a peer's bad proof; throws only
 * if the trusted peaks do not fit `oldLength`). Costs < 2·48 parent hashes and one root.
 */
export function verifyPrefix(
  peaksOld: readonly Peak[],
  oldLength: number,
  newLength: number,
  proofHashes: readonly Uint8Array[],
  expectedRoot: Uint8Array,
): Peak[] | null {
  checkPeaks(peaksOld, oldLength)
  if (!Number.isSafeInteger(newLength) || newLength < oldLength || newLength > LOG_LENGTH_MAX) return null
  if (expectedRoot?.length !== HASH_BYTES) return null
  const indices = prefixProofIndices(oldLength, newLength)
  if (proofHashes.length !== indices.length) return null
  if (!proofHashes.every((h) => h instanceof Uint8Array && h.length === HASH_BYTES)) return null
  const stack: Peak[] = [...peaksOld]
  for (let k = 0; k < indices.length; k++) {
    let top: Peak = { height: depthOf(indices[k]), hash: proofHashes[k] }
    while (stack.length > 0 && stack[stack.length - 1].height === top.height)
      top = { height: top.height + 1, hash: parentHash((stack.pop() as Peak).hash, top.hash) }
    stack.push(top)
  }
  return bytesEqual(rootHash(newLength, stack), expectedRoot) ? stack : null
}

/**
 * The proof hashes `verifyPrefix` takes, computed from leaf hashes: reads and hashes every entry
 * in [oldLength, newLength), O(newLength − oldLength). A store that keeps nodes reads them instead.
 */
export function buildPrefixProof(
  oldLength: number,
  newLength: number,
  leafHashAt: (i: number) => Uint8Array,
): Uint8Array[] {
  return prefixProofIndices(oldLength, newLength).map((flat) => nodeHash(flat, leafHashAt))
}
