/**
 * Default values of every config field, each with the reason it is what it is. docs/CONFIG.md
 * repeats them for people; test/unit/config checks that the two agree with src/core where a
 * value is shared (event types, clock drift).
 */
import type { GkmConfig } from './schema.ts'

/** The four event types, in the core's order (`EVENT_TYPES` in src/core/types.ts; the config
 *  layer may not import the core, so the list is repeated and a test keeps them equal). */
export const CONFIG_EVENT_TYPES = [
  'vector_update',
  'persona_update',
  'document_update',
  'graph_update',
] as const

/** The spec's short names (`data_types: vector, persona, graph`) and what they stand for. */
export const SHORT_EVENT_TYPES: Readonly<Record<string, (typeof CONFIG_EVENT_TYPES)[number]>> = {
  vector: 'vector_update',
  persona: 'persona_update',
  document: 'document_update',
  graph: 'graph_update',
}

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'trace'] as const

/** Sink kinds (src/adapters/constants.ts SINK_KINDS; config does not import adapters). */
export const SINK_KINDS = ['postgres', 'lancedb', 'mongodb', 'neo4j'] as const

const MiB = 1024 * 1024

/** Fields a person may leave out and that stay absent: `http.token`, `members`, `membersFile`,
 *  `mdns.interface`, `pnetKeyFile`. */
export const CONFIG_DEFAULTS: GkmConfig = {
  /** Per working directory, like `.git`: two nodes started from two directories never share a
   *  store by accident. Resolved to an absolute path when loaded. */
  dataDir: './.gkm',
  /** Informational: shown in status and logs so an operator sees which federation a node is in. */
  federation: 'default',
  http: {
    /** Loopback only: the API can write, so it is not exposed unless someone decides to. */
    host: '127.0.0.1',
    /** Unassigned by IANA; the mesh listens on the next port (7421). */
    port: 7420,
    /** A push of 1,000 events of up to 16 KiB each, or 250 events at the 64 KiB payload limit.
     *  Bounds the memory one request can take; larger sets are split into several pushes. */
    bodyBytesMax: 16 * MiB,
  },
  /** Every type: a node replicates everything unless told otherwise (the spec's filter). */
  dataTypes: [...CONFIG_EVENT_TYPES],
  /** Same as the core's HLC_DRIFT_MAX_MS_DEFAULT: an event stamped further ahead than this is
   *  refused, because under LWW a future timestamp would win forever (jlongster's HLC: 60 s). */
  hlcDriftMaxMs: 60_000,
  ingest: {
    /** Events written by one group commit (one fsync): large enough to amortise the fsync over
     *  a burst of gossip, small enough that one commit stays in the tens of milliseconds. */
    groupEventsMax: 2000,
    /** Events waiting for ingest before pushes and gossip are refused (back-pressure): about
     *  100 MB at 2 KiB per event, so a flood cannot exhaust memory. */
    queueEventsMax: 50_000,
    /** Bytes of those events (signed bytes, or a local write's payload JSON): the event bound
     *  alone lets 50,000 large events hold gigabytes against a 256 MB heap. 48 MiB of events
     *  stay well inside it with their decoded objects. */
    queueBytesMax: 48 * MiB,
    /** Bytes merged and written by one group commit: keeps one batch (and the memory of the
     *  two groups in the write pipeline) bounded when events are large. */
    groupBytesMax: 8 * MiB,
  },
  yjs: {
    /** Worker threads that apply Yjs updates: one per core of the 2-core machines we test on. */
    workers: 2,
    /** A safety net: the guard bounds an update's work by size and structure first; an update
     *  not applied in time is a transient refusal (retry_later), never a verdict. Honest updates
     *  apply in well under 10 ms idle, up to ~130 ms under load. */
    timeoutMs: 1_000,
    /** Heap of each worker: a Yjs document far larger than any persona or text document. */
    memoryMb: 64,
  },
  /** All IPv4 interfaces, so LAN peers can dial in; TCP port next to the HTTP API's. */
  listen: ['/ip4/0.0.0.0/tcp/7421'],
  /** LAN discovery without configuration. Turn off where multicast is unwanted. */
  mdns: { enabled: true },
  /** No WAN peers by default: a LAN federation needs none (mDNS finds them). */
  bootstrap: [],
  // Anti-entropy every 10 s: a session between nodes in sync is one ~1 KB round trip
  // (RECONCILE_INTERVAL_MS_DEFAULT in src/net/constants.ts says why). targetConnections:
  // gossipsub's mesh degree D (src/net/constants.ts TARGET_CONNECTIONS_DEFAULT).
  mesh: {
    enabled: true,
    reconcileIntervalMs: 10_000,
    gossip: true,
    targetConnections: 8,
    directPeersMax: 16,
    // src/net/constants.ts INGEST_GATHER_MS_DEFAULT says why 10 ms.
    ingestGatherMs: 10,
  },
  limits: {
    /** libp2p's own default maxConnections. */
    connectionsMax: 300,
    /** Inbound connections per second from one host. libp2p's default (5) resets connections
     *  when many nodes share one address (local clusters, NAT); 100 still stops a dial flood. */
    inboundConnectionThreshold: 100,
    /** libp2p's defaults for streams per protocol per connection. */
    streamsPerProtocolInbound: 32,
    streamsPerProtocolOutbound: 64,
    /** Stream opens per peer per second: libp2p does not limit the rate; an honest peer opens a
     *  few per second (push, pull, reconcile), so 20 leaves room and stops a churn attack. */
    streamOpensPerPeerPerSecond: 20,
    /** One protocol frame: a pull page or reconcile message of many events; 64 maximal events. */
    frameBytesMax: 4 * MiB,
  },
  log: { level: 'info' },
  /** No application adapters unless configured (docs/ADAPTERS.md). */
  sinks: [],
}
