/**
 * Every limit, timeout and protocol name of the mesh, each with the reason it is what it is.
 * docs/LIMITS.md lists them for operators; test/unit/net/constants.test.ts checks that the
 * gossipsub options we pass are these values.
 */
import {
  PARENTS_MAX,
  PAYLOAD_BYTES_MAX,
  PULL_LIMIT_MAX,
  PUSH_EVENTS_MAX,
  TARGET_ID_BYTES_MAX,
  VECTOR_DIMENSIONS_MAX,
} from '../core/constants.ts'
import type { EventType } from '../core/types.ts'
import { SIGNATURE_BYTES, type WireLimits } from '../wire/index.ts'

const KiB = 1024
const MiB = 1024 * KiB

// ---------------------------------------------------------------------------------------------
// Names and versions (docs/PROTOCOL.md (mesh protocols) "Versions")

export const PROTOCOL_PUSH = '/gkm/sync/push/1.0.0'
export const PROTOCOL_PULL = '/gkm/sync/pull/1.0.0'
export const PROTOCOL_RESOLVE = '/gkm/sync/resolve-conflict/1.0.0'
export const PROTOCOL_RECONCILE = '/gkm/sync/reconcile/1.0.0'
/** Peer exchange (src/net/protocols/peers.ts). */
export const PROTOCOL_PEERS = '/gkm/peers/1.0.0'
/** Direct fan-out in small federations (src/net/direct.ts): one long-lived stream per peer. */
export const PROTOCOL_DIRECT = '/gkm/sync/direct/1.0.0'
export const PROTOCOLS = [
  PROTOCOL_PUSH,
  PROTOCOL_PULL,
  PROTOCOL_RESOLVE,
  PROTOCOL_RECONCILE,
  PROTOCOL_PEERS,
  PROTOCOL_DIRECT,
] as const

/** Short names in topic strings: the spec's `data_types` names. */
export const TOPIC_NAMES: Readonly<Record<EventType, string>> = {
  vector_update: 'vector',
  persona_update: 'persona',
  document_update: 'document',
  graph_update: 'graph',
}

/** `/gkm/events/<short type>/<version>`; the version changes when the gossip payload does. */
export const TOPIC_VERSION = 1

/** Prefix of our libp2p agent version, shown to peers by identify. */
export const AGENT_PREFIX = 'gkm-sync'

// ---------------------------------------------------------------------------------------------
// Event and frame sizes

/** Largest canonical signed bytes of one event: fixed header (4 magic + 1 type + 16 id + 8 hlc
 *  + 32 author + 2 target length + 1 parent count + 4 payload length + 2 vector dimensions
 *  + 14 log position) + the variable parts at their core limits (a vector upsert's packed float32 values come on top
 *  of its JSON part). Anything larger cannot be a valid event and is refused before decoding. */
export const EVENT_SIGNED_BYTES_MAX =
  84 + TARGET_ID_BYTES_MAX + 32 * PARENTS_MAX + PAYLOAD_BYTES_MAX + 4 * VECTOR_DIMENSIONS_MAX

/** Signed bytes + signature of the largest event. */
export const EVENT_WIRE_BYTES_MAX = EVENT_SIGNED_BYTES_MAX + SIGNATURE_BYTES

/** Bytes a pull frame reserves for everything but its events (cursor, flags, refusal); the
 *  cursor and texts are bounded by WIRE_TEXT_BYTES_MAX, so 4 KiB is ample. */
export const FRAME_OVERHEAD_BYTES = 4 * KiB

/** The frame floor: frameBytesMax must hold at least one maximal event plus the frame
 *  overhead, so every node accepts frames of this size. A sender that does not know the
 *  receiver's limit stays within it (push requests); a pull answer uses the size the client
 *  asked for (PullRequest.frame_bytes_max), never less than this. */
export const FRAME_BYTES_MIN = EVENT_WIRE_BYTES_MAX + 16 + FRAME_OVERHEAD_BYTES

/** Per page of a pull answer, bytes kept free of events for its frames' length prefixes,
 *  protobuf tags and cursor (a page of a few frames needs < 200 bytes). With
 *  FRAME_OVERHEAD_BYTES this keeps a whole streamed answer within one frame size, which is what
 *  the reader can buffer (src/net/protocols/pull.ts, "Byte budget"). */
export const ANSWER_FRAME_OVERHEAD_BYTES = 512

/** Short text fields on the wire (cursors, codes, messages, conflict ids, strategies): cursors
 *  are < 100 bytes and error messages are truncated to this when sent. */
export const WIRE_TEXT_BYTES_MAX = 1 * KiB

/** Digests in one fetch-mode pull: a peer asks for the events of the announces it saw; 256
 *  announced events of up to 66 KiB fill 16 MiB, so one request is never that large in practice. */
export const FETCH_DIGESTS_MAX = 256

/** Events in one gossip message. Under load a publisher sends everything it has queued in one
 *  message: a message costs far more than an event (framing, Noise, gossipsub bookkeeping, one
 *  copy per mesh peer), so batching is what makes high rates affordable. */
export const GOSSIP_BATCH_EVENTS_MAX = 128

/** A gossip message with at least this many new events has its signatures verified on the node's
 *  crypto pool (worker threads) instead of the event loop: one verification costs ~0.18 ms here,
 *  so a full batch of 128 would hold the event loop for ~23 ms. Below it a worker round trip
 *  costs more than it saves (the pool's own inline threshold is the same). */
export const GOSSIP_POOL_VERIFY_MIN = 16

/** The wire limits a reader applies. Push requests and pull frames carry at most the core's push
 *  limit of events; pull pages at most PULL_LIMIT_MAX (split into frames by bytes). */
export const WIRE_LIMITS: WireLimits = {
  eventsMax: Math.max(PUSH_EVENTS_MAX, PULL_LIMIT_MAX),
  signedBytesMax: EVENT_SIGNED_BYTES_MAX,
  digestsMax: FETCH_DIGESTS_MAX,
  typesMax: 4,
  gossipEventsMax: GOSSIP_BATCH_EVENTS_MAX,
  textBytesMax: WIRE_TEXT_BYTES_MAX,
  valueJsonBytesMax: PAYLOAD_BYTES_MAX,
}

// ---------------------------------------------------------------------------------------------
// Protocol streams

/** Requests served on one push stream before the server closes it: a client reuses a stream
 *  for the chunks of one large push, and 64 x 4 MiB is far more than any honest push. */
export const PUSH_REQUESTS_PER_STREAM_MAX = 64

/** Pages one streaming pull answer sends before `done` (the client asks again from the
 *  cursor): 20 pages of 500 events keep one answer under ~10 s on a slow link and let the
 *  server interleave other peers. */
export const PULL_STREAM_PAGES_MAX = 20

// The log phase's bounds live with its session (src/core/log-frames.ts, log-intake.ts).
export {
  LOG_FETCH_EVENTS_MAX,
  RECONCILE_LOGS_MAX,
  RECONCILE_LOGS_PER_FRAME,
} from '../core/log-frames.ts'
export { LOG_CHUNK_BUFFER_BYTES } from '../core/log-intake.ts'
/** Parts of 1,000 events a log-phase receiver has with the write queue at once: enough for the
 *  queue to merge one while the one before is written (and to put two in one group commit),
 *  bounded well below its `ingest.queueEventsMax` (a flush of 16 MiB is ~50,000 small events). */
export const LOG_STORE_PARTS_AHEAD = 3

/** Digests in one reconciliation fetch request: the answer is a few frames, and the node stores
 *  it as one group commit (the write queue's default group is 1,000 events). */
export const RECONCILE_FETCH_DIGESTS_MAX = 1_000

/** Fetch requests a reconciliation initiator keeps outstanding at once (the responder answers
 *  them in order): a heal of 50,000 events is 50 fetches, one round trip each without a
 *  pipeline; with 4 the stream stays busy, and the initiator holds at most 4 batches unstored. */
export const RECONCILE_FETCH_PIPELINE = 4

/** Room a reconciliation message leaves in its frame for framing and the one range answer that
 *  may follow the budget check (src/net/protocols/reconcile.ts; the simulator uses it too). */
export const RECONCILE_MESSAGE_SLACK_BYTES = 8 * 1024

/** Frames one reconciliation stream may carry before the responder resets it: rounds (at most
 *  the core's ROUNDS_MAX per type), fetch answers and pushes of a session that moves a million
 *  events fit easily; a peer that never ends is cut off. */
export const RECONCILE_FRAMES_MAX = 20_000

/** Relay of what a session taught the node: up to this many new events go on gossip at once
 *  (one gossip message); beyond that the node reconciles with its other peers instead
 *  (RECONCILE_RELAY_DELAY_MS after the session), which moves a large batch far cheaper than
 *  flooding it. */
export const RECONCILE_RELAY_GOSSIP_MAX = 128
export const RECONCILE_RELAY_DELAY_MS = 200

/** Anti-entropy: a reconciliation with one random connected peer this often (config
 *  `mesh.reconcileIntervalMs`). A session between nodes in sync is one round trip of ~1 KB, so
 *  10 s costs nothing and bounds how long an event gossip lost stays missing. */
export const RECONCILE_INTERVAL_MS_DEFAULT = 10_000
/** Each anti-entropy interval is drawn from ±20 % of it (8–12 s at the default): nodes that
 *  connected in the same second (a federation started or restarted together) otherwise tick in
 *  the same instant every interval for as long as they run. ±20 % spreads ten such nodes over
 *  4 s at the first tick and further at each one after, while no interval exceeds 1.2× the
 *  configured one. */
export const RECONCILE_INTERVAL_JITTER = 0.2

/** Sessions running at once (each holds a stream and feeds the write queue). */
export const RECONCILE_PARALLEL_MAX = 4

/** After a session whose fetched events were refused for a transient reason (retry_later), the
 *  next one runs this soon rather than at the next interval. */
export const RECONCILE_RETRY_MS = 1_000

/** Sessions in which a peer served events it was not asked for, or whose signatures fail, or
 *  withheld events it had offered, before the node hangs up on it and refuses it for
 *  RECONCILE_BAN_MS. Three, so one broken stream does not cut a peer off. */
export const RECONCILE_STRIKES_MAX = 3
export const RECONCILE_BAN_MS = 10 * 60_000

/** Events per page asked for when catching up: the core's default page. */
export const CATCH_UP_PAGE_EVENTS = 500

/** A request/response exchange (or a silence between two frames) longer than this aborts the
 *  stream: a 4 MiB frame needs ~4 s at 8 Mbit/s, so 30 s leaves room for slow links. */
export const STREAM_TIMEOUT_MS = 30_000

/** Whole pull answers one catch-up runs before it yields (a peer with a huge log is caught up
 *  over several rounds; the periodic pull continues): 50 x 20 pages x 500 = 500k events. */
export const CATCH_UP_ROUNDS_MAX = 50

/** Peers whose "in sync as of" time is remembered (metrics): the connection limit's order of
 *  magnitude; the least recently synced is forgotten first. */
export const IN_SYNC_PEERS_MAX = 1024

/** Catch-up pulls running at once: each holds a stream and feeds the ingest queue. */
export const CATCH_UP_PARALLEL_MAX = 4

/** First retry of a catch-up held back by a transient refusal (src/net/catch-up.ts), doubling
 *  on each retry in a row up to the catch-up interval: a busy node gets a second later the
 *  events it refused, instead of at the next 30 s pull. */
export const CATCH_UP_RETRY_BASE_MS = 1_000

/** Events one catch-up run passes on by gossip (relay, src/net/catch-up.ts): what a peer wrote
 *  while away from part of the mesh reaches the rest within seconds; a node catching up a
 *  large log does not re-publish all of it to peers that have it (they pull it themselves). */
export const CATCH_UP_RELAY_EVENTS_MAX = 5_000

/** Refusal codes that depend on the receiving node's load or lifecycle, not on the event: the
 *  node's `retry_later` (ingest queue or Yjs guard busy), `busy` (ingest queue full), `stopped`,
 *  `storage_error`. A catch-up never saves its cursor past an event refused with one of them. */
export const TRANSIENT_REFUSAL_CODES: ReadonlySet<string> = new Set([
  'retry_later',
  'busy',
  'stopped',
  'storage_error',
])

/** Connected peers are pulled again this often, so an event gossip lost arrives anyway (until
 *  range reconciliation exists). A cursor pull that finds nothing is one small round trip. */
export const CATCH_UP_INTERVAL_MS = 30_000

// ---------------------------------------------------------------------------------------------
// Gossip

/** Events at or above this many bytes (signed + signature) are announced by digest and fetched
 *  by pull, so gossip's duplicate copies (every mesh peer forwards) stay small. 16 KiB lets
 *  persona, graph and small document events through whole; big vectors and documents go by
 *  announce. Overridable per network (NetInit.announceBytesMin). */
export const ANNOUNCE_BYTES_MIN_DEFAULT = 16 * KiB

/** Bytes of events in one gossip message: a quarter of the RPC limit, so a batch plus
 *  piggybacked control always fits one RPC. */
export const GOSSIP_BATCH_BYTES_MAX = 256 * KiB

/** A publish that follows the previous one within this window waits for the window to end and
 *  takes everything queued meanwhile. Under light load (< 100 events/s per node) nothing waits;
 *  under load events leave in batches, at most this much later. Overridable
 *  (NetInit.publishLingerMs). */
export const GOSSIP_PUBLISH_LINGER_MS_DEFAULT = 10

/** One gossipsub RPC frame: the largest honest one is a single full event below the announce
 *  threshold (or up to 66 KiB with announce off) plus piggybacked control; 1 MiB leaves room and
 *  refuses the it-length-prefixed default of 4 MiB. */
export const GOSSIP_RPC_BYTES_MAX = 1 * MiB

/** Bytes queued for one peer's gossip stream before messages to it are dropped: at 1,000
 *  events/s of 2 KiB a slow peer gets 2 s of backlog; dropped events come by pull. */
export const GOSSIP_OUTBOUND_BUFFER_BYTES_MAX = 4 * MiB

/**
 * Bounds on one decoded gossipsub RPC (gossipsub's `decodeRpcLimits`). gossipsub 17's defaults
 * are 5,000 for most lists; we have four topics, so subscriptions and control entries are small.
 * IHAVE/IWANT ids stay at gossipsub's own GossipsubMaxIHaveLength (5,000) because its peers send
 * up to that many; IDONTWANT at its per-heartbeat cap (512); PX peers at GossipsubPrunePeers (16).
 */
export const GOSSIP_DECODE_LIMITS = {
  /** 4 topics, subscribe and unsubscribe: 8; x8 for churn within one RPC. */
  maxSubscriptions: 64,
  /** Full messages in one RPC: an IWANT answer carries many; 1,000 x ~2 KiB fits the frame. */
  maxMessages: 1000,
  maxIhaveMessageIDs: 5000,
  maxIwantMessageIDs: 5000,
  maxIdontwantMessageIDs: 512,
  /** IHAVE/IWANT/GRAFT/PRUNE/IDONTWANT entries per RPC: one per topic is normal; 64 is slack. */
  maxControlMessages: 64,
  maxPeerInfos: 16,
} as const

/**
 * The gossip mesh of a federation (gossipsub's degree and lazy-gossip parameters; docs/MESH.md
 * "Fan-out"). gossipsub's defaults (D 6, IHAVE to 6 peers about every message of the last 3
 * heartbeats) are made for open networks of thousands of peers with no other repair; here a
 * publisher floods its own writes to every connected peer (floodPublish), reconciliation repairs
 * what gossip misses within seconds, and a federation is usually tens of nodes. So:
 * - a mesh degree of 3 (2..4): a random graph of degree 3 still reaches 100 nodes in ~5 hops;
 * - IDONTWANT for every message (gossipsub sends it only above 512 bytes by default; our events
 *   are ~300): a peer that got the event from its author tells its mesh peers before it
 *   validates, so they do not forward a copy it already has;
 * - lazy gossip (IHAVE) about the last heartbeat only, to 2 peers outside the mesh.
 * Measured with 8 real nodes (bench/propagation.ts, docs/BENCHMARKS-MESH.md): 6.6 KB on the wire
 * per write for all nodes together with gossipsub's defaults, 3.9 KB with these.
 */
export const GOSSIP_MESH = {
  D: 3,
  Dlo: 2,
  Dhi: 4,
  /** Dout must be below Dlo and at most D / 2. */
  Dout: 1,
  Dscore: 2,
  Dlazy: 2,
  mcacheGossip: 1,
  idontwantMinDataSize: 1,
} as const

// ---------------------------------------------------------------------------------------------
// Direct fan-out (src/net/direct.ts, docs/MESH.md "Direct fan-out")

/** A node sends its writes (and relays) over one direct stream per peer instead of gossipsub
 *  while it has at most this many connected peers (config `mesh.directPeersMax`; 0 = gossip
 *  only). A write then costs one copy per connected peer and relays go only to peers the copy
 *  has not reached; above it gossipsub's bounded degree (3) costs fewer copies than one per
 *  peer. 16: twice the default target of direct connections, so every federation of up to ~17
 *  nodes, where each node usually holds a connection to every other, is direct. */
export const DIRECT_PEERS_MAX_DEFAULT = 16

/** Events (frames) queued for one peer's direct stream; the newest are dropped beyond it
 *  (counted `direct.dropped`; reconciliation brings them): 2 s of backlog at 1,000 events/s. */
export const DIRECT_QUEUE_FRAMES_MAX = 2_000

/** Bytes queued for one peer's direct stream; same drop rule: the gossip buffer's 4 MiB. */
export const DIRECT_QUEUE_BYTES_MAX = 4 * MiB

/** Frames written to a direct stream in one send (one Yamux frame, one Noise seal, one socket
 *  write): what queued while the previous send was in flight, up to 64 KiB. */
export const DIRECT_SEND_BYTES_MAX = 64 * KiB

/** Peer tags a frame's "covered" list may name (the peers the copy was sent to, so a receiver
 *  does not send it there again): a tag each for up to 4 hops of 16 peers. A longer list is cut
 *  (a hint only: a peer missing from it gets a duplicate, which it ignores). */
export const DIRECT_COVERED_MAX = 64

/** One direct frame: kind + covered count + covered tags + signed length + the largest event. */
export const DIRECT_FRAME_BYTES_MAX = 1 + 1 + 4 * DIRECT_COVERED_MAX + 4 + EVENT_WIRE_BYTES_MAX

/** Direct streams per connection and direction: one is used; a second lets a replacement open
 *  while the remote has not yet seen the old one close. */
export const DIRECT_STREAMS_PER_CONNECTION_MAX = 2

/** Events failing their checks on one direct stream before the node cuts it: a peer relaying an
 *  event that its (different) configuration accepts is not cut at once; a forger is. */
export const DIRECT_REJECTS_MAX = 8

/** A peer cut off for garbage frames or forged events has its direct streams refused this long
 *  (gossip and reconciliation still run with it, under their own rules). */
export const DIRECT_BAN_MS = 10 * 60_000

/** An outbound direct stream that cannot be opened is not retried for this long (the events for
 *  that peer are dropped meanwhile and come by reconciliation). */
export const DIRECT_RETRY_MS = 5_000

/** Digests fanned out by this node, with the peers that sent each (a relay skips them, and a
 *  digest here is not sent again when reconciliation brings it back to relay): 50,000 covers
 *  a reconciliation interval (10 s) at 5,000 events/s; ~150 bytes each, ~7.5 MB. */
export const DIRECT_SENDERS_DIGESTS_MAX = 50_000

/** Events a node fanned out (published or relayed) in the last DIRECT_REPLAY_MS are sent again to
 *  a peer when it becomes reachable by a direct stream (identify names the protocol): a peer that
 *  connected, or finished identify, just after a write (the mesh forming at start-up, a
 *  reconnect) would otherwise get it only at the next reconciliation session, up to a few
 *  seconds later. 10 s: one reconciliation interval; what is older is reconciliation's. */
export const DIRECT_REPLAY_MS = 10_000

/** At most this many recent events are kept for the replay (the newest; one peer's queue,
 *  DIRECT_QUEUE_FRAMES_MAX, takes them all): 10 s at 200 events/s. */
export const DIRECT_REPLAY_EVENTS_MAX = 2_000

/** And at most this many bytes of them (the queue's DIRECT_QUEUE_BYTES_MAX). */
export const DIRECT_REPLAY_BYTES_MAX = 4 * MiB

/** A peer that speaks the direct protocol but whose gossipsub subscriptions have not arrived yet
 *  (they follow identify by a round trip) is sent every event for this long after its identify;
 *  it ignores the types it does not take. Without it, writes in that window reached it by
 *  neither path (not direct: no known subscription; not gossip: it speaks direct). */
export const DIRECT_UNKNOWN_SUBSCRIPTIONS_MS = 10_000

/** Concurrent gossipsub streams per connection: one each way is all gossipsub opens. */
export const GOSSIP_STREAMS_PER_CONNECTION_MAX = 2

/** Gossipsub peer scoring (docs/MESH.md "Scoring"). Only invalid messages (P4) and misbehaviour
 *  (P7) count: mesh-delivery penalties (P3) punish quiet topics, which ours often are, and IP
 *  colocation (P6) would punish federation members behind one NAT or on one test host. */
export const GOSSIP_SCORE = {
  /** P4 per topic: -10 x (invalid messages)^2, decaying by 1% per second (half-life ~70 s). */
  invalidMessageDeliveriesWeight: -10,
  invalidMessageDeliveriesDecay: 0.99,
  /** P2 per topic, a small reward for first deliveries, capped. */
  firstMessageDeliveriesWeight: 1,
  firstMessageDeliveriesDecay: 0.5,
  firstMessageDeliveriesCap: 10,
  topicWeight: 1,
  /** 1 invalid: -10 (still gossips); 3: -90 (no gossip to/from it); 4: -160 (not published to);
   *  6: -360 and 7: -490 (graylisted: its RPCs are ignored until the score decays). */
  gossipThreshold: -50,
  publishThreshold: -100,
  graylistThreshold: -400,
} as const

/** Digests remembered as stored or validated (gossip duplicates -> ignore): ~100 bytes each,
 *  10 MB; older ones fall back on the node's own duplicate check. */
export const SEEN_DIGESTS_MAX = 100_000

/** Recently published or fetched large events kept to answer announce fetches: a receiver
 *  fetches within a second of the announce, so 32 MiB (~500 maximal events) is plenty. */
export const RECENT_EVENTS_BYTES_MAX = 32 * MiB
export const RECENT_EVENTS_MAX = 10_000

/** An announce fetch that takes longer is given up (ignore; the event comes by pull later). */
export const ANNOUNCE_FETCH_TIMEOUT_MS = 5_000

/** Announce fetches in flight at once; more are ignored (the event comes by pull later). */
export const ANNOUNCE_FETCHES_MAX = 64

/** Validated gossip events waiting to be stored. Beyond this the validator ignores new events
 *  (no forwarding, no penalty) so a flood cannot exhaust memory; they come back by pull. */
export const INGEST_QUEUE_EVENTS_MAX = 10_000

/** Bytes (signed bytes + signature) of the validated gossip events waiting; gossiped events are
 *  below the announce threshold (16 KiB), so the event bound alone allows ~160 MB. */
export const INGEST_QUEUE_BYTES_MAX = 32 * 1024 * 1024

/** Events handed to the node in one pushSigned call (one group commit). */
export const INGEST_BATCH_EVENTS_MAX = 500

/** Rounds of mesh events handed to the node at once (a round: what waited, one push per peer,
 *  one group commit): two, so the node's write pipeline merges one while the other is written. */
export const INGEST_PUSHES_IN_FLIGHT = 2

/** How long events arriving at an idle node wait for more before they are stored together
 *  (config `mesh.ingestGatherMs`; src/net/ingest-queue.ts). A group commit has a fixed cost
 *  (~0.45 ms of CPU here, against ~0.26 ms per event in it) and in a federation each event
 *  comes from another peer, so without a wait every event is a group of its own on every node.
 *  10 ms: at 100 writes/s across a federation a node receives one every ~11 ms, so its groups
 *  should about halve (not shown on the shared 2-core machine, where the runs were saturated:
 *  docs/BENCHMARKS-MESH.md); it adds at most 10 ms per hop, a tenth of the 100 ms target. */
export const INGEST_GATHER_MS_DEFAULT = 10

/** A dial by hand (POST /peers) waits this long for the peer to identify itself on the new
 *  connection: a peer whose gater refuses us closes it within this time, and the dial is then
 *  reported as failed instead of succeeded. */
export const DIAL_CONFIRM_MS = 2_000

/** Local events waiting to be published; beyond this they are left to pull. */
export const PUBLISH_QUEUE_EVENTS_MAX = 10_000

// ---------------------------------------------------------------------------------------------
// Peers and dialling

/** Peers remembered in the data directory (addresses and pull cursors). */
export const KNOWN_PEERS_MAX = 1_000

/** Addresses kept per known peer. */
export const KNOWN_PEER_ADDRS_MAX = 16

/** A known peer not seen for this long is forgotten (a week of downtime is a decommission). */
export const KNOWN_PEER_TTL_MS = 7 * 24 * 3600_000

/** The peer file is written at most this often (and on stop). */
export const PEER_BOOK_SAVE_DEBOUNCE_MS = 1_000

/** Redial backoff: first retry after 1 s, doubling, capped at 60 s, with +-25% jitter so a
 *  federation restarted at once does not dial in lockstep. */
export const REDIAL_BASE_MS = 1_000
export const REDIAL_CAP_MS = 60_000
export const REDIAL_JITTER = 0.25

/** How often the redialer looks for peers to dial. */
export const REDIAL_TICK_MS = 500

/** A connection that closes sooner than this counts as a failed dial for backoff: a peer whose
 *  gater refuses us (membership lists disagree) accepts Noise and drops the connection at once,
 *  and must not make us redial every tick. */
export const STABLE_CONNECTION_MS = 5_000

/** The dial tie-break (src/net/redialer.ts): of two nodes that find each other at once, the one
 *  with the larger peer id waits this long before dialling, so that the other's dial makes one
 *  connection instead of two (libp2p keeps both when both dial). Long enough for a dial and
 *  its Noise handshake on a loaded LAN host, short against the reconciliation interval (10 s). */
export const KNOWN_PEER_DIAL_YIELD_MS = 2_000

/** After a heal (a peer we failed to reach connects), a pending dial at least this old is
 *  abandoned and started again (its SYN went into the partition and waits for TCP's backoff); a
 *  younger one is left to run: its SYN went out at most one initial retransmission timeout (1 s)
 *  ago, and it may already be in its handshake over the healed path. */
export const REDIAL_RENEW_AFTER_MS = 1_000

/** Dials the redialer runs at once. */
export const REDIAL_PARALLEL_MAX = 4

/** Known (non-bootstrap) peers that fail this many dials in a row are no longer redialled
 *  until seen again (mDNS, a dial in, a restart): ~15 minutes of attempts at the cap. */
export const KNOWN_PEER_DIAL_ATTEMPTS_MAX = 20

/** One dial (all of a peer's addresses) gives up after this. */
export const DIAL_TIMEOUT_MS = 10_000

/** A redial of a peer in a failure streak gives up after this (every REDIAL_FULL_EVERY-th
 *  attempt of the streak still waits DIAL_TIMEOUT_MS, for a slow but working path). A dial into
 *  a partition waits on TCP's SYN retransmissions (1, 3, 7 s after the first): a pending dial
 *  notices a healed path up to 4 s late, or not at all before its timeout; a short attempt
 *  sends a fresh SYN at least every ~3 s. On a LAN a connection is up in milliseconds, across a
 *  WAN in a few round trips. */
export const REDIAL_PROBE_TIMEOUT_MS = 3_000
export const REDIAL_FULL_EVERY = 4

/** Direct connections a node keeps by default (config `mesh.targetConnections`): while it has
 *  fewer, it asks its peers for theirs (peer exchange) and dials the members it learns. 8 is
 *  gossipsub's mesh degree D: with that many direct peers a publish reaches the whole mesh in
 *  one hop in federations of up to 9 nodes and in few hops beyond. */
export const TARGET_CONNECTIONS_DEFAULT = 8

/** Peers in one peer-exchange answer: more than a target's worth, so a newcomer learns enough
 *  members from one peer; 32 records of 8 addresses are < 16 KiB. */
export const PEER_EXCHANGE_PEERS_MAX = 32

/** Addresses per peer in a peer-exchange answer (a node listens on a few interfaces). */
export const PEER_EXCHANGE_ADDRS_MAX = 8

/** While below the target, connected peers are asked again for their peers this often (a member
 *  that joined later becomes known within this time). One small exchange per peer. */
export const PEER_EXCHANGE_INTERVAL_MS = 30_000

/** A peer-exchange request that takes longer is given up (tried again at the next interval). */
export const PEER_EXCHANGE_TIMEOUT_MS = 5_000

// ---------------------------------------------------------------------------------------------
// mDNS

/** The libp2p mDNS service name, so gkm nodes interoperate with libp2p's own mDNS. */
export const MDNS_SERVICE_TAG = '_p2p._udp.local'

/** Query interval: a new node on the LAN is found within 5 s. */
export const MDNS_QUERY_INTERVAL_MS = 5_000

/** Peers one mDNS response may announce and addresses per peer: a response is one UDP
 *  datagram; anything beyond this is spam. */
export const MDNS_ADDRS_PER_PEER_MAX = 16

/** TXT record data is at most 255 bytes (RFC 6763 6.1). */
export const MDNS_TXT_BYTES_MAX = 255
