/** Records the store keeps besides events and target states. */
import type { ConflictId, Digest, EventType, JsonValue } from './types.ts'

/** An event as stored and sent on the wire: the canonical signed bytes and the signature. */
export interface StoredEvent {
  readonly signed: Uint8Array
  readonly signature: Uint8Array
  /** sha256 of `signed`, hex, when the reader already computed it (the store verifies it). */
  readonly digest?: string
}

export interface ConflictSide {
  readonly digest: Digest
  readonly eventId: string
  readonly author: string
  readonly hlc: string
  /** The value the side wrote; absent for a tombstone. */
  readonly value?: JsonValue
  readonly deleted?: true
}

/**
 * A conflict on one cell of one target. `open` while its sides are the cell's frontier;
 * `resolved` once a resolution event names it; `superseded` when later writes replaced the
 * frontier without naming it (e.g. a new write that had seen all sides).
 */
export interface ConflictRecord {
  readonly id: ConflictId
  readonly type: EventType
  readonly target: string
  readonly cell: string
  readonly sides: readonly ConflictSide[]
  /** Digest of the current last-write-wins winner among the sides (the value in effect). */
  readonly winner: Digest
  status: 'open' | 'resolved' | 'superseded'
  resolvedBy?: Digest
  readonly detectedAtMs: number
  closedAtMs?: number
}

/** One entry of the hash-chained audit log. `hash = sha256(prevHash || canonical JSON of the rest)`. */
export interface AuditRecord {
  readonly seq: number
  readonly atMs: number
  /** push, pull, resolve, rollback, reject, equivocation, replay, start, stop, peer */
  readonly op: string
  /** Who: `http:127.0.0.1`, `peer:<id>`, `local`, `cli`. */
  readonly origin: string
  /** Operation details: counts, digests, errors. */
  readonly detail: Record<string, JsonValue>
  readonly prevHash: string
  readonly hash: string
}
