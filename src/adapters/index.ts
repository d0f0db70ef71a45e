/**
 * Application adapters: keep a node's own databases (Postgres/pgvector, an embedded vector
 * store, MongoDB, Neo4j) in step with the node's converged state.
 *
 * A **sink** receives the merged state of every target that changed, in batches taken from the
 * node's change feed, and writes it to its store *idempotently*, together with its
 * **checkpoint** (the change-feed sequence the batch ends at) in one transaction of that store.
 * After a crash or a restart the sink reads its checkpoint back and resumes right after it:
 * nothing is skipped, and nothing is applied twice (a batch whose checkpoint does not follow the
 * stored one is refused, so two runners can never interleave).
 *
 * What a batch carries is a target's *state*, not the event that changed it: deletes, rollbacks,
 * conflict resolutions and Yjs merges all reach the sink as "this target now reads so", and
 * writing that is idempotent. A sink never merges anything itself.
 *
 * A {@link SinkRunner} pulls each sink's batches from the log at the sink's own pace, starting
 * at its checkpoint: a slow sink only falls behind (its `lag` grows), it never slows the node.
 * A failing batch is retried with backoff; after `retriesMax` failures in a row the sink is
 * `paused` with the error in `/status`, the node keeps syncing, and the runner probes the sink
 * every `pausedRetryMs` and catches up once it works again.
 *
 * ```ts
 * import { createSink, SinkManager } from './adapters/index.ts'
 * const sink = await createSink({ kind: 'postgres', url: 'postgres://app@db/app' })
 * const manager = new SinkManager({ feed, logger }, {})  // feed: the node's ChangeFeed
 * manager.add(sink)
 * manager.start()
 * manager.status()   // [{ name: 'postgres', state: 'running', checkpoint, lag, ... }]
 * ```
 *
 * Writing a new adapter: docs/ADAPTERS.md. Every adapter passes the conformance suite
 * (test/compliance/sink-suite.ts, `runSinkConformance`).
 */
import type { StateView } from '../core/api.ts'
import type { EventType, JsonObject, JsonValue } from '../core/types.ts'

export type { StateView }

/** One edge of a graph target, as every sink stores it. */
export interface EdgeProjection {
  readonly from: string
  readonly label: string
  readonly to: string
  readonly properties: JsonObject
}

/**
 * What a sink keeps of one target, derived from its state by `projectState` (projection.ts).
 * A target that reads as absent (a deleted vector or document without a Yjs document, a persona
 * without fields or Yjs document, a graph without edges) has no projection: the sink removes it.
 */
export type TargetProjection =
  | {
      readonly type: 'vector_update'
      readonly id: string
      readonly values: readonly number[]
      readonly metadata: JsonObject
    }
  | {
      readonly type: 'persona_update'
      readonly id: string
      /** The LWW fields (phase 1). */
      readonly fields: JsonObject
      /** The persona's Yjs map as JSON when it received Yjs updates, else null. */
      readonly crdt: JsonValue | null
    }
  | {
      readonly type: 'document_update'
      readonly id: string
      /** null when the LWW content is deleted (the Yjs text may still exist). */
      readonly content: string | null
      readonly contentType: string | null
      /** The document's Yjs text when it received Yjs updates, else null. */
      readonly crdt: string | null
    }
  | { readonly type: 'graph_update'; readonly id: string; readonly edges: readonly EdgeProjection[] }

/** One changed target of a batch: its projection, or `undefined` when it is absent now. */
export interface SinkChange {
  readonly type: EventType
  readonly id: string
  readonly projection: TargetProjection | undefined
}

/** What a sink applies in one transaction. */
export interface SinkBatch {
  /** The checkpoint the store must hold before this batch (the previous batch's `toSeq`). */
  readonly fromSeq: number
  /** The checkpoint written with the batch: every change up to it is in the store after. */
  readonly toSeq: number
  /** The latest state of each target changed in (fromSeq, toSeq], each target once. */
  readonly changes: readonly SinkChange[]
  /**
   * Log entries (of any type) after `toSeq` that the runner knew of when it read the batch: how
   * far behind the sink still is. A hint, not a guarantee: a sink may use it to load a large
   * backlog first and build an index once (the Postgres sink's bulk load, docs/ADAPTERS.md).
   * Absent: unknown, treat as 0.
   */
  readonly behind?: number
  /**
   * Called inside the transaction after everything is written, just before the commit. A throw
   * aborts the transaction (nothing of the batch stays). The conformance suite uses it to
   * crash a sink mid-transaction; runners leave it out.
   */
  readonly beforeCommit?: () => void | Promise<void>
}

/**
 * The contract every sink implements. `apply` must be atomic (all of a batch and its checkpoint,
 * or none), idempotent (applying the same projection twice leaves the same content), and must
 * refuse a batch whose `fromSeq` is not the stored checkpoint with `SinkCheckpointMismatchError`.
 */
export interface Sink {
  /** Unique per node; the key of this sink's checkpoint in its store and its name in /status. */
  readonly name: string
  /** `postgres`, `lancedb`, `mongodb`, `neo4j`, ... */
  readonly kind: string
  /** Event types whose targets this sink stores. */
  readonly types: readonly EventType[]
  /** Connects and creates what is missing (tables, indexes). Safe to call on every start. */
  open(): Promise<void>
  /** The stored checkpoint (0 when the sink has applied nothing). */
  checkpoint(): Promise<number>
  apply(batch: SinkBatch): Promise<void>
  /** Everything the sink stores, as projections (the conformance suite compares it). */
  snapshot(): Promise<TargetProjection[]>
  close(): Promise<void>
}

/**
 * The node's change feed as a runner reads it: the log in arrival order, the merged state of a
 * target, and a wake-up when the log grows. Implemented by the node (src/node/sink-feed.ts).
 */
export interface ChangeFeed {
  /** Entries of the given types after `afterSeq`, at most `limit`, in sequence order. */
  read(
    afterSeq: number,
    limit: number,
    types: readonly EventType[],
  ): Promise<Array<{ seq: number; type: EventType; targetId: string }>>
  /** The log's last sequence number now. */
  lastSeq(): Promise<number>
  /** The merged state of a target (SyncApi.state), undefined when the node has none. */
  state(type: EventType, targetId: string): Promise<StateView | undefined>
  /** Calls `listener` with the new last sequence whenever the log grows; returns unsubscribe. */
  watch(listener: (lastSeq: number) => void): () => void
}

/** Where runners report what an operator must see (the node's log). */
export interface SinkLogger {
  info(message: string, fields?: Record<string, JsonValue>): void
  warn(message: string, fields?: Record<string, JsonValue>): void
  error(message: string, fields?: Record<string, JsonValue>): void
}

export { SINK_KINDS, type SinkKind, type SinkSpec } from './constants.ts'
export * from './errors.ts'
export { createSink, createSource, parseSinkFlag } from './factory.ts'
export type { PostgresSource, PushPort } from './postgres/postgres-source.ts'
export { projectState } from './projection.ts'
export { type SinkCounters, SinkManager, type SinkManagerComponents } from './sink-manager.ts'
export { SinkRunner, type SinkRunnerInit, type SinkState, type SinkStatus } from './sink-runner.ts'
