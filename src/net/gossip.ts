/**
 * Per-type gossip: topic names, the topic validator (accept / ignore / reject, so gossipsub's
 * peer scoring punishes senders of bad events) and publishing (full event, or an announce by
 * digest for large events).
 *
 * Validation of a message of complete events (one, or a publisher's batch): decode (bounded)
 * -> every event's type is the topic's -> the ones not seen yet (none: ignore) ->
 * `eventFromWire` on each (schema, membership, clock drift, signature; any failure rejects the
 * message) -> accept and queue them for the node. An announce: seen? ignore -> fetch from the
 * peer that sent it (pull, fetch mode) -> the fetched bytes hash to the digest -> the same
 * checks -> accept.
 */
import type { GossipSub, Message } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { SIGNED_MAGIC } from '../core/constants.ts'
import { isEventRejectedError } from '../core/errors.ts'
import { badSignature, checkEvent, eventFromWire, type VerifyContext } from '../core/event.ts'
import { decodeSigned, digestOf } from '../core/event-codec.ts'
import type { StoredEvent } from '../core/records.ts'
import type { SignedEvent } from '../core/types.ts'
import { EVENT_TYPES, type EventType } from '../core/types.ts'
import { fromHex, toHex } from '../util/bytes.ts'
import type { VerifyItem } from '../util/crypto.ts'
import type { LruMap } from '../util/lru.ts'
import {
  decodeGossipMessage,
  encodeGossipAnnounce,
  encodeGossipEvents,
  isWireError,
  type WireLimits,
} from '../wire/index.ts'
import {
  ANNOUNCE_FETCHES_MAX,
  GOSSIP_BATCH_BYTES_MAX,
  GOSSIP_BATCH_EVENTS_MAX,
  GOSSIP_POOL_VERIFY_MIN,
  TOPIC_NAMES,
  TOPIC_VERSION,
} from './constants.ts'
import type { IngestQueue } from './ingest-queue.ts'
import type { RecentEvents } from './recent-events.ts'
import type { NetLogger, NetStats } from './stats.ts'

export function topicOf(type: EventType): string {
  return `/gkm/events/${TOPIC_NAMES[type]}/${TOPIC_VERSION}`
}

export const ALL_TOPICS: readonly string[] = EVENT_TYPES.map(topicOf)

const TYPE_BY_TOPIC = new Map<string, EventType>(EVENT_TYPES.map((t) => [topicOf(t), t]))

export function typeOfTopic(topic: string): EventType | undefined {
  return TYPE_BY_TOPIC.get(topic)
}

const SIGNED_MAGIC_BYTES = Buffer.from(SIGNED_MAGIC, 'latin1')

/** The event type of canonical signed bytes (byte 4 after the "GKE2" magic), without decoding
 *  the rest; undefined when the bytes are not an event. */
export function eventTypeOfSigned(signed: Uint8Array): EventType | undefined {
  if (signed.byteLength < 5) return undefined
  for (let i = 0; i < 4; i++) if (signed[i] !== SIGNED_MAGIC_BYTES[i]) return undefined
  return EVENT_TYPES[signed[4] - 1]
}

/** What the node knows of a digest: stored, or accepted by gossip validation and queued. */
export type SeenState = 'stored' | 'validated'

export interface GossipRouterComponents {
  readonly pubsub: GossipSub
  readonly stats: NetStats
  readonly log: NetLogger
  readonly limits: WireLimits
  readonly recent: RecentEvents
  /** Digests the node stored ('stored', from its change feed) or a validator accepted
   *  ('validated': queued for the node, not yet known stored). */
  readonly seen: LruMap<string, SeenState>
  readonly ingest: IngestQueue
  readonly verifyContext: () => VerifyContext
  /** Verifies the signatures of a message that carries GOSSIP_POOL_VERIFY_MIN or more new
   *  events (the node's crypto pool); inline verification otherwise. */
  readonly verifyMany?: (items: readonly VerifyItem[]) => Promise<boolean[]>
  /** Fetches announced events from a peer (pull, fetch mode), with its own timeout. */
  readonly fetch: (peer: PeerId, digest: Uint8Array) => Promise<StoredEvent[]>
}

export interface GossipRouterInit {
  readonly dataTypes: readonly EventType[]
  /** Events of at least this many bytes (signed + signature) are announced, not sent whole. */
  readonly announceBytesMin: number
}

export class GossipRouter {
  readonly #c: GossipRouterComponents
  readonly #init: GossipRouterInit
  #fetches = 0

  constructor(components: GossipRouterComponents, init: GossipRouterInit) {
    this.#c = components
    this.#init = init
  }

  /** Installs validators on every topic (we may relay any) and subscribes to our types. */
  start(): void {
    for (const topic of ALL_TOPICS)
      this.#c.pubsub.topicValidators.set(topic, (peer, msg) => this.validate(peer, msg))
    for (const type of this.#init.dataTypes) this.#c.pubsub.subscribe(topicOf(type))
  }

  stop(): void {
    for (const topic of ALL_TOPICS) {
      this.#c.pubsub.topicValidators.delete(topic)
      if (this.#c.pubsub.getTopics().includes(topic)) this.#c.pubsub.unsubscribe(topic)
    }
  }

  markSeen(digest: string): void {
    if (this.#c.seen.get(digest) === undefined) this.#c.seen.set(digest, 'validated')
  }

  /** Publishes stored events: small ones of one type together in batches, large ones by
   *  announce. Never throws for lack of peers: the events are stored and reach peers by their
   *  catch-up pull. */
  async publish(events: readonly StoredEvent[]): Promise<void> {
    const byType = new Map<EventType, StoredEvent[]>()
    for (const event of events) {
      const type = eventTypeOfSigned(event.signed)
      if (type === undefined) {
        this.#c.stats.inc('gossip.publish_not_an_event')
        continue
      }
      const digest = digestOf(event.signed)
      this.markSeen(digest)
      const size = event.signed.byteLength + event.signature.byteLength
      if (size >= this.#init.announceBytesMin) {
        this.#c.recent.put(digest, event)
        this.#c.stats.inc('gossip.announced')
        await this.#send(type, encodeGossipAnnounce(Buffer.from(digest, 'hex'), size), 1)
        continue
      }
      byType.set(type, [...(byType.get(type) ?? []), event])
    }
    for (const [type, list] of byType) {
      let batch: StoredEvent[] = []
      let bytes = 0
      for (const e of list) {
        const size = e.signed.byteLength + e.signature.byteLength
        if (
          batch.length > 0 &&
          (batch.length >= GOSSIP_BATCH_EVENTS_MAX || bytes + size > GOSSIP_BATCH_BYTES_MAX)
        ) {
          await this.#send(type, encodeGossipEvents(batch), batch.length)
          batch = []
          bytes = 0
        }
        batch.push(e)
        bytes += size
      }
      if (batch.length > 0) await this.#send(type, encodeGossipEvents(batch), batch.length)
    }
  }

  async #send(type: EventType, data: Uint8Array, events: number): Promise<void> {
    try {
      const { recipients } = await this.#c.pubsub.publish(topicOf(type), data)
      this.#c.stats.inc(recipients.length === 0 ? 'gossip.published_no_peers' : 'gossip.published')
      this.#c.stats.inc('gossip.published_events', events)
    } catch (err) {
      this.#c.stats.inc('gossip.publish_failed')
      this.#c.log.debug(`publish failed: ${(err as Error).message}`)
    }
  }

  /** The topic validator. Exposed for tests. */
  async validate(peer: PeerId, msg: Message): Promise<TopicValidatorResult> {
    const result = await this.#validate(peer, msg)
    this.#c.stats.inc(`gossip.${result}`)
    return result
  }

  #reject(peer: PeerId, why: string): TopicValidatorResult {
    this.#c.stats.inc(`gossip.reject.${why}`)
    this.#c.log.info('refused a gossip message from a peer', { peer: peer.toString(), reason: why })
    return TopicValidatorResult.Reject
  }

  /** Fetches an announced event from the peer that relayed the announce: the event, or
   *  'ignore' (busy, failed, gone), or a reject reason (wrong bytes). */
  async #fetchAnnounced(
    peer: PeerId,
    raw: Uint8Array,
    digest: string,
    size: number,
  ): Promise<StoredEvent | string> {
    if (this.#fetches >= ANNOUNCE_FETCHES_MAX) {
      this.#c.stats.inc('gossip.announce_busy')
      return 'ignore'
    }
    this.#fetches++
    let fetched: StoredEvent[]
    try {
      fetched = await this.#c.fetch(peer, raw)
    } catch (err) {
      this.#c.stats.inc('gossip.announce_fetch_failed')
      this.#c.log.debug(`announce fetch from ${peer} failed: ${(err as Error).message}`)
      return 'ignore'
    } finally {
      this.#fetches--
    }
    if (fetched.length === 0) {
      this.#c.stats.inc('gossip.announce_fetch_missing')
      return 'ignore'
    }
    const match = fetched.find((e) => digestOf(e.signed) === digest)
    if (match === undefined) return 'fetch_mismatch'
    if (match.signed.byteLength + match.signature.byteLength !== size) return 'announce_size'
    return match
  }

  async #validate(peer: PeerId, msg: Message): Promise<TopicValidatorResult> {
    const topicType = typeOfTopic(msg.topic)
    if (topicType === undefined) return this.#reject(peer, 'unknown_topic')
    let payload: ReturnType<typeof decodeGossipMessage>
    try {
      payload = decodeGossipMessage(msg.data, this.#c.limits)
    } catch (err) {
      return this.#reject(peer, isWireError(err) ? err.code : 'decode')
    }
    let fresh: Array<{ event: StoredEvent; digest: string }>
    if (payload.kind === 'events') {
      for (const e of payload.events)
        if (eventTypeOfSigned(e.signed) !== topicType) return this.#reject(peer, 'wrong_topic')
      const digests = new Set<string>()
      fresh = []
      for (const e of payload.events) {
        const digest = digestOf(e.signed)
        if (digests.has(digest) || this.#c.seen.get(digest) !== undefined) continue
        digests.add(digest)
        fresh.push({ event: { signed: e.signed, signature: e.signature }, digest })
      }
      if (fresh.length === 0) return TopicValidatorResult.Ignore
    } else {
      const digest = toHex(payload.digest)
      if (this.#c.seen.get(digest) !== undefined) return TopicValidatorResult.Ignore
      const fetched = await this.#fetchAnnounced(peer, payload.digest, digest, payload.size)
      if (typeof fetched === 'string')
        return fetched === 'ignore' ? TopicValidatorResult.Ignore : this.#reject(peer, fetched)
      if (this.#c.seen.get(digest) !== undefined) return TopicValidatorResult.Ignore
      fresh = [{ event: fetched, digest }]
    }
    const ctx = this.#c.verifyContext()
    const pool = this.#c.verifyMany !== undefined && fresh.length >= GOSSIP_POOL_VERIFY_MIN
    const verifiedEvents: SignedEvent[] = []
    for (const { event } of fresh) {
      try {
        const checked = pool
          ? checkEvent(decodeSigned(event.signed), event.signed, event.signature, ctx)
          : eventFromWire(event.signed, event.signature, ctx)
        if (checked.type !== topicType) return this.#reject(peer, 'wrong_topic')
        verifiedEvents.push(checked)
      } catch (err) {
        if (isEventRejectedError(err)) return this.#reject(peer, err.code)
        this.#c.log.warn(`gossip validation failed unexpectedly: ${(err as Error).message}`)
        return TopicValidatorResult.Ignore
      }
    }
    if (pool) {
      // Every other check passed on the event loop; the signatures go to the pool together.
      let valid: boolean[]
      try {
        valid = await this.#c.verifyMany!(
          verifiedEvents.map((e) => ({ key: fromHex(e.author)!, message: e.signed, signature: e.signature })),
        )
      } catch (err) {
        this.#c.log.warn(`gossip signature check failed unexpectedly: ${(err as Error).message}`)
        return TopicValidatorResult.Ignore
      }
      const bad = valid.indexOf(false)
      if (bad >= 0) return this.#reject(peer, badSignature(verifiedEvents[bad]).code)
      // The pool took time: another path may have brought some of these meanwhile.
      if (fresh.every(({ digest }) => this.#c.seen.get(digest) !== undefined))
        return TopicValidatorResult.Ignore
    }
    if (!this.#c.ingest.offer(verifiedEvents, peer.toString())) {
      this.#c.stats.inc('gossip.ingest_full')
      return TopicValidatorResult.Ignore
    }
    for (const { digest } of fresh) this.markSeen(digest)
    if (payload.kind === 'announce') this.#c.recent.put(fresh[0].digest, fresh[0].event)
    this.#c.stats.inc('gossip.accepted_events', fresh.length)
    return TopicValidatorResult.Accept
  }
}
