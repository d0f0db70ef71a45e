/**
 * Direct fan-out (docs/MESH.md "Direct fan-out"): in a small federation a node sends each of its
 * writes once to every connected peer over one long-lived stream per peer
 * (`/gkm/sync/direct/1.0.0`, frames in src/net/direct-frame.ts), instead of through gossipsub.
 *
 * - A frame carries one signed event and the tags of the peers its copy was sent to (the
 *   "covered" list). A receiver checks the event (schema, membership, drift, signature) before
 *   anything else, hands it to the node, and relays it only to its connected peers that are not
 *   covered, did not send it to us, and subscribe to its type; it adds those to the list. In a
 *   federation where every node is connected to every other, nothing is relayed: each node gets
 *   each write once. In a partial mesh the relays flood it on.
 * - Each peer has a bounded queue (DIRECT_QUEUE_FRAMES_MAX frames, DIRECT_QUEUE_BYTES_MAX bytes);
 *   when full the newest frame is dropped and counted (`direct.dropped`): reconciliation brings
 *   what was dropped. What queues while a send is in flight leaves as one write.
 * - A peer whose frames do not parse is cut off at once (DirectFrameError), one that sends
 *   DIRECT_REJECTS_MAX events failing their checks too (DirectPeerRejectedError); its direct
 *   streams are refused for DIRECT_BAN_MS and counted (`direct.bad_frame`, `direct.banned_refused`).
 * - Used while the node has at most `peersMax` connected peers (`active`); above it, and for
 *   peers that do not speak the protocol (older nodes), gossipsub carries the events.
 */
import type { Connection, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { isEventRejectedError } from '../core/errors.ts'
import { eventFromWire, type VerifyContext } from '../core/event.ts'
import { digestOf } from '../core/event-codec.ts'
import type { StoredEvent } from '../core/records.ts'
import type { EventType, SignedEvent } from '../core/types.ts'
import type { LruMap } from '../util/lru.ts'
import {
  DIRECT_BAN_MS,
  DIRECT_COVERED_MAX,
  DIRECT_QUEUE_BYTES_MAX,
  DIRECT_QUEUE_FRAMES_MAX,
  DIRECT_REJECTS_MAX,
  DIRECT_RETRY_MS,
  DIRECT_SEND_BYTES_MAX,
  DIRECT_STREAMS_PER_CONNECTION_MAX,
  PROTOCOL_DIRECT,
  STREAM_TIMEOUT_MS,
} from './constants.ts'
import { type DirectFrame, DirectFrameDecoder, encodeDirectFrame, peerTag } from './direct-frame.ts'
import { DirectFrameError, DirectPeerRejectedError } from './errors.ts'
import { eventTypeOfSigned, type SeenState, topicOf } from './gossip.ts'
import type { GkmLibp2p } from './host.ts'
import type { IngestQueue } from './ingest-queue.ts'
import type { NetLogger, NetStats } from './stats.ts'

/** Bans remembered at once; beyond it the oldest are forgotten (a ban is a courtesy, not a
 *  security boundary: the gater and the event checks are). */
const BANS_MAX = 4096

export interface DirectComponents {
  readonly libp2p: GkmLibp2p
  readonly stats: NetStats
  readonly log: NetLogger
  readonly selfId: string
  readonly seen: LruMap<string, SeenState>
  /** Digests fanned out here (received by a direct stream, or published), with the peers that
   *  sent them to us: a relay skips those peers, and a digest here is never published again. */
  readonly senders: LruMap<string, string[]>
  readonly ingest: IngestQueue
  readonly verifyContext: () => VerifyContext
  readonly now: () => number
  /** Puts events on gossipsub (for peers the direct streams do not reach). */
  readonly gossip: (events: readonly StoredEvent[]) => void
}

export interface DirectInit {
  readonly dataTypes: readonly EventType[]
  /** Direct fan-out while connected peers <= this; 0 = never. */
  readonly peersMax: number
  readonly queueFramesMax?: number
  readonly queueBytesMax?: number
}

class Outbox {
  frames: Uint8Array[] = []
  bytes = 0
  stream: Stream | undefined
  busy = false
  retryAt = 0
}

export class DirectRouter {
  readonly #c: DirectComponents
  readonly #init: DirectInit
  readonly #selfTag: number
  readonly #types: ReadonlySet<EventType>
  readonly #tags = new Map<string, number>()
  /** Connected peers that announced the protocol (identify). */
  readonly #speakers = new Set<string>()
  readonly #outboxes = new Map<string, Outbox>()
  readonly #bans = new Map<string, number>()
  #running = false

  constructor(components: DirectComponents, init: DirectInit) {
    this.#c = components
    this.#init = init
    this.#selfTag = peerTag(components.selfId)
    this.#types = new Set(init.dataTypes)
  }

  async start(): Promise<void> {
    this.#running = true
    await this.#c.libp2p.handle(PROTOCOL_DIRECT, (stream, conn) => this.#serve(stream, conn), {
      maxInboundStreams: DIRECT_STREAMS_PER_CONNECTION_MAX,
      maxOutboundStreams: DIRECT_STREAMS_PER_CONNECTION_MAX,
    })
  }

  async stop(): Promise<void> {
    this.#running = false
    await this.#c.libp2p.unhandle(PROTOCOL_DIRECT).catch(() => {})
    for (const [peer] of this.#outboxes) this.disconnected(peer)
  }

  /** Whether the node fans out directly now (connected peers <= peersMax). */
  get active(): boolean {
    return this.#isActive(this.#connected())
  }

  #isActive(connected: readonly string[]): boolean {
    return this.#init.peersMax > 0 && connected.length <= this.#init.peersMax
  }

  /** The connected peers' ids, as `libp2p.getPeers()` has them, from the connections' own
   *  (cached) ids: `getPeers()` builds a PeerSet that decodes every id again (base58 and its
   *  public key) on each call, and this runs for every event sent or received. */
  #connected(): string[] {
    const ids: string[] = []
    for (const c of this.#c.libp2p.getConnections()) {
      const id = c.remotePeer.toString()
      if (!ids.includes(id)) ids.push(id)
    }
    return ids
  }

  /** Frames queued for a peer (tests, diagnostics). */
  queued(peer: string): number {
    return this.#outboxes.get(peer)?.frames.length ?? 0
  }

  /** From the node's identify listener: whether the peer speaks the protocol. */
  identified(peer: string, protocols: readonly string[]): void {
    if (protocols.includes(PROTOCOL_DIRECT)) this.#speakers.add(peer)
    else this.#speakers.delete(peer)
  }

  disconnected(peer: string): void {
    this.#speakers.delete(peer)
    const box = this.#outboxes.get(peer)
    if (box === undefined) return
    this.#outboxes.delete(peer)
    if (box.frames.length > 0) this.#c.stats.inc('direct.dropped', box.frames.length)
    box.frames = []
    box.bytes = 0
    box.stream?.abort(new Error('peer disconnected'))
  }

  #tag(peer: string): number {
    let t = this.#tags.get(peer)
    if (t === undefined) {
      if (this.#tags.size >= BANS_MAX) this.#tags.clear()
      t = peerTag(peer)
      this.#tags.set(peer, t)
    }
    return t
  }

  /** Connected peers reachable directly now, and whether some connected peer is not. */
  #reachable(connected: readonly string[]): { direct: string[]; others: boolean } {
    const now = this.#c.now()
    const direct: string[] = []
    let others = false
    for (const id of connected) {
      const box = this.#outboxes.get(id)
      if (this.#speakers.has(id) && (box === undefined || box.retryAt <= now)) direct.push(id)
      else others = true
    }
    return { direct, others }
  }

  #subscribers(type: EventType, cache: Map<EventType, Set<string>>): Set<string> {
    let s = cache.get(type)
    if (s === undefined) {
      s = new Set(this.#c.libp2p.services.pubsub.getSubscribers(topicOf(type)).map((p) => p.toString()))
      cache.set(type, s)
    }
    return s
  }

  /**
   * Sends stored events (local writes, relays of what catch-up or reconciliation brought) to
   * every directly reachable peer that subscribes to their type. Returns the events that must
   * still go by gossip: all of them when not active, when no peer is connected, or when a
   * connected peer cannot be reached directly (an older node, a stream in its retry pause).
   */
  publish(events: readonly StoredEvent[]): readonly StoredEvent[] {
    if (events.length === 0) return events
    const connected = this.#connected()
    if (!this.#isActive(connected)) return events
    const { direct, others } = this.#reachable(connected)
    const subs = new Map<EventType, Set<string>>()
    for (const event of events) {
      const type = eventTypeOfSigned(event.signed)
      if (type === undefined) continue
      const digest = digestOf(event.signed)
      if (this.#c.seen.get(digest) === undefined) this.#c.seen.set(digest, 'validated')
      // Each event is fanned out once per node: one that came (or left) by a direct stream is
      // not sent again when reconciliation or catch-up brings it back to be relayed.
      if (this.#c.senders.get(digest) !== undefined) {
        this.#c.stats.inc('direct.publish_skipped')
        continue
      }
      this.#c.senders.set(digest, [])
      const wants = this.#subscribers(type, subs)
      const targets = direct.filter((p) => wants.has(p))
      if (targets.length === 0) continue
      const frame = encodeDirectFrame({
        covered: [this.#selfTag, ...targets.map((p) => this.#tag(p))],
        signed: event.signed,
        signature: event.signature,
      })
      for (const p of targets) this.#enqueue(p, frame)
      this.#c.stats.inc('direct.published_events')
    }
    // With no peer at all gossip counts the publish (`gossip.published_no_peers`); nothing is sent.
    return others || direct.length === 0 ? events : []
  }

  #enqueue(peer: string, frame: Uint8Array): void {
    let box = this.#outboxes.get(peer)
    if (box === undefined) {
      box = new Outbox()
      this.#outboxes.set(peer, box)
    }
    const framesMax = this.#init.queueFramesMax ?? DIRECT_QUEUE_FRAMES_MAX
    const bytesMax = this.#init.queueBytesMax ?? DIRECT_QUEUE_BYTES_MAX
    if (
      box.retryAt > this.#c.now() ||
      box.frames.length >= framesMax ||
      box.bytes + frame.byteLength > bytesMax
    ) {
      this.#c.stats.inc('direct.dropped')
      return
    }
    box.frames.push(frame)
    box.bytes += frame.byteLength
    this.#c.stats.inc('direct.sent_frames')
    if (!box.busy) void this.#flush(peer, box)
  }

  async #open(peer: string): Promise<Stream> {
    const conn = this.#c.libp2p.getConnections(peerIdFromString(peer)).find((c) => c.status === 'open')
    if (conn === undefined) throw new Error('not connected')
    return conn.newStream(PROTOCOL_DIRECT, {
      signal: AbortSignal.timeout(STREAM_TIMEOUT_MS),
      maxOutboundStreams: DIRECT_STREAMS_PER_CONNECTION_MAX,
    })
  }

  /** Writes a peer's queue in sends of up to DIRECT_SEND_BYTES_MAX, waiting for the stream to
   *  drain when its buffer is full. On failure the queue is dropped and the peer paused. */
  async #flush(peer: string, box: Outbox): Promise<void> {
    box.busy = true
    try {
      // Whatever is queued in this turn of the event loop leaves together.
      await Promise.resolve()
      while (box.frames.length > 0 && this.#running && this.#outboxes.get(peer) === box) {
        if (box.stream === undefined || box.stream.status !== 'open') {
          box.stream = undefined
          box.stream = await this.#open(peer)
          this.#c.stats.inc('direct.streams_opened')
          continue
        }
        let n = 0
        let size = 0
        while (n < box.frames.length && (n === 0 || size + box.frames[n].byteLength <= DIRECT_SEND_BYTES_MAX))
          size += box.frames[n++].byteLength
        const batch = box.frames.splice(0, n)
        box.bytes -= size
        const data = n === 1 ? batch[0] : Buffer.concat(batch, size)
        this.#c.stats.inc('direct.sends')
        if (!box.stream.send(data))
          await box.stream.onDrain({ signal: AbortSignal.timeout(STREAM_TIMEOUT_MS) })
      }
    } catch (err) {
      this.#c.stats.inc('direct.stream_failed')
      this.#c.log.debug('direct stream to a peer failed', { peer, reason: (err as Error)?.message })
      if (box.frames.length > 0) this.#c.stats.inc('direct.dropped', box.frames.length)
      box.frames = []
      box.bytes = 0
      box.stream?.abort(err as Error)
      box.stream = undefined
      box.retryAt = this.#c.now() + DIRECT_RETRY_MS
    } finally {
      box.busy = false
    }
  }

  #ban(peer: string): void {
    if (this.#bans.size >= BANS_MAX) this.#bans.clear()
    this.#bans.set(peer, this.#c.now() + DIRECT_BAN_MS)
  }

  /** Whether the peer's direct streams are refused now (tests). */
  banned(peer: string): boolean {
    const until = this.#bans.get(peer)
    if (until === undefined) return false
    if (until > this.#c.now()) return true
    this.#bans.delete(peer)
    return false
  }

  async #serve(stream: Stream, conn: Connection): Promise<void> {
    const peer = conn.remotePeer.toString()
    if (this.banned(peer)) {
      this.#c.stats.inc('direct.banned_refused')
      stream.abort(new DirectPeerRejectedError(`peer ${peer} is refused on the direct stream for a while`))
      return
    }
    this.#c.stats.inc('direct.streams_served')
    const decoder = new DirectFrameDecoder()
    const state = { rejects: 0 }
    try {
      for await (const chunk of stream) {
        if (!this.#running) break
        // a ban (garbage on another of its streams) cuts this one too
        if (this.banned(peer))
          throw new DirectPeerRejectedError(`peer ${peer} is cut off on the direct stream`)
        this.#receive(peer, decoder.push(chunk), state)
      }
      await stream.close().catch(() => {})
    } catch (err) {
      const e = err as Error
      if (e instanceof DirectFrameError || e instanceof DirectPeerRejectedError) {
        if (e instanceof DirectFrameError) {
          this.#c.stats.inc('direct.bad_frame')
          this.#c.stats.inc(`direct.bad_frame.${e.reason}`)
        }
        this.#c.stats.inc(`errors.${e.name}`)
        this.#ban(peer)
        this.#c.log.info('cut off a peer on the direct stream', { peer, reason: e.message })
      } else {
        this.#c.log.debug('direct stream from a peer ended', { peer, reason: e?.message })
      }
      stream.abort(e)
    }
  }

  #receive(peer: string, frames: readonly DirectFrame[], state: { rejects: number }): void {
    if (frames.length === 0) return
    const ctx = this.#c.verifyContext()
    const accepted: SignedEvent[] = []
    const fresh: Array<{ frame: DirectFrame; type: EventType; digest: string }> = []
    const inBatch = new Set<string>()
    for (const frame of frames) {
      const type = eventTypeOfSigned(frame.signed)
      const digest = digestOf(frame.signed)
      this.#noteSender(digest, peer)
      if (this.#c.seen.get(digest) !== undefined || inBatch.has(digest)) {
        this.#c.stats.inc('direct.duplicates')
        continue
      }
      if (type !== undefined && !this.#types.has(type)) {
        this.#c.stats.inc('direct.unsubscribed_type')
        continue
      }
      let event: SignedEvent
      try {
        event = eventFromWire(frame.signed, frame.signature, ctx)
      } catch (err) {
        if (!isEventRejectedError(err)) throw err
        this.#c.stats.inc('direct.rejected')
        this.#c.stats.inc(`direct.reject.${err.code}`)
        if (++state.rejects >= DIRECT_REJECTS_MAX)
          throw new DirectPeerRejectedError(
            `peer ${peer} sent ${state.rejects} events that fail their checks (last: ${err.code})`,
          )
        continue
      }
      inBatch.add(digest)
      accepted.push(event)
      fresh.push({ frame, type: event.type, digest })
    }
    if (accepted.length === 0) return
    if (!this.#c.ingest.offer(accepted, peer)) {
      this.#c.stats.inc('direct.ingest_full', accepted.length)
      return
    }
    for (const f of fresh) this.#c.seen.set(f.digest, 'validated')
    this.#c.stats.inc('direct.accepted_events', accepted.length)
    this.#relay(peer, fresh)
  }

  #noteSender(digest: string, peer: string): void {
    const list = this.#c.senders.get(digest)
    if (list === undefined) this.#c.senders.set(digest, [peer])
    else if (!list.includes(peer) && list.length < DIRECT_COVERED_MAX) list.push(peer)
  }

  /** Passes freshly accepted events on: directly to the peers their copy has not reached, or by
   *  gossip when not active (or to reach peers without the protocol). */
  #relay(from: string, fresh: ReadonlyArray<{ frame: DirectFrame; type: EventType; digest: string }>): void {
    const viaGossip: StoredEvent[] = []
    const connected = this.#connected()
    if (!this.#isActive(connected)) {
      for (const f of fresh) viaGossip.push({ signed: f.frame.signed, signature: f.frame.signature })
      this.#c.gossip(viaGossip)
      return
    }
    const { direct, others } = this.#reachable(connected)
    const subs = new Map<EventType, Set<string>>()
    for (const f of fresh) {
      if (others) viaGossip.push({ signed: f.frame.signed, signature: f.frame.signature })
      const covered = new Set(f.frame.covered)
      const skip = this.#c.senders.get(f.digest) ?? [from]
      const wants = this.#subscribers(f.type, subs)
      const targets = direct.filter(
        (p) => p !== from && wants.has(p) && !skip.includes(p) && !covered.has(this.#tag(p)),
      )
      if (targets.length === 0) continue
      const frame = encodeDirectFrame({
        // the new tags first: a list cut at DIRECT_COVERED_MAX loses the oldest hints
        covered: [...new Set([this.#selfTag, ...targets.map((p) => this.#tag(p)), ...f.frame.covered])],
        signed: f.frame.signed,
        signature: f.frame.signature,
      })
      for (const p of targets) this.#enqueue(p, frame)
      this.#c.stats.inc('direct.relayed_events')
    }
    if (viaGossip.length > 0) this.#c.gossip(viaGossip)
  }
}
