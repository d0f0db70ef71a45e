/**
 * The log phase of a reconciliation session (docs/PROTOCOL.md "Log phase") as a sans-IO state
 * machine: frames in, frames and store actions out. Both sides send a summary of every author
 * log they hold (contiguous length, end, Merkle root, holes, fork flag); the initiator fetches
 * what the responder holds past its own, and pushes what the responder lacks. Ranges travel with
 * the signed heads that cover them, so a receiver verifies a range with one signature and hashing
 * (LogIntake); positions no head covers are verified one signature each. When both summaries
 * agree on every log, the session ends after one round trip. An initiator holding more than
 * LOG_SUMMARIES_DIRECT_MAX logs sends bucket fingerprints instead of summaries and both sides
 * narrow down the differing buckets (log-buckets.ts), so the first message stays ~400 bytes.
 * Each side asks for all of its own hole runs (from its record, or past 256 runs from the
 * positions its store holds: `readLogHeld`); logs of one length whose roots differ are descended
 * to their first differing position (log-descent.ts, reading digests with `readLogRun`).
 *
 * Pure: no I/O, clock or randomness. It reads the node's logs through a LogPort (the Store's
 * log reads, or any in-memory implementation of those seven methods), takes the verification
 * context (time, members) with each frame, and leaves storing to the caller.
 *
 * Driving it (the libp2p adapter src/net/protocols/log-phase.ts, the tests and the simulator do
 * exactly this):
 *
 *   const s = new LogSession(port, 'initiator' | 'responder', { frameBytes, eventsMax, inFlight })
 *   if (initiator) await s.start()
 *   for (;;) {
 *     for (let o = await s.poll(); o !== undefined; o = await s.poll()) {
 *       if (o.kind === 'frame') send(o.frame)                         // to the peer, in order
 *       else if (o.kind === 'store') s.stored(o.action, await run(o.action))
 *       //   run: node.pushVerified(events, origin, head) for 'verified',
 *       //        node.pushSigned(events, origin) for 'signed'; may run in the background...
 *       else await storesSoFar()                                      // ...'settle': wait for them
 *     }
 *     if (s.done) break
 *     await s.handle(await receive(), { nowMs, driftMaxMs, allowedAuthors })
 *   }
 *   s.release()   // always, also on error (after s.abort() to flush what it still holds)
 *
 * A responder is done after the initiator's final `done` frame; the adapter then goes on with
 * the range phase frames on the same stream. `result` says what the phase found and moved.
 * test/helpers/mem-logs.ts holds an in-memory LogPort (`MemLogs`) and this loop for two sessions
 * over in-memory queues (`drive`).
 */

import { toHex } from '../util/bytes.ts'
import {
  LOG_PROBES_PER_FRAME,
  type LogBucket,
  type LogProbe,
  type LogRange,
  type LogSummary,
  type ReconcileFrame,
} from '../wire/index.ts'
import type { PushResult } from './api.ts'
import { ReconcileProtocolError } from './errors.ts'
import type { VerifyContext } from './event.ts'
import { readAuthor, readLogPosition, SIGNED_BYTES_MIN } from './event-codec.ts'
import {
  answerDiffering,
  BucketMode,
  deltaFor,
  LOG_SUMMARIES_DIRECT_MAX,
  LogIndex,
  mergeDelta,
  prefixText,
  topBuckets,
} from './log-buckets.ts'
import {
  answerProbes,
  LOG_DESCENT_LENGTH_MAX,
  LOG_DESCENT_LOGS_MAX,
  nodeHash,
  peakProbes,
} from './log-descent.ts'
import {
  LOG_FETCH_EVENTS_MAX,
  LOG_FRAME_OVERHEAD_BYTES,
  type LogPort,
  messageFrames,
  RECONCILE_LOGS_MAX,
  rangeFramesOf,
  summaries,
  summaryFrames,
} from './log-frames.ts'
import { LogIntake, type LogStoreAction, type ReceiveTotals } from './log-intake.ts'
import { logKey, planLogs, type Run, rangeSpan, rangesOf, runsOf } from './log-summary.ts'
import type { AuthorKey } from './types.ts'

export type LogOutput =
  | { readonly kind: 'frame'; readonly frame: Partial<ReconcileFrame> }
  | { readonly kind: 'store'; readonly action: LogStoreAction }
  /** Wait until every store action given so far has been run and reported. */
  | { readonly kind: 'settle' }

export interface LogSessionInit {
  /** Bytes of one frame's content this side sends (the smaller of both sides' frame limits, less
   *  framing); `limitFrames` changes it once the peer said what it reads. */
  readonly frameBytes: number
  /** Events in one frame, at most. */
  readonly eventsMax: number
  /** Logs (`log:<author>/<log>`) some session of this node is fetching now: shared by the
   *  node's sessions so two peers' sessions do not fetch one log twice at once. */
  readonly inFlight: Set<string>
  /** Accepted events kept for relaying on gossip (initiator). */
  readonly relayMax?: number
  /** Ed25519 verification of a head (default: util/crypto's). */
  readonly verifySignature?: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean
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
  /** Logs of one length with different roots whose first differing position a descent found
   *  (both branches then moved both ways). */
  readonly forks: number
}

type State = 'idle' | 'summaries' | 'descent' | 'fetching' | 'pushing' | 'closing' | 'done'

/** Tree nodes by log (logKey), in the order sent. */
function groupProbes(probes: readonly LogProbe[]): Map<string, LogProbe[]> {
  const out = new Map<string, LogProbe[]>()
  for (const p of probes) {
    const k = logKey(p)
    const list = out.get(k) ?? []
    list.push(p)
    out.set(k, list)
  }
  return out
}

const span = (ranges: readonly LogRange[]): number => ranges.reduce((n, r) => n + rangeSpan(r), 0)

/** Pushed frames the initiator sends before the peer's answer (`accepted`) to the first: a
 *  push of many small logs (one frame each) costs a round trip per 16 logs, not per log; the
 *  answers are a few bytes, so neither side's writes can block on the other's. */
export const LOG_PUSH_WINDOW = 16

/** Hole runs of its own logs one session reads from the store (logs whose record does not list
 *  them): bounds the session's memory and reads; a log's holes past it wait for the next
 *  session. */
export const LOG_HOLE_RUNS_READ_MAX = 200_000
/** Held positions read per store call while finding a log's holes. */
const HELD_PAGE = 10_000
const claimKey = (r: { author: Uint8Array; log: Uint8Array }): string =>
  `log:${toHex(r.author)}/${toHex(r.log)}`

/** An `accepted` answer whose count is taken when it is sent (stores finish after frames). */
type Queued = LogOutput | { readonly kind: 'accepted' } | { readonly kind: 'release' }

export class LogSession {
  readonly #port: LogPort
  readonly #initiator: boolean
  #frameBytes: number
  readonly #eventsMax: number
  readonly #inFlight: Set<string>
  readonly #intake: LogIntake
  readonly #claimed = new Set<string>()
  readonly #queue: Queued[] = []
  #state: State = 'idle'
  #mine: { list: LogSummary[]; complete: boolean } | undefined
  readonly #theirs: LogSummary[] = []
  #theirsComplete = true
  /** Many logs: buckets of summaries (log-buckets.ts) instead of every summary. */
  #bucketMode = false
  #index: LogIndex | undefined
  /** The peer's message being received (paged with `logs_more`). */
  #msgBuckets: LogBucket[] = []
  /** Buckets mode: a bucket differed, or a list was exchanged (the logs are not all equal). */
  #differed = false
  /** Buckets mode (initiator): ranges to fetch, found bucket by bucket. */
  readonly #bucketFetch: LogRange[] = []
  #wanted: LogRange[] = []
  /** Initiator: what the summaries (and a descent) found to fetch. */
  #planFetch: LogRange[] = []
  /** Buckets mode (initiator): the peer's summaries learned from lists and deltas. */
  readonly #peerSeen: LogSummary[] = []
  /** Descent: logs (by logKey) being descended and their length; the peer's message's nodes. */
  readonly #descending = new Map<string, number>()
  #msgProbes: LogProbe[] = []
  /** Logs whose first differing position a descent found. */
  #forks = 0
  /** Initiator: ranges still to fetch, the batch asked now, what its answer brought per log. */
  #toFetch: LogRange[] = []
  #batch: LogRange[] = []
  readonly #got = new Map<string, { count: number; last: number }>()
  /** Frames being sent from the store (range answers or pushes), drawn one at a time. */
  #sending: AsyncGenerator<Partial<ReconcileFrame>> | undefined
  /** Initiator: pushed frames (and the final `done`) the peer has not answered yet. */
  #unanswered = 0
  #consistent = false
  #need = 0
  #have = 0
  #rounds = 0
  #deferred = 0
  #pushedAccepted = 0
  /** Events this side pushed (as initiator): what the peer's answers may count at most. */
  #pushedEvents = 0
  #reported = 0

  constructor(port: LogPort, role: 'initiator' | 'responder', init: LogSessionInit) {
    this.#port = port
    this.#initiator = role === 'initiator'
    this.#frameBytes = init.frameBytes
    this.#eventsMax = init.eventsMax
    this.#inFlight = init.inFlight
    this.#intake = new LogIntake(port, init.relayMax ?? 0, init.verifySignature)
  }

  /** Changes the bound of this side's frames (once the peer said what it reads). */
  limitFrames(bytes: number): void {
    this.#frameBytes = bytes
  }

  get done(): boolean {
    return this.#state === 'done'
  }

  /** What the two summaries said: positions to fetch and to push (known after the summaries). */
  get planned(): { need: number; have: number } | undefined {
    return this.#state === 'idle' || this.#state === 'summaries'
      ? undefined
      : { need: this.#need, have: this.#have }
  }

  get received(): ReceiveTotals {
    return this.#intake.totals
  }

  get result(): LogPhaseResult {
    return {
      consistent: this.#consistent,
      need: this.#need,
      have: this.#have,
      received: this.#intake.totals,
      pushedAccepted: this.#pushedAccepted,
      rounds: this.#rounds,
      deferred: this.#deferred,
      forks: this.#forks,
    }
  }

  /** Initiator: its summaries go out. */
  async start(): Promise<void> {
    if (!this.#initiator || this.#state !== 'idle')
      throw new ReconcileProtocolError('start: not an idle initiator')
    this.#mine = await summaries(this.#port)
    this.#state = 'summaries'
    if (this.#mine.list.length > LOG_SUMMARIES_DIRECT_MAX) {
      // Many logs: the 16 top buckets' fingerprints instead of every summary.
      this.#bucketMode = true
      this.#index = new LogIndex(this.#mine.list)
      this.#send(topBuckets(this.#index), [], [])
      return
    }
    for (const frame of summaryFrames(this.#mine.list, this.#frameBytes - LOG_FRAME_OVERHEAD_BYTES))
      this.#queue.push({ kind: 'frame', frame })
  }

  /** One frame from the peer. */
  async handle(f: ReconcileFrame, ctx: VerifyContext): Promise<void> {
    if (!f.logPhase) throw new ReconcileProtocolError('a frame outside the log phase while it runs')
    if (this.#initiator) await this.#initiatorHandle(f, ctx)
    else await this.#responderHandle(f, ctx)
    this.#drainIntake()
  }

  /** The next output, or undefined when the session waits for the peer (or is done). */
  async poll(): Promise<LogOutput | undefined> {
    let q = this.#queue.shift()
    while (q?.kind === 'release') {
      this.release()
      q = this.#queue.shift()
    }
    if (q !== undefined) {
      if (q.kind !== 'accepted') return q
      return { kind: 'frame', frame: { logPhase: true, accepted: this.#acceptedDelta() } }
    }
    if (this.#sending === undefined) return undefined
    if (this.#initiator && this.#unanswered >= LOG_PUSH_WINDOW) return undefined
    const next = await this.#sending.next()
    if (!next.done) {
      if (this.#initiator) this.#unanswered++
      return { kind: 'frame', frame: next.value }
    }
    this.#sending = undefined
    if (this.#initiator) {
      // Pushed everything: the peer stores what it still holds unverified and says how much.
      this.#state = 'closing'
      this.#unanswered++
    }
    return { kind: 'frame', frame: { logPhase: true, done: true } }
  }

  /** The node's result of a store action this session gave. */
  stored(action: LogStoreAction, r: PushResult): void {
    this.#intake.stored(action, r)
  }

  /** The session ends early (stream error): what it still holds goes to the node one signature
   *  each (returned as store actions), and its claims are released. */
  abort(): LogStoreAction[] {
    this.#intake.flushAll()
    this.release()
    this.#sending = undefined
    this.#state = 'done'
    return this.#intake.drain()
  }

  /** Releases the logs this session claimed (always call when it ends, however). */
  release(): void {
    for (const k of this.#claimed) this.#inFlight.delete(k)
    this.#claimed.clear()
  }

  #drainIntake(): void {
    for (const action of this.#intake.drain()) this.#queue.push({ kind: 'store', action })
  }

  #acceptedDelta(): number {
    const now = this.#intake.totals.accepted
    const d = now - this.#reported
    this.#reported = now
    return d
  }

  /** Claims a log for this session; false when another session of the node holds it. */
  #claim(r: LogRange): boolean {
    const k = claimKey(r)
    // A log with several hole runs has several ranges: the session's own claim covers them all.
    if (this.#claimed.has(k)) return true
    if (this.#inFlight.has(k)) return false
    this.#inFlight.add(k)
    this.#claimed.add(k)
    return true
  }

  #takeSummaries(f: ReconcileFrame): void {
    if (this.#theirs.length + f.logs.length > RECONCILE_LOGS_MAX) this.#theirsComplete = false
    else this.#theirs.push(...f.logs)
    if (this.#msgBuckets.length + f.logBuckets.length > RECONCILE_LOGS_MAX)
      throw new ReconcileProtocolError(`more than ${RECONCILE_LOGS_MAX} log buckets in one message`)
    this.#msgBuckets.push(...f.logBuckets)
  }

  /**
   * This side's exact hole runs of its logs whose summary does not list them all (more than 16
   * runs, or more than its record tracks), where the peer holds past its prefix: from the
   * record (up to 256 runs) or from the positions the store holds. By logKey.
   */
  async #exactHoles(mine: readonly LogSummary[], theirs: readonly LogSummary[]): Promise<Map<string, Run[]>> {
    const out = new Map<string, Run[]>()
    const peerEnd = new Map(theirs.map((l) => [logKey(l), l.end]))
    const want = mine.filter((l) => l.holesMore && (peerEnd.get(logKey(l)) ?? 0n) > l.contiguous)
    for (let i = 0; i < want.length; i += 1_000) {
      const part = want.slice(i, i + 1_000)
      const recs = await this.#port.getLogRecords(
        part.map((l) => ({ author: toHex(l.author) as AuthorKey, log: toHex(l.log) })),
      )
      for (const [j, rec] of recs.entries()) {
        if (rec === undefined) continue
        const l = part[j]
        if (rec.holesUnknown !== true) {
          out.set(
            logKey(l),
            (rec.holes ?? []).map(([a, b]) => [BigInt(a), BigInt(b)] as Run),
          )
          continue
        }
        // Unknown: the gaps between the positions held past the prefix, up to the peer's end.
        const upTo = Math.min(rec.end, Number(peerEnd.get(logKey(l)) ?? 0n))
        const runs: Run[] = []
        let cursor = rec.contiguous
        while (cursor < upTo && this.#holeRunsRead < LOG_HOLE_RUNS_READ_MAX) {
          const held = await this.#port.readLogHeld(rec.author, rec.log, cursor, upTo, HELD_PAGE)
          for (const p of held) {
            if (p > cursor) {
              runs.push([BigInt(cursor), BigInt(p)])
              this.#holeRunsRead++
            }
            cursor = p + 1
          }
          if (held.length < HELD_PAGE) {
            if (cursor < upTo) runs.push([BigInt(cursor), BigInt(upTo)])
            cursor = upTo
          }
        }
        out.set(logKey(l), runs)
      }
    }
    return out
  }

  #holeRunsRead = 0

  /** A message of buckets, summaries and fetch ranges, paged into frames. */
  #send(buckets: LogBucket[], logs: LogSummary[], fetch: LogRange[], probes: LogProbe[] = []): void {
    for (const frame of messageFrames(
      buckets,
      logs,
      fetch,
      this.#frameBytes - LOG_FRAME_OVERHEAD_BYTES,
      probes,
    ))
      this.#queue.push({ kind: 'frame', frame })
  }

  /**
   * One message of the peer in buckets mode: equal buckets agree; a differing one is answered
   * (list or sub-buckets); a list is answered with a delta and planned; a delta is planned.
   * Returns the answer and the ranges this side lacks (to fetch, or to ask the peer to push).
   */
  async #bucketRound(): Promise<{ buckets: LogBucket[]; logs: LogSummary[]; lacks: LogRange[] }> {
    const index = this.#index as LogIndex
    const theirs = new LogIndex(this.#theirs)
    const out = { buckets: [] as LogBucket[], logs: [] as LogSummary[], lacks: [] as LogRange[] }
    for (const b of this.#msgBuckets) {
      const prefix = prefixText(b.prefix)
      if (b.mode === BucketMode.fingerprint) {
        if (index.agrees(b)) {
          if (!index.clean(prefix)) this.#differed = true
          continue
        }
        this.#differed = true
        const a = answerDiffering(index, prefix)
        out.buckets.push(...a.buckets)
        out.logs.push(...a.logs)
        continue
      }
      this.#differed = true
      const mine = index.under(prefix)
      const listed = theirs.under(prefix)
      const peer = b.mode === BucketMode.list ? listed : mergeDelta(mine, listed)
      if (this.#initiator) this.#peerSeen.push(...peer)
      out.lacks.push(...planLogs(mine, peer, true, await this.#exactHoles(mine, peer)).fetch)
      if (b.mode === BucketMode.list) {
        const d = deltaFor(index, prefix, listed)
        out.buckets.push(d.bucket)
        out.logs.push(...d.logs)
      }
    }
    this.#msgBuckets = []
    this.#theirs.length = 0
    return out
  }

  async #initiatorHandle(f: ReconcileFrame, ctx: VerifyContext): Promise<void> {
    switch (this.#state) {
      case 'summaries': {
        this.#takeSummaries(f)
        // The ranges of our logs the peer asks us to push (those it is not fetching elsewhere).
        if (this.#wanted.length + f.logFetch.length <= RECONCILE_LOGS_MAX) this.#wanted.push(...f.logFetch)
        if (f.logsMore) return
        const mine = this.#mine as { list: LogSummary[]; complete: boolean }
        this.#rounds++
        let plan: { fetch: LogRange[]; consistent: boolean }
        if (this.#bucketMode) {
          const r = await this.#bucketRound()
          this.#bucketFetch.push(...r.lacks)
          if (r.buckets.length > 0) {
            // Buckets still to settle: one more round of the summary phase.
            this.#send(r.buckets, r.logs, [])
            return
          }
          plan = {
            fetch: this.#bucketFetch,
            consistent: !this.#differed && mine.complete && this.#theirsComplete,
          }
        } else
          plan = planLogs(
            mine.list,
            this.#theirs,
            mine.complete && this.#theirsComplete,
            await this.#exactHoles(mine.list, this.#theirs),
          )
        this.#need = span(plan.fetch)
        this.#have = span(this.#wanted)
        if (plan.consistent) {
          this.#consistent = true
          this.#need = 0
          this.#have = 0
          this.#state = 'done'
          return
        }
        this.#planFetch = plan.fetch
        if (await this.#startDescent(mine.list)) return
        await this.#beginFetch(true)
        return
      }
      case 'descent': {
        this.#msgProbes.push(...f.logProbes)
        if (this.#msgProbes.length > LOG_PROBES_PER_FRAME * LOG_DESCENT_LOGS_MAX)
          throw new ReconcileProtocolError('more tree nodes than the descent asked for')
        if (f.logsMore) return
        this.#rounds++
        const next = await this.#descentRound()
        if (next.length > 0) {
          this.#send([], [], [], next)
          return
        }
        await this.#beginFetch(false)
        return
      }
      case 'fetching': {
        for (const e of f.events) {
          // Counted by the log position in the bytes (the intake checks them properly).
          if (e.signed.byteLength < SIGNED_BYTES_MIN) continue
          const { log, seq } = readLogPosition(e.signed)
          const k = `${toHex(readAuthor(e.signed))}/${log}`
          const g = this.#got.get(k) ?? { count: 0, last: -1 }
          g.count++
          g.last = Math.max(g.last, seq)
          this.#got.set(k, g)
        }
        if (f.events.length > 0) await this.#intake.take(f.events, f.head, ctx)
        if (!f.done) return
        // A range answered up to the per-answer bound is asked again from where it stopped.
        for (const r of this.#batch) {
          const g = this.#got.get(`${toHex(r.author)}/${toHex(r.log)}`)
          if (g === undefined || g.count < LOG_FETCH_EVENTS_MAX) continue
          const rest = runsOf(r)
            .filter(([, b]) => b > BigInt(g.last + 1))
            .map(([a, b]): Run => [a > BigInt(g.last + 1) ? a : BigInt(g.last + 1), b])
          this.#toFetch.push(...rangesOf(r.author, r.log, rest))
        }
        this.#nextFetch()
        return
      }
      case 'pushing':
      case 'closing': {
        if (this.#unanswered === 0) throw new ReconcileProtocolError('an unasked frame while pushing logs')
        // An answer counts what the peer stored since its last answer (stores finish after the
        // frames that brought them, a part of up to LOG_STORE_BATCH events at a time), so one
        // answer may count more than one frame held; never more than was pushed.
        if (this.#pushedAccepted + f.accepted > this.#pushedEvents)
          throw new ReconcileProtocolError(
            `the peer says it stored ${this.#pushedAccepted + f.accepted} events of ${this.#pushedEvents} pushed`,
          )
        this.#pushedAccepted += f.accepted
        this.#unanswered--
        if (this.#state === 'closing' && this.#unanswered === 0) this.#state = 'done'
        return
      }
      default:
        throw new ReconcileProtocolError(`a log-phase frame in state ${this.#state}`)
    }
  }

  /** Initiator: claims what it fetches (logs another session fetches are left to it), then
   *  fetches batch by batch. */
  async #beginFetch(trimHeld: boolean): Promise<void> {
    this.#need = span(this.#planFetch)
    this.#have = span(this.#wanted)
    const claimed = this.#planFetch.filter((r) => {
      if (this.#claim(r)) return true
      this.#deferred++
      return false
    })
    // The plan is from this side's summaries of a round trip ago: another session may have
    // stored some of these positions meanwhile (and released its claim). What is now held
    // contiguously is not fetched again. Not after a descent: its ranges lie below this side's
    // contiguous prefix on purpose (the other branch of a fork).
    const records = !trimHeld
      ? []
      : await this.#port.getLogRecords(
          claimed.map((r) => ({ author: toHex(r.author) as AuthorKey, log: toHex(r.log) })),
        )
    this.#toFetch = claimed.flatMap((r, i) => {
      if (!trimHeld) return [r]
      const held = BigInt(records[i]?.contiguous ?? 0)
      if (held <= r.from) return [r]
      const rest = runsOf(r)
        .filter(([, b]) => b > held)
        .map(([a, b]): Run => [a > held ? a : held, b])
      return rangesOf(r.author, r.log, rest)
    })
    this.#state = 'fetching'
    this.#nextFetch()
  }

  /** Initiator: logs both hold to one length with different roots start a descent (their
   *  peaks' tree nodes go out); false when there are none. */
  async #startDescent(mine: readonly LogSummary[]): Promise<boolean> {
    const theirs = new Map<string, LogSummary>()
    for (const t of this.#bucketMode ? this.#peerSeen : this.#theirs) theirs.set(logKey(t), t)
    const pick = mine
      .filter((m) => {
        const t = theirs.get(logKey(m))
        return (
          t !== undefined &&
          m.contiguous > 0n &&
          m.contiguous === t.contiguous &&
          m.contiguous <= BigInt(LOG_DESCENT_LENGTH_MAX) &&
          Buffer.compare(m.root, t.root) !== 0
        )
      })
      .slice(0, LOG_DESCENT_LOGS_MAX)
    if (pick.length === 0) return false
    const recs = await this.#port.getLogRecords(
      pick.map((l) => ({ author: toHex(l.author) as AuthorKey, log: toHex(l.log) })),
    )
    const probes: LogProbe[] = []
    for (const [i, rec] of recs.entries()) {
      if (rec === undefined || BigInt(rec.contiguous) !== pick[i].contiguous) continue
      this.#descending.set(logKey(pick[i]), rec.contiguous)
      probes.push(...peakProbes(rec))
    }
    if (probes.length === 0) return false
    this.#state = 'descent'
    this.#send([], [], [], probes)
    return true
  }

  /** Initiator: the peer's tree nodes; a position found starts the exchange of both branches
   *  from it; returns the nodes to send next. */
  async #descentRound(): Promise<LogProbe[]> {
    const next: LogProbe[] = []
    for (const [k, probes] of groupProbes(this.#msgProbes)) {
      const n = this.#descending.get(k)
      if (n === undefined) continue
      const [rec] = await this.#port.getLogRecords([
        { author: toHex(probes[0].author) as AuthorKey, log: toHex(probes[0].log) },
      ])
      if (rec === undefined) continue
      const a = await answerProbes(this.#port, probes, rec)
      next.push(...a.next)
      if (a.found === undefined) continue
      // Both keep both: this side fetches the peer's events from the fork on, and pushes its own.
      this.#descending.delete(k)
      const { author, log } = probes[0]
      const run: Run = [BigInt(a.found), BigInt(n)]
      this.#planFetch.push(...rangesOf(author, log, [run]))
      this.#wanted.push(...rangesOf(author, log, [run]))
      this.#forks++
    }
    this.#msgProbes = []
    return next
  }

  /** Initiator: asks the next batch of ranges, or (all fetched) starts pushing. */
  #nextFetch(): void {
    this.#got.clear()
    if (this.#toFetch.length > 0) {
      // As many ranges as one frame holds (by count and bytes).
      const [first] = messageFrames([], [], this.#toFetch, this.#frameBytes - LOG_FRAME_OVERHEAD_BYTES)
      const n = Math.max(1, first.logFetch?.length ?? 0)
      this.#batch = this.#toFetch.slice(0, n)
      this.#toFetch = this.#toFetch.slice(n)
      this.#rounds++
      this.#queue.push({ kind: 'frame', frame: { logPhase: true, logFetch: this.#batch } })
      return
    }
    // Fetched all: what is still held unverified is stored, the claims are released, and the
    // ranges the peer asked for go out.
    this.#batch = []
    this.#intake.flushAll()
    this.#drainIntake()
    this.#queue.push({ kind: 'settle' }, { kind: 'release' })
    this.#state = 'pushing'
    this.#unanswered = 0
    this.#sending = this.#pushFrames(this.#wanted)
  }

  /** Frames of the given ranges. A range answer stops at LOG_FETCH_EVENTS_MAX events: the
   *  responder's answer to a fetch is asked again from there by the initiator, and the
   *  initiator's own pushes go on from there at once (they ended at 50,000 events of a log
   *  before, leaving the rest to the far slower range phase). */
  async *#pushFrames(ranges: readonly LogRange[]): AsyncGenerator<Partial<ReconcileFrame>> {
    const queue = [...ranges]
    for (let r = queue.shift(); r !== undefined; r = queue.shift()) {
      let count = 0
      let last = -1
      for await (const f of rangeFramesOf(this.#port, r, this.#frameBytes, this.#eventsMax)) {
        const n = f.events?.length ?? 0
        if (n > 0) {
          count += n
          last = Math.max(last, readLogPosition((f.events as ReconcileFrame['events'])[n - 1].signed).seq)
        }
        if (this.#initiator) this.#pushedEvents += n
        yield f
      }
      if (!this.#initiator || count < LOG_FETCH_EVENTS_MAX) continue
      const rest = runsOf(r)
        .filter(([, b]) => b > BigInt(last + 1))
        .map(([a, b]): Run => [a > BigInt(last + 1) ? a : BigInt(last + 1), b])
      queue.unshift(...rangesOf(r.author, r.log, rest))
    }
  }

  async #responderHandle(f: ReconcileFrame, ctx: VerifyContext): Promise<void> {
    if (this.#state === 'done') throw new ReconcileProtocolError('a log-phase frame after its end')
    if (f.done) {
      this.#intake.flushAll()
      this.#drainIntake()
      this.#queue.push({ kind: 'settle' }, { kind: 'release' }, { kind: 'accepted' })
      this.#state = 'done'
      return
    }
    if (f.logFetch.length > 0) {
      if (this.#sending !== undefined)
        throw new ReconcileProtocolError('a log fetch before the last was answered')
      this.#sending = this.#pushFrames(f.logFetch)
      return
    }
    if (f.events.length > 0) {
      await this.#intake.take(f.events, f.head, ctx)
      this.#drainIntake()
      this.#queue.push({ kind: 'accepted' })
      return
    }
    if (f.logProbes.length > 0) {
      // A descent: answer each log's first differing node (one position: this side's own node
      // of it, so the initiator finds it too).
      this.#msgProbes.push(...f.logProbes)
      if (this.#msgProbes.length > LOG_PROBES_PER_FRAME * LOG_DESCENT_LOGS_MAX)
        throw new ReconcileProtocolError('more tree nodes in one message than a descent sends')
      if (f.logsMore) return
      const groups = groupProbes(this.#msgProbes)
      this.#msgProbes = []
      const recs = await this.#port.getLogRecords(
        [...groups.values()].map((ps) => ({
          author: toHex(ps[0].author) as AuthorKey,
          log: toHex(ps[0].log),
        })),
      )
      const next: LogProbe[] = []
      for (const [i, probes] of [...groups.values()].entries()) {
        const rec = recs[i]
        if (rec === undefined) continue
        const a = await answerProbes(this.#port, probes, rec)
        next.push(...a.next)
        if (a.found !== undefined) {
          const own = await nodeHash(this.#port, rec.author, rec.log, a.found, a.found + 1)
          if (own !== undefined)
            next.push({ ...probes[0], from: BigInt(a.found), to: BigInt(a.found + 1), hash: own })
        }
      }
      this.#send([], [], [], next)
      return
    }
    this.#takeSummaries(f)
    if (f.logsMore) return
    this.#mine ??= await summaries(this.#port, this.#inFlight)
    const mine = this.#mine
    this.#rounds++
    if (this.#msgBuckets.length > 0 || this.#bucketMode) {
      // Buckets mode: answer every bucket; ask for what this side lacks of the listed logs.
      this.#bucketMode = true
      this.#index ??= new LogIndex(mine.list)
      const r = await this.#bucketRound()
      const wanted = r.lacks.filter((x) => this.#claim(x))
      this.#need += span(wanted)
      this.#state = 'fetching'
      this.#send(r.buckets, r.logs, wanted)
      return
    }
    // What this side lacks of the peer's logs, it asks the peer to push, and claims: its own
    // sessions with other peers then leave those logs alone, and other peers' sessions see them
    // flagged `fetching`.
    const plan = planLogs(
      mine.list,
      this.#theirs,
      mine.complete && this.#theirsComplete,
      await this.#exactHoles(mine.list, this.#theirs),
    )
    const wanted = plan.fetch.filter((r) => this.#claim(r))
    this.#need = span(wanted)
    this.#have = span(plan.push)
    this.#consistent = plan.consistent
    this.#state = 'fetching'
    const frames = summaryFrames(mine.list, this.#frameBytes - LOG_FRAME_OVERHEAD_BYTES)
    if (wanted.length > 0)
      frames.push(...messageFrames([], [], wanted, this.#frameBytes - LOG_FRAME_OVERHEAD_BYTES))
    frames.forEach((fr, i) => {
      fr.logsMore = i < frames.length - 1
    })
    for (const frame of frames) this.#queue.push({ kind: 'frame', frame })
  }
}
