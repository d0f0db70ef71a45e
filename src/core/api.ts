/**
 * The service a node offers, whatever the transport: HTTP (src/http), libp2p protocols
 * (src/net) and the CLI all call this interface. Implemented by src/node/sync-node.ts.
 */
import type { ResolutionStrategy } from './payload.ts'
import type { EquivocationRecord, LogHead } from './ports.ts'
import type { AuditRecord, ConflictRecord, StoredEvent } from './records.ts'
import type { EventType, JsonValue, Origin, SignedEvent, SyncEventJson } from './types.ts'

export interface PushRejection {
  /** The event's id when it could be read, else null. */
  readonly event_id: string | null
  /** Stable error code (errors.ts `code`). */
  readonly error: string
  readonly message: string
}

export interface PushResult {
  accepted: number
  duplicates: number
  rejected: PushRejection[]
  /** Digests of the accepted events, in input order (not counting duplicates). */
  digests: string[]
  /** HTTP and local pushes: each accepted event in input order, with the HLC the node stamped
   *  it with (its place in last-write-wins) and the client's `timestamp` as sent. */
  events?: PushedEvent[]
}

/** What an accepted event of a push became. */
export interface PushedEvent {
  /** Position in the pushed array. */
  index: number
  event_id: string
  digest: string
  /** `wallMs:counter`: orders the event for last-write-wins (with the author key). */
  hlc: string
  /** The event's timestamp: the HLC's wall time, ISO 8601 (what every node shows). */
  timestamp: string
  /** The `timestamp` the client sent, unchanged; null when it sent none. */
  client_timestamp: string | null
}

/** The spec's short names are accepted as well: vector, persona, graph, document. */
export type DataTypeFilter = EventType | 'vector' | 'persona' | 'graph' | 'document'

export interface PullRequest {
  /** ISO 8601: events whose HLC time is at or after it (time mode). */
  last_sync_time?: string
  data_types?: DataTypeFilter[]
  /** Opaque cursor from a previous page; `s.<seq>` pages the arrival log and never misses late arrivals. */
  cursor?: string
  /** Page size, 1..PULL_LIMIT_MAX (default PULL_LIMIT_DEFAULT). */
  limit?: number
}

export interface PullPage {
  events: StoredEvent[]
  /** Pass back to continue; in time mode it is a time cursor, else an arrival cursor. */
  next_cursor: string
  has_more: boolean
}

export interface ResolveRequest {
  conflictId: string
  resolutionStrategy: ResolutionStrategy
  /** Required for manual_merge: the merged value. */
  value?: JsonValue
  /** manual_merge only: resolve to "absent" instead of a value. */
  deleted?: boolean
}

export interface ResolveResult {
  conflict_id: string
  strategy: ResolutionStrategy
  /** The new signed resolution event (already stored and on its way to peers). */
  event: SyncEventJson
}

export interface RollbackRequest {
  event_type: EventType
  target_id: string
  /** Restore the state as of this ISO time (events with HLC time <= it). */
  to_time?: string
  /** Or as of this event (digest): the state its author saw plus the event itself. */
  to_event?: string
}

export interface RollbackResult {
  event: SyncEventJson
  /** Cells the rollback event writes. */
  cells: number
}

export interface StateView {
  event_type: EventType
  target_id: string
  /** The merged value (see docs/EVENTS.md for each type's shape); null when absent/deleted. */
  value: JsonValue
  /** The Yjs document's JSON when the target received Yjs updates. */
  crdt?: JsonValue
  heads: string[]
  events: number
  open_conflicts: string[]
  hash: string
}

export interface HistoryRequest {
  /** Page size, 1..500 (default 50). */
  limit?: number
  /** `next_cursor` of the previous page. */
  cursor?: string
}

/** One event of a target's history: who wrote what when, and the digest that names it. */
export interface HistoryEntry {
  digest: string
  event_id: string
  author: string
  hlc: string
  timestamp: string
  parents: string[]
  /** The payload's `op` (set, delete, resolve, rollback, ...), null when it has none. */
  op: string | null
  /** Length of the payload's canonical JSON. */
  payload_chars: number
  /** Its first 200 characters, with `…` when cut. */
  payload_preview: string
}

export interface HistoryPage {
  event_type: EventType
  target_id: string
  /** Newest first: (hlc, digest) descending. */
  events: HistoryEntry[]
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor: string | null
  has_more: boolean
}

export interface StatusInfo {
  node_id: string
  public_key: string
  version: string
  started_at: string
  events: number
  events_by_type: Record<EventType, number>
  targets: number
  conflicts_open: number
  state_hash: string
  last_seq: number
  hlc: string
  members: 'open' | number
  data_types: EventType[]
  [extra: string]: JsonValue
}

export interface BackupResult {
  dir: string
  /** Key-value entries copied (events, indexes, states, audit, meta). */
  entries: number
  events: number
  last_seq: number
  state_hash: string | null
}

/** One entry of the change feed: every event the node stores, in arrival order. */
export interface ChangeEvent {
  readonly seq: number
  readonly event: StoredEvent
  readonly origin: Origin
}

export interface SyncApi {
  /** Local writes (spec fields only) and complete signed events, mixed; one durable group commit. */
  push(events: readonly unknown[], origin: Origin): Promise<PushResult>
  /** Signed events in wire form (libp2p push, gossip, pull answers). */
  pushSigned(events: readonly StoredEvent[], origin: Origin): Promise<PushResult>
  /** Events whose signatures this process already verified with the core's `eventFromWire`
   *  (the gossip validator must verify before it accepts a message): membership, drift and
   *  schema are checked again, the signature is not, so a gossiped event costs one
   *  verification per node instead of two. `head`: the signed head of their log they were
   *  verified against (a fetched range, src/core/log-verify.ts), kept to serve the range on. */
  pushVerified(events: readonly SignedEvent[], origin: Origin, head?: LogHead): Promise<PushResult>
  pull(req: PullRequest, origin: Origin): Promise<PullPage>
  resolveConflict(req: ResolveRequest, origin: Origin): Promise<ResolveResult>
  rollback(req: RollbackRequest, origin: Origin): Promise<RollbackResult>
  conflicts(status: ConflictRecord['status'] | 'all', limit: number): Promise<ConflictRecord[]>
  equivocations(limit: number): Promise<EquivocationRecord[]>
  state(type: EventType, target: string): Promise<StateView | undefined>
  /** Events of one target, newest first, a page at a time (empty when it has none). */
  history(type: EventType, target: string, req: HistoryRequest): Promise<HistoryPage>
  status(): Promise<StatusInfo>
  /** Records with seq > afterSeq; newest first: the latest with seq < afterSeq (0: the latest). */
  audit(afterSeq: number, limit: number, newestFirst?: boolean): Promise<AuditRecord[]>
  /** A consistent copy of the node's store into a new store in `dir` (an absolute path on the
   *  node's machine that holds no store); absent when the store cannot be copied. */
  backup?(dir: string, origin: Origin): Promise<BackupResult>
  /** `ok`, or why the node is degraded (a full disk, a damaged store); absent = always ok. */
  health?(): Promise<{ ok: boolean; degraded?: string }>
  /** Follows the change feed from `afterSeq` (replaying stored events first). Returns
   *  unsubscribe. `onError` is told when the replay from the store fails (the subscription ends). */
  subscribe(
    afterSeq: number,
    onChange: (change: ChangeEvent) => void,
    onError?: (err: Error) => void,
  ): () => void
}
