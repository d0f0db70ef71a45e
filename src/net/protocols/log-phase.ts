/**
 * The log phase's libp2p adapter: moves the frames of a LogSession (src/core/log-session.ts,
 * where the phase's decisions and state live) over a reconciliation stream, and runs the store
 * actions it returns on the node (pushVerified / pushSigned), one after another while the next
 * frames are read.
 */

import type { LogPort } from '../../core/log-frames.ts'
import type { LogStoreAction } from '../../core/log-intake.ts'
import type { LogPhaseResult } from '../../core/log-session.ts'
import { LogSession } from '../../core/log-session.ts'
import type { StoredEvent } from '../../core/records.ts'
import type { Origin, SignedEvent } from '../../core/types.ts'
import type { ReconcileFrame } from '../../wire/index.ts'
import { LOG_STORE_PARTS_AHEAD } from '../constants.ts'
import type { ProtocolContext } from './context.ts'

const noop = (): void => {}

export { fromWireHead, rangeFrames, summaryFrames, toWireHead } from '../../core/log-frames.ts'
export type { LogPhaseResult } from '../../core/log-session.ts'

/** What the log phase reads of the node's store. */
export type LogSource = LogPort

/** Frames of one session, both ways (the reconciliation stream's meter). */
export interface FrameIo {
  write(frame: Partial<ReconcileFrame>): Promise<void>
  read(): Promise<ReconcileFrame>
}

/** Runs a session's store actions on the node in order, in the background; `settle` waits. */
class Stores {
  readonly #ctx: ProtocolContext
  readonly #session: LogSession
  readonly #origin: Origin
  readonly #onStored: ((n: number) => void) | undefined
  #chain: Promise<void> = Promise.resolve()
  #failure: unknown

  constructor(ctx: ProtocolContext, session: LogSession, origin: Origin, onStored?: (n: number) => void) {
    this.#ctx = ctx
    this.#session = session
    this.#origin = origin
    this.#onStored = onStored
  }

  /** Completions of the last LOG_STORE_PARTS_AHEAD pushes handed to the node. */
  readonly #ahead: Array<Promise<void>> = []

  /** Hands the action to the node once fewer than LOG_STORE_PARTS_AHEAD are outstanding (so the
   *  write queue merges one part while the one before is written, and may commit two in one
   *  fsync); answers are taken in order. */
  /** After an abort: runs what the session still held, unless a store action failed already
   *  (then it is fetched again next session); never throws, so the first error is the one seen. */
  flush(actions: readonly LogStoreAction[]): void {
    if (this.#failure === undefined) for (const a of actions) this.run(a)
  }

  run(action: LogStoreAction): void {
    if (this.#failure !== undefined) throw this.#failure
    const api = this.#ctx.api
    const gate = this.#ahead.length >= LOG_STORE_PARTS_AHEAD ? this.#ahead.shift() : undefined
    const push = () =>
      action.kind === 'verified'
        ? api.pushVerified(action.events as SignedEvent[], this.#origin, action.head)
        : api.pushSigned(action.events as StoredEvent[], this.#origin)
    const issued = gate === undefined ? push() : gate.then(push)
    this.#ahead.push(issued.then(noop, noop))
    this.#chain = this.#chain.then(async () => {
      const r = await issued
      if (action.kind === 'verified') this.#ctx.stats.inc('reconcile.events_by_head', action.events.length)
      this.#session.stored(action, r)
      this.#onStored?.(action.events.length)
    })
    this.#chain.catch((err: unknown) => {
      this.#failure ??= err
    })
  }

  #badHeads = 0

  /** Counts the heads that did not verify since the last call (`reconcile.bad_heads`). */
  countBadHeads(): void {
    const bad = this.#session.received.badHeads - this.#badHeads
    this.#badHeads += bad
    if (bad > 0) this.#ctx.stats.inc('reconcile.bad_heads', bad)
  }

  async settle(): Promise<void> {
    await this.#chain
    if (this.#failure !== undefined) throw this.#failure
  }
}

/** Sends what the session has to send, runs its store actions; counts heads that failed. */
async function pump(
  session: LogSession,
  stores: Stores,
  write: (f: Partial<ReconcileFrame>) => Promise<void>,
): Promise<void> {
  for (let o = await session.poll(); o !== undefined; o = await session.poll()) {
    if (o.kind === 'frame') await write(o.frame)
    else if (o.kind === 'store') stores.run(o.action)
    else await stores.settle()
  }
  stores.countBadHeads()
}

/** Runs the log phase as the initiator, on a stream whose first frame it is about to send. */
export async function initiateLogPhase(
  ctx: ProtocolContext,
  source: LogSource,
  io: FrameIo,
  origin: Origin,
  frameBytes: () => number,
  relayMax: number,
  /** Logs (`log:<author>/<log>`) some session of this node is fetching now. */
  inFlight: Set<string>,
  onReceived?: (n: number) => void,
  onPlanned?: (need: number, have: number) => void,
): Promise<LogPhaseResult> {
  const session = new LogSession(source, 'initiator', {
    frameBytes: frameBytes(),
    eventsMax: ctx.limits.eventsMax,
    inFlight,
    relayMax,
  })
  const stores = new Stores(ctx, session, origin, onReceived)
  const write = (f: Partial<ReconcileFrame>) => io.write(f)
  let ok = false
  try {
    await session.start()
    await pump(session, stores, write)
    let planned = false
    while (!session.done) {
      const f = await io.read()
      session.limitFrames(frameBytes())
      await session.handle(f, ctx.verifyContext())
      if (!planned && session.planned !== undefined) {
        planned = true
        onPlanned?.(session.planned.need, session.planned.have)
      }
      await pump(session, stores, write)
    }
    await stores.settle()
    ok = true
    if (session.result.forks > 0) ctx.stats.inc('reconcile.log_forks', session.result.forks)
    return session.result
  } finally {
    if (!ok) {
      stores.flush(session.abort())
      await stores.settle().catch(() => {})
    }
    session.release()
  }
}

/** The responder's side of the log phase, one stream. */
export class LogPhaseResponder {
  readonly #ctx: ProtocolContext
  readonly #session: LogSession
  readonly #stores: Stores
  #counted = 0

  constructor(ctx: ProtocolContext, source: LogSource, origin: Origin, inFlight: Set<string>) {
    this.#ctx = ctx
    this.#session = new LogSession(source, 'responder', {
      frameBytes: ctx.frameBytesMax,
      eventsMax: ctx.limits.eventsMax,
      inFlight,
    })
    this.#stores = new Stores(ctx, this.#session, origin)
  }

  /** Releases the logs this stream claimed (the stream ended, however). */
  release(): void {
    this.#session.release()
  }

  /** Handles one log-phase frame; returns the frames to answer with. */
  async *handle(f: ReconcileFrame, frameBytes: number): AsyncGenerator<Partial<ReconcileFrame>> {
    this.#session.limitFrames(frameBytes)
    await this.#session.handle(f, this.#ctx.verifyContext())
    // Frames are yielded as the session produces them (a range answer is read page by page).
    for (let o = await this.#session.poll(); o !== undefined; o = await this.#session.poll()) {
      if (o.kind === 'frame') yield o.frame
      else if (o.kind === 'store') this.#stores.run(o.action)
      else await this.#stores.settle()
    }
    this.#stores.countBadHeads()
  }

  /** Events this side learned in the log phase since the last call (stores finish after the
   *  frames that brought them: the caller counts as it goes, and once more at the end). */
  takeLearned(): number {
    const d = this.#session.received.accepted - this.#counted
    this.#counted += d
    return d
  }

  /** Waits for what the peer pushed to be stored, even when the stream ended early. */
  async settle(): Promise<void> {
    if (!this.#session.done) this.#stores.flush(this.#session.abort())
    await this.#stores.settle().catch(() => {})
  }
}
