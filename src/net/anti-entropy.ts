/**
 * AntiEntropy: the libp2p adapter of the core's SyncScheduler (src/core/sync-scheduler.ts), which
 * decides when the node reconciles with whom. This file only feeds it events and the time, runs
 * the sessions it asks for (`reconcileWith`), hangs up on the peers it strikes out, and arms one
 * timer for its next wake-up. It also keeps each peer's last report for status.
 */
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { SyncScheduler } from '../core/sync-scheduler.ts'
import type { EventType } from '../core/types.ts'
import {
  RECONCILE_BAN_MS,
  RECONCILE_INTERVAL_JITTER,
  RECONCILE_PARALLEL_MAX,
  RECONCILE_RELAY_DELAY_MS,
  RECONCILE_RETRY_MS,
  RECONCILE_STRIKES_MAX,
} from './constants.ts'
import { PeerBannedError } from './errors.ts'
import type { ProtocolContext } from './protocols/context.ts'
import { type EventSetSource, type ReconcileReport, reconcileWith } from './protocols/reconcile.ts'

export interface PeerSyncInfo {
  /** When a session last found nothing missing either way (ms since the epoch). */
  readonly inSyncAtMs?: number
  /** Both state hashes at that moment. */
  readonly inSyncLocalHash?: string
  readonly inSyncPeerHash?: string
  readonly last?: ReconcileReport & { readonly atMs: number }
  readonly lastError?: string
  readonly strikes: number
}

/**
 * How far a running session is, for a caller that waits on it (`gkm-sync sync`). The number of
 * events to fetch is known only inside the session, so these are counts so far: `fetched`
 * events the session asked the peer for (after dropping those the node already holds or
 * another session is fetching), `sent` events it is sending the peer.
 */
export interface ReconcileProgress {
  readonly peer: string
  readonly phase: 'comparing' | 'fetching' | 'sending'
  readonly fetched: number
  readonly sent: number
  /** Once the sets are compared: the events this node lacks and the events the peer lacks. */
  readonly to_fetch?: number
  readonly to_send?: number
}

interface Waiter {
  resolve: (r: ReconcileReport) => void
  reject: (e: unknown) => void
  onProgress?: (p: ReconcileProgress) => void
}

interface PeerRecord {
  inSyncAtMs?: number
  inSyncLocalHash?: string
  inSyncPeerHash?: string
  last?: ReconcileReport & { atMs: number }
  lastError?: string
  /** Requests not yet served by a session that started after them. */
  pending: Waiter[]
  /** Requests the running session serves. */
  current: Waiter[]
}

export interface AntiEntropyComponents {
  readonly ctx: ProtocolContext
  readonly set: EventSetSource
  readonly now: () => number
  readonly random: () => number
  /** Closes every connection to a peer. */
  readonly hangUp: (peer: PeerId) => Promise<void>
}

export interface AntiEntropyInit {
  readonly selfId: string
  readonly dataTypes: readonly EventType[]
  /** Anti-entropy period; 0 = on connect, relay and demand only. */
  readonly intervalMs: number
}

const PROTOCOL_FAULTS = new Set([
  'ReconcileProtocolError',
  'WireDecodeError',
  'WireLimitError',
  'UnexpectedMessageError',
])

/** Errors that are faults of this node's code, whatever the peer sent. */
const BUG_NAMES = new Set(['RangeError', 'TypeError', 'ReferenceError', 'SyntaxError'])

export class AntiEntropy {
  readonly #c: AntiEntropyComponents
  readonly #types: readonly EventType[]
  readonly #sched: SyncScheduler
  readonly #records = new Map<string, PeerRecord>()
  readonly #abort = new AbortController()
  readonly #running = new Set<Promise<void>>()
  /** Digests some session is fetching or storing now (shared by the sessions this node runs and
   *  serves, so parallel sessions take each event once). */
  readonly inFlight = new Set<string>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #timerAt: number | undefined

  constructor(components: AntiEntropyComponents, init: AntiEntropyInit) {
    this.#c = components
    this.#types = [...init.dataTypes].sort()
    this.#sched = new SyncScheduler({
      selfId: init.selfId,
      intervalMs: init.intervalMs,
      intervalJitter: RECONCILE_INTERVAL_JITTER,
      retryMs: RECONCILE_RETRY_MS,
      relayDelayMs: RECONCILE_RELAY_DELAY_MS,
      parallelMax: RECONCILE_PARALLEL_MAX,
      strikesMax: RECONCILE_STRIKES_MAX,
      banMs: RECONCILE_BAN_MS,
    })
  }

  #record(id: string): PeerRecord {
    let r = this.#records.get(id)
    if (r === undefined) {
      r = { pending: [], current: [] }
      this.#records.set(id, r)
    }
    return r
  }

  /** A peer connected: false when it is refused for now (the caller hangs up). */
  connected(peer: PeerId): boolean {
    if (this.#abort.signal.aborted) return true
    const ok = this.#sched.handleConnected(peer.toString(), this.#c.now(), this.#c.random())
    this.#drive()
    return ok
  }

  disconnected(peer: PeerId): void {
    this.#sched.handleDisconnected(peer.toString())
  }

  /** Whether a peer is refused for now. */
  banned(id: string): boolean {
    return this.#sched.banned(id, this.#c.now())
  }

  /** A peer's session with this node started or ended: ours with it waits meanwhile. */
  serving(id: string, active: boolean): void {
    this.#sched.handleServing(id, active)
    if (!active) this.#drive()
  }

  /** The node learned events from `from` outside a session it ran: relay them. */
  onLearned(from: string): void {
    if (this.#abort.signal.aborted) return
    this.#sched.handleLearned(from, this.#c.now())
    this.#drive()
  }

  /** A session with this peer: now, or after the one running. Resolves with its report;
   *  `onProgress` hears how far the session that serves the request is. */
  request(peer: PeerId, onProgress?: (p: ReconcileProgress) => void): Promise<ReconcileReport> {
    if (this.#abort.signal.aborted) return Promise.reject(new Error('anti-entropy stopped'))
    const id = peer.toString()
    const now = this.#c.now()
    if (this.#sched.banned(id, now)) {
      const until = this.#sched.schedule(id)?.bannedUntilMs ?? now
      return Promise.reject(
        new PeerBannedError(`peer ${id} is refused until ${new Date(until).toISOString()}`),
      )
    }
    return new Promise((resolve, reject) => {
      this.#record(id).pending.push({ resolve, reject, ...(onProgress === undefined ? {} : { onProgress }) })
      this.#sched.request(id, now)
      this.#drive()
    })
  }

  /** Runs what the scheduler asks for and arms its next wake-up. */
  #drive(): void {
    if (this.#abort.signal.aborted) return
    const now = this.#c.now()
    for (const id of this.#sched.pollStart(now)) this.#run(id)
    for (const id of this.#sched.pollHangUps()) {
      this.#c.ctx.stats.inc('reconcile.cut_off')
      this.#c.ctx.log.warn(
        `cut off peer ${id} for ${RECONCILE_BAN_MS / 60_000} min after ${RECONCILE_STRIKES_MAX} strikes`,
      )
      this.#c.hangUp(peerIdFromString(id)).catch(() => {})
      const r = this.#records.get(id)
      for (const w of r?.pending.splice(0) ?? []) w.reject(new PeerBannedError(`peer ${id} is refused`))
    }
    this.#arm()
  }

  #arm(): void {
    const at = this.#sched.pollTimeoutMs()
    if (at === this.#timerAt) return
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#timerAt = at
    if (at === undefined) return
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined
        this.#timerAt = undefined
        this.#sched.handleTimeout(this.#c.now(), this.#c.random(), this.#c.random())
        this.#drive()
      },
      Math.max(0, at - this.#c.now()),
    )
    this.#timer.unref?.()
  }

  #run(id: string): void {
    const rec = this.#record(id)
    rec.current = rec.pending.splice(0)
    const serving = rec.current
    const startedAt = this.#c.now()
    this.#c.ctx.log.debug('reconciliation with a peer started', { peer: id })
    const p = reconcileWith(
      this.#c.ctx,
      serving.some((w) => w.onProgress !== undefined) ? progressOf(this.#c.set, id, serving) : this.#c.set,
      peerIdFromString(id),
      this.#types,
      this.#abort.signal,
      this.inFlight,
    ).then(
      (report) => {
        const now = this.#c.now()
        rec.last = { ...report, atMs: now }
        rec.lastError = undefined
        if (report.inSync) {
          rec.inSyncAtMs = now
          rec.inSyncLocalHash = report.localStateHash
          rec.inSyncPeerHash = report.peerStateHash
        }
        const badHeads = report.logs?.badHeads ?? 0
        const misbehaved =
          report.forged > 0 || report.withheld > 0 || (report.refusals.bad_signature ?? 0) > 0 || badHeads > 0
        if (misbehaved) {
          this.#c.ctx.stats.inc('reconcile.strikes')
          this.#c.ctx.log.warn('a peer misbehaved in reconciliation', {
            peer: id,
            forged: report.forged,
            withheld: report.withheld,
            badSignatures: report.refusals.bad_signature ?? 0,
            badHeads,
          })
        }
        if (report.learned > 0) this.#c.ctx.stats.inc('reconcile.relay_sessions')
        const fields = {
          peer: id,
          need: report.need,
          have: report.have,
          accepted: report.accepted,
          pushed: report.pushedAccepted,
          rounds: report.rounds,
          bytes: report.bytesSent + report.bytesReceived,
          inSync: report.inSync,
          ms: now - startedAt,
        }
        if (report.need > 0 || report.have > 0)
          this.#c.ctx.log.info('reconciliation with a peer done', fields)
        else this.#c.ctx.log.debug('reconciliation with a peer: in sync', fields)
        this.#sched.handleSessionEnded(
          id,
          {
            learned: report.learned,
            inSync: report.inSync,
            truncated: report.truncated,
            transient: (report.refusals.retry_later ?? 0) > 0,
            misbehaved,
          },
          now,
        )
        for (const w of serving) w.resolve(report)
      },
      (err: unknown) => {
        const name = (err as Error)?.name ?? ''
        rec.lastError = (err as Error)?.message ?? String(err)
        this.#c.ctx.stats.inc('reconcile.failed')
        if (PROTOCOL_FAULTS.has(name)) this.#c.ctx.stats.inc('reconcile.strikes')
        if (!this.#abort.signal.aborted) {
          // A fault of this node's own code (not the peer's, not the network's) is a bug: it is
          // logged as a warning with its stack, so it can be found.
          if (BUG_NAMES.has(name))
            this.#c.ctx.log.warn('reconciliation with a peer failed on a fault of this node', {
              peer: id,
              error: rec.lastError,
              name,
              stack: (err as Error)?.stack,
            })
          else
            this.#c.ctx.log.info('reconciliation with a peer failed', {
              peer: id,
              ms: this.#c.now() - startedAt,
              error: rec.lastError,
              name,
            })
        }
        this.#sched.handleSessionFailed(id, PROTOCOL_FAULTS.has(name), this.#c.now())
        for (const w of serving) w.reject(err)
      },
    )
    const done = p.finally(() => {
      this.#running.delete(done)
      this.#drive()
    })
    this.#running.add(done)
  }

  /** What is known of each peer's reconciliation. */
  info(id: string): PeerSyncInfo | undefined {
    const r = this.#records.get(id)
    const s = this.#sched.schedule(id)
    if (r === undefined && s === undefined) return undefined
    return {
      inSyncAtMs: r?.inSyncAtMs,
      inSyncLocalHash: r?.inSyncLocalHash,
      inSyncPeerHash: r?.inSyncPeerHash,
      last: r?.last,
      lastError: r?.lastError,
      strikes: s?.strikes ?? 0,
    }
  }

  /** Resolves when no session runs (tests). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.race(this.#running)
  }

  async stop(): Promise<void> {
    this.#abort.abort()
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    for (const r of this.#records.values())
      for (const w of r.pending.splice(0)) w.reject(new Error('anti-entropy stopped'))
    await Promise.allSettled([...this.#running])
  }
}

/**
 * The node's event set as one session sees it, counting what the session does with it: before
 * fetching a chunk of the events it lacks it checks which it holds (`hasEvents`, with the
 * digests it is about to ask for), and it reads the events it sends (`getEvents`). Each count
 * goes to the waiters' `onProgress`.
 */
function progressOf(set: EventSetSource, peer: string, waiters: readonly Waiter[]): EventSetSource {
  let progress: ReconcileProgress = { peer, phase: 'comparing', fetched: 0, sent: 0 }
  const tell = (next: ReconcileProgress) => {
    progress = next
    for (const w of waiters) w.onProgress?.(progress)
  }
  tell(progress)
  const logs = set.logs
  return {
    index: (type) => set.index(type),
    planned: (need, have) => tell({ ...progress, to_fetch: need, to_send: have }),
    received: (n) => tell({ ...progress, phase: 'fetching', fetched: progress.fetched + n }),
    ...(logs === undefined
      ? {}
      : {
          logs: {
            listLogs: (after, limit) => logs.listLogs(after, limit),
            getLogRecords: (l) => logs.getLogRecords(l),
            getLogHeads: (a, l, f, t, n) => logs.getLogHeads(a, l, f, t, n),
            getLogPositions: (p) => logs.getLogPositions(p),
            readLogHeld: (a, l, f, t, n) => logs.readLogHeld(a, l, f, t, n),
            readLogRun: (a, l, f, n) => logs.readLogRun(a, l, f, n),
            readLogRange: async (a, l, f, t, n) => {
              const rows = await logs.readLogRange(a, l, f, t, n)
              tell({ ...progress, phase: 'sending', sent: progress.sent + rows.length })
              return rows
            },
          },
        }),
    hasEvents: async (digests) => {
      const held = await set.hasEvents(digests)
      const asked = held.filter((h) => !h).length
      tell({ ...progress, phase: 'fetching', fetched: progress.fetched + asked })
      return held
    },
    getEvents: async (digests) => {
      const events = await set.getEvents(digests)
      tell({
        ...progress,
        phase: 'sending',
        sent: progress.sent + events.filter((e) => e !== undefined).length,
      })
      return events
    },
  }
}
