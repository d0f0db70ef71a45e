/**
 * Per-author Merkle log hashing on one core (src/core/merkle-log.ts):
 *
 * - append: 100,000 event digests appended one at a time (leaf hash + amortised parent merges)
 *   and the root taken, as an author does; leaves/s.
 * - append-createHash: the same work with createHash objects instead of node:crypto's one-shot
 *   `hash` (the module's path), to show what the one-shot path buys.
 * - verify-range: a range of 10,000 leaves verified from stored peaks at 90,000 against the
 *   root at 100,000 (`verifyRange`), as a node catching up does; leaves/s.
 * - inclusion: verifying one inclusion proof in a log of 100,000; proofs/s.
 * - sha256: bare one-shot SHA-256 of 65 bytes (a parent's input), the floor: an append costs
 *   two such hashes per leaf (leaf + amortised parent), so leaves/s ≈ sha256/s ÷ 2 when the
 *   module adds nothing. Compare the two on a loaded machine rather than the absolute rates.
 *
 * Run: npm run bench:merkle-log (BENCH_RUNS=n, default 7). Prints JSON: median, min, max per figure,
 * rates from CPU time (see `time`), plus the wall time of the 100,000-leaf append.
 */
import { createHash } from 'node:crypto'
import {
  leafHash,
  MerkleAccumulator,
  type Peak,
  peaksOf,
  rootHash,
  verifyRange,
} from '../src/core/merkle-log.ts'
import { buildInclusionProof, verifyInclusion } from '../src/core/merkle-proof.ts'
import { sha256 } from '../src/util/crypto.ts'
import { summarize } from './stats.ts'

const LEAVES = 100_000
const RANGE = 10_000
const RUNS = Number(process.env.BENCH_RUNS ?? 7)

const digests = Array.from({ length: LEAVES }, (_, i) => createHash('sha256').update(`event-${i}`).digest())

/** The module's append path with createHash instead of the one-shot hash: same bytes out. */
function appendWithCreateHash(ds: readonly Uint8Array[]): Uint8Array {
  const stack: Peak[] = []
  const zero = Uint8Array.of(0)
  const one = Uint8Array.of(1)
  for (const d of ds) {
    let top: Peak = { height: 0, hash: createHash('sha256').update(zero).update(d).digest() }
    while (stack.length > 0 && stack[stack.length - 1].height === top.height) {
      const left = stack.pop() as Peak
      const hash = createHash('sha256').update(one).update(left.hash).update(top.hash).digest()
      top = { height: top.height + 1, hash }
    }
    stack.push(top)
  }
  return rootHash(ds.length, stack)
}

/** Milliseconds of this process's CPU time (user + system) that `fn` takes: the work is one
 *  synchronous loop on the main thread, so this is its cost on one core, and it is less skewed
 *  than wall time when other processes share the CPUs. Wall time goes in `wallMs`. */
const wallMs: number[] = []
function time(fn: () => void): number {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  fn()
  const cpu = process.cpuUsage(c0)
  wallMs.push(performance.now() - t0)
  return (cpu.user + cpu.system) / 1000
}

const round = (s: { median: number; min: number; max: number; runs: number }, digits = 0) => ({
  median: Number(s.median.toFixed(digits)),
  min: Number(s.min.toFixed(digits)),
  max: Number(s.max.toFixed(digits)),
  runs: s.runs,
})

export function benchMerkleLog() {
  const leaves = digests.map(leafHash)
  const root = rootHash(LEAVES, peaksOf(leaves))
  const start = LEAVES - RANGE
  const peaksAtStart = peaksOf(leaves.slice(0, start))
  const rangeLeaves = leaves.slice(start)
  const index = 77_777
  const proof = buildInclusionProof(index, LEAVES, (i) => leaves[i])

  // Warm-up, and a check that both paths give the same root.
  const acc = new MerkleAccumulator()
  acc.appendDigests(digests)
  if (Buffer.compare(acc.root(), root) !== 0 || Buffer.compare(appendWithCreateHash(digests), root) !== 0)
    throw new Error('the append paths disagree on the root')

  const append: number[] = []
  const appendCreateHash: number[] = []
  const range: number[] = []
  const inclusion: number[] = []
  const bare: number[] = []
  const input = new Uint8Array(65)
  for (let r = 0; r < RUNS; r++) {
    append.push(
      (LEAVES * 1000) /
        time(() => {
          const a = new MerkleAccumulator()
          for (const d of digests) a.appendDigest(d)
          a.root()
        }),
    )
    appendCreateHash.push((LEAVES * 1000) / time(() => appendWithCreateHash(digests)))
    range.push(
      (RANGE * 1000) /
        time(() => {
          if (verifyRange(peaksAtStart, start, rangeLeaves, root) === null)
            throw new Error('range did not verify')
        }),
    )
    bare.push(
      (2 * LEAVES * 1000) /
        time(() => {
          for (let k = 0; k < 2 * LEAVES; k++) sha256(input)
        }),
    )
    const proofs = 2000
    inclusion.push(
      (proofs * 1000) /
        time(() => {
          for (let k = 0; k < proofs; k++)
            if (!verifyInclusion(leaves[index], index, LEAVES, proof, root)) throw new Error('proof failed')
        }),
    )
  }
  return {
    leaves: LEAVES,
    range: RANGE,
    appendLeavesPerS: round(summarize(append)),
    appendCreateHashLeavesPerS: round(summarize(appendCreateHash)),
    verifyRangeLeavesPerS: round(summarize(range)),
    inclusionProofsPerS: round(summarize(inclusion)),
    inclusionProofHashes: proof.length,
    sha256PerS: round(summarize(bare)),
    appendWallMs: round(summarize(wallMs.filter((_, i) => i % 5 === 0)), 1),
  }
}

if (import.meta.main) console.log(JSON.stringify({ node: process.version, ...benchMerkleLog() }, null, 2))
