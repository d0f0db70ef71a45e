/**
 * Logs of one length whose roots differ (docs/PROTOCOL.md "Roots that differ"): both sides hold
 * `length` positions of an author's log but not the same events (the author signed two events
 * at some position: a fork). The sides descend the log's Merkle tree (src/core/merkle-log.ts)
 * to the first position where they differ, one level per message: a side sends the hashes of
 * tree nodes; the receiver takes the first (leftmost) node whose hash differs from its own and
 * answers with its own two children of it, until a node of one position differs. Then each side
 * fetches the other's events from that position on and keeps both (docs/EVENTS.md "Forks").
 *
 * Pure: the held digests come in through the LogPort.
 */
import { fromHex, toHex } from '../util/bytes.ts'
import type { LogProbe } from '../wire/index.ts'
import type { LogPort } from './log-frames.ts'
import { leafHashOfHex, peaksOf } from './merkle-log.ts'
import type { LogRecord } from './ports.ts'
import type { AuthorKey } from './types.ts'

/** Logs one session descends at most (each costs ~2 tree nodes a round trip and reads the
 *  log's digests once on each side); others are left to the range phase. */
export const LOG_DESCENT_LOGS_MAX = 32
/** Positions of a log the descent reads at most (each side reads every digest of the log once
 *  over the descent, and hashes them: ~2 s for 1M); a longer log is left to the range phase. */
export const LOG_DESCENT_LENGTH_MAX = 1_048_576

/** The tree nodes of a log's peaks (its first message), from its record. */
export function peakProbes(rec: LogRecord): LogProbe[] {
  const out: LogProbe[] = []
  let from = 0
  for (const p of rec.peaks) {
    const size = 2 ** p.height
    out.push({
      author: fromHex(rec.author)!,
      log: fromHex(rec.log)!,
      length: BigInt(rec.contiguous),
      from: BigInt(from),
      to: BigInt(from + size),
      hash: fromHex(p.hash)!,
    })
    from += size
  }
  return out
}

/** This side's hash of the tree node [from, to), or undefined when it does not hold it all. */
export async function nodeHash(
  port: LogPort,
  author: AuthorKey,
  log: string,
  from: number,
  to: number,
): Promise<Uint8Array | undefined> {
  const leaves: Uint8Array[] = []
  while (from + leaves.length < to) {
    const run = await port.readLogRun(
      author,
      log,
      from + leaves.length,
      Math.min(1_000, to - from - leaves.length),
    )
    if (run.length === 0) return undefined
    for (const d of run) leaves.push(leafHashOfHex(d))
  }
  const peaks = peaksOf(leaves)
  return peaks.length === 1 ? peaks[0].hash : undefined
}

/**
 * The answer to a peer's tree nodes of one log: the first node (in the order sent) whose hash
 * differs from this side's; `found` when it is one position, else this side's two children of
 * it. Nothing when every node agrees (or this side does not hold them).
 */
export async function answerProbes(
  port: LogPort,
  probes: readonly LogProbe[],
  mineRec: LogRecord,
): Promise<{ found?: number; next: LogProbe[] }> {
  // This side's peaks are in its record: a node that is one of them costs no reads.
  const peaks = new Map(peakProbes(mineRec).map((p) => [`${p.from}-${p.to}`, p.hash]))
  for (const p of probes) {
    if (Number(p.length) !== mineRec.contiguous) return { next: [] }
    const author = toHex(p.author) as AuthorKey
    const log = toHex(p.log)
    const from = Number(p.from)
    const to = Number(p.to)
    const mine = peaks.get(`${p.from}-${p.to}`) ?? (await nodeHash(port, author, log, from, to))
    if (mine === undefined) return { next: [] }
    if (Buffer.compare(mine, p.hash) === 0) continue
    if (to - from === 1) return { found: from, next: [] }
    const mid = from + (to - from) / 2
    const next: LogProbe[] = []
    for (const [a, b] of [
      [from, mid],
      [mid, to],
    ]) {
      const hash = await nodeHash(port, author, log, a, b)
      if (hash === undefined) return { next: [] }
      next.push({ author: p.author, log: p.log, length: p.length, from: BigInt(a), to: BigInt(b), hash })
    }
    return { next }
  }
  return { next: [] }
}
