/** Limits and defaults of the adapters, each with its reason (docs/ADAPTERS.md, docs/LIMITS.md). */
import type { EventType } from '../core/types.ts'

/** Sink kinds `--sink kind=target` and the config file's `sinks` accept. */
export const SINK_KINDS = ['postgres', 'lancedb', 'mongodb', 'neo4j'] as const
export type SinkKind = (typeof SINK_KINDS)[number]

/** Event types each kind stores unless `types` narrows them. */
export const SINK_DEFAULT_TYPES: Record<SinkKind, readonly EventType[]> = {
  postgres: ['vector_update', 'persona_update', 'document_update', 'graph_update'],
  lancedb: ['vector_update'],
  mongodb: ['persona_update', 'document_update'],
  neo4j: ['graph_update'],
}

/** One configured sink (flag `--sink kind=target`, or an entry of the config file's `sinks`). */
export interface SinkSpec {
  readonly kind: SinkKind
  /** A connection URL (postgres, mongodb, neo4j) or a directory (lancedb). */
  readonly target: string
  /** Name in /status and key of the checkpoint in the store; defaults to the kind. */
  readonly name?: string
  readonly types?: readonly EventType[]
  /** Table / collection name prefix (postgres, mongodb); default `gkm_`. */
  readonly prefix?: string
  /** postgres: also turn the application's direct writes into pushes (outbox + triggers). */
  readonly source?: boolean
}

/**
 * Log entries read per batch. A batch is one transaction of the target store: 500 keeps a
 * Postgres transaction well under a second on PGlite (measured: ~60 ms for 500 vectors of
 * 768 dimensions) while amortising the commit, and bounds the memory one batch holds
 * (500 targets' states, at most 500 x 64 KiB payload-sized values).
 */
export const SINK_BATCH_MAX = 500

/** Failures in a row before a sink is paused: bounded retries, then an operator's attention. */
export const SINK_RETRIES_MAX = 5
/** First retry delay; doubled per failure up to SINK_BACKOFF_MAX_MS (100, 200, 400, 800 ms). */
export const SINK_BACKOFF_BASE_MS = 100
export const SINK_BACKOFF_MAX_MS = 10_000
/** A paused sink is probed this often (one batch); it resumes when the probe succeeds. */
export const SINK_PAUSED_RETRY_MS = 30_000

/** Sinks per node: each holds a connection and a runner; more is a configuration mistake. */
export const SINKS_MAX = 16

/** Table/collection prefix: lower-case SQL identifier start, short enough for index names. */
export const SINK_PREFIX_RE = /^[a-z_][a-z0-9_]{0,30}$/
export const SINK_NAME_RE = /^[A-Za-z0-9._-]{1,64}$/
