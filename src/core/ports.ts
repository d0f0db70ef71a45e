/**
 * Ports the core needs from the outside, implemented by `src/store` (LevelDB and memory) and
 * `src/node`. The core never performs I/O itself; it awaits these.
 */

import type { AuditRecord, ConflictRecord, StoredEvent } from './records.ts'
import type { CellState, TargetState } from './target-state.ts'
import type { AuthorKey, ConflictId, Digest, EventType } from './types.ts'

/** Reads the ingest path needs. Every method sees only committed data. */
export interface StoreReader {
  /** Signed bytes and signature of an event, or undefined. */
  getEvent(digest: Digest): Promise<StoredEvent | undefined>
  /** Presence of many events at once (one round trip), in input order. */
  hasEvents(digests: readonly Digest[]): Promise<boolean[]>
  /** Materialized state of a target, or undefined when it has no events. */
  getTarget(type: EventType, target: string): Promise<TargetState | undefined>
  /** Digest already stored for (author, event_id), for equivocation checks. */
  getEventIdOwner(author: AuthorKey, eventId: string): Promise<Digest | undefined>
  getConflict(id: ConflictId): Promise<ConflictRecord | undefined>
  /** Batched forms (one round trip each): a group's reads are prefetched with these. */
  getEvents(digests: readonly Digest[]): Promise<Array<StoredEvent | undefined>>
  getTargets(
    refs: ReadonlyArray<{ type: EventType; target: string }>,
  ): Promise<Array<TargetState | undefined>>
  /** Targets' small parts (heads, missing, resolved, counters, cellSum, contested, hash) with
   *  `cells: {}`: what a write to a target needs before it reads the cells it touches. */
  getTargetHeaders(
    refs: ReadonlyArray<{ type: EventType; target: string }>,
  ): Promise<Array<TargetState | undefined>>
  /** Some cells of one target (one targeted read), in input order; undefined for a cell the
   *  target does not have. */
  getCells(type: EventType, target: string, cells: readonly string[]): Promise<Array<CellState | undefined>>
  /** A target's Yjs snapshot and the updates appended since (by event digest, base64): what a
   *  compaction folds into a new snapshot. */
  getYjs(type: EventType, target: string): Promise<{ snapshot?: string; log: Record<Digest, string> }>
  getEventIdOwners(
    pairs: ReadonlyArray<{ author: AuthorKey; eventId: string }>,
  ): Promise<Array<Digest | undefined>>
  /** Digest held at each (author, log, seq), in input order (one round trip). */
  getLogPositions(
    positions: ReadonlyArray<{ author: AuthorKey; log: string; seq: number }>,
  ): Promise<Array<Digest | undefined>>
  /** Digests at consecutive positions of a log from `fromSeq`, stopping at the first one not
   *  held, at most `limit`. */
  readLogRun(author: AuthorKey, log: string, fromSeq: number, limit: number): Promise<Digest[]>
  getLogRecords(
    logs: ReadonlyArray<{ author: AuthorKey; log: string }>,
  ): Promise<Array<LogRecord | undefined>>
  /** Signed heads kept for a log with fromLength < length <= toLength, by length, at most
   *  `limit`. */
  getLogHeads(
    author: AuthorKey,
    log: string,
    fromLength: number,
    toLength: number,
    limit: number,
  ): Promise<LogHead[]>
}

/** Everything one group commit writes, atomically and durably. */
export interface CommitBatch {
  /** New events, in arrival order; the store assigns consecutive sequence numbers. An event's
   *  `digest`, when given, is trusted (the engine computed it from these bytes): the store does
   *  not hash the bytes again, and every read re-checks it. */
  readonly events: readonly StoredEvent[]
  /** Every target the group touched: its small parts whole, and the cells the group wrote or
   *  read (`cells` may be partial; a cell not in it is left as stored). */
  readonly targets: readonly TargetState[]
  /** Conflict records created or updated. */
  readonly conflicts: readonly ConflictRecord[]
  /** Equivocations detected (both events are also in `events` or already stored). */
  readonly equivocations: readonly EquivocationRecord[]
  /** New or changed log records (positions of `events` are indexed by the store itself). */
  readonly logs?: readonly LogRecord[]
  /** Signed heads to keep: the node's own checkpoints and heads it verified (by length). */
  readonly heads?: readonly LogHead[]
  /** Positions in `events` whose (author, event_id) is already taken by another event: their
   *  event-id index entry is not written (the first holder keeps it). */
  readonly eventIdTaken?: ReadonlySet<number>
  /** Positions in `events` whose log position is already held by another event (a fork): their
   *  position index entry is not written (the first holder keeps it; the equivocation record
   *  holds both). */
  readonly positionTaken?: ReadonlySet<number>
  /** Audit records to append (the store chains them: seq, prevHash, hash). */
  readonly audit: readonly AuditDraft[]
  /** New node metadata values (hlc, state hash) — written with the batch. */
  readonly meta: Readonly<Record<string, string>>
  /** Rebuild pages only: written without waiting for the fsync. A rebuild's last commit (the
   *  `stateHash` marker) is synced, and a synced write makes every write before it durable too
   *  (LevelDB's log is one file, written in order; flushed tables are synced when written); a
   *  crash before it leaves no state hash, and the next start rebuilds. Never for a batch that
   *  is acknowledged to anyone. */
  readonly unsynced?: true
  /** Rebuild only: no target of the batch is stored, nor any of their conflicts (the fold
   *  writes each target once, whole, after clearMaterialized; a conflict id names its target),
   *  so the commit does not read whether they are: reads of keys the clear just deleted walk
   *  its tombstones, and were most of a rebuild's write time (docs/BENCHMARKS.md). The store
   *  counts the targets as new and the conflicts as never stored. */
  readonly targetsNew?: true
}

/**
 * Proof that an author signed two different events where it may sign one: at one position of
 * one of its logs (`position`, a fork of the log), or under one event_id (`event_id`). Both
 * events are the evidence (each carries the author's signature) and both are kept in the event
 * set: state stays a pure function of the event set, so it cannot depend on which arrived first
 * (docs/EVENTS.md "Forks"). `events` are ordered by digest.
 */
export interface EquivocationRecord {
  readonly author: AuthorKey
  readonly kind: 'position' | 'event_id'
  readonly events: readonly [StoredEvent, StoredEvent]
  readonly atMs: number
}

/** A head an author signed over the first `length` events of one of its logs. */
export interface LogHead {
  readonly author: AuthorKey
  readonly log: string
  readonly length: number
  /** Merkle root of the first `length` positions, hex. */
  readonly root: string
  /** Ed25519 over headSignable(author, log, length, root), hex. */
  readonly signature: string
}

/** What a node holds of one author's log (author, log id): positions 0..contiguous-1 all held,
 *  the Merkle peaks over their digests, the highest position held, the newest signed head it
 *  verified, and the lowest position where it holds a fork. */
export interface LogRecord {
  readonly author: AuthorKey
  readonly log: string
  readonly contiguous: number
  /** Peaks of the Merkle tree of positions [0, contiguous), largest first. */
  readonly peaks: ReadonlyArray<{ readonly height: number; readonly hash: string }>
  /** Highest position held + 1 (>= contiguous; greater when gossip left holes). */
  readonly end: number
  /** Positions held at or beyond `contiguous` (the holes are end - contiguous - heldBeyond). */
  readonly heldBeyond: number
  /** The positions in [contiguous, end) not held, as [from, to) runs in order, while there are
   *  at most LOG_HOLES_MAX runs; absent when there are none or more (then only a scan of the
   *  positions says which, and the log phase leaves them to the range phase). */
  readonly holes?: ReadonlyArray<readonly [number, number]>
  /** More hole runs than LOG_HOLES_MAX: `holes` is absent although there are holes. */
  readonly holesUnknown?: true
  /** The newest head the author signed that this node verified: (length, root, signature). */
  readonly head?: { readonly length: number; readonly root: string; readonly signature: string }
  /** Lowest position where two events are held (a fork), if any. */
  readonly forkAt?: number
}

/** An audit record before the store chains it. `names` points at events of the same commit
 *  (positions in `CommitBatch.events`): the store writes their seq range into the detail as
 *  `seq_first` and `seq_last`, so a record names its group instead of listing every digest. */
export type AuditDraft = Omit<AuditRecord, 'seq' | 'prevHash' | 'hash'> & {
  readonly names?: { readonly from: number; readonly count: number }
}

export interface CommitResult {
  /** Sequence number assigned to each event of the batch, in order. */
  readonly seqs: readonly number[]
}

/** Durable storage of a node: the store layer implements this (LevelDB and memory). */
export interface Store extends StoreReader {
  open(): Promise<void>
  close(): Promise<void>
  /** Writes the batch in one atomic, durable (fsync) write. */
  commit(batch: CommitBatch): Promise<CommitResult>

  /** Highest assigned arrival sequence (0 when empty). */
  lastSeq(): Promise<number>
  /** Events with seq > afterSeq in arrival order, filtered by type, at most `limit`. */
  readLog(
    afterSeq: number,
    limit: number,
    types?: readonly EventType[],
  ): Promise<Array<{ seq: number; event: StoredEvent }>>
  /** Events of one type with HLC wall time >= sinceMs, ordered by (hlc, digest), after an optional (hlcKey, digest) position. */
  readByTime(
    type: EventType,
    sinceMs: number,
    limit: number,
    after?: { hlcKey: string; digest: Digest },
  ): Promise<StoredEvent[]>
  /** Keys of the time index of one type after `after` (exclusive; undefined = from the start), in
   *  order, at most `limit`: 40 bytes each, HLC (8) then digest (32). Builds the range index
   *  reconciliation asks (src/core/range-index.ts). */
  scanEventKeys(type: EventType, after: Uint8Array | undefined, limit: number): Promise<Uint8Array[]>
  /** All events grouped by target (type, target, hlc, digest), a page after an opaque cursor. */
  readByTargetOrder(
    after: string | undefined,
    limit: number,
  ): Promise<{ events: StoredEvent[]; next: string | undefined }>
  /** Every event once, each target's events together in (hlc, digest) order (the order of the
   *  targets is the store's), in pages of at most `pageEvents`: the rebuild's read, by sequential
   *  reads of the log holding at most `bufferBytes` of it in memory, no random read per event
   *  (docs/STORAGE.md, "Replay and rebuild"). `stats`, when given, counts the sequential passes
   *  (over the log or a spill file) and the entries they read. */
  scanByTarget(opts: {
    bufferBytes: number
    pageEvents: number
    stats?: { passes: number; scanned: number; spillFailed?: string }
  }): AsyncIterable<StoredEvent[]>
  /** Every event of a target, ordered by (hlc, digest) (or newest first), after an optional
   *  position in that order. Bounded by `limit`. */
  readTarget(
    type: EventType,
    target: string,
    limit: number,
    page?: {
      readonly newestFirst?: boolean
      readonly after?: { readonly hlcKey: string; readonly digest: Digest }
    },
  ): Promise<StoredEvent[]>
  /** All materialized targets (for replay checks, state hash). */
  iterateTargets(): AsyncIterable<TargetState>
  /** Deletes all materialized state (targets, conflicts, meta hash) before a rebuild; keeps the log. */
  clearMaterialized(): Promise<void>

  listConflicts(status: ConflictRecord['status'] | 'all', limit: number): Promise<ConflictRecord[]>
  listEquivocations(limit: number): Promise<EquivocationRecord[]>
  /** Log records in (author, log) order after an optional (author, log), at most `limit`. */
  listLogs(after: { author: AuthorKey; log: string } | undefined, limit: number): Promise<LogRecord[]>
  /** Events of one log at positions [fromSeq, toSeq) that are held, in position order, at most
   *  `limit`, each with its position. */
  readLogRange(
    author: AuthorKey,
    log: string,
    fromSeq: number,
    toSeq: number,
    limit: number,
  ): Promise<Array<{ seq: number; event: StoredEvent }>>
  /** Positions of one log in [fromSeq, toSeq) that are held, ascending, at most `limit` (keys
   *  only: how the log phase finds a log's holes when its record does not list them). */
  readLogHeld(
    author: AuthorKey,
    log: string,
    fromSeq: number,
    toSeq: number,
    limit: number,
  ): Promise<number[]>

  /** Appends audit records outside an event batch (pull, rejections, ...), durably. */
  appendAudit(records: readonly AuditDraft[]): Promise<void>
  /** Audit records with seq > afterSeq, at most `limit`; newest first: the latest records
   *  with seq < afterSeq (0: the very latest), highest seq first. */
  readAudit(afterSeq: number, limit: number, newestFirst?: boolean): Promise<AuditRecord[]>

  getMeta(key: string): Promise<string | undefined>
  /** Counts for status: events per type, targets, conflicts open. */
  counts(): Promise<{
    events: number
    byType: Record<EventType, number>
    targets: number
    conflictsOpen: number
  }>
}
