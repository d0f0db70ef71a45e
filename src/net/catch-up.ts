/**
 * Pull-on-connect: when a peer connects (and every CATCH_UP_INTERVAL_MS while it stays), pull
 * its arrival log from the cursor we last reached on it, in streaming mode, until it has no
 * more, storing every page through `SyncApi.pushSigned` and saving the cursor after each page.
 * A node that was offline gets everything it missed; one that was not gets an empty page.
 *
 * One catch-up per peer at a time (a request while one runs schedules one more run after it),
 * CATCH_UP_PARALLEL_MAX peers at once. A run that stops after CATCH_UP_ROUNDS_MAX answers with
 * more to pull queues the next run at once (behind other peers waiting).
 *
 * Never skipped for good: the cursor is saved only past events the node stored or refused for
 * a reason of their own (bad signature, not a member, ...). From the first event refused for a
 * transient reason (`retry_later`: the node's ingest queue or the Yjs guard was busy) the cursor
 * is held where it was; the run goes on storing what it can, and the peer is pulled again from
 * the held cursor after a backoff (CATCH_UP_RETRY_BASE_MS doubling up to the catch-up
 * interval). A node that throws (busy, stopping, storage error) ends the run the same way.
 * Events already stored are filtered out by digest when pulled again, so a retry costs the
 * transfer, not a second check.
 */
import type { PeerId } from '@libp2p/interface'
import { digestOf } from '../core/event-codec.ts'
import type { StoredEvent } from '../core/records.ts'
import type { EventType } from '../core/types.ts'
import {
  CATCH_UP_PAGE_EVENTS,
  CATCH_UP_PARALLEL_MAX,
  CATCH_UP_RELAY_EVENTS_MAX,
  CATCH_UP_RETRY_BASE_MS,
  CATCH_UP_ROUNDS_MAX,
  IN_SYNC_PEERS_MAX,
  TRANSIENT_REFUSAL_CODES,
} from './constants.ts'
import type { PeerBook } from './peer-book.ts'
import type { ProtocolContext } from './protocols/context.ts'
import { pullFrom } from './protocols/pull.ts'

interface PeerState {
  running: boolean
  again: boolean
}

/** What one run did (logged at its end). */
interface Session {
  events: number
  accepted: number
  rejected: number
  pages: number
}

/** How a run ended: caught up, stopped at the round limit with more to pull, or held back by a
 *  transient refusal (pull again from the held cursor after a backoff). */
type RunEnd = 'done' | 'more' | 'retry'

/** Whether a node error (thrown by pushSigned) is about the node's load or lifecycle, not the
 *  events: busy, stopping, storage failure. */
function isTransientFailure(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' && TRANSIENT_REFUSAL_CODES.has(code)
}

export class CatchUp {
  readonly #ctx: ProtocolContext
  readonly #book: PeerBook
  readonly #types: readonly EventType[]
  readonly #typesKey: string
  readonly #peers = new Map<string, PeerState>()
  readonly #queue: PeerId[] = []
  readonly #abort = new AbortController()
  readonly #running = new Set<Promise<void>>()
  /** Retries waiting for their backoff, per peer, and how many in a row each peer had. */
  readonly #retryTimers = new Map<string, ReturnType<typeof setTimeout>>()
  readonly #retries = new Map<string, number>()
  readonly #retryMaxMs: number
  readonly #inSyncAt = new Map<string, number>()
  readonly #now: () => number
  #active = 0

  /** Whether the node is known to have stored an event (by digest): such events of a pulled
   *  page are not handed to the node again. */
  readonly #stored: (digest: string) => boolean

  constructor(
    ctx: ProtocolContext,
    book: PeerBook,
    dataTypes: readonly EventType[],
    stored: (digest: string) => boolean,
    retryMaxMs: number,
    now: () => number = Date.now,
  ) {
    this.#now = now
    this.#stored = stored
    this.#retryMaxMs = retryMaxMs
    this.#ctx = ctx
    this.#book = book
    this.#types = [...dataTypes].sort()
    this.#typesKey = this.#types.join(',')
  }

  /** Asks for a catch-up with this peer (now, or after the one running). */
  request(peer: PeerId): void {
    if (this.#abort.signal.aborted) return
    const id = peer.toString()
    const s = this.#peers.get(id)
    if (s?.running === true) {
      s.again = true
      return
    }
    if (this.#queue.some((p) => p.toString() === id)) return
    this.#queue.push(peer)
    this.#pump()
  }

  /** Resolves when no catch-up runs or waits (tests). */
  async idle(): Promise<void> {
    while (this.#running.size > 0 || this.#queue.length > 0) await Promise.race(this.#running)
  }

  /** Peers whose catch-up waits for a retry after a transient refusal (tests, status). */
  get retrying(): number {
    return this.#retryTimers.size
  }

  #scheduleRetry(peer: PeerId): void {
    const id = peer.toString()
    if (this.#abort.signal.aborted || this.#retryTimers.has(id)) return
    const n = (this.#retries.get(id) ?? 0) + 1
    this.#retries.set(id, n)
    const delay = Math.min(this.#retryMaxMs, CATCH_UP_RETRY_BASE_MS * 2 ** (n - 1))
    this.#ctx.stats.inc('catchup.retries')
    const timer = setTimeout(() => {
      this.#retryTimers.delete(id)
      this.request(peer)
    }, delay)
    timer.unref?.()
    this.#retryTimers.set(id, timer)
  }

  #pump(): void {
    while (this.#active < CATCH_UP_PARALLEL_MAX && this.#queue.length > 0) {
      const peer = this.#queue.shift() as PeerId
      const id = peer.toString()
      const s = this.#peers.get(id) ?? { running: false, again: false }
      this.#peers.set(id, s)
      s.running = true
      this.#active++
      const session: Session = { events: 0, accepted: 0, rejected: 0, pages: 0 }
      const p: Promise<void> = this.#run(peer, session)
        .then((end) => {
          const caughtUp = end === 'done'
          if (session.events > 0 || !caughtUp)
            this.#ctx.log.info('catch-up with a peer done', { peer: id, ...session, caughtUp })
          else this.#ctx.log.debug('catch-up with a peer: nothing new', { peer: id, ...session })
          if (caughtUp) this.#markInSync(id)
          if (end === 'retry') this.#scheduleRetry(peer)
          else this.#retries.delete(id)
          if (end === 'more') s.again = true
        })
        .catch((err: unknown) => {
          this.#ctx.stats.inc('catchup.failed')
          const e = err as { name?: string; code?: string; message?: string }
          const fields = { peer: id, ...session, error: e?.name, code: e?.code, reason: e?.message }
          // A peer's refusal (RemoteRefusedError) is a protocol refusal an operator wants to see;
          // a stop or a dropped connection is routine.
          if (e?.name === 'RemoteRefusedError') this.#ctx.log.warn('a peer refused our catch-up', fields)
          else if (!this.#abort.signal.aborted) this.#ctx.log.info('catch-up with a peer failed', fields)
          if (isTransientFailure(err)) this.#scheduleRetry(peer)
        })
        .finally(() => {
          this.#active--
          this.#running.delete(p)
          s.running = false
          const again = s.again
          s.again = false
          if (!again) this.#peers.delete(id)
          if (again) this.request(peer)
          this.#pump()
        })
      this.#running.add(p)
    }
  }

  /** When each peer last had nothing more for us (wall ms): "in sync as of" (metrics, status). */
  get inSyncAt(): ReadonlyMap<string, number> {
    return this.#inSyncAt
  }

  #markInSync(id: string): void {
    this.#inSyncAt.delete(id)
    this.#inSyncAt.set(id, this.#now())
    // Insertion order is recency: the least recently synced peer goes first.
    if (this.#inSyncAt.size > IN_SYNC_PEERS_MAX)
      this.#inSyncAt.delete(this.#inSyncAt.keys().next().value as string)
  }

  async #run(peer: PeerId, session: Session): Promise<RunEnd> {
    const id = peer.toString()
    let cursor = this.#book.cursor(id, this.#typesKey)
    /** Set at the first transient refusal: the saved cursor stays before it from then on. */
    let held = false
    /** Events of this run passed on by gossip so far (CATCH_UP_RELAY_EVENTS_MAX). */
    let relayed = 0
    this.#ctx.stats.inc('catchup.runs')
    for (let round = 0; round < CATCH_UP_ROUNDS_MAX; round++) {
      let more = false
      const frames = pullFrom(
        this.#ctx,
        peer,
        { cursor, types: this.#types, limit: CATCH_UP_PAGE_EVENTS, stream: true },
        this.#abort.signal,
      )
      for await (const frame of frames) {
        session.pages++
        if (frame.events.length > 0) {
          session.events += frame.events.length
          // A peer's log holds what it got from us and from the rest of the mesh by gossip;
          // events this node is known to have stored are not decoded and checked a second time.
          const fresh: StoredEvent[] = []
          const digests: string[] = []
          for (const e of frame.events) {
            const d = digestOf(e.signed)
            if (this.#stored(d)) continue
            fresh.push(e)
            digests.push(d)
          }
          this.#ctx.stats.inc('catchup.events', frame.events.length)
          this.#ctx.stats.inc('catchup.known', frame.events.length - fresh.length)
          if (fresh.length > 0) {
            const r = await this.#ctx.api.pushSigned(fresh, { kind: 'peer', id })
            this.#ctx.stats.inc('catchup.accepted', r.accepted)
            this.#ctx.stats.inc('catchup.rejected', r.rejected.length)
            session.accepted += r.accepted
            session.rejected += r.rejected.length
            relayed = this.#relay(fresh, digests, r.digests, relayed)
            const transient = r.rejected.filter((x) => TRANSIENT_REFUSAL_CODES.has(x.error)).length
            if (transient > 0) {
              this.#ctx.stats.inc('catchup.transient', transient)
              if (!held) this.#ctx.log.debug(`catch-up with ${id}: ${transient} events to retry, cursor held`)
              held = true
            }
          }
        }
        if (frame.nextCursor !== undefined) {
          cursor = frame.nextCursor
          if (!held) this.#book.setCursor(id, this.#typesKey, cursor)
        }
        if (frame.done) more = frame.hasMore
      }
      if (!more) return held ? 'retry' : 'done'
    }
    return held ? 'retry' : 'more'
  }

  /**
   * Relay: events new to this node that it learned by catch-up may be new to its other peers
   * too (they are not on gossip: the author published them while away from this part of the
   * mesh). They are published on gossip, in the order pulled, at most CATCH_UP_RELAY_EVENTS_MAX
   * per run (a node catching up a whole log does not flood peers that have it; they catch up
   * by their own pull). No loop: a node publishes an event at most once (only when it was new
   * to it), and peers that hold it ignore it at their seen cache without forwarding.
   */
  #relay(
    events: readonly StoredEvent[],
    digests: readonly string[],
    accepted: readonly string[],
    relayed: number,
  ): number {
    if (accepted.length === 0 || relayed >= CATCH_UP_RELAY_EVENTS_MAX) return relayed
    const ok = new Set(accepted)
    const out: StoredEvent[] = []
    for (let i = 0; i < events.length && relayed + out.length < CATCH_UP_RELAY_EVENTS_MAX; i++)
      if (ok.has(digests[i])) out.push(events[i])
    this.#ctx.stats.inc('catchup.relayed', out.length)
    this.#ctx.publishAccepted(out)
    return relayed + out.length
  }

  async stop(): Promise<void> {
    this.#abort.abort()
    for (const t of this.#retryTimers.values()) clearTimeout(t)
    this.#retryTimers.clear()
    this.#queue.length = 0
    await Promise.allSettled([...this.#running])
  }
}
