/**
 * The libp2p mesh of a gkm-sync node: TCP + Noise + Yamux, identify, ping; discovery by mDNS
 * and bootstrap lists (remembered peers redialled with backoff); one gossipsub topic per event
 * type (`/gkm/events/<vector|persona|document|graph>/1`); the push / pull / resolve-conflict
 * protocols; pull-on-connect catch-up from a per-peer cursor (events it brings are relayed on
 * gossip); peer exchange (`/gkm/peers/1.0.0`) and a target number of direct connections; federation membership (allow-list
 * in the connection gater, optional pnet key). docs/MESH.md explains the design, docs/LIMITS.md
 * every limit, docs/PROTOCOL.md (mesh protocols) the messages.
 *
 * The network calls the node only through `SyncApi`. After `start()` it follows the node's
 * change feed (`api.subscribe`) and gossips every event whose origin is `local` or `http`
 * (events from peers are already being gossiped, or are old); the node only calls start/stop.
 *
 * @example
 * ```ts
 * import { createNetwork, parseBootstrapFile } from './src/net/index.ts'
 *
 * const network = createNetwork(
 *   { api: node.api, seed: identity.seed, dataDir: '/var/lib/gkm' },
 *   {
 *     listen: ['/ip4/0.0.0.0/tcp/7421'],
 *     bootstrap: parseBootstrapFile(await readFile('bootstrap/peers.txt', 'utf8')),
 *     mdns: { enabled: true },
 *     dataTypes: ['vector_update', 'persona_update', 'document_update', 'graph_update'],
 *     limits: { connectionsMax: 300, inboundConnectionThreshold: 100, streamsPerProtocolInbound: 32,
 *               streamsPerProtocolOutbound: 64, streamOpensPerPeerPerSecond: 20, frameBytesMax: 4 << 20 },
 *   },
 * )
 * await network.start()
 * console.log(network.peerId, network.addresses())
 * await network.stop()
 * ```
 */

import type { ComponentLogger, Metrics } from '@libp2p/interface'
import type { PullRequest, PushResult, ResolveRequest, ResolveResult, SyncApi } from '../core/api.ts'
import type { StoredEvent } from '../core/records.ts'
import type { EventType } from '../core/types.ts'
import type { VerifyItem } from '../util/crypto.ts'
import type { ReconcileProgress } from './anti-entropy.ts'
import type { Datastore, GkmLibp2p } from './host.ts'
import { GkmNetwork } from './network.ts'
import type { PullFrame, PullFromRequest } from './protocols/pull.ts'
import type { EventSetSource, ReconcileReport } from './protocols/reconcile.ts'
import type { NetLogger } from './stats.ts'

export interface NetComponents {
  /** The node's service; every protocol and gossip message ends up here. */
  readonly api: SyncApi
  /** The node's 32-byte Ed25519 seed: its identity, so peer id == event author key. */
  readonly seed: Uint8Array
  /** Optional libp2p datastore (libp2p's peer store); known peers and cursors are kept in
   *  `<dataDir>/mesh-peers.json` regardless. */
  readonly datastore?: Datastore
  /** The node's data directory (the peer file lives there). */
  readonly dataDir: string
  /** Where the mesh reports (start-up line, peers connected / disconnected, refusals, catch-up
   *  sessions, warnings); silent by default. */
  readonly logger?: NetLogger
  /** libp2p's own component logger (`libp2pLogger(pino)`); libp2p's `debug` logger otherwise. */
  readonly libp2pLogger?: ComponentLogger
  /** libp2p's metrics factory (`prometheusMetrics({ registry })` from @libp2p/prometheus-metrics). */
  readonly libp2pMetrics?: (components: never) => Metrics
  /** Wall clock for event verification (drift) and peer bookkeeping; Date.now by default. */
  readonly now?: () => number
  /** Verifies many Ed25519 signatures, possibly off the event loop (the node's crypto pool);
   *  the gossip validator uses it for messages that carry several events. Without it every
   *  signature is verified inline. */
  readonly verifyMany?: (items: readonly VerifyItem[]) => Promise<boolean[]>
  /** The node's event set (range indexes and stored events by digest): with it the network
   *  reconciles with its peers (`/gkm/sync/reconcile/1.0.0`) instead of the per-peer cursor
   *  pull. */
  readonly eventSet?: EventSetSource
}

export interface NetLimits {
  /** Open connections, all peers together (libp2p maxConnections). */
  readonly connectionsMax: number
  /** Inbound connections per second from one host (raise for loopback clusters). */
  readonly inboundConnectionThreshold: number
  /** Concurrent streams per protocol per connection, each way. */
  readonly streamsPerProtocolInbound: number
  readonly streamsPerProtocolOutbound: number
  /** Opens of our protocol streams per remote peer per second; more are reset. */
  readonly streamOpensPerPeerPerSecond: number
  /** One length-prefixed protocol frame; at least FRAME_BYTES_MIN (one maximal event). */
  readonly frameBytesMax: number
}

export interface NetInit {
  /** Multiaddrs to listen on, e.g. `/ip4/0.0.0.0/tcp/7421`. */
  readonly listen: readonly string[]
  /** Multiaddrs ending in /p2p/<peer id> (files already resolved: `parseBootstrapFile`). */
  readonly bootstrap: readonly string[]
  /** LAN discovery. `interface`: a name (`eth0`) or IPv4 address; all interfaces if absent. */
  readonly mdns: { readonly enabled: boolean; readonly interface?: string }
  /** Hex Ed25519 keys of the federation's members; undefined = open federation. */
  readonly members?: readonly string[]
  /** A libp2p swarm key file's bytes (`/key/swarm/psk/1.0.0/` format); undefined = none. */
  readonly pnetKey?: Uint8Array
  /** Event types this node subscribes to and pulls. */
  readonly dataTypes: readonly EventType[]
  readonly limits: NetLimits
  /** Events of at least this many bytes (signed + signature) are announced by digest and
   *  fetched by pull (default ANNOUNCE_BYTES_MIN_DEFAULT, 16 KiB). */
  readonly announceBytesMin?: number
  /** Allowed clock lead of an event over our clock (default the core's 60 s). */
  readonly driftMaxMs?: number
  /** Whether peers may ask this node to sign conflict resolutions over the resolve protocol.
   *  Default: yes with a members list, no in an open federation. */
  readonly allowRemoteResolve?: boolean
  /** Anti-entropy: a reconciliation with one random connected peer this often (default
   *  RECONCILE_INTERVAL_MS_DEFAULT, 10 s; 0 = only on connect and on demand). */
  readonly reconcileIntervalMs?: number
  /** Gossip on (default). Off: events travel by reconciliation only (tests, diagnostics). */
  readonly gossip?: boolean
  /** How often connected peers are pulled again (default CATCH_UP_INTERVAL_MS, 30 s); only
   *  without an event set (reconciliation replaces the cursor pull). */
  readonly catchUpIntervalMs?: number
  /** Publishes within this many ms of the previous one wait and leave as one batch (default
   *  GOSSIP_PUBLISH_LINGER_MS_DEFAULT, 10 ms; 0 = publish every burst at once). */
  readonly publishLingerMs?: number
  /** Direct connections to keep: below it the node asks peers for theirs (`/gkm/peers/1.0.0`)
   *  and dials the members it learns (default TARGET_CONNECTIONS_DEFAULT, 8; 0 = off). */
  readonly targetConnections?: number
  /** Direct fan-out (one stream per peer, src/net/direct.ts) while the node has at most this
   *  many connected peers; gossipsub above (default DIRECT_PEERS_MAX_DEFAULT, 16; 0 = gossip
   *  only). */
  readonly directPeersMax?: number
  /** Events arriving at an idle node wait this long for more, then are stored together (one
   *  group commit; src/net/ingest-queue.ts). Default INGEST_GATHER_MS_DEFAULT, 10 ms; 0 = at once. */
  readonly ingestGatherMs?: number
  /** identify's agent version, e.g. `gkm-sync/0.1.0`. */
  readonly agentVersion?: string
}

export interface PeerInfo {
  readonly peerId: string
  readonly addrs: string[]
  readonly connected: boolean
  /** A connected peer that this node's writes reach by the direct stream without waiting: it
   *  speaks the protocol, its subscriptions arrived, the stream is open (src/net/direct.ts). */
  readonly direct?: boolean
  /** Arrival sequence of the peer's log we have pulled up to. */
  readonly lastSeq?: number
  /** Gossipsub score of a connected peer (negative after invalid messages). */
  readonly score?: number
  /** When this node last knew it held everything the peer held (wall ms): a reconciliation
   *  found nothing missing either way (or, without an event set, a catch-up ended with nothing
   *  more to pull). Undefined until then. */
  readonly inSyncAtMs?: number
  /** When a reconciliation with the peer last found nothing missing either way (ISO 8601),
   *  and both state hashes then. */
  readonly inSyncAsOf?: string
  readonly inSyncStateHash?: string
  readonly peerStateHash?: string
  /** The last reconciliation with the peer. */
  readonly lastReconcile?: {
    readonly at: string
    readonly need: number
    readonly have: number
    readonly rounds: number
    readonly bytes: number
    readonly error?: string
  }
}

export interface Network {
  start(): Promise<void>
  stop(): Promise<void>
  /** libp2p peer id (derived from the seed). */
  readonly peerId: string
  /** Our multiaddrs, each ending in /p2p/<peer id>. */
  addresses(): string[]
  /** Known and connected peers. */
  peers(): PeerInfo[]
  /** Dials a multiaddr (with or without /p2p); the peer is remembered and redialled. */
  dial(multiaddr: string): Promise<void>
  /** Gossips a stored event (done automatically for local and HTTP writes after start). */
  publish(event: StoredEvent): Promise<void>
  /** Client side of the protocols. */
  push(peerId: string, events: readonly StoredEvent[]): Promise<PushResult>
  pull(peerId: string, req: PullFromRequest): AsyncGenerator<PullFrame>
  resolve(peerId: string, req: ResolveRequest): Promise<ResolveResult>
  /** Reconciles now with one peer, or with every connected peer; one report per peer.
   *  `onProgress` hears how far each session is (counts so far). */
  reconcile(peerId?: string, onProgress?: (p: ReconcileProgress) => void): Promise<ReconcileReport[]>
  /** Counters (gossip.accept, gossip.reject.bad_signature, streams.rate_limited, ...). */
  readonly stats: Record<string, number>
  /** The libp2p host (diagnostics, tests); undefined before start. */
  readonly libp2p: GkmLibp2p | undefined
  /** Validated gossip events waiting for the node (metrics, benchmarks). */
  readonly ingestQueueLength: number
  /** Resolves when no catch-up runs or waits (tests). */
  catchUpIdle(): Promise<void>
}

export function createNetwork(components: NetComponents, init: NetInit): Network {
  return new GkmNetwork(components, init)
}

export {
  ANNOUNCE_BYTES_MIN_DEFAULT,
  FRAME_BYTES_MIN,
  PROTOCOL_PEERS,
  PROTOCOL_PULL,
  PROTOCOL_PUSH,
  PROTOCOL_RECONCILE,
  PROTOCOL_RESOLVE,
  PROTOCOLS,
  TARGET_CONNECTIONS_DEFAULT,
} from './constants.ts'
export {
  FetchMismatchError,
  LocalNetError,
  NetConfigError,
  NetTimeoutError,
  NetworkNotRunningError,
  NotAMemberError,
  PeerFileFormatError,
  RemoteProtocolError,
  RemoteRefusedError,
  StreamRateLimitedError,
  UnexpectedMessageError,
} from './errors.ts'
export { ALL_TOPICS, topicOf, typeOfTopic } from './gossip.ts'
export { type LevelledLogger, libp2pLogger } from './libp2p-logger.ts'
export { GkmNetwork } from './network.ts'
export {
  authorKeyFromPeerId,
  parseBootstrapFile,
  parseMembersFile,
  parseSwarmKey,
  peerIdFromAuthorKey,
  peerIdOfMultiaddr,
} from './peer-files.ts'
export type { LogFields } from './stats.ts'
export type {
  Datastore,
  EventSetSource,
  GkmLibp2p,
  NetLogger,
  PullFrame,
  PullFromRequest,
  PullRequest,
  ReconcileProgress,
  ReconcileReport,
  VerifyItem,
}
