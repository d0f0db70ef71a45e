/** JSON forms of store records for HTTP answers. */

import { eventFromTrustedBytes, eventToJson } from '../core/event.ts'
import type { EquivocationRecord } from '../core/ports.ts'
import type { StoredEvent } from '../core/records.ts'
import type { SyncEventJson } from '../core/types.ts'

/** A stored event (signed bytes + signature, verified when it arrived) in its JSON form. */
export function storedToJson(e: StoredEvent): SyncEventJson {
  return eventToJson(eventFromTrustedBytes(e.signed, e.signature))
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
