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
import { CATCH_UP_PAGE_EVENTS, CATCH_UP_PARALLEL_MAX, CATCH_UP_ROUNDS_MAX } from './constants.ts'
import type { PeerBook } from './peer-book.ts'
import type { ProtocolContext } from './protocols/context.ts'
import { pullFrom } from './protocols/pull.ts'

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
  #active = 0

  /** Whether the node is known to have stored an event (by digest): such events of a pulled
   *  page are not handed to the node again. */
  readonly #stored: (digest: string) => boolean

  constructor(
    ctx: ProtocolContext,
    book: PeerBook,
    dataTypes: readonly EventType[],
    stored: (digest: string) => boolean,
  ) {
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
      const p: Promise<void> = this.#run(peer)
        .catch((err: unknown) => {
          this.#ctx.stats.inc('catchup.failed')
          this.#ctx.log.debug(`catch-up with ${id} failed: ${(err as Error)?.message}`)
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

  async #run(peer: PeerId): Promise<void> {
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
          }
        }
        if (frame.nextCursor !== undefined) {
          cursor = frame.nextCursor
          this.#book.setCursor(id, this.#typesKey, cursor)
        }
        if (frame.done) more = frame.hasMore
      }
      if (!more) return
    }
  }

  async stop(): Promise<void> {
    this.#abort.abort()
    this.#queue.length = 0
    await Promise.allSettled([...this.#running])
  }
}
