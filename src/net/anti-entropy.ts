/**
 * AntiEntropy: when the node reconciles with whom. A session runs with every peer that
 * connects, with one random connected peer every `intervalMs`, again soon after a session whose
 * events were refused for a transient reason or that stopped at its size bound, and on demand
 * (`POST /sync/reconcile`, `gkm-sync sync`). One session per peer at a time (a request while one
 * runs schedules one more after it), RECONCILE_PARALLEL_MAX at once.
 *
 * It keeps, per peer, the last session's report and when a session last found nothing missing on
 * either side ("in sync as of"), and strikes against peers that forge or withhold events: after
 * RECONCILE_STRIKES_MAX the peer is hung up on and refused for RECONCILE_BAN_MS.
 */
import type { PeerId } from '@libp2p/interface'
import type { EventType } from '../core/types.ts'
import {
  RECONCILE_BAN_MS,
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

interface PeerState {
  running: Promise<ReconcileReport> | undefined
  info: {
    inSyncAtMs?: number
    inSyncLocalHash?: string
    inSyncPeerHash?: string
    last?: ReconcileReport & { atMs: number }
    lastError?: string
    strikes: number
  }
  bannedUntil: number
}

export interface AntiEntropyComponents {
  readonly ctx: ProtocolContext
  readonly set: EventSetSource
  readonly now: () => number
  readonly random: () => number
  /** Closes every connection to a peer. */
  readonly hangUp: (peer: PeerId) => Promise<void>
  readonly connectedPeers: () => PeerId[]
}

export class AntiEntropy {
  readonly #c: AntiEntropyComponents
  readonly #types: readonly EventType[]
  readonly #peers = new Map<string, PeerState>()
  readonly #queue: Array<{
    peer: PeerId
    resolve: (r: ReconcileReport) => void
    reject: (e: unknown) => void
  }> = []
  readonly #abort = new AbortController()
  readonly #running = new Set<Promise<unknown>>()
  readonly #timers = new Set<ReturnType<typeof setTimeout>>()
  #interval: ReturnType<typeof setInterval> | undefined
  #relayTimer: ReturnType<typeof setTimeout> | undefined
  readonly #relayFrom = new Set<string>()
  #active = 0

  constructor(components: AntiEntropyComponents, dataTypes: readonly EventType[]) {
    this.#c = components
    this.#types = [...dataTypes].sort()
  }

  start(intervalMs: number): void {
    if (intervalMs > 0) {
      this.#interval = setInterval(() => this.#tick(), intervalMs)
      this.#interval.unref?.()
    }
  }

  #tick(): void {
    const peers = this.#c.connectedPeers().filter((p) => !this.#isBanned(p.toString()))
    if (peers.length === 0) return
    const peer = peers[Math.floor(this.#c.random() * peers.length)]
    this.request(peer).catch(() => {})
  }

  #state(id: string): PeerState {
    let s = this.#peers.get(id)
    if (s === undefined) {
      s = { running: undefined, info: { strikes: 0 }, bannedUntil: 0 }
      this.#peers.set(id, s)
    }
    return s
  }

  #isBanned(id: string): boolean {
    const s = this.#peers.get(id)
    return s !== undefined && s.bannedUntil > this.#c.now()
  }

  /** Whether a peer is refused for now (the network hangs up on it when it connects). */
  banned(id: string): boolean {
    return this.#isBanned(id)
  }

  /**
   * Asks for a session with this peer: now, or once the one running ends. Resolves with the
   * report of the session that served the request.
   */
  request(peer: PeerId): Promise<ReconcileReport> {
    if (this.#abort.signal.aborted) return Promise.reject(new Error('anti-entropy stopped'))
    const id = peer.toString()
    if (this.#isBanned(id))
      return Promise.reject(
        new PeerBannedError(
          `peer ${id} is refused until ${new Date(this.#state(id).bannedUntil).toISOString()}`,
        ),
      )
    const s = this.#state(id)
    const queued = this.#queue.find((q) => q.peer.toString() === id)
    if (queued !== undefined) {
      return new Promise((resolve, reject) => {
        const prev = { resolve: queued.resolve, reject: queued.reject }
        queued.resolve = (r) => {
          prev.resolve(r)
          resolve(r)
        }
        queued.reject = (e) => {
          prev.reject(e)
          reject(e)
        }
      })
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ peer, resolve, reject })
      this.#pump()
    })
  }

  #pump(): void {
    for (let i = 0; i < this.#queue.length && this.#active < RECONCILE_PARALLEL_MAX; ) {
      const job = this.#queue[i]
      const id = job.peer.toString()
      const s = this.#state(id)
      if (s.running !== undefined) {
        i++
        continue
      }
      this.#queue.splice(i, 1)
      this.#active++
      const p = reconcileWith(this.#c.ctx, this.#c.set, job.peer, this.#types, this.#abort.signal)
      s.running = p
      const done = p
        .then(
          (report) => {
            this.#record(id, s, report)
            job.resolve(report)
          },
          (err: unknown) => {
            s.info.lastError = (err as Error)?.message ?? String(err)
            this.#c.ctx.stats.inc('reconcile.failed')
            if (
              (err as Error)?.name === 'ReconcileProtocolError' ||
              (err as Error)?.name === 'WireDecodeError'
            )
              this.#strike(job.peer, s, (err as Error).name)
            this.#c.ctx.log.debug(`reconciliation with ${id} failed: ${s.info.lastError}`)
            job.reject(err)
          },
        )
        .finally(() => {
          this.#active--
          s.running = undefined
          this.#running.delete(done)
          this.#pump()
        })
      this.#running.add(done)
    }
  }

  /**
   * Relay: the node learned events from `from` (a session it ran or served): reconcile with every
   * other connected peer shortly, coalescing what arrives meanwhile, so what reached one node by
   * reconciliation reaches the rest of its neighbours within a second or two.
   */
  onLearned(from: string): void {
    if (this.#relayTimer !== undefined || this.#abort.signal.aborted) {
      this.#relayFrom.add(from)
      return
    }
    this.#relayFrom.add(from)
    this.#relayTimer = setTimeout(() => {
      this.#relayTimer = undefined
      const sources = new Set(this.#relayFrom)
      this.#relayFrom.clear()
      for (const p of this.#c.connectedPeers()) {
        const pid = p.toString()
        if (sources.has(pid) || this.#isBanned(pid)) continue
        this.#c.ctx.stats.inc('reconcile.relay_sessions')
        this.request(p).catch(() => {})
      }
    }, RECONCILE_RELAY_DELAY_MS)
  }

  #record(id: string, s: PeerState, report: ReconcileReport): void {
    if (report.learned > 0) this.onLearned(id)
    const now = this.#c.now()
    s.info.last = { ...report, atMs: now }
    s.info.lastError = undefined
    if (report.inSync) {
      s.info.inSyncAtMs = now
      s.info.inSyncLocalHash = report.localStateHash
      s.info.inSyncPeerHash = report.peerStateHash
    }
    const bad = report.forged > 0 || report.withheld > 0 || (report.refusals.bad_signature ?? 0) > 0
    if (bad) {
      this.#c.ctx.log.warn(
        `peer ${id} served ${report.forged} events it was not asked for, withheld ${report.withheld} it had offered, ${report.refusals.bad_signature ?? 0} with bad signatures`,
      )
      const peer = this.#c.connectedPeers().find((p) => p.toString() === id)
      if (peer !== undefined) this.#strike(peer, s, 'bad events')
      else s.info.strikes++
    }
    // What was refused for a transient reason, or cut short, comes back soon.
    if (report.truncated || (report.refusals.retry_later ?? 0) > 0) {
      const peer = this.#c.connectedPeers().find((p) => p.toString() === id)
      if (peer !== undefined) {
        const t = setTimeout(
          () => {
            this.#timers.delete(t)
            this.request(peer).catch(() => {})
          },
          report.truncated ? 0 : RECONCILE_RETRY_MS,
        )
        this.#timers.add(t)
      }
    }
  }

  #strike(peer: PeerId, s: PeerState, why: string): void {
    s.info.strikes++
    this.#c.ctx.stats.inc('reconcile.strikes')
    if (s.info.strikes >= RECONCILE_STRIKES_MAX) {
      s.bannedUntil = this.#c.now() + RECONCILE_BAN_MS
      s.info.strikes = 0
      this.#c.ctx.stats.inc('reconcile.cut_off')
      this.#c.ctx.log.warn(
        `cut off peer ${peer.toString()} for ${RECONCILE_BAN_MS / 60_000} min after ${RECONCILE_STRIKES_MAX} strikes (last: ${why})`,
      )
      this.#c.hangUp(peer).catch(() => {})
    }
  }

  /** What is known of each peer's reconciliation. */
  info(id: string): PeerSyncInfo | undefined {
    const s = this.#peers.get(id)
    return s === undefined ? undefined : { ...s.info }
  }

  /** Resolves when no session runs or waits (tests). */
  async idle(): Promise<void> {
    while (this.#running.size > 0 || this.#queue.length > 0)
      await Promise.race([...this.#running, new Promise((r) => setTimeout(r, 50))])
  }

  async stop(): Promise<void> {
    this.#abort.abort()
    if (this.#interval !== undefined) clearInterval(this.#interval)
    if (this.#relayTimer !== undefined) clearTimeout(this.#relayTimer)
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    for (const q of this.#queue.splice(0)) q.reject(new Error('anti-entropy stopped'))
    await Promise.allSettled([...this.#running])
  }
}
