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
 * - A peer that becomes reachable (identify names the protocol: a new connection, a reconnect)
 *   is sent what this node fanned out in the last DIRECT_REPLAY_MS, and until its gossipsub
 *   subscriptions arrive (DIRECT_UNKNOWN_SUBSCRIPTIONS_MS at most) every new event: writes made
 *   while the mesh forms reach it in milliseconds instead of at the next reconciliation
 *   session (`direct.replayed_events`; what it holds already it counts as a duplicate).
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
  DIRECT_REPLAY_BYTES_MAX,
  DIRECT_REPLAY_EVENTS_MAX,
  DIRECT_REPLAY_MS,
  DIRECT_RETRY_MS,
  DIRECT_SEND_BYTES_MAX,
  DIRECT_STREAMS_PER_CONNECTION_MAX,
  DIRECT_UNKNOWN_SUBSCRIPTIONS_MS,
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
  /** Recent events kept for the replay to a newly reachable peer (default DIRECT_REPLAY_EVENTS_MAX). */
  readonly replayEventsMax?: number
}

/** An event this node fanned out, kept DIRECT_REPLAY_MS for a peer that becomes reachable. */
interface Recent {
  readonly at: number
  readonly digest: string
  readonly type: EventType
  readonly event: StoredEvent
  /** the tags its copies named (so the replayed copy is not relayed where it went) */
  readonly covered: readonly number[]
  readonly bytes: number
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
  /** Connected peers that announced the protocol (identify), with when they did. */
  readonly #speakers = new Map<string, number>()
  /** What this node fanned out recently, oldest first (DIRECT_REPLAY_*). */
  #recent: Recent[] = []
  /** entries before it are dropped (compacted now and then) */
  #recentHead = 0
  #recentBytes = 0
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
    this.#recent = []
    this.#recentHead = 0
    this.#recentBytes = 0
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
    if (!protocols.includes(PROTOCOL_DIRECT)) {
      this.#speakers.delete(peer)
      return
    }
    if (this.#speakers.has(peer)) return // identify again (a push): nothing new
    this.#speakers.set(peer, this.#c.now())
    this.#replay(peer)
    this.#warm(peer)
  }

  /** Opens the stream to a newly reachable peer now, not at the first write after it: the
   *  stream's negotiation (a round trip, and the CPU of a new yamux stream and multistream-select
   *  on both sides) is then done while the connection is new, not on the path of the first
   *  events — ten nodes starting together otherwise open ~90 streams in the first second of
   *  writes. */
  #warm(peer: string): void {
    if (!this.#running || !this.#isActive(this.#connected())) return
    let box = this.#outboxes.get(peer)
    if (box === undefined) {
      box = new Outbox()
      this.#outboxes.set(peer, box)
    }
    if (box.busy || box.stream !== undefined || box.retryAt > this.#c.now()) return
    void this.#flush(peer, box, true)
  }

  /** Whether a write now reaches the peer by its direct stream without waiting: it speaks the
   *  protocol, its subscriptions arrived (it takes at least one of this node's types), and the
   *  stream to it is open (`/peers` `direct`; a harness waits for it). */
  ready(peer: string): boolean {
    if (!this.#speakers.has(peer)) return false
    if (this.#outboxes.get(peer)?.stream?.status !== 'open') return false
    return this.#knownSubscribers(new Map()).has(peer)
  }

  /** Whether the peer is known to speak the protocol (identify; tests, diagnostics). */
  speaks(peer: string): boolean {
    return this.#speakers.has(peer)
  }

  /** Recent events kept for the replay (tests, diagnostics). */
  get recentEvents(): number {
    return this.#recent.length - this.#recentHead
  }

  #remember(digest: string, type: EventType, event: StoredEvent, covered: readonly number[]): void {
    const bytes = event.signed.byteLength + event.signature.byteLength
    this.#recent.push({ at: this.#c.now(), digest, type, event, covered, bytes })
    this.#recentBytes += bytes
    const max = this.#init.replayEventsMax ?? DIRECT_REPLAY_EVENTS_MAX
    const cutoff = this.#c.now() - DIRECT_REPLAY_MS
    while (
      this.#recentHead < this.#recent.length &&
      (this.#recent.length - this.#recentHead > max ||
        this.#recentBytes > DIRECT_REPLAY_BYTES_MAX ||
        this.#recent[this.#recentHead].at < cutoff)
    )
      this.#recentBytes -= this.#recent[this.#recentHead++].bytes
    // compact once the dropped head is as long as what is kept (amortised O(1) per event)
    if (this.#recentHead > 0 && this.#recentHead * 2 >= this.#recent.length) {
      this.#recent = this.#recent.slice(this.#recentHead)
      this.#recentHead = 0
    }
  }

  /** Sends a newly reachable peer what this node fanned out in the last DIRECT_REPLAY_MS, except
   *  what that peer sent us and types it is known not to take. */
  #replay(peer: string): void {
    if (!this.#running || this.recentEvents === 0) return
    const connected = this.#connected()
    if (!this.#isActive(connected) || !connected.includes(peer)) return
    const cutoff = this.#c.now() - DIRECT_REPLAY_MS
    const subs = new Map<EventType, Set<string>>()
    const known = this.#knownSubscribers(subs)
    const tag = this.#tag(peer)
    let n = 0
    for (let i = this.#recentHead; i < this.#recent.length; i++) {
      const r = this.#recent[i]
      if (r.at < cutoff) continue
      if (this.#c.senders.get(r.digest)?.includes(peer)) continue
      if (known.has(peer) && !this.#subscribers(r.type, subs).has(peer)) continue
      const frame = encodeDirectFrame({
        covered: [...new Set([this.#selfTag, tag, ...r.covered])],
        signed: r.event.signed,
        signature: r.event.signature,
      })
      this.#enqueue(peer, frame)
      n++
    }
    if (n > 0) this.#c.stats.inc('direct.replayed_events', n)
  }

  /** Peers subscribed to at least one of this node's types (their subscriptions arrived). */
  #knownSubscribers(cache: Map<EventType, Set<string>>): Set<string> {
    const known = new Set<string>()
    for (const type of this.#types) for (const p of this.#subscribers(type, cache)) known.add(p)
    return known
  }

  /** Whether the peer takes the type: subscribed to it, or it identified itself recently and its
   *  subscriptions have not arrived yet (DIRECT_UNKNOWN_SUBSCRIPTIONS_MS). */
  #wants(
    peer: string,
    type: EventType,
    subs: Map<EventType, Set<string>>,
    known: () => Set<string>,
  ): boolean {
    if (this.#subscribers(type, subs).has(peer)) return true
    const since = this.#speakers.get(peer)
    return (
      since !== undefined && this.#c.now() - since < DIRECT_UNKNOWN_SUBSCRIPTIONS_MS && !known().has(peer)
    )
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
    let knownSet: Set<string> | undefined
    const known = () => {
      knownSet ??= this.#knownSubscribers(subs)
      return knownSet
    }
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
      const targets = direct.filter((p) => this.#wants(p, type, subs, known))
      const covered = [this.#selfTag, ...targets.map((p) => this.#tag(p))]
      this.#remember(digest, type, event, covered)
      if (targets.length === 0) continue
      const frame = encodeDirectFrame({ covered, signed: event.signed, signature: event.signature })
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
  async #flush(peer: string, box: Outbox, open = false): Promise<void> {
    box.busy = true
    try {
      // Whatever is queued in this turn of the event loop leaves together.
      await Promise.resolve()
      while ((box.frames.length > 0 || open) && this.#running && this.#outboxes.get(peer) === box) {
        if (box.stream === undefined || box.stream.status !== 'open') {
          box.stream = undefined
          box.stream = await this.#open(peer)
          this.#c.stats.inc('direct.streams_opened')
          open = false
          continue
        }
        if (box.frames.length === 0) break
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
    let knownSet: Set<string> | undefined
    const known = () => {
      knownSet ??= this.#knownSubscribers(subs)
      return knownSet
    }
    for (const f of fresh) {
      const event = { signed: f.frame.signed, signature: f.frame.signature }
      if (others) viaGossip.push(event)
      const covered = new Set(f.frame.covered)
      const skip = this.#c.senders.get(f.digest) ?? [from]
      const targets = direct.filter(
        (p) =>
          p !== from &&
          !skip.includes(p) &&
          !covered.has(this.#tag(p)) &&
          this.#wants(p, f.type, subs, known),
      )
      // the new tags first: a list cut at DIRECT_COVERED_MAX loses the oldest hints
      const tags = [...new Set([this.#selfTag, ...targets.map((p) => this.#tag(p)), ...f.frame.covered])]
      this.#remember(f.digest, f.type, event, tags)
      if (targets.length === 0) continue
      const frame = encodeDirectFrame({ covered: tags, signed: event.signed, signature: event.signature })
      for (const p of targets) this.#enqueue(p, frame)
      this.#c.stats.inc('direct.relayed_events')
    }
    if (viaGossip.length > 0) this.#c.gossip(viaGossip)
  }
}
