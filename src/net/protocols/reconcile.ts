/**
 * `/gkm/sync/reconcile/1.0.0`: range-based set reconciliation over one stream (docs/PROTOCOL.md
 * "Reconciliation"). The libp2p adapter of the core's ReconcileSession: it moves frames, reads
 * and writes events through the node, and decides nothing itself.
 *
 * Initiator, per event type it subscribes to: rounds of ranges until its session is complete;
 * then it fetches what it lacks (FETCH_DIGESTS_MAX digests a request, RECONCILE_FETCH_PIPELINE
 * requests outstanding), hands the events to the
 * node (verified like any peer's events), and sends what the peer lacks. Nothing is recorded as
 * done: an event refused for a transient reason is simply found missing again next session.
 */
import type { PeerId } from '@libp2p/interface'
import { digestOf } from '../../core/event-codec.ts'
import type { RangeIndex } from '../../core/range-index.ts'
import {
  IDS_MAX,
  RANGES_MAX,
  type RangeModeCode,
  ReconcileSession,
  type ReconRange,
} from '../../core/reconcile-session.ts'
import type { StoredEvent } from '../../core/records.ts'
import { type EventType, isEventType } from '../../core/types.ts'
import { toHex } from '../../util/bytes.ts'
import { decodeReconcileFrame, ReconcileFrame, type ReconcileLimits } from '../../wire/index.ts'
import {
  FRAME_BYTES_MIN,
  PROTOCOL_RECONCILE,
  RECONCILE_FETCH_DIGESTS_MAX,
  RECONCILE_FETCH_PIPELINE,
  RECONCILE_FRAMES_MAX,
  RECONCILE_LOGS_PER_FRAME,
  RECONCILE_MESSAGE_SLACK_BYTES,
  RECONCILE_RELAY_GOSSIP_MAX,
} from '../constants.ts'
import {
  IndexNotReadyError,
  RemoteRefusedError,
  StreamEndedEarlyError,
  UnexpectedMessageError,
} from '../errors.ts'
import {
  clip,
  deadline,
  type Framed,
  openFramed,
  type ProtocolContext,
  readFrame,
  refusalCode,
} from './context.ts'
import { initiateLogPhase, LogPhaseResponder, type LogPhaseResult, type LogSource } from './log-phase.ts'
import { chunkForFrames } from './push.ts'

/** What reconciliation needs of the node: its event set per type and stored events by digest. */
export interface EventSetSource {
  /** The index of one type; undefined while the node still loads it. */
  index(type: EventType): RangeIndex | undefined
  getEvents(digests: readonly Uint8Array[]): Promise<Array<StoredEvent | undefined>>
  /** Which of these events the node holds now (one batched read). */
  hasEvents(digests: readonly Uint8Array[]): Promise<boolean[]>
  /** Told once the sets are compared, before anything moves: how many events this side lacks
   *  and how many the peer lacks (a progress total; optional). */
  planned?(need: number, have: number): void
  /** The node's per-author logs: with them a session starts with the log phase
   *  (src/net/protocols/log-phase.ts). */
  readonly logs?: LogSource
  /** Told how many events the log phase handed to the node (a progress count; optional). */
  received?(n: number): void
}

export const RECONCILE_LIMITS: ReconcileLimits = {
  rangesMax: RANGES_MAX,
  idsMax: IDS_MAX,
  fetchMax: RECONCILE_FETCH_DIGESTS_MAX,
  logsMax: RECONCILE_LOGS_PER_FRAME,
}

const MESSAGE_SLACK_BYTES = RECONCILE_MESSAGE_SLACK_BYTES
/** Messages stay within the frame every node reads (FRAME_BYTES_MIN) until the peer says it reads
 *  more (its first frame's frame_bytes_max); then within min(ours, theirs). */
const MESSAGE_BUDGET_BYTES = FRAME_BYTES_MIN - MESSAGE_SLACK_BYTES
const budgetFor = (ours: number, theirs: number): number =>
  Math.max(FRAME_BYTES_MIN, Math.min(ours, theirs === 0 ? FRAME_BYTES_MIN : theirs)) - MESSAGE_SLACK_BYTES

/** The outcome of one session, as the initiator saw it. */
export interface ReconcileReport {
  readonly peer: string
  readonly types: EventType[]
  readonly rounds: number
  /** Events the peer held that we lacked / we held that the peer lacked. */
  readonly need: number
  readonly have: number
  /** Of `need`: received and accepted by our node; refused (any reason); not delivered. */
  readonly accepted: number
  readonly refused: number
  readonly withheld: number
  /** Events the peer answered that we did not ask for (or whose bytes differ from the digest). */
  readonly forged: number
  /** Of `have`: accepted by the peer. */
  readonly pushedAccepted: number
  readonly bytesSent: number
  readonly bytesReceived: number
  /** The session stopped at NEED_MAX: another one follows. */
  readonly truncated: boolean
  /** Nothing was missing on either side. */
  readonly inSync: boolean
  readonly localStateHash: string
  readonly peerStateHash: string
  /** Refusals by code among the fetched events (retry_later comes back next session). */
  readonly refusals: Record<string, number>
  /** Events new to this node that the session brought. */
  readonly learned: number
  /** The log phase: whether both sides' logs agreed fully (no range phase then), events stored
   *  verified by a signed head, heads that did not verify. Absent without per-author logs. */
  readonly logs?: { readonly consistent: boolean; readonly byHead: number; readonly badHeads: number }
}

const toRange = (r: {
  upper: Uint8Array
  mode: number
  fingerprint: Uint8Array
  ids: Uint8Array[]
  wanted: Uint8Array[]
}): ReconRange => ({
  upper: r.upper,
  mode: r.mode as RangeModeCode,
  fingerprint: r.fingerprint.length > 0 ? r.fingerprint : undefined,
  ids: r.ids,
  wanted: r.wanted,
})

const fromRange = (r: ReconRange) => ({
  upper: r.upper,
  mode: r.mode,
  fingerprint: r.fingerprint ?? new Uint8Array(0),
  ids: [...(r.ids ?? [])],
  wanted: [...(r.wanted ?? [])],
})

class Meter {
  sent = 0
  received = 0
  async write(lp: Framed, frame: Partial<ReconcileFrame>, signal?: AbortSignal): Promise<void> {
    const bytes = ReconcileFrame.encode(frame)
    this.sent += bytes.byteLength
    await lp.write(bytes, { signal: deadline(undefined, signal) })
  }
  async read(
    ctx: ProtocolContext,
    lp: Framed,
    signal: AbortSignal | undefined,
    allowEnd: boolean,
  ): Promise<ReconcileFrame | undefined> {
    const bytes = await readFrame(lp, deadline(undefined, signal), allowEnd)
    if (bytes === undefined) return undefined
    this.received += bytes.byteLength
    return decodeReconcileFrame(bytes, ctx.limits, RECONCILE_LIMITS)
  }
}

/** Serves one reconciliation stream (the responder). */
export async function handleReconcile(
  ctx: ProtocolContext,
  set: EventSetSource,
  dataTypes: readonly EventType[],
  lp: Framed,
  peer: string,
  /** Digests some session of this node is fetching or storing now (shared with reconcileWith):
   *  pushed copies of them are not verified and stored a second time. */
  inFlight: Set<string>,
  onLearned?: (peer: string) => void,
): Promise<void> {
  const held: { logs?: LogPhaseResponder } = {}
  try {
    await serveReconcile(ctx, set, dataTypes, lp, peer, inFlight, held, onLearned)
  } finally {
    if (held.logs !== undefined) {
      // What the peer pushed is stored (and counted) even if the stream ended early; then the
      // logs it was pushing are free for this node's own sessions again.
      await held.logs.settle()
      countLearned(ctx, held.logs, peer, onLearned)
      held.logs.release()
    }
  }
}

function countLearned(
  ctx: ProtocolContext,
  logs: LogPhaseResponder,
  peer: string,
  onLearned: ((peer: string) => void) | undefined,
): void {
  const learned = logs.takeLearned()
  if (learned === 0) return
  ctx.stats.inc('reconcile.events_received', learned)
  onLearned?.(peer)
}

async function serveReconcile(
  ctx: ProtocolContext,
  set: EventSetSource,
  dataTypes: readonly EventType[],
  lp: Framed,
  peer: string,
  inFlight: Set<string>,
  held: { logs?: LogPhaseResponder },
  onLearned?: (peer: string) => void,
): Promise<void> {
  const meter = new Meter()
  const sessions = new Map<EventType, ReconcileSession>()
  let hashSent = false
  let peerFrameMax = 0
  for (let frames = 0; frames < RECONCILE_FRAMES_MAX; frames++) {
    const f = await meter.read(ctx, lp, undefined, true)
    if (f === undefined) return
    if (f.logPhase) {
      if (set.logs === undefined) {
        await meter.write(lp, {
          logPhase: true,
          error: { code: 'logs_not_kept', message: 'this node does not compare per-author logs' },
        })
        continue
      }
      if (f.frameBytesMax !== 0) peerFrameMax = f.frameBytesMax
      held.logs ??= new LogPhaseResponder(ctx, set.logs, { kind: 'peer', id: peer }, inFlight)
      const logs = held.logs
      let first = !hashSent
      for await (const out of logs.handle(
        f,
        budgetFor(ctx.frameBytesMax, peerFrameMax) + MESSAGE_SLACK_BYTES,
      )) {
        if (first && out.logs !== undefined) {
          // The first summary frame says how large a frame this side reads, and its state hash.
          out.frameBytesMax = ctx.frameBytesMax
          out.stateHash = (await ctx.api.status()).state_hash
          hashSent = true
          first = false
        }
        await meter.write(lp, out)
      }
      countLearned(ctx, logs, peer, onLearned)
      continue
    }
    if (f.done) return
    if (f.ranges.length > 0) {
      const type = f.type
      if (!isEventType(type) || !dataTypes.includes(type)) {
        await meter.write(lp, {
          type,
          error: {
            code: 'type_not_served',
            message: clip(`this node does not hold ${type}`, ctx.limits.textBytesMax),
          },
        })
        continue
      }
      const idx = set.index(type)
      if (idx === undefined) {
        await meter.write(lp, {
          type,
          error: { code: 'not_ready', message: 'this node is still loading its event index' },
        })
        continue
      }
      if (f.frameBytesMax !== 0) peerFrameMax = f.frameBytesMax
      let session = sessions.get(type)
      if (session === undefined) {
        session = new ReconcileSession(idx, 'responder', {
          messageBytesMax: budgetFor(ctx.frameBytesMax, peerFrameMax),
        })
        sessions.set(type, session)
      }
      const answer = session.handle(f.ranges.map(toRange)) as ReconRange[]
      const first = !hashSent
      const stateHash = first ? (await ctx.api.status()).state_hash : ''
      hashSent = true
      await meter.write(lp, {
        type,
        ranges: answer.map(fromRange),
        stateHash,
        frameBytesMax: first ? ctx.frameBytesMax : 0,
      })
      ctx.stats.inc('reconcile.rounds_served')
    } else if (f.fetch.length > 0) {
      const found = (await set.getEvents(f.fetch)).filter((e): e is StoredEvent => e !== undefined)
      // Frames of the floor: the initiator may have several fetches outstanding, whose answers
      // arrive back to back while it stores the one before; small frames keep what it holds
      // unread far below its read buffer (a frame costs no round trip, so size buys nothing).
      const frames = chunkForFrames(found, FRAME_BYTES_MIN, ctx.limits.eventsMax)
      if (frames.length === 0) await meter.write(lp, { done: true })
      for (let i = 0; i < frames.length; i++)
        await meter.write(lp, { events: frames[i], done: i === frames.length - 1 })
      ctx.stats.inc('reconcile.events_served', found.length)
    } else if (f.events.length > 0) {
      const events: StoredEvent[] = []
      const marked: string[] = []
      for (const e of f.events) {
        const d = digestOf(e.signed)
        if (inFlight.has(d)) continue
        inFlight.add(d)
        marked.push(d)
        events.push({ signed: e.signed, signature: e.signature })
      }
      let accepted = 0
      try {
        const r =
          events.length === 0 ? undefined : await ctx.api.pushSigned(events, { kind: 'peer', id: peer })
        accepted = r?.accepted ?? 0
        if (r !== undefined) publish(ctx, events, r.digests)
        if (accepted > 0) onLearned?.(peer)
      } catch (err) {
        await meter.write(lp, {
          error: { code: refusalCode(err), message: clip((err as Error).message, ctx.limits.textBytesMax) },
        })
        continue
      } finally {
        for (const d of marked) inFlight.delete(d)
      }
      await meter.write(lp, { accepted })
      ctx.stats.inc('reconcile.events_received', accepted)
    } else {
      throw new UnexpectedMessageError('an empty reconciliation frame')
    }
  }
  throw new UnexpectedMessageError(`more than ${RECONCILE_FRAMES_MAX} frames on one reconciliation stream`)
}

/** Relays events a peer gave us that our node accepted: they may be new to the rest of the mesh. */
function publish(
  ctx: ProtocolContext,
  events: readonly StoredEvent[],
  acceptedDigests: readonly string[],
): void {
  if (acceptedDigests.length === 0) return
  const accepted = new Set(acceptedDigests)
  ctx.publishAccepted(events.filter((e) => accepted.has(digestOf(e.signed))))
}

/** Runs one session as the initiator, over the given types. */
export async function reconcileWith(
  ctx: ProtocolContext,
  set: EventSetSource,
  peer: PeerId,
  types: readonly EventType[],
  signal: AbortSignal | undefined,
  /** Digests (hex) some session of this node is fetching now: this one leaves them to it, so
   *  parallel sessions with several peers do not fetch the same events each. */
  inFlight: Set<string>,
): Promise<ReconcileReport> {
  const meter = new Meter()
  const id = peer.toString()
  const mine = new Set<string>()
  const need: Uint8Array[] = []
  const have: Uint8Array[] = []
  let rounds = 0
  let truncated = false
  let peerStateHash = ''
  let peerFrameMax = 0
  const localStateHash = (await ctx.api.status()).state_hash
  const indexes = types.map((t) => {
    const idx = set.index(t)
    if (idx === undefined)
      throw new IndexNotReadyError('this node is still loading its event index; try again in a moment')
    return [t, idx] as const
  })
  const served: EventType[] = []
  const { stream, lp } = await openFramed(ctx, peer, PROTOCOL_RECONCILE, deadline(undefined, signal))
  let finished = false
  try {
    let first = true
    let logPhase: LogPhaseResult | undefined
    /** Logs the peer's summaries flag as being fetched from another peer. */
    let peerFetching = 0
    if (set.logs !== undefined) {
      let sentFirst = false
      const io = {
        write: async (fr: Partial<ReconcileFrame>) => {
          if (!sentFirst) {
            sentFirst = true
            fr = { ...fr, frameBytesMax: ctx.frameBytesMax, stateHash: localStateHash }
          }
          await meter.write(lp, fr, signal)
        },
        read: async () => {
          const f = await meter.read(ctx, lp, signal, false)
          if (f === undefined) throw new StreamEndedEarlyError('reconciliation stream ended in the log phase')
          if (f.error !== undefined) throw new RemoteRefusedError(f.error.code, f.error.message)
          if (f.stateHash !== '') peerStateHash = f.stateHash
          if (f.frameBytesMax !== 0) peerFrameMax = f.frameBytesMax
          for (const l of f.logs) if (l.fetching) peerFetching++
          return f
        },
      }
      try {
        logPhase = await initiateLogPhase(
          ctx,
          set.logs,
          io,
          { kind: 'peer', id },
          () => budgetFor(ctx.frameBytesMax, peerFrameMax) + MESSAGE_SLACK_BYTES,
          RECONCILE_RELAY_GOSSIP_MAX,
          inFlight,
          set.received === undefined ? undefined : (n) => set.received?.(n),
          set.planned === undefined ? undefined : (n, h) => set.planned?.(n, h),
        )
        first = false
      } catch (err) {
        // A peer that does not compare logs answers the first frame so: ranges only, then.
        if (!(err instanceof RemoteRefusedError && err.remoteCode === 'logs_not_kept')) throw err
      }
    }
    // Logs that agree fully leave nothing for the range phase to find; logs another session is
    // fetching are left to it (the range phase would only find them missing meanwhile). So are
    // logs the peer is fetching from another peer: the range phase would push them to it a
    // second time (a heal's sessions pushed each event to most nodes several times over).
    const skipRanges =
      logPhase !== undefined && (logPhase.consistent || logPhase.deferred > 0 || peerFetching > 0)
    for (const [type, idx] of skipRanges ? [] : indexes) {
      const session = new ReconcileSession(idx, 'initiator', { messageBytesMax: MESSAGE_BUDGET_BYTES })
      let msg: ReconRange[] | null = session.initiate()
      let refused = false
      while (msg !== null) {
        // The first frame says what this side reads, so the responder's answers may use it too.
        await meter.write(
          lp,
          {
            type,
            ranges: msg.map(fromRange),
            stateHash: first ? localStateHash : '',
            frameBytesMax: first ? ctx.frameBytesMax : 0,
          },
          signal,
        )
        first = false
        const f = await meter.read(ctx, lp, signal, false)
        if (f === undefined) throw new StreamEndedEarlyError('reconciliation stream ended mid-session')
        if (f.error !== undefined) {
          if (f.error.code === 'type_not_served') {
            refused = true
            break
          }
          throw new RemoteRefusedError(f.error.code, f.error.message)
        }
        if (f.stateHash !== '') peerStateHash = f.stateHash
        if (f.frameBytesMax !== 0) peerFrameMax = f.frameBytesMax
        session.limitMessages(budgetFor(ctx.frameBytesMax, peerFrameMax))
        msg = session.handle(f.ranges.map(toRange))
      }
      if (refused) continue
      served.push(type)
      rounds += session.rounds
      // One at a time: a spread passes every id as an argument, and a difference of ~100,000
      // ids overflows the call stack (RangeError; it ended sessions of a 200,000-event join).
      for (const d of session.need) need.push(d)
      for (const d of session.have) have.push(d)
      truncated ||= session.truncated
    }

    if (logPhase === undefined) set.planned?.(need.length, have.length)
    // Fetch what we lack.
    let accepted = 0
    let refusedCount = 0
    let withheld = 0
    let forged = 0
    let learned = 0
    const refusals: Record<string, number> = {}
    // Storing a fetched batch (verify, merge, fsync) overlaps fetching the next one.
    let storing: Promise<void> = Promise.resolve()
    const relay: StoredEvent[] = []
    let deferred = 0
    const store = async (got: StoredEvent[], asked: readonly string[]): Promise<void> => {
      let r: Awaited<ReturnType<typeof ctx.api.pushSigned>>
      try {
        r = await ctx.api.pushSigned(got, { kind: 'peer', id })
      } finally {
        for (const d of asked) {
          inFlight.delete(d)
          mine.delete(d)
        }
      }
      accepted += r.accepted + r.duplicates
      refusedCount += r.rejected.length
      for (const x of r.rejected) refusals[x.error] = (refusals[x.error] ?? 0) + 1
      if (relay.length < RECONCILE_RELAY_GOSSIP_MAX) {
        const ok = new Set(r.digests)
        for (const e of got)
          if (relay.length < RECONCILE_RELAY_GOSSIP_MAX && ok.has(digestOf(e.signed))) relay.push(e)
      }
      learned += r.accepted
    }
    // Up to RECONCILE_FETCH_PIPELINE fetches are outstanding at once (the responder answers
    // them in order), so a large difference costs a round trip per pipeline, not per 1,000
    // events. Answers are read as they arrive and never wait for storage: stores run one after
    // the other behind the reads, and a new fetch goes out only while fewer than the pipeline's
    // batches are requested or read and not yet stored (memory: a pipeline of batches).
    let next = 0
    let unstored = 0
    const outstanding: Array<{ askedHex: string[]; wanted: Set<string> }> = []
    /** Claims the next slice and starts reading which of it the node holds already. */
    const prepare = (): Promise<{ ask: Uint8Array[]; askedHex: string[] }> | undefined => {
      if (next >= need.length) return undefined
      const slice = need.slice(next, next + RECONCILE_FETCH_DIGESTS_MAX)
      next += RECONCILE_FETCH_DIGESTS_MAX
      // Claim first (what another session is fetching or storing is left to it), then drop what
      // another session stored since this one compared sets: claiming after the read would let
      // a session that finished meanwhile slip between the two.
      const claimed: Array<{ d: Uint8Array; h: string }> = []
      for (const d of slice) {
        const h = toHex(d)
        if (inFlight.has(h)) {
          deferred++
          continue
        }
        inFlight.add(h)
        mine.add(h)
        claimed.push({ d, h })
      }
      const read = claimed.length === 0 ? Promise.resolve([]) : set.hasEvents(claimed.map((c) => c.d))
      return read.then((held) => {
        const ask: Uint8Array[] = []
        const askedHex: string[] = []
        for (const [k, c] of claimed.entries()) {
          if (held[k]) {
            deferred++
            inFlight.delete(c.h)
            mine.delete(c.h)
            continue
          }
          ask.push(c.d)
          askedHex.push(c.h)
        }
        return { ask, askedHex }
      })
    }
    // The next slice is claimed and looked up while the answers before it arrive, so that
    // sending a fetch after reading an answer waits on no store read (unread answers would pile
    // up in the stream's read buffer meanwhile).
    let prepared = prepare()
    prepared?.catch(() => {})
    const sendFetch = async (): Promise<boolean> => {
      while (prepared !== undefined) {
        const p = await prepared
        prepared = prepare()
        prepared?.catch(() => {})
        if (p.ask.length === 0) continue
        await meter.write(lp, { fetch: p.ask }, signal)
        outstanding.push({ askedHex: p.askedHex, wanted: new Set(p.askedHex) })
        return true
      }
      return false
    }
    for (;;) {
      while (outstanding.length + unstored < RECONCILE_FETCH_PIPELINE && (await sendFetch())) {}
      const batch = outstanding.shift()
      if (batch === undefined) {
        if (prepared === undefined) break
        await storing // storage is the bottleneck: let it catch up before asking for more
        continue
      }
      const got: StoredEvent[] = []
      for (;;) {
        const f = await meter.read(ctx, lp, signal, false)
        if (f === undefined) throw new StreamEndedEarlyError('reconciliation stream ended mid-fetch')
        if (f.error !== undefined) throw new RemoteRefusedError(f.error.code, f.error.message)
        for (const e of f.events) {
          const d = digestOf(e.signed)
          if (!batch.wanted.delete(d)) forged++
          else got.push({ signed: e.signed, signature: e.signature })
        }
        if (f.done) break
      }
      withheld += batch.wanted.size
      if (got.length === 0) {
        for (const h of batch.askedHex) {
          inFlight.delete(h)
          mine.delete(h)
        }
        continue
      }
      unstored++
      storing = storing
        .then(() => store(got, batch.askedHex))
        .finally(() => {
          unstored--
        })
      // Handled here so a failed store waits for the final await instead of being reported as
      // unhandled while the reads go on; the await below rethrows it.
      storing.catch(() => {})
    }
    await storing
    if (logPhase !== undefined) {
      const r = logPhase.received
      accepted += r.accepted + r.duplicates
      refusedCount += r.refused
      learned += r.accepted
      for (const [code, n] of Object.entries(r.refusals)) refusals[code] = (refusals[code] ?? 0) + n
      for (const e of r.relay) if (relay.length < RECONCILE_RELAY_GOSSIP_MAX) relay.push(e)
    }
    // Relay: a few new events go on gossip at once; the adapter also reconciles with the other
    // peers when this session taught the node anything (AntiEntropy.onLearned).
    if (relay.length > 0) ctx.publishAccepted(relay)

    // Send what the peer lacks.
    let pushedAccepted = logPhase?.pushedAccepted ?? 0
    for (let i = 0; i < have.length; i += RECONCILE_FETCH_DIGESTS_MAX) {
      const events = (await set.getEvents(have.slice(i, i + RECONCILE_FETCH_DIGESTS_MAX))).filter(
        (e): e is StoredEvent => e !== undefined,
      )
      const frameBytes = budgetFor(ctx.frameBytesMax, peerFrameMax) + MESSAGE_SLACK_BYTES
      for (const frame of chunkForFrames(events, frameBytes, ctx.limits.eventsMax)) {
        await meter.write(lp, { events: frame }, signal)
        const f = await meter.read(ctx, lp, signal, false)
        if (f === undefined) throw new StreamEndedEarlyError('reconciliation stream ended mid-push')
        if (f.error !== undefined) throw new RemoteRefusedError(f.error.code, f.error.message)
        // The answer to one pushed frame: never more than the frame held.
        if (f.accepted > frame.length)
          throw new UnexpectedMessageError(
            `the peer says it stored ${f.accepted} of ${frame.length} events pushed`,
          )
        pushedAccepted += f.accepted
      }
    }
    await meter.write(lp, { done: true }, signal)
    finished = true
    await stream.close({ signal: deadline(undefined, signal) }).catch(() => {})
    ctx.stats.inc('reconcile.sessions')
    ctx.stats.inc('reconcile.events_fetched', accepted)
    ctx.stats.inc('reconcile.events_pushed', pushedAccepted)
    if (withheld > 0) ctx.stats.inc('reconcile.withheld', withheld)
    if (forged > 0) ctx.stats.inc('reconcile.forged', forged)
    if (deferred > 0) ctx.stats.inc('reconcile.deferred', deferred)
    if ((logPhase?.deferred ?? 0) > 0) ctx.stats.inc('reconcile.logs_deferred', logPhase?.deferred)
    if (logPhase !== undefined && peerFetching > 0 && !logPhase.consistent && logPhase.deferred === 0)
      ctx.stats.inc('reconcile.ranges_left_to_peer')
    const logNeed = logPhase?.need ?? 0
    const logHave = logPhase?.have ?? 0
    return {
      peer: id,
      types: logPhase?.consistent === true ? [...types] : served,
      rounds: rounds + (logPhase?.rounds ?? 0),
      need: need.length + logNeed,
      have: have.length + logHave,
      accepted,
      refused: refusedCount,
      withheld,
      forged,
      pushedAccepted,
      bytesSent: meter.sent,
      bytesReceived: meter.received,
      truncated,
      inSync:
        need.length === 0 &&
        have.length === 0 &&
        logNeed === 0 &&
        logHave === 0 &&
        !truncated &&
        (logPhase?.deferred ?? 0) === 0 &&
        peerFetching === 0,
      logs:
        logPhase === undefined
          ? undefined
          : {
              consistent: logPhase.consistent,
              byHead: logPhase.received.byHead,
              badHeads: logPhase.received.badHeads,
            },
      localStateHash,
      peerStateHash,
      refusals,
      learned,
    }
  } finally {
    if (!finished) stream.abort(new UnexpectedMessageError('reconciliation abandoned'))
    for (const d of mine) inFlight.delete(d)
  }
}
