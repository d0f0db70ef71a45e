/** JSON forms of store records for HTTP answers. */

import { eventFromTrustedBytes, eventToJson } from '../core/event.ts'
import { float32ToBase64 } from '../core/event-codec.ts'
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
  /** `position`: two events at one position of one of the author's logs (a fork);
   *  `event_id`: two events under one event_id. */
  kind: EquivocationRecord['kind']
  /** The two events, ordered by digest: the evidence, each signed by the author. Both are in
   *  the node's event set. */
  events: [SyncEventJson, SyncEventJson]
  detected_at: string
}

export function equivocationToJson(r: EquivocationRecord): EquivocationJson {
  return {
    author: r.author,
    kind: r.kind,
    events: [storedToJson(r.events[0]), storedToJson(r.events[1])],
    detected_at: isoFromMs(r.atMs),
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

/** The shortest decimal that reads back as the same float32 (0.1, not 0.10000000149011612):
 *  vectors are stored as float32, and pgvector and numpy print them this way too. */
export function shortestFloat32(x: number): number {
  for (let digits = 6; digits < 9; digits++) {
    const d = Number(x.toPrecision(digits))
    if (Math.fround(d) === x) return d
  }
  return Number(x.toPrecision(9))
}

/**
 * A vector target's state for an HTTP answer: values as short decimals (default) or, with
 * `vectors=base64`, as base64 of packed little-endian float32 (4 bytes a value, the form a
 * client can also push).
 */
export function vectorStateOut<T extends { event_type: string; value: JsonValue }>(
  state: T,
  form: 'numbers' | 'base64',
): T {
  const v = state.value
  if (state.event_type !== 'vector_update' || v === null || typeof v !== 'object' || Array.isArray(v))
    return state
  const values = (v as { values?: unknown }).values
  if (!Array.isArray(values)) return state
  const nums = values as number[]
  const out = form === 'base64' ? float32ToBase64(nums) : nums.map(shortestFloat32)
  return { ...state, value: { ...v, values: out } }
}
