/**
 * Value codecs. Everything read from disk is treated as possibly corrupt: a value that does not
 * decode, or decodes to the wrong shape, throws `StorageCorruptionError` naming its key.
 */
import type { EquivocationRecord, LogRecord } from '../core/ports.ts'
import type { AuditRecord, ConflictRecord, StoredEvent } from '../core/records.ts'
import type { CellState, TargetState } from '../core/target-state.ts'
import { type AuthorKey, type Digest, EVENT_TYPES, type EventType } from '../core/types.ts'
import { fromBase64, toBase64, toHex } from '../util/bytes.ts'
import { sha256Hex } from '../util/crypto.ts'
import { StorageCorruptionError } from './errors.ts'
import { isEventHeader } from './event-header.ts'
import { describeKey, STATUS_CODE } from './keys.ts'

export const SIGNATURE_BYTES = 64

const corrupt = (sublevel: string, key: Uint8Array | string, why: string): never => {
  throw new StorageCorruptionError(`${describeKey(sublevel, key)}: ${why}`)
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v)
const isHex64 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)

function parseJson(sublevel: string, key: Uint8Array | string, text: string): Obj {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new StorageCorruptionError(`${describeKey(sublevel, key)}: value is not JSON`, { cause: err })
  }
  return isObj(value) ? value : corrupt(sublevel, key, 'value is not a JSON object')
}

/** `ev` value: signature (64 bytes) followed by the signed bytes. */
export function encodeEventValue(e: StoredEvent): Uint8Array {
  return Buffer.concat([e.signature, e.signed])
}

/** Checks an `ev` value against its key (an event header; sha256(signed) equals the digest) and
 *  returns views of it, no copy: decodeEventValue copies each event, the rebuild's scan a page of
 *  them at once. */
export function eventValueViews(digest: Uint8Array, value: Uint8Array): StoredEvent {
  const signed = value.subarray(SIGNATURE_BYTES)
  if (value.byteLength <= SIGNATURE_BYTES || !isEventHeader(signed)) {
    return corrupt('ev', digest, 'value is not signature + signed event bytes')
  }
  // Hashed straight to hex and compared as text: one call, no intermediate buffers (a rebuild
  // decodes every event of the log).
  const hex = toHex(digest)
  if (sha256Hex(signed) !== hex) corrupt('ev', digest, 'signed bytes do not hash to the key')
  return { signature: value.subarray(0, SIGNATURE_BYTES), signed, digest: hex }
}

/** Decodes an `ev` value and checks it against its key (eventValueViews), copied once, so
 *  callers never hold views into the database's buffers (memory-level hands out the stored
 *  ones); signature and signed bytes are views of the copy. */
export function decodeEventValue(digest: Uint8Array, value: Uint8Array): StoredEvent {
  const { digest: hex } = eventValueViews(digest, value)
  const own = new Uint8Array(value)
  return { signature: own.subarray(0, SIGNATURE_BYTES), signed: own.subarray(SIGNATURE_BYTES), digest: hex }
}

/** Decodes a target's record into a state with `cells: {}`. */
export function decodeTargetRecord(key: Uint8Array, text: string): TargetState {
  const v = parseJson('state', key, text)
  const ok =
    typeof v.type === 'string' &&
    typeof v.target === 'string' &&
    v.cells === undefined &&
    Array.isArray(v.heads) &&
    Array.isArray(v.missing) &&
    isObj(v.resolved) &&
    typeof v.events === 'number' &&
    typeof v.lastHlc === 'string' &&
    isHex64(v.cellSum) &&
    Array.isArray(v.contested)
  return ok
    ? ({ ...v, cells: {} } as unknown as TargetState)
    : corrupt('state', key, 'value is not a target record')
}

export function decodeCell(key: Uint8Array, text: string): CellState {
  const v = parseJson('state', key, text)
  const w = v.w
  const ok = isObj(w) && typeof w.d === 'string' && typeof w.s === 'string' && Array.isArray(v.f)
  return ok ? (v as unknown as CellState) : corrupt('state', key, 'value is not a cell state')
}

export function decodeConflict(key: string, text: string): ConflictRecord {
  const v = parseJson('cf', key, text)
  const ok =
    v.id === key &&
    typeof v.status === 'string' &&
    Object.hasOwn(STATUS_CODE, v.status) &&
    typeof v.type === 'string' &&
    typeof v.target === 'string' &&
    typeof v.cell === 'string' &&
    Array.isArray(v.sides) &&
    typeof v.winner === 'string' &&
    typeof v.detectedAtMs === 'number'
  return ok
    ? (v as unknown as ConflictRecord)
    : corrupt('cf', key, 'value is not a conflict record of this id')
}

export function decodeAudit(key: Uint8Array, seq: number, text: string): AuditRecord {
  const v = parseJson('audit', key, text)
  const ok =
    v.seq === seq &&
    typeof v.atMs === 'number' &&
    typeof v.op === 'string' &&
    typeof v.origin === 'string' &&
    isObj(v.detail) &&
    isHex64(v.prevHash) &&
    isHex64(v.hash)
  return ok
    ? (v as unknown as AuditRecord)
    : corrupt('audit', key, 'value is not an audit record of this seq')
}

export function encodeEquivocation(r: EquivocationRecord): string {
  return JSON.stringify({
    author: r.author,
    kind: r.kind,
    atMs: r.atMs,
    events: r.events.map((e) => ({ signed: toBase64(e.signed), signature: toBase64(e.signature) })),
  })
}

export function decodeEquivocation(key: Uint8Array, text: string): EquivocationRecord {
  const v = parseJson('eqv', key, text)
  const events = Array.isArray(v.events)
    ? v.events.map((e: unknown) => {
        const o = isObj(e) ? e : {}
        const signed = typeof o.signed === 'string' ? fromBase64(o.signed) : undefined
        const signature = typeof o.signature === 'string' ? fromBase64(o.signature) : undefined
        return signed === undefined || signature === undefined
          ? undefined
          : { signed, signature, digest: sha256Hex(signed) as Digest }
      })
    : []
  const ok =
    isHex64(v.author) &&
    (v.kind === 'position' || v.kind === 'event_id') &&
    typeof v.atMs === 'number' &&
    events.length === 2 &&
    events[0] !== undefined &&
    events[1] !== undefined &&
    key[32] === (v.kind === 'position' ? 1 : 2) &&
    toHex(key.subarray(33, 65)) === events[0].digest &&
    toHex(key.subarray(65, 97)) === events[1].digest
  if (!ok) return corrupt('eqv', key, 'value is not the equivocation record of this key')
  return {
    author: v.author as AuthorKey,
    kind: v.kind as EquivocationRecord['kind'],
    atMs: v.atMs as number,
    events: [events[0] as StoredEvent, events[1] as StoredEvent],
  }
}

export function encodeLogRecord(r: LogRecord): string {
  return JSON.stringify(r)
}

export function decodeLogRecord(key: Uint8Array, text: string): LogRecord {
  const v = parseJson('logs', key, text)
  const peaks = Array.isArray(v.peaks) ? v.peaks : undefined
  const head = v.head
  const ok =
    isHex64(v.author) &&
    typeof v.log === 'string' &&
    toHex(key) === `${v.author}${v.log}` &&
    isCount(v.contiguous) &&
    isCount(v.end) &&
    isCount(v.heldBeyond) &&
    (v.holes === undefined ||
      (Array.isArray(v.holes) &&
        v.holes.every(
          (h: unknown) => Array.isArray(h) && h.length === 2 && isCount(h[0]) && isCount(h[1]),
        ))) &&
    v.end >= v.contiguous &&
    peaks?.every((p: unknown) => isObj(p) && isCount(p.height) && isHex64(p.hash)) &&
    (head === undefined ||
      (isObj(head) && isCount(head.length) && isHex64(head.root) && typeof head.signature === 'string')) &&
    (v.forkAt === undefined || isCount(v.forkAt))
  if (!ok) return corrupt('logs', key, 'value is not the log record of this key')
  return v as unknown as LogRecord
}

/** What the `meta/head` record holds: the log's end, the counters and the node's meta values. */
export interface HeadRecord {
  readonly lastSeq: number
  readonly events: number
  readonly byType: Readonly<Record<EventType, number>>
  readonly targets: number
  readonly conflictsOpen: number
  readonly meta: Readonly<Record<string, string>>
}

export function encodeHead(h: HeadRecord): string {
  return JSON.stringify({
    lastSeq: h.lastSeq,
    events: h.events,
    byType: h.byType,
    targets: h.targets,
    conflictsOpen: h.conflictsOpen,
    meta: h.meta,
  })
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0

/** The head record; absent (a new store) is the empty head. */
export function decodeHead(text: string | undefined): HeadRecord {
  if (text === undefined)
    return { lastSeq: 0, events: 0, byType: zeroByType(), targets: 0, conflictsOpen: 0, meta: {} }
  const v = parseJson('meta', 'head', text)
  const byType = isObj(v.byType) ? v.byType : {}
  const meta = isObj(v.meta) ? v.meta : undefined
  const ok =
    isCount(v.lastSeq) &&
    isCount(v.events) &&
    isCount(v.targets) &&
    isCount(v.conflictsOpen) &&
    EVENT_TYPES.every((t) => isCount(byType[t])) &&
    Object.keys(byType).length === EVENT_TYPES.length &&
    meta !== undefined &&
    Object.values(meta).every((x) => typeof x === 'string')
  if (!ok) return corrupt('meta', 'head', 'value is not a head record')
  return v as unknown as HeadRecord
}

export function zeroByType(): Record<EventType, number> {
  return Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])) as Record<EventType, number>
}
