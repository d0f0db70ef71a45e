/**
 * Per-author Merkle logs: the hashing, peaks, roots, signed-head bytes and inclusion proofs of an
 * append-only log of event digests, after Hypercore's flat tree. Specified byte for byte in
 * docs/PROTOCOL.md ("Per-author logs and signed heads").
 *
 *   leaf(d)        = sha256(0x00 ‖ d)                     d: the event's 32-byte digest
 *   parent(l, r)   = sha256(0x01 ‖ l ‖ r)                 l covers the lower leaf indices
 *   root(n, peaks) = sha256(0x02 ‖ u64 LE n ‖ for each peak, largest first: u8 height ‖ hash)
 *   head signable  = "GKH1" ‖ author 32 ‖ epoch 8 ‖ u64 LE length ‖ root 32   (84 bytes)
 *
 * A log of length n has one peak per set bit of n (a perfect subtree of 2^height leaves), largest
 * (leftmost) first. Sizes count leaves, not bytes: every leaf is a fixed 32-byte digest.
 * Flat-tree indices: leaf i is node 2i; node(depth d, offset o) = (2o+1)·2^d − 1.
 *
 * Lengths and indices are plain numbers below 2^48 (LOG_LENGTH_MAX), so a flat index (< 2^49)
 * and every product here stays an exact integer. No 32-bit bit operators touch them: `>>`, `|`
 * and `<<` would silently wrap at 2^31 (a bug class negentropy's JS varints have).
 *
 * Proofs (inclusion, prefix) and flat-tree indices are in merkle-proof.ts.
 *
 * Pure: no I/O, clock or randomness. Functions that check bytes from a peer (`decodePeaks`)
 * throw `MerkleProofError`; functions that verify (`verifyRange`, and merkle-proof.ts's
 * `verifyInclusion`, `verifyPrefix`) answer false / null and never throw on a peer's bad proof.
 */
import { bufferView, bytesEqual } from '../util/bytes.ts'
import { sha256 } from '../util/crypto.ts'

/** Hashes, digests and roots are all this many bytes (SHA-256). */
export const HASH_BYTES = 32
/**
 * Longest log: 2^48 − 1 entries. Keeps flat indices (2·length) and node arithmetic exact in a
 * double with room to spare; at one event per millisecond an author needs 8,900 years to reach it.
 */
export const LOG_LENGTH_MAX = 2 ** 48 - 1
/** A peak's height is below 48 (lengths are below 2^48), so a log has at most 48 peaks. */
export const PEAK_HEIGHT_MAX = 47
/** Bytes of the head signable: "GKH1" 4 + author 32 + epoch 8 + length 8 + root 32. */
export const HEAD_SIGNABLE_BYTES = 84
export const HEAD_MAGIC = 'GKH1'

const LEAF_PREFIX = 0x00
const PARENT_PREFIX = 0x01
const ROOT_PREFIX = 0x02
const TWO_32 = 2 ** 32

/** A perfect subtree of 2^height leaves at the right edge of a log, and its hash. */
export type Peak = { readonly height: number; readonly hash: Uint8Array }

/**
 * Bytes or numbers of a Merkle log that do not fit together: a peak encoding that is malformed
 * or disagrees with the length, a hash of the wrong size, a length out of range. When the bytes
 * came from a peer it is the peer's fault.
 */
export class MerkleProofError extends Error {
  override readonly name = 'MerkleProofError'
  readonly code = 'bad_merkle_proof'
}

// Scratch buffers: hashing is synchronous, so one buffer per shape serves every call and a hash
// costs one copy in and one out (node:crypto's one-shot `hash` is ~2x faster than createHash).
const leafScratch = new Uint8Array(1 + HASH_BYTES)
leafScratch[0] = LEAF_PREFIX
const parentScratch = new Uint8Array(1 + 2 * HASH_BYTES)
parentScratch[0] = PARENT_PREFIX

function checkHash(h: Uint8Array, what: string): void {
  if (!(h instanceof Uint8Array) || h.length !== HASH_BYTES)
    throw new MerkleProofError(`${what} must be ${HASH_BYTES} bytes, got ${h?.length}`)
}

/** Throws unless `n` is a log length (an integer in 0..LOG_LENGTH_MAX). */
export function checkLogLength(n: number, what = 'length'): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > LOG_LENGTH_MAX)
    throw new MerkleProofError(`${what} must be an integer in 0..2^48-1, got ${n}`)
}

/** u64 little-endian of a number < 2^53, without 32-bit bit operators. */
function writeU64Le(out: Uint8Array, at: number, n: number): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  view.setUint32(at, n % TWO_32, true)
  view.setUint32(at + 4, Math.floor(n / TWO_32), true)
}

/** sha256(0x00 ‖ digest): the leaf of an event with this 32-byte digest. */
export function leafHash(digest: Uint8Array): Uint8Array {
  checkHash(digest, 'digest')
  leafScratch.set(digest, 1)
  return sha256(leafScratch)
}

const leafScratchView = bufferView(leafScratch)

/** leafHash of a digest given as 64 lowercase hex characters (as events carry it), written
 *  straight into the scratch buffer: no decode into a new array per leaf. */
export function leafHashOfHex(digest: string): Uint8Array {
  if (digest.length !== 2 * HASH_BYTES || leafScratchView.write(digest, 1, 'hex') !== HASH_BYTES)
    throw new MerkleProofError('digest: not 64 hex characters')
  return sha256(leafScratch)
}

/** sha256(0x01 ‖ left ‖ right): the node over two equal-height siblings, left = lower indices. */
export function parentHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  checkHash(left, 'left hash')
  checkHash(right, 'right hash')
  parentScratch.set(left, 1)
  parentScratch.set(right, 1 + HASH_BYTES)
  return sha256(parentScratch)
}

/** Heights of the peaks of a log of `length` leaves (one per set bit), largest first. */
export function peakHeights(length: number): number[] {
  checkLogLength(length)
  const out: number[] = []
  let p = 1
  let h = 0
  while (p * 2 <= length) {
    p *= 2
    h++
  }
  for (let rest = length; rest > 0; p /= 2, h--) {
    if (rest >= p) {
      out.push(h)
      rest -= p
    }
  }
  return out
}

/** Throws unless `peaks` are exactly the peaks of a log of `length` leaves. */
export function checkPeaks(peaks: readonly Peak[], length: number): void {
  const heights = peakHeights(length)
  if (peaks.length !== heights.length)
    throw new MerkleProofError(`a log of length ${length} has ${heights.length} peaks, got ${peaks.length}`)
  for (let i = 0; i < peaks.length; i++) {
    if (peaks[i].height !== heights[i])
      throw new MerkleProofError(
        `peak ${i} of a log of length ${length} has height ${heights[i]}, got ${peaks[i].height}`,
      )
    checkHash(peaks[i].hash, `peak ${i}`)
  }
}

/** The length of the log whose peaks have these heights (sum of 2^height). */
export function lengthOfPeaks(peaks: readonly Peak[]): number {
  let n = 0
  for (const p of peaks) n += 2 ** p.height
  return n
}

/**
 * sha256(0x02 ‖ u64 LE length ‖ for each peak, largest first: u8 height ‖ hash): the root of a
 * log, the value a signed head commits to. Length 0 gives rootHash(0, []) = sha256(02 ‖ 0⁸).
 */
export function rootHash(length: number, peaks: readonly Peak[]): Uint8Array {
  checkPeaks(peaks, length)
  const buf = new Uint8Array(1 + 8 + peaks.length * (1 + HASH_BYTES))
  buf[0] = ROOT_PREFIX
  writeU64Le(buf, 1, length)
  let at = 9
  for (const p of peaks) {
    buf[at] = p.height
    buf.set(p.hash, at + 1)
    at += 1 + HASH_BYTES
  }
  return sha256(buf)
}

/**
 * The peaks after appending `leafHashes` (already `leafHash`ed) to a log with `peaks`: a binary
 * counter, equal heights merge. One leaf costs one parent hash amortised (n leaves: < n merges).
 */
export function peaksAppend(peaks: readonly Peak[], leafHashes: readonly Uint8Array[]): Peak[] {
  const stack: Peak[] = [...peaks]
  for (let i = 1; i < stack.length; i++)
    if (stack[i].height >= stack[i - 1].height)
      throw new MerkleProofError('peak heights must be strictly decreasing')
  for (const leaf of leafHashes) {
    checkHash(leaf, 'leaf hash')
    let top: Peak = { height: 0, hash: leaf }
    while (stack.length > 0 && stack[stack.length - 1].height === top.height) {
      const left = stack.pop() as Peak
      top = { height: top.height + 1, hash: parentHash(left.hash, top.hash) }
    }
    stack.push(top)
  }
  return stack
}

/** The peaks of a log of these leaf hashes. */
export function peaksOf(leafHashes: readonly Uint8Array[]): Peak[] {
  return peaksAppend([], leafHashes)
}

/**
 * (length, peaks) of a log, grown one leaf at a time. A node that holds a log's peaks at length a
 * verifies a fetched range [a, n) by appending its n − a leaves and comparing `root()` with the
 * signed head's root at n (or use `verifyRange`).
 */
export class MerkleAccumulator {
  #length: number
  #peaks: Peak[]

  /** Starts from a log's length and its peaks (checked), by default the empty log. */
  constructor(length = 0, peaks: readonly Peak[] = []) {
    checkPeaks(peaks, length)
    this.#length = length
    this.#peaks = [...peaks]
  }

  get length(): number {
    return this.#length
  }

  /** The current peaks, largest first (a copy). */
  get peaks(): Peak[] {
    return [...this.#peaks]
  }

  appendLeafHash(leaf: Uint8Array): void {
    if (this.#length >= LOG_LENGTH_MAX) throw new MerkleProofError('the log is at its maximum length')
    checkHash(leaf, 'leaf hash')
    const stack = this.#peaks
    let height = 0
    let hash = leaf
    while (stack.length > 0 && stack[stack.length - 1].height === height) {
      hash = parentHash((stack.pop() as Peak).hash, hash)
      height++
    }
    stack.push({ height, hash })
    this.#length++
  }

  appendLeafHashes(leaves: readonly Uint8Array[]): void {
    for (const l of leaves) this.appendLeafHash(l)
  }

  /** Appends the leaf of an event digest. */
  appendDigest(digest: Uint8Array): void {
    this.appendLeafHash(leafHash(digest))
  }

  appendDigests(digests: readonly Uint8Array[]): void {
    for (const d of digests) this.appendLeafHash(leafHash(d))
  }

  root(): Uint8Array {
    return rootHash(this.#length, this.#peaks)
  }
}

/**
 * Verifies a contiguous range: a log whose peaks at `startLength` are `peaksAtStart` (trusted:
 * stored by this node), extended by `leafHashes`, has root `expectedRoot` at
 * startLength + leafHashes.length. Returns the peaks at the new length when it does, null when
 * not (a peer's range that does not verify). Throws only if the trusted peaks do not fit
 * `startLength` (a local error).
 */
export function verifyRange(
  peaksAtStart: readonly Peak[],
  startLength: number,
  leafHashes: readonly Uint8Array[],
  expectedRoot: Uint8Array,
): Peak[] | null {
  checkPeaks(peaksAtStart, startLength)
  const length = startLength + leafHashes.length
  if (length > LOG_LENGTH_MAX || expectedRoot?.length !== HASH_BYTES) return null
  if (!leafHashes.every((h) => h instanceof Uint8Array && h.length === HASH_BYTES)) return null
  const peaks = peaksAppend(peaksAtStart, leafHashes)
  return bytesEqual(rootHash(length, peaks), expectedRoot) ? peaks : null
}

/**
 * "GKH1" ‖ author 32 ‖ epoch 8 ‖ u64 LE length ‖ root 32 (84 bytes): what an author signs with
 * Ed25519 to commit to its log's first `length` events. `epoch` is opaque to this module (8 bytes
 * chosen by the caller).
 */
export function headSignable(
  author: Uint8Array,
  epoch: Uint8Array,
  length: number,
  root: Uint8Array,
): Uint8Array {
  checkHash(author, 'author key')
  if (!(epoch instanceof Uint8Array) || epoch.length !== 8)
    throw new MerkleProofError(`epoch must be 8 bytes, got ${epoch?.length}`)
  checkLogLength(length)
  checkHash(root, 'root')
  const out = new Uint8Array(HEAD_SIGNABLE_BYTES)
  for (let i = 0; i < 4; i++) out[i] = HEAD_MAGIC.charCodeAt(i)
  out.set(author, 4)
  out.set(epoch, 36)
  writeU64Le(out, 44, length)
  out.set(root, 52)
  return out
}

/** u8 count ‖ per peak (largest first): u8 height ‖ 32-byte hash. At most 1 + 48·33 bytes. */
export function encodePeaks(peaks: readonly Peak[]): Uint8Array {
  checkPeaks(peaks, lengthOfPeaks(peaks))
  const out = new Uint8Array(1 + peaks.length * (1 + HASH_BYTES))
  out[0] = peaks.length
  let at = 1
  for (const p of peaks) {
    out[at] = p.height
    out.set(p.hash, at + 1)
    at += 1 + HASH_BYTES
  }
  return out
}

/**
 * Decodes `encodePeaks` bytes and checks them against the log `length` they are claimed for:
 * exact size, heights ≤ 47 and strictly decreasing, and exactly the peaks of `length`.
 * Throws `MerkleProofError` naming what is wrong.
 */
export function decodePeaks(bytes: Uint8Array, length: number): Peak[] {
  checkLogLength(length)
  if (!(bytes instanceof Uint8Array) || bytes.length < 1) throw new MerkleProofError('peaks: no bytes')
  const count = bytes[0]
  if (count > PEAK_HEIGHT_MAX + 1) throw new MerkleProofError(`peaks: ${count} peaks, at most 48`)
  const want = 1 + count * (1 + HASH_BYTES)
  if (bytes.length !== want)
    throw new MerkleProofError(`peaks: ${count} peaks take ${want} bytes, got ${bytes.length}`)
  const peaks: Peak[] = []
  for (let i = 0, at = 1; i < count; i++, at += 1 + HASH_BYTES) {
    const height = bytes[at]
    if (height > PEAK_HEIGHT_MAX)
      throw new MerkleProofError(`peaks: height ${height} above ${PEAK_HEIGHT_MAX}`)
    if (i > 0 && height >= peaks[i - 1].height)
      throw new MerkleProofError(
        `peaks: heights must be strictly decreasing (${peaks[i - 1].height}, ${height})`,
      )
    peaks.push({ height, hash: bytes.slice(at + 1, at + 1 + HASH_BYTES) })
  }
  checkPeaks(peaks, length)
  return peaks
}
