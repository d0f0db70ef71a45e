/**
 * Pull-on-connect: when a peer connects (and every CATCH_UP_INTERVAL_MS while it stays), pull
 * its arrival log from the cursor we last reached on it, in streaming mode, until it has no
 * more, storing every page through `SyncApi.pushSigned` and saving the cursor after each page.
 * A node that was offline gets everything it missed; one that was not gets an empty page.
 *
 * One catch-up per peer at a time (a request while one runs schedules one more run after it),
 * CATCH_UP_PARALLEL_MAX peers at once.
 */
import type { PeerId } from '@libp2p/interface'
import { digestOf } from '../core/event-codec.ts'
import type { EventType } from '../core/types.ts'
import {
  CATCH_UP_PAGE_EVENTS,
  CATCH_UP_PARALLEL_MAX,
  CATCH_UP_ROUNDS_MAX,
  IN_SYNC_PEERS_MAX,
} from './constants.ts'
import type { PeerBook } from './peer-book.ts'
import type { ProtocolContext } from './protocols/context.ts'
import { pullFrom } from './protocols/pull.ts'

/** Counts of one catch-up session (logged when it ends). */
interface Session {
  events: number
  accepted: number
  rejected: number
  pages: number
}

interface PeerState {
  running: boolean
  again: boolean
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
    now: () => number = Date.now,
  ) {
    this.#now = now
    this.#stored = stored
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
        .then(
          (caughtUp) => {
            if (session.events > 0 || !caughtUp)
              this.#ctx.log.info('catch-up with a peer done', { peer: id, ...session, caughtUp })
            else this.#ctx.log.debug('catch-up with a peer: nothing new', { peer: id, ...session })
            if (caughtUp) this.#markInSync(id)
          },
          (err: unknown) => {
            this.#ctx.stats.inc('catchup.failed')
            const e = err as { name?: string; code?: string; message?: string }
            const fields = { peer: id, ...session, error: e?.name, code: e?.code, reason: e?.message }
            // A peer's refusal (RemoteRefusedError) is a protocol refusal an operator wants to see;
            // a stop or a dropped connection is routine.
            if (e?.name === 'RemoteRefusedError') this.#ctx.log.warn('a peer refused our catch-up', fields)
            else if (!this.#abort.signal.aborted) this.#ctx.log.info('catch-up with a peer failed', fields)
          },
        )
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

  /** Resolves true when the peer had nothing more at the end (caught up), false when the
   *  session stopped at CATCH_UP_ROUNDS_MAX rounds with more to come. */
  async #run(peer: PeerId, session: Session): Promise<boolean> {
    const id = peer.toString()
    let cursor = this.#book.cursor(id, this.#typesKey)
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
        session.events += frame.events.length
        if (frame.events.length > 0) {
          // A peer's log holds what it got from us and from the rest of the mesh by gossip;
          // events this node is known to have stored are not decoded and checked a second time.
          const fresh = frame.events.filter((e) => !this.#stored(digestOf(e.signed)))
          this.#ctx.stats.inc('catchup.events', frame.events.length)
          this.#ctx.stats.inc('catchup.known', frame.events.length - fresh.length)
          if (fresh.length > 0) {
            const r = await this.#ctx.api.pushSigned(fresh, { kind: 'peer', id })
            this.#ctx.stats.inc('catchup.accepted', r.accepted)
            this.#ctx.stats.inc('catchup.rejected', r.rejected.length)
            session.accepted += r.accepted
            session.rejected += r.rejected.length
          }
        }
        if (frame.nextCursor !== undefined) {
          cursor = frame.nextCursor
          this.#book.setCursor(id, this.#typesKey, cursor)
        }
        if (frame.done) more = frame.hasMore
      }
      if (!more) return true
    }
    return false
  }

  async stop(): Promise<void> {
    this.#abort.abort()
    this.#queue.length = 0
    await Promise.allSettled([...this.#running])
  }
}
