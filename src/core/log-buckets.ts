/**
 * Many logs in the log phase (docs/PROTOCOL.md "Log phase", "Many logs"): instead of one summary
 * per log, a side sends fingerprints of buckets of logs. A bucket is the set of logs whose key
 * (author ‖ log id, 80 hex digits, the store's order) starts with a prefix; its fingerprint is
 * SHA-256 (first 16 bytes) over the encoded summaries of its logs in key order, without the
 * per-session `fetching` flag. Equal fingerprints: the bucket agrees. A differing bucket is
 * answered with the answering side's summaries of it (a list) when it holds at most
 * LOG_BUCKET_LIST_MAX logs there, else with the fingerprints of its 16 sub-buckets (one more
 * hex digit); a list is answered with a delta (the summaries that differ from it), after which
 * both sides know both summaries of every log of the bucket.
 *
 * Pure: an index over one side's summaries and the rules that build the answers.
 */
import { toHex } from '../util/bytes.ts'
import { sha256 } from '../util/crypto.ts'
import {
  LOG_BUCKET_FINGERPRINT_BYTES,
  LOG_BUCKET_PREFIX_MAX,
  type LogBucket,
  LogSummary,
} from '../wire/index.ts'

/** A side holding more logs than this starts the log phase with bucket fingerprints; up to it,
 *  its first message lists every summary (~90 bytes each: 64 are ~6 KB). */
export const LOG_SUMMARIES_DIRECT_MAX = 64
/** A differing bucket with at most this many of the answering side's logs is answered with
 *  their summaries (≤ ~1.5 KB); a larger one with 16 sub-bucket fingerprints (~400 bytes). */
export const LOG_BUCKET_LIST_MAX = 16
/** Sub-buckets a differing bucket splits into: one more hex digit of the key. */
export const LOG_BUCKET_FANOUT = 16

export const BucketMode = { fingerprint: 0, list: 1, delta: 2 } as const

const HEX = '0123456789abcdef'

/** A summary's key: author ‖ log, hex (the order of the store's log records). */
export const summaryKey = (l: LogSummary): string => toHex(l.author) + toHex(l.log)

export const prefixText = (digits: Uint8Array): string => Array.from(digits, (d) => HEX[d]).join('')
export const prefixDigits = (text: string): Uint8Array => Uint8Array.from(text, (c) => HEX.indexOf(c))

/** A summary without the per-session flag: what fingerprints and deltas compare. */
function canonical(l: LogSummary): Uint8Array {
  return LogSummary.encode({ ...l, fetching: false })
}

export function sameSummary(a: LogSummary, b: LogSummary): boolean {
  return Buffer.compare(canonical(a), canonical(b)) === 0
}

/** A log the sender does not hold, in a delta. */
export function absentSummary(l: LogSummary): LogSummary {
  return {
    author: l.author,
    log: l.log,
    contiguous: 0n,
    end: 0n,
    root: new Uint8Array(32),
    forked: false,
    holes: [],
    holesMore: false,
    fetching: false,
  }
}

const isAbsent = (l: LogSummary): boolean => l.end === 0n && l.contiguous === 0n

/** One side's summaries, sorted by key, with bucket counts and fingerprints. */
export class LogIndex {
  readonly keys: string[]
  readonly list: LogSummary[]
  readonly #enc: Array<Uint8Array | undefined>

  constructor(list: readonly LogSummary[]) {
    const keyed = list.map((l) => [summaryKey(l), l] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1))
    this.keys = keyed.map(([k]) => k)
    this.list = keyed.map(([, l]) => l)
    this.#enc = new Array(this.list.length)
  }

  /** Index range [lo, hi) of the logs under `prefix` (hex). */
  range(prefix: string): [number, number] {
    const lower = (p: string): number => {
      let lo = 0
      let hi = this.keys.length
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (this.keys[mid] < p) lo = mid + 1
        else hi = mid
      }
      return lo
    }
    // '~' sorts after every hex digit: the first key past the prefix.
    return [lower(prefix), prefix === '' ? this.keys.length : lower(`${prefix}~`)]
  }

  under(prefix: string): LogSummary[] {
    const [lo, hi] = this.range(prefix)
    return this.list.slice(lo, hi)
  }

  fingerprint(lo: number, hi: number): Uint8Array {
    if (hi <= lo) return new Uint8Array(0)
    const parts: Uint8Array[] = []
    for (let i = lo; i < hi; i++) {
      let e = this.#enc[i]
      if (e === undefined) {
        e = canonical(this.list[i])
        this.#enc[i] = e
      }
      parts.push(Uint8Array.of(e.byteLength & 0xff, e.byteLength >> 8), e)
    }
    return sha256(...parts).subarray(0, LOG_BUCKET_FINGERPRINT_BYTES)
  }

  /** This side's fingerprint bucket for `prefix`. */
  bucket(prefix: string): LogBucket {
    const [lo, hi] = this.range(prefix)
    return {
      prefix: prefixDigits(prefix),
      count: hi - lo,
      fingerprint: this.fingerprint(lo, hi),
      mode: BucketMode.fingerprint,
    }
  }

  /** Whether the peer's fingerprint bucket equals this side's. */
  agrees(b: LogBucket): boolean {
    const [lo, hi] = this.range(prefixText(b.prefix))
    return b.count === hi - lo && Buffer.compare(b.fingerprint, this.fingerprint(lo, hi)) === 0
  }

  /** Every log under the prefix is held whole: no holes, no fork (agreement then proves equal
   *  sets of positions). */
  clean(prefix: string): boolean {
    return this.under(prefix).every((l) => l.contiguous === l.end && !l.forked && !l.holesMore)
  }
}

/** The answer to a differing bucket: this side's list, or its sub-buckets' fingerprints. */
export function answerDiffering(
  index: LogIndex,
  prefix: string,
): { buckets: LogBucket[]; logs: LogSummary[] } {
  const mine = index.under(prefix)
  if (mine.length <= LOG_BUCKET_LIST_MAX || prefix.length >= LOG_BUCKET_PREFIX_MAX)
    return {
      buckets: [
        {
          prefix: prefixDigits(prefix),
          count: mine.length,
          fingerprint: new Uint8Array(0),
          mode: BucketMode.list,
        },
      ],
      logs: mine,
    }
  return { buckets: Array.from(HEX, (d) => index.bucket(prefix + d)), logs: [] }
}

/** The first message of a side with many logs: the fingerprints of the 16 top buckets. */
export function topBuckets(index: LogIndex): LogBucket[] {
  return Array.from(HEX, (d) => index.bucket(d))
}

/** The delta answering the peer's list of a bucket: this side's summaries that differ from the
 *  peer's, and an absent marker for each listed log this side lacks. */
export function deltaFor(
  index: LogIndex,
  prefix: string,
  theirs: readonly LogSummary[],
): {
  bucket: LogBucket
  logs: LogSummary[]
} {
  const mine = index.under(prefix)
  const theirByKey = new Map(theirs.map((l) => [summaryKey(l), l]))
  const logs: LogSummary[] = []
  for (const l of mine) {
    const t = theirByKey.get(summaryKey(l))
    if (t === undefined || !sameSummary(l, t) || l.fetching) logs.push(l)
    theirByKey.delete(summaryKey(l))
  }
  for (const t of theirByKey.values()) logs.push(absentSummary(t))
  return {
    bucket: {
      prefix: prefixDigits(prefix),
      count: mine.length,
      fingerprint: new Uint8Array(0),
      mode: BucketMode.delta,
    },
    logs,
  }
}

/** The peer's logs under a prefix from its delta against this side's list (mine). */
export function mergeDelta(mine: readonly LogSummary[], delta: readonly LogSummary[]): LogSummary[] {
  const byKey = new Map(mine.map((l) => [summaryKey(l), l]))
  for (const d of delta) {
    if (isAbsent(d)) byKey.delete(summaryKey(d))
    else byKey.set(summaryKey(d), d)
  }
  return [...byKey.values()]
}

/** The summaries of a message that fall under a bucket's prefix. */
export function logsUnder(logs: readonly LogSummary[], prefix: string): LogSummary[] {
  return logs.filter((l) => summaryKey(l).startsWith(prefix))
}
