/**
 * The event model shared by every layer. Field names of the JSON form follow the spec
 * (snake_case); in-memory forms are camelCase.
 */

export const EVENT_TYPES = ['vector_update', 'persona_update', 'document_update', 'graph_update'] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** Wire code of each event type in the canonical encoding (docs/PROTOCOL.md). */
export const EVENT_TYPE_CODE: Readonly<Record<EventType, number>> = {
  vector_update: 1,
  persona_update: 2,
  document_update: 3,
  graph_update: 4,
}

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value)
}

/** The spec's short names of the event types, accepted wherever a type is taken (docs/API.md). */
export const EVENT_TYPE_SHORT_NAMES: Readonly<Record<string, EventType>> = Object.freeze({
  vector: 'vector_update',
  persona: 'persona_update',
  document: 'document_update',
  graph: 'graph_update',
})

/** Every accepted spelling of an event type: the full names, then the short ones. */
export const EVENT_TYPE_NAMES: readonly string[] = [...EVENT_TYPES, ...Object.keys(EVENT_TYPE_SHORT_NAMES)]

/** The event type a full or short name stands for; undefined for anything else. */
export function eventTypeOf(value: unknown): EventType | undefined {
  if (typeof value !== 'string') return undefined
  if (isEventType(value)) return value
  return Object.hasOwn(EVENT_TYPE_SHORT_NAMES, value) ? EVENT_TYPE_SHORT_NAMES[value] : undefined
}

/** sha256 of an event's signed bytes, 64 lowercase hex chars. */
export type Digest = string & { readonly __brand: 'Digest' }
/** Ed25519 public key of an author (= the node's libp2p identity), 64 lowercase hex chars. */
export type AuthorKey = string & { readonly __brand: 'AuthorKey' }
/** Deterministic conflict id: sha256 over the cell and the sorted digests involved. */
export type ConflictId = string & { readonly __brand: 'ConflictId' }

export type JsonPrimitive = string | number | boolean | null
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue }
export type JsonObject = { [key: string]: JsonValue }

/** Hybrid logical clock value: wall milliseconds and a logical counter. */
export interface Hlc {
  readonly wallMs: number
  readonly counter: number
}

/** The JSON form of a complete, signed event (HTTP, CLI, NDJSON, docs/EVENTS.md). */
export interface SyncEventJson {
  event_id: string
  /** ISO 8601 UTC, derived from `hlc` (its wall milliseconds). */
  timestamp: string
  event_type: EventType
  target_id: string
  payload: JsonObject
  /** Author's Ed25519 public key, hex. */
  author: string
  /** `"<wallMs>:<counter>"`, decimal. */
  hlc: string
  /** Digests of the author's heads on this target when it wrote, hex, ascending. */
  parents: string[]
  /** The author's log this event belongs to: 8 bytes, 16 lowercase hex chars. */
  log: string
  /** The event's position in that log, 0-based. */
  seq: number
  /** Ed25519 signature over the canonical signed bytes, hex. */
  signature: string
  /** sha256 of the signed bytes, hex: the event's id for parents, rollback `to_event` and
   *  history. Answers always carry it; a pushed event may omit it (when present it is checked). */
  digest?: string
}

/** A local write: the spec's fields only; the node adds the envelope and signs. */
export interface LocalWrite {
  event_id?: string
  timestamp?: string
  event_type: EventType
  target_id: string
  payload: JsonObject
}

/** A decoded, verified event. `signed` is the exact canonical byte string the signature covers. */
export interface SignedEvent {
  readonly eventId: string
  readonly type: EventType
  readonly targetId: string
  readonly payload: JsonObject
  readonly author: AuthorKey
  readonly hlc: Hlc
  readonly parents: readonly Digest[]
  /** The author's log (16 hex) and the event's position in it. */
  readonly log: string
  readonly seq: number
  readonly signed: Uint8Array
  readonly signature: Uint8Array
  readonly digest: Digest
}

/** Who caused an operation: recorded in the audit log. */
export interface Origin {
  readonly kind: 'local' | 'http' | 'peer' | 'replay'
  /** Peer id, client address or `cli`. */
  readonly id: string
}
