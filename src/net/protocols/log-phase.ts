/**
 * The log phase of a reconciliation session (docs/PROTOCOL.md "Log phase"): both sides send a
 * summary of every author log they hold (contiguous length, end, Merkle root, fork flag), then
 * the initiator fetches the positions the responder holds past its own, and pushes the
 * positions the responder lacks. Ranges travel with the signed heads that cover them, so a
 * receiver verifies a range with one signature and hashing (src/core/log-verify.ts); positions
 * no head covers are verified one signature each, as before.
 *
 * When both summaries agree on every log (same length, same root, no holes, no fork), the sets
 * are equal and the session ends after one round trip.
 */
import type { PushResult } from '../../core/api.ts'
import { checkEvent } from '../../core/event.ts'
import { decodeSigned, readAuthor, readLogPosition, SIGNED_BYTES_MIN } from '../../core/event-codec.ts'
import { peaksFromRecord } from '../../core/log-book.ts'
import { planLogs, toSummary } from '../../core/log-summary.ts'
import { type LogAccumulator, verifyLogChunk } from '../../core/log-verify.ts'
import type { LogHead, Store } from '../../core/ports.ts'
import type { StoredEvent } from '../../core/records.ts'
import type { AuthorKey, Origin, SignedEvent } from '../../core/types.ts'
import { fromHex, toHex } from '../../util/bytes.ts'
import { verifyEd25519 } from '../../util/crypto.ts'
import type { LogRange, ReconcileFrame, LogHead as WireHead } from '../../wire/index.ts'
import { encodedEventBytes, LogSummary } from '../../wire/index.ts'
import {
  FRAME_OVERHEAD_BYTES,
  LOG_CHUNK_BUFFER_BYTES,
  LOG_FETCH_EVENTS_MAX,
  LOG_STORE_PARTS_AHEAD,
  RECONCILE_LOGS_MAX,
  RECONCILE_LOGS_PER_FRAME,
} from '../constants.ts'
import { UnexpectedMessageError } from '../errors.ts'
import type { ProtocolContext } from './context.ts'

/** What the log phase reads of the node's store. */
export type LogSource = Pick<
  Store,
  'listLogs' | 'getLogRecords' | 'getLogHeads' | 'readLogRange' | 'getLogPositions'
>

const keyOf = (author: string, log: string): string => `${author}/${log}`

/** Every log the node holds (at most RECONCILE_LOGS_MAX), as wire summaries. */
export async function summaries(
  source: LogSource,
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
 * The frames that carry positions [from, to) of one log, at most LOG_FETCH_EVENTS_MAX events:
 * events in position order, a frame closed at each signed head the node keeps within the range
 * (the head rides on that frame), and within `frameBytes`.
 */
export async function* rangeFrames(
  source: LogSource,
  range: { author: AuthorKey; log: string; from: number; to: number },
  frameBytes: number,
  eventsMax: number,
): AsyncGenerator<{ events: StoredEvent[]; head?: WireHead }> {
  const { author, log, from, to } = range
  const [rec] = await source.getLogRecords([{ author, log }])
  if (rec === undefined) return
  const heads = await source.getLogHeads(author, log, from, to, 1_000)
  // The newest head is in the record (it may not be a checkpoint); only heads over positions
  // this node holds without a hole are of use to a verifier.
  if (rec.head !== undefined && rec.head.length > from && rec.head.length <= Math.min(to, rec.contiguous))
    heads.push({ author, log, ...rec.head })
  const headAt = new Map(heads.filter((h) => h.length <= rec.contiguous).map((h) => [h.length, h]))
  let events: StoredEvent[] = []
  let bytes = FRAME_OVERHEAD_BYTES
  let sent = 0
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
      const size = encodedEventBytes(event.signed.byteLength, event.signature.byteLength)
      if (events.length > 0 && (bytes + size > frameBytes || events.length >= eventsMax)) {
        yield { events }
        events = []
        bytes = FRAME_OVERHEAD_BYTES
      }
      events.push(event)
      bytes += size
      sent++
      const head = headAt.get(seq + 1)
      if (head !== undefined) {
        yield { events, head: toWireHead(head) }
        events = []
        bytes = FRAME_OVERHEAD_BYTES
      }
    }
    cursor = page[page.length - 1].seq + 1
  }
  if (events.length > 0) yield { events }
}

/** rangeFrames of a wire range, as log-phase frames. */
async function* rangeFramesOf(
  source: LogSource,
  r: LogRange,
  frameBytes: number,
  eventsMax: number,
): AsyncGenerator<Partial<ReconcileFrame>> {
  const range = {
    author: toHex(r.author) as AuthorKey,
    log: toHex(r.log),
    from: Number(r.from),
    to: Number(r.to),
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

export interface ReceiveTotals {
  /** Events new to this node (the others were duplicates or refused). */
  accepted: number
  duplicates: number
  refused: number
  /** Events stored after a head verified them (no per-event signature check). */
  byHead: number
  /** Heads that did not verify (a peer that serves them is counted, and cut off at a bound). */
  badHeads: number
  refusals: Record<string, number>
  /** Accepted events, for relaying a few on gossip. */
  relay: StoredEvent[]
}

interface Pending {
  events: SignedEvent[]
  stored: StoredEvent[]
  bytes: number
}

/**
 * Takes the events of a log phase as they arrive (either side), holds each log's events until
 * the head that covers them, verifies the range with it, and hands the events to the node:
 * verified by the head, or one signature each when no head covers them or it does not verify.
 */
export class LogReceiver {
  readonly #ctx: ProtocolContext
  readonly #source: LogSource
  readonly #origin: Origin
  readonly #relayMax: number
  readonly #pending = new Map<string, Pending>()
  readonly #acc = new Map<string, LogAccumulator | null>()
  /** Stores run one after another, overlapping the reading of the next frames. */
  #storing: Promise<void> = Promise.resolve()
  #failure: unknown
  readonly totals: ReceiveTotals = {
    accepted: 0,
    duplicates: 0,
    refused: 0,
    byHead: 0,
    badHeads: 0,
    refusals: {},
    relay: [],
  }

  readonly #onStored: ((n: number) => void) | undefined

  constructor(
    ctx: ProtocolContext,
    source: LogSource,
    origin: Origin,
    relayMax: number,
    onStored?: (n: number) => void,
  ) {
    this.#ctx = ctx
    this.#source = source
    this.#origin = origin
    this.#relayMax = relayMax
    this.#onStored = onStored
  }

  /** One frame's events and the head it carries (if any). */
  async take(events: readonly StoredEvent[], head: WireHead | undefined): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure
    const ctx = this.#ctx.verifyContext()
    for (const s of events) {
      let e: SignedEvent
      try {
        e = checkEvent(decodeSigned(s.signed), s.signed, s.signature, ctx)
      } catch {
        // Malformed, foreign or out of bounds: the node names the reason (one signature path).
        this.#store([], [s])
        continue
      }
      const k = keyOf(e.author, e.log)
      let p = this.#pending.get(k)
      if (p === undefined) {
        p = { events: [], stored: [], bytes: 0 }
        this.#pending.set(k, p)
      }
      p.events.push(e)
      p.stored.push(s)
      p.bytes += s.signed.byteLength + s.signature.byteLength
      if (p.bytes > LOG_CHUNK_BUFFER_BYTES) this.#flush(k, undefined)
    }
    if (head !== undefined) {
      const h = fromWireHead(head)
      const k = keyOf(h.author, h.log)
      await this.#verified(k, h)
    }
  }

  async #accumulator(k: string, author: AuthorKey, log: string): Promise<LogAccumulator | null> {
    const known = this.#acc.get(k)
    if (known !== undefined) return known
    const [rec] = await this.#source.getLogRecords([{ author, log }])
    const acc =
      rec === undefined ? { length: 0, peaks: [] } : { length: rec.contiguous, peaks: peaksFromRecord(rec) }
    this.#acc.set(k, acc)
    return acc
  }

  async #verified(k: string, head: LogHead): Promise<void> {
    const p = this.#pending.get(k)
    if (p === undefined || p.events.length === 0) return
    const acc = await this.#accumulator(k, head.author, head.log)
    if (acc === null) return this.#flush(k, undefined)
    const verdict = await verifyLogChunk(
      acc,
      p.events,
      head,
      (seqs) =>
        this.#source.getLogPositions(seqs.map((seq) => ({ author: head.author, log: head.log, seq }))),
      verifyEd25519,
    )
    if (verdict.ok) {
      this.#acc.set(k, verdict.next)
      this.#flush(k, head)
      return
    }
    if (verdict.why === 'root' || verdict.why === 'signature') {
      this.totals.badHeads++
      this.#ctx.stats.inc('reconcile.bad_heads')
    }
    // Positions this side could not line up (a hole, a fork, a head it cannot check): from here
    // on the log's events are verified one by one.
    this.#acc.set(k, null)
    this.#flush(k, undefined)
  }

  /** Hands a log's held events to the node: verified by `head`, or one signature each. */
  #flush(k: string, head: LogHead | undefined): void {
    const p = this.#pending.get(k)
    if (p === undefined || p.events.length === 0) return
    this.#pending.delete(k)
    this.#store(head === undefined ? [] : p.events, head === undefined ? p.stored : [], head)
  }

  #store(verified: SignedEvent[], unverified: StoredEvent[], head?: LogHead): void {
    const api = this.#ctx.api
    const t = this.totals
    this.#storing = this.#storing.then(async () => {
      // Parts are handed over LOG_STORE_PARTS_AHEAD at a time, in order: the write queue merges
      // part k+1 while part k is being written, and may commit two parts in one group (one
      // fsync); a flush of up to LOG_CHUNK_BUFFER_BYTES stays far below the queue's bounds.
      const sent: Array<readonly StoredEvent[]> = []
      const calls: Array<() => Promise<PushResult>> = []
      for (let i = 0; i < verified.length; i += 1_000) {
        const part = verified.slice(i, i + 1_000)
        calls.push(() =>
          api.pushVerified(part, this.#origin, i + 1_000 >= verified.length ? head : undefined),
        )
        sent.push(part)
        t.byHead += part.length
        this.#ctx.stats.inc('reconcile.events_by_head', part.length)
      }
      for (let i = 0; i < unverified.length; i += 1_000) {
        const part = unverified.slice(i, i + 1_000)
        calls.push(() => api.pushSigned(part, this.#origin))
        sent.push(part)
      }
      const answers: PushResult[] = []
      const running: Array<Promise<PushResult>> = []
      for (const call of calls) {
        const p = call()
        p.catch(() => {}) // awaited below, in order; a later part failing first is not unhandled
        running.push(p)
        if (running.length >= LOG_STORE_PARTS_AHEAD)
          answers.push(await (running.shift() as Promise<PushResult>))
      }
      for (const p of running) answers.push(await p)
      for (const [k, r] of answers.entries()) {
        const sentPart = sent[k]
        this.#onStored?.(sentPart.length)
        t.accepted += r.accepted
        t.duplicates += r.duplicates
        t.refused += r.rejected.length
        for (const x of r.rejected) t.refusals[x.error] = (t.refusals[x.error] ?? 0) + 1
        if (t.relay.length < this.#relayMax && r.digests.length > 0) {
          const ok = new Set(r.digests)
          for (const e of sentPart) {
            const d = (e as SignedEvent).digest ?? e.digest
            if (t.relay.length < this.#relayMax && d !== undefined && ok.has(d))
              t.relay.push({ signed: e.signed, signature: e.signature })
          }
        }
      }
    })
    this.#storing.catch((err: unknown) => {
      this.#failure ??= err
    })
  }

  /** Everything still held goes to the node one signature each; resolves when all is stored. */
  async finish(): Promise<ReceiveTotals> {
    for (const k of [...this.#pending.keys()]) this.#flush(k, undefined)
    await this.#storing
    return this.totals
  }
}

/** Frames of one session, both ways (the reconciliation stream's meter). */
export interface FrameIo {
  write(frame: Partial<ReconcileFrame>): Promise<void>
  read(): Promise<ReconcileFrame>
}

export interface LogPhaseResult {
  /** Both sides held the same logs, fully: the range phase has nothing to find. */
  readonly consistent: boolean
  /** Positions the peer held past ours / we held past the peer's, from the summaries. */
  readonly need: number
  readonly have: number
  readonly received: ReceiveTotals
  readonly pushedAccepted: number
  /** The log phase's summary round trip, plus one per fetch request. */
  readonly rounds: number
  /** Logs another session of this node was fetching: left to it (the next session checks). */
  readonly deferred: number
}

const span = (ranges: readonly LogRange[]): number => ranges.reduce((n, r) => n + Number(r.to - r.from), 0)

/** Runs the log phase as the initiator, on a stream whose first frame it is about to send. */
export async function initiateLogPhase(
  ctx: ProtocolContext,
  source: LogSource,
  io: FrameIo,
  origin: Origin,
  frameBytes: () => number,
  relayMax: number,
  /** Logs (`log:<author>/<log>`) some session of this node is fetching now: shared by the
   *  node's sessions so two peers' sessions do not fetch one log twice at once. */
  inFlight: Set<string>,
  onReceived?: (n: number) => void,
  onPlanned?: (need: number, have: number) => void,
): Promise<LogPhaseResult> {
  const mine = await summaries(source)
  for (const f of summaryFrames(mine.list, frameBytes() - FRAME_OVERHEAD_BYTES)) await io.write(f)
  const theirs: LogSummary[] = []
  const wanted: LogRange[] = []
  let complete = mine.complete
  for (;;) {
    const f = await io.read()
    if (!f.logPhase) throw new UnexpectedMessageError('the peer answered the log phase with another frame')
    if (theirs.length + f.logs.length > RECONCILE_LOGS_MAX) complete = false
    else theirs.push(...f.logs)
    // The ranges of our logs the peer asks us to push (those it is not fetching elsewhere).
    if (wanted.length + f.logFetch.length <= RECONCILE_LOGS_MAX) wanted.push(...f.logFetch)
    if (!f.logsMore) break
  }
  const plan = planLogs(mine.list, theirs, complete)
  const need = span(plan.fetch)
  const have = span(wanted)
  onPlanned?.(need, have)
  let rounds = 1
  const receiver = new LogReceiver(ctx, source, origin, relayMax, onReceived)
  if (plan.consistent) {
    return {
      consistent: true,
      need: 0,
      have: 0,
      received: await receiver.finish(),
      pushedAccepted: 0,
      rounds,
      deferred: 0,
    }
  }
  const claimed: string[] = []
  let deferred = 0
  let ranges = plan.fetch.filter((r) => {
    const k = `log:${toHex(r.author)}/${toHex(r.log)}`
    if (inFlight.has(k)) {
      deferred++
      return false
    }
    inFlight.add(k)
    claimed.push(k)
    return true
  })
  try {
    while (ranges.length > 0) {
      const batch = ranges.slice(0, RECONCILE_LOGS_PER_FRAME)
      ranges = ranges.slice(RECONCILE_LOGS_PER_FRAME)
      await io.write({ logPhase: true, logFetch: batch })
      rounds++
      const got = new Map<string, { count: number; last: number }>()
      for (;;) {
        const f = await io.read()
        for (const e of f.events) {
          // Counted by the log position in the bytes (the receiver checks them properly).
          if (e.signed.byteLength < SIGNED_BYTES_MIN) continue
          const { log, seq } = readLogPosition(e.signed)
          const k = `${toHex(readAuthor(e.signed))}/${log}`
          const g = got.get(k) ?? { count: 0, last: -1 }
          g.count++
          g.last = Math.max(g.last, seq)
          got.set(k, g)
        }
        if (f.events.length > 0) await receiver.take(f.events, f.head)
        if (f.done) break
      }
      // A range answered up to the per-answer bound is asked again from where it stopped.
      for (const r of batch) {
        const g = got.get(`${toHex(r.author)}/${toHex(r.log)}`)
        if (g !== undefined && g.count >= LOG_FETCH_EVENTS_MAX && BigInt(g.last + 1) < r.to)
          ranges.push({ ...r, from: BigInt(g.last + 1) })
      }
    }
  } finally {
    await receiver.finish().catch(() => {})
    for (const k of claimed) inFlight.delete(k)
  }
  const received = await receiver.finish()
  let pushedAccepted = 0
  for (const r of wanted) {
    for await (const frame of rangeFramesOf(source, r, frameBytes(), ctx.limits.eventsMax)) {
      await io.write(frame)
      pushedAccepted += (await io.read()).accepted
    }
  }
  // The peer stores what it still holds unverified, and says how much it accepted.
  await io.write({ logPhase: true, done: true })
  pushedAccepted += (await io.read()).accepted
  return { consistent: false, need, have, received, pushedAccepted, rounds, deferred }
}

/** The responder's side of the log phase, one stream. */
export class LogPhaseResponder {
  readonly #ctx: ProtocolContext
  readonly #source: LogSource
  readonly #theirs: LogSummary[] = []
  readonly #receiver: LogReceiver
  readonly #inFlight: Set<string>
  /** Logs this stream claimed while the peer pushes them (released at the end). */
  readonly #claimed = new Set<string>()
  #reported = 0

  constructor(ctx: ProtocolContext, source: LogSource, origin: Origin, inFlight: Set<string>) {
    this.#ctx = ctx
    this.#source = source
    this.#receiver = new LogReceiver(ctx, source, origin, 0)
    this.#inFlight = inFlight
  }

  /** Releases the logs this stream claimed (the stream ended, however). */
  release(): void {
    for (const k of this.#claimed) this.#inFlight.delete(k)
    this.#claimed.clear()
  }

  /** Handles one log-phase frame; returns the frames to answer with. */
  async *handle(f: ReconcileFrame, frameBytes: number): AsyncGenerator<Partial<ReconcileFrame>> {
    if (f.done) {
      try {
        await this.#receiver.finish()
      } finally {
        this.release()
      }
      yield { logPhase: true, accepted: this.#delta() }
      return
    }
    if (f.logFetch.length > 0) {
      for (const r of f.logFetch)
        yield* rangeFramesOf(this.#source, r, frameBytes, this.#ctx.limits.eventsMax)
      yield { logPhase: true, done: true }
      return
    }
    if (f.events.length > 0) {
      await this.#receiver.take(f.events, f.head)
      yield { logPhase: true, accepted: this.#delta() }
      return
    }
    if (this.#theirs.length + f.logs.length <= RECONCILE_LOGS_MAX) this.#theirs.push(...f.logs)
    if (f.logsMore) return
    const mine = await summaries(this.#source, this.#inFlight)
    // What this side lacks of the peer's logs, it asks the peer to push, and claims: its own
    // sessions with other peers then leave those logs alone, and other peers' sessions see them
    // flagged `fetching`.
    const plan = planLogs(mine.list, this.#theirs, mine.complete)
    const wanted = plan.fetch.filter((r) => {
      const k = `log:${toHex(r.author)}/${toHex(r.log)}`
      if (this.#inFlight.has(k)) return false
      this.#inFlight.add(k)
      this.#claimed.add(k)
      return true
    })
    const frames = summaryFrames(mine.list, frameBytes - FRAME_OVERHEAD_BYTES)
    for (let i = 0; i < wanted.length; i += RECONCILE_LOGS_PER_FRAME)
      frames.push({
        logPhase: true,
        logFetch: wanted.slice(i, i + RECONCILE_LOGS_PER_FRAME),
        logsMore: false,
      })
    frames.forEach((fr, i) => {
      fr.logsMore = i < frames.length - 1
    })
    yield* frames
  }

  #delta(): number {
    const now = this.#receiver.totals.accepted
    const d = now - this.#reported
    this.#reported = now
    return d
  }

  #counted = 0

  /** Events this side learned in the log phase since the last call (stores finish after the
   *  frames that brought them: the caller counts as it goes, and once more at the end). */
  takeLearned(): number {
    const d = this.#receiver.totals.accepted - this.#counted
    this.#counted += d
    return d
  }

  /** Waits for what the peer pushed to be stored, even when the stream ended early. */
  async settle(): Promise<void> {
    await this.#receiver.finish().catch(() => {})
  }
}
