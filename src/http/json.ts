/** JSON forms of store records for HTTP answers. */

import { eventFromTrustedBytes, eventToJson } from '../core/event.ts'
import type { EquivocationRecord } from '../core/ports.ts'
import type { ConflictRecord, ConflictSide, StoredEvent } from '../core/records.ts'
import type { JsonValue, SyncEventJson } from '../core/types.ts'
import { isoFromMs } from '../util/time.ts'

/** A stored event (signed bytes + signature, verified when it arrived) in its JSON form. */
export function storedToJson(e: StoredEvent): SyncEventJson {
  return eventToJson(eventFromTrustedBytes(e.signed, e.signature, e.digest))
}

export interface EquivocationJson {
  author: string
  eventId: string
  /** Digest of the event kept under this (author, event_id). */
  kept: string
  /** The second, refused event: the evidence. */
  refused: SyncEventJson
  atMs: number
}

export function equivocationToJson(r: EquivocationRecord): EquivocationJson {
  return {
    author: r.author,
    eventId: r.eventId,
    kept: r.kept,
    refused: storedToJson(r.refused),
    atMs: r.atMs,
  }
}

/**
 * A conflict in the API's spelling: snake_case names and ISO times like events
 * (`conflict_id`, `event_type`, `target_id`, `resolved_by`, `detected_at`, `closed_at`, and
 * `event_id` and `timestamp` on each side). The record's own camelCase fields (`id`, `type`,
 * `target`, `resolvedBy`, `detectedAtMs`, `closedAtMs`, `eventId`) stay in the answer for
 * clients written against 0.1; docs/API.md marks them deprecated.
 */
export function conflictToJson(r: ConflictRecord): Record<string, JsonValue> {
  return {
    ...(r as unknown as Record<string, JsonValue>),
    conflict_id: r.id,
    event_type: r.type,
    target_id: r.target,
    resolved_by: r.resolvedBy ?? null,
    detected_at: isoFromMs(r.detectedAtMs),
    closed_at: r.closedAtMs === undefined ? null : isoFromMs(r.closedAtMs),
    sides: r.sides.map(sideToJson),
  }
}

function sideToJson(s: ConflictSide): Record<string, JsonValue> {
  const wallMs = Number(/^(\d+):/.exec(s.hlc)?.[1])
  return {
    ...(s as unknown as Record<string, JsonValue>),
    event_id: s.eventId,
    timestamp: Number.isFinite(wallMs) ? isoFromMs(wallMs) : null,
  }
}
