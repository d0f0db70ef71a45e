/**
 * The libp2p host of a node: TCP, Noise, Yamux, identify, ping and gossipsub, with every
 * connection, stream and decode limit set explicitly (docs/LIMITS.md). Building the options is
 * separate from creating the host so tests can assert them.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { type GossipSub, type GossipsubOpts, gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { ComponentLogger, ConnectionGater, Libp2p, Metrics, PrivateKey } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2pOptions } from 'libp2p'
import {
  AGENT_PREFIX,
  DIAL_TIMEOUT_MS,
  GOSSIP_DECODE_LIMITS,
  GOSSIP_MESH,
  GOSSIP_OUTBOUND_BUFFER_BYTES_MAX,
  GOSSIP_RPC_BYTES_MAX,
  GOSSIP_SCORE,
  GOSSIP_STREAMS_PER_CONNECTION_MAX,
} from './constants.ts'
import { ALL_TOPICS } from './gossip.ts'

/** Streams one connection may carry, all protocols together: 3 protocols x 32 inbound plus
 *  gossipsub, identify and ping; Yamux's own default (1,000) is far above any honest use. */
export const MUXER_STREAMS_MAX = 256

/** Connections still in the upgrade (Noise, Yamux) at once: libp2p's default (10) resets dials
 *  when a whole loopback federation starts at once; 32 still bounds a handshake flood. */
export const PENDING_CONNECTIONS_MAX = 32

/** An inbound connection must finish Noise + Yamux within this: libp2p's default is 10 s
 *  on recent versions; 10 s is generous on a LAN and stops slowloris handshakes. */
export const UPGRADE_TIMEOUT_MS = 10_000

/** libp2p's connection monitor pings every connection of a node at once, every this long (its
 *  own default), and closes one whose ping fails. */
export const CONNECTION_PING_INTERVAL_MS = 10_000
/** Each node's ping interval is drawn once from ±20 % of it (8–12 s). The monitor's timer
 *  starts with the node, so nodes started together (a federation started or restarted at once,
 *  the harness's ten nodes) pinged all their connections in the same instant every 10 s: a new
 *  stream with its protocol negotiation per connection and direction, ~24 per node with 12
 *  connections, all ten nodes together — a CPU burst every 10 s (docs/SIMULATION.md). With
 *  different intervals their bursts drift apart within a few periods; a dead connection is still
 *  found within 12 s plus the ping's timeout. */
export const CONNECTION_PING_JITTER = 0.2

/** A node's connection-ping interval for a uniform draw `u` in [0, 1). */
export function connectionPingIntervalMs(u: number): number {
  return Math.round(
    CONNECTION_PING_INTERVAL_MS * (1 - CONNECTION_PING_JITTER + 2 * CONNECTION_PING_JITTER * u),
  )
}

/** A libp2p datastore (peer store persistence), as libp2p declares it. */
export type Datastore = NonNullable<Libp2pOptions['datastore']>

export interface HostLimits {
  readonly connectionsMax: number
  readonly inboundConnectionThreshold: number
  readonly frameBytesMax: number
}

export interface HostInit {
  readonly privateKey: PrivateKey
  readonly listen: readonly string[]
  readonly limits: HostLimits
  readonly gater: ConnectionGater
  /** A swarm key file's bytes (`parseSwarmKey`), or none. */
  readonly pnetKey?: Uint8Array
  readonly datastore?: Datastore
  readonly agentVersion: string
  /** How often every connection is pinged (default CONNECTION_PING_INTERVAL_MS; a node draws
   *  its own with `connectionPingIntervalMs`). */
  readonly pingIntervalMs?: number
  /** Where libp2p's own log lines go (`libp2pLogger`); libp2p's `debug` logger otherwise. */
  readonly logger?: ComponentLogger
  /** libp2p's metrics (e.g. `@libp2p/prometheus-metrics`: bytes in/out, connections, streams). */
  readonly metrics?: (components: never) => Metrics
}

export type GkmLibp2p = Libp2p<{ pubsub: GossipSub; identify: unknown; ping: unknown }>

/** Gossipsub options: signature policy, decode and buffer limits, topics, scoring. */
export function gossipsubOptions(): Partial<GossipsubOpts> {
  const topicParams = {
    topicWeight: GOSSIP_SCORE.topicWeight,
    timeInMeshWeight: 0,
    timeInMeshQuantum: 1000,
    timeInMeshCap: 1,
    firstMessageDeliveriesWeight: GOSSIP_SCORE.firstMessageDeliveriesWeight,
    firstMessageDeliveriesDecay: GOSSIP_SCORE.firstMessageDeliveriesDecay,
    firstMessageDeliveriesCap: GOSSIP_SCORE.firstMessageDeliveriesCap,
    meshMessageDeliveriesWeight: 0,
    meshMessageDeliveriesDecay: 0.5,
    meshMessageDeliveriesCap: 1,
    meshMessageDeliveriesThreshold: 1,
    meshMessageDeliveriesWindow: 10,
    meshMessageDeliveriesActivation: 5000,
    meshFailurePenaltyWeight: 0,
    meshFailurePenaltyDecay: 0.5,
    invalidMessageDeliveriesWeight: GOSSIP_SCORE.invalidMessageDeliveriesWeight,
    invalidMessageDeliveriesDecay: GOSSIP_SCORE.invalidMessageDeliveriesDecay,
  }
  return {
    // The event's own Ed25519 signature is what we verify; gossipsub's envelope signature would
    // only double the cost and reveal nothing more.
    globalSignaturePolicy: 'StrictNoSign',
    // The event is stored before it is published; with no peers it reaches them by pull.
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    emitSelf: false,
    fallbackToFloodsub: false,
    floodPublish: true,
    doPX: false,
    decodeRpcLimits: { ...GOSSIP_DECODE_LIMITS },
    maxInboundDataLength: GOSSIP_RPC_BYTES_MAX,
    maxOutboundBufferSize: GOSSIP_OUTBOUND_BUFFER_BYTES_MAX,
    maxInboundStreams: GOSSIP_STREAMS_PER_CONNECTION_MAX,
    maxOutboundStreams: GOSSIP_STREAMS_PER_CONNECTION_MAX,
    allowedTopics: [...ALL_TOPICS],
    // Degree, lazy gossip and IDONTWANT sized for a federation (constants.ts GOSSIP_MESH).
    ...GOSSIP_MESH,
    scoreParams: {
      topics: Object.fromEntries(ALL_TOPICS.map((t) => [t, topicParams])),
      IPColocationFactorWeight: 0,
    },
    scoreThresholds: {
      gossipThreshold: GOSSIP_SCORE.gossipThreshold,
      publishThreshold: GOSSIP_SCORE.publishThreshold,
      graylistThreshold: GOSSIP_SCORE.graylistThreshold,
    },
  }
}

export async function createHost(init: HostInit): Promise<GkmLibp2p> {
  return createLibp2p({
    start: false,
    privateKey: init.privateKey,
    nodeInfo: { name: AGENT_PREFIX, userAgent: init.agentVersion },
    addresses: { listen: [...init.listen] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [
      yamux({
        maxInboundStreams: MUXER_STREAMS_MAX,
        maxOutboundStreams: MUXER_STREAMS_MAX,
        streamOptions: {
          maxReadBufferLength: init.limits.frameBytesMax + 64 * 1024,
          maxWriteBufferLength: 2 * init.limits.frameBytesMax,
        },
      }),
    ],
    connectionProtector: init.pnetKey === undefined ? undefined : preSharedKey({ psk: init.pnetKey }),
    connectionGater: init.gater,
    connectionManager: {
      maxConnections: init.limits.connectionsMax,
      inboundConnectionThreshold: init.limits.inboundConnectionThreshold,
      maxIncomingPendingConnections: PENDING_CONNECTIONS_MAX,
      inboundUpgradeTimeout: UPGRADE_TIMEOUT_MS,
      dialTimeout: DIAL_TIMEOUT_MS,
    },
    connectionMonitor: { pingInterval: init.pingIntervalMs ?? CONNECTION_PING_INTERVAL_MS },
    datastore: init.datastore,
    logger: init.logger,
    metrics: init.metrics as Libp2pOptions['metrics'],
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub(gossipsubOptions()),
    },
  }) as unknown as Promise<GkmLibp2p>
}
