/**
 * Per-type gossip: topic names, the topic validator (accept / ignore / reject, so gossipsub's
 * peer scoring punishes senders of bad events) and publishing (full event, or an announce by
 * digest for large events).
 *
 * What a received message leads to is decided by the core's sans-IO `GossipIntake`
 * (src/core/gossip-intake.ts: topic, seen, checks, announce fetches, signatures in one step for
 * a large message); the validator here decodes the bytes, runs the fetch and the pool
 * verification the intake asks for, and hands accepted events to the ingest queue.
 */
import type { GossipSub, Message } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import type { VerifyContext } from '../core/event.ts'
import { digestOf, eventTypeOfSigned } from '../core/event-codec.ts'
import { GossipIntake } from '../core/gossip-intake.ts'
import type { StoredEvent } from '../core/records.ts'
import { EVENT_TYPES, type EventType } from '../core/types.ts'
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

export { eventTypeOfSigned }

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
  readonly #intake: GossipIntake

  constructor(components: GossipRouterComponents, init: GossipRouterInit) {
    this.#c = components
    this.#init = init
    this.#intake = new GossipIntake({
      seen: (d) => components.seen.get(d) !== undefined,
      poolVerifyMin: components.verifyMany === undefined ? Number.POSITIVE_INFINITY : GOSSIP_POOL_VERIFY_MIN,
      fetchesMax: ANNOUNCE_FETCHES_MAX,
    })
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

  async #validate(peer: PeerId, msg: Message): Promise<TopicValidatorResult> {
    let payload: ReturnType<typeof decodeGossipMessage>
    const topicType = typeOfTopic(msg.topic)
    if (topicType !== undefined) {
      try {
        payload = decodeGossipMessage(msg.data, this.#c.limits)
      } catch (err) {
        return this.#reject(peer, isWireError(err) ? err.code : 'decode')
      }
    } else payload = { kind: 'events', events: [] }
    // The decisions are the core's (src/core/gossip-intake.ts); this runs the I/O it asks for.
    const r = this.#intake.receive(topicType, payload)
    for (;;) {
      const step = r.step(this.#c.verifyContext())
      switch (step.kind) {
        case 'fetch': {
          let fetched: StoredEvent[] | 'failed'
          try {
            fetched = await this.#c.fetch(peer, step.raw)
          } catch (err) {
            this.#c.log.debug(`announce fetch from ${peer} failed: ${(err as Error).message}`)
            fetched = 'failed'
          }
          r.fetched(fetched)
          continue
        }
        case 'verify': {
          let valid: boolean[]
          try {
            valid = await this.#c.verifyMany!(step.items)
          } catch (err) {
            this.#c.log.warn(`gossip signature check failed unexpectedly: ${(err as Error).message}`)
            return TopicValidatorResult.Ignore
          }
          r.verified(valid)
          continue
        }
        case 'reject':
          return this.#reject(peer, step.why)
        case 'ignore':
          if (step.why === 'validation_failed')
            this.#c.log.warn(`gossip validation failed unexpectedly: ${step.error ?? 'unknown error'}`)
          else if (step.why !== undefined) this.#c.stats.inc(`gossip.${step.why}`)
          return TopicValidatorResult.Ignore
        case 'accept': {
          if (!this.#c.ingest.offer(step.events, peer.toString())) {
            this.#c.stats.inc('gossip.ingest_full')
            return TopicValidatorResult.Ignore
          }
          for (const d of step.digests) this.markSeen(d)
          if (step.announced !== undefined) this.#c.recent.put(step.digests[0], step.announced)
          this.#c.stats.inc('gossip.accepted_events', step.digests.length)
          return TopicValidatorResult.Accept
        }
      }
    }
  }
}
