/**
 * The log phase's frames, built from a node's store reads (pure: the reads come in through the
 * LogPort): a side's summaries paged into frames, and the frames that carry a range of a log
 * with the signed heads that cover it (docs/PROTOCOL.md "Log phase").
 */
import { fromHex, toHex } from '../util/bytes.ts'
import type { ReconcileFrame, LogHead as WireHead } from '../wire/index.ts'
import { encodedEventBytes, LOG_BUCKETS_PER_FRAME, LogBucket, LogRange, LogSummary } from '../wire/index.ts'
import { runsOf, toSummary } from './log-summary.ts'
import type { LogHead, Store } from './ports.ts'
import type { StoredEvent } from './records.ts'
import type { AuthorKey } from './types.ts'

/** What the log phase reads of a node's store (the node's Store, or an in-memory one). */
export type LogPort = Pick<
  Store,
  'listLogs' | 'getLogRecords' | 'getLogHeads' | 'readLogRange' | 'getLogPositions' | 'readLogHeld'
>

/** Log summaries in one frame (and log ranges in one fetch): a summary is ~90 bytes on the
 *  wire, so 800 stay within the frame floor's message budget (docs/LIMITS.md). */
export const RECONCILE_LOGS_PER_FRAME = 800
/** Logs one session compares in its log phase, at most: 100,000 summaries are ~9 MB each way.
 *  A node that holds more compares the first ones and lets the range phase do the rest. */
export const RECONCILE_LOGS_MAX = 100_000
/** Events one log-range fetch answers at most before `done` (the initiator asks again from where
 *  it stopped): bounds one answer's duration, not its frames (those are bounded by bytes). */
export const LOG_FETCH_EVENTS_MAX = 50_000
/** Bytes a frame's envelope takes besides its events (length prefix, fields, head). */
export const LOG_FRAME_OVERHEAD_BYTES = 4 * 1024

/** Every log the node holds (at most RECONCILE_LOGS_MAX), as wire summaries. */
export async function summaries(
  source: LogPort,
  /** Logs (`log:<author>/<log>`) this node's sessions are fetching now: flagged `fetching`. */
  inFlight?: ReadonlySet<string>,
): Promise<{ list: LogSummary[]; complete: boolean }> {
  const list: LogSummary[] = []
  let after: { author: AuthorKey; log: string } | undefined
  while (list.length < RECONCILE_LOGS_MAX) {
    const page = await source.listLogs(after, Math.min(1_000, RECONCILE_LOGS_MAX - list.length))
    for (const r of page) list.push(toSummary(r, inFlight?.has(`log:${r.author}/${r.log}`) === true))
    if (page.length === 0 || page.length < 1_000) return { list, complete: true }
    after = { author: page[page.length - 1].author, log: page[page.length - 1].log }
  }
  const more = await source.listLogs(after, 1)
  return { list, complete: more.length === 0 }
}

/** Summary pages of one side, each a frame within `budgetBytes` and RECONCILE_LOGS_PER_FRAME
 *  summaries (`logs_more` on all but the last). */
export function summaryFrames(
  list: readonly LogSummary[],
  budgetBytes: number,
): Array<Partial<ReconcileFrame>> {
  const frames: Array<Partial<ReconcileFrame>> = []
  let logs: LogSummary[] = []
  let bytes = 0
  for (const l of list) {
    const size = LogSummary.encode(l).byteLength + 4
    if (logs.length > 0 && (bytes + size > budgetBytes || logs.length >= RECONCILE_LOGS_PER_FRAME)) {
      frames.push({ logPhase: true, logs, logsMore: true })
      logs = []
      bytes = 0
    }
    logs.push(l)
    bytes += size
  }
  frames.push({ logPhase: true, logs, logsMore: false })
  return frames
}

/**
 * A log-phase message of bucket fingerprints, summaries and fetch ranges, paged into frames
 * within `budgetBytes` and the per-frame counts (`logs_more` on all but the last; at least one
 * frame, every frame with its `logs`, possibly empty).
 */
export function messageFrames(
  buckets: readonly LogBucket[],
  logs: readonly LogSummary[],
  fetch: readonly LogRange[],
  budgetBytes: number,
): Array<Partial<ReconcileFrame>> {
  const frames: Array<Partial<ReconcileFrame>> = []
  let cur = { logBuckets: [] as LogBucket[], logs: [] as LogSummary[], logFetch: [] as LogRange[] }
  let bytes = 0
  const add = <K extends keyof typeof cur>(
    key: K,
    item: (typeof cur)[K][number],
    size: number,
    max: number,
  ) => {
    const n = cur.logBuckets.length + cur.logs.length + cur.logFetch.length
    if (n > 0 && (bytes + size > budgetBytes || cur[key].length >= max)) {
      frames.push({ logPhase: true, ...cur, logsMore: true })
      cur = { logBuckets: [], logs: [], logFetch: [] }
      bytes = 0
    }
    ;(cur[key] as Array<typeof item>).push(item)
    bytes += size
  }
  for (const b of buckets) add('logBuckets', b, LogBucket.encode(b).byteLength + 4, LOG_BUCKETS_PER_FRAME)
  for (const l of logs) add('logs', l, LogSummary.encode(l).byteLength + 4, RECONCILE_LOGS_PER_FRAME)
  for (const r of fetch) add('logFetch', r, LogRange.encode(r).byteLength + 4, RECONCILE_LOGS_PER_FRAME)
  frames.push({ logPhase: true, ...cur, logsMore: false })
  return frames
}

/**
 * The frames that carry positions [from, to) of one log (and further `runs` of it), at most
 * LOG_FETCH_EVENTS_MAX events: events in position order, within `frameBytes`, a frame closed
 * where a signed head the node keeps falls (the head rides on that frame). A head falls after
 * an event when its length is past that event and not past the next one served: the positions
 * between are the receiver's (it did not ask for them), so it verifies with what it holds.
 */
export async function* rangeFrames(
  source: LogPort,
  range: {
    author: AuthorKey
    log: string
    from: number
    to: number
    runs?: ReadonlyArray<readonly [number, number]>
  },
  frameBytes: number,
  eventsMax: number,
): AsyncGenerator<{ events: StoredEvent[]; head?: WireHead }> {
  const { author, log } = range
  const runs: Array<readonly [number, number]> = [[range.from, range.to], ...(range.runs ?? [])]
  const last = runs[runs.length - 1][1]
  const [rec] = await source.getLogRecords([{ author, log }])
  if (rec === undefined) return
  const heads = await source.getLogHeads(author, log, range.from, last, 1_000)
  // The newest head is in the record (it may not be a checkpoint); only heads over positions
  // this node holds without a hole are of use to a verifier.
  if (
    rec.head !== undefined &&
    rec.head.length > range.from &&
    rec.head.length <= Math.min(last, rec.contiguous)
  )
    heads.push({ author, log, ...rec.head })
  const usable = [
    ...new Map(heads.filter((h) => h.length <= rec.contiguous).map((h) => [h.length, h])).values(),
  ]
  usable.sort((a, b) => a.length - b.length)
  let next = 0
  /** The newest head of length <= `upTo` not given yet. */
  const headUpTo = (upTo: number): LogHead | undefined => {
    let h: LogHead | undefined
    while (next < usable.length && usable[next].length <= upTo) h = usable[next++]
    return h
  }
  let events: StoredEvent[] = []
  let bytes = LOG_FRAME_OVERHEAD_BYTES
  let sent = 0
  for (const [from, to] of runs) {
    let cursor = from
    while (cursor < to && sent < LOG_FETCH_EVENTS_MAX) {
      const page = await source.readLogRange(
        author,
        log,
        cursor,
        to,
        Math.min(1_000, LOG_FETCH_EVENTS_MAX - sent),
      )
      if (page.length === 0) break
      for (const { seq, event } of page) {
        // A head at or before this position (past the previous one sent) closes the frame.
        const head = headUpTo(seq)
        if (head !== undefined && events.length > 0) {
          yield { events, head: toWireHead(head) }
          events = []
          bytes = LOG_FRAME_OVERHEAD_BYTES
        }
        const size = encodedEventBytes(event.signed.byteLength, event.signature.byteLength)
        if (events.length > 0 && (bytes + size > frameBytes || events.length >= eventsMax)) {
          yield { events }
          events = []
          bytes = LOG_FRAME_OVERHEAD_BYTES
        }
        events.push(event)
        bytes += size
        sent++
      }
      cursor = page[page.length - 1].seq + 1
    }
    if (sent >= LOG_FETCH_EVENTS_MAX) break
  }
  if (events.length > 0) {
    const head = sent >= LOG_FETCH_EVENTS_MAX ? undefined : headUpTo(last)
    yield head === undefined ? { events } : { events, head: toWireHead(head) }
  }
}

/** rangeFrames of a wire range, as log-phase frames. */
export async function* rangeFramesOf(
  source: LogPort,
  r: LogRange,
  frameBytes: number,
  eventsMax: number,
): AsyncGenerator<Partial<ReconcileFrame>> {
  const range = {
    author: toHex(r.author) as AuthorKey,
    log: toHex(r.log),
    from: Number(r.from),
    to: Number(r.to),
    runs: runsOf(r)
      .slice(1)
      .map(([a, b]) => [Number(a), Number(b)] as const),
  }
  for await (const fr of rangeFrames(source, range, frameBytes, eventsMax))
    yield { logPhase: true, events: fr.events, ...(fr.head === undefined ? {} : { head: fr.head }) }
}

export function toWireHead(h: LogHead): WireHead {
  return {
    author: fromHex(h.author)!,
    log: fromHex(h.log)!,
    length: BigInt(h.length),
    root: fromHex(h.root)!,
    signature: fromHex(h.signature)!,
  }
}

export function fromWireHead(h: WireHead): LogHead {
  return {
    author: toHex(h.author) as AuthorKey,
    log: toHex(h.log),
    length: Number(h.length),
    root: toHex(h.root),
    signature: toHex(h.signature),
  }
}
