/**
 * The key layout of a node's database: the only module that knows how keys are built.
 *
 * Every family of records lives in its own sublevel (abstract-level prefixes keys with
 * `!name!`), so keys of two families never collide. Inside a sublevel keys are binary and
 * self-delimiting: fixed-width fields, and the one variable field (a target id, any UTF-8,
 * separators included) either last in the key or length-prefixed. Integers are big-endian so
 * byte order is numeric order; the 8 HLC bytes are copied from the signed bytes and sort like
 * `hlcKey()`.
 *
 * | sublevel | key                                               | value                           | for                                    |
 * |----------|---------------------------------------------------|---------------------------------|----------------------------------------|
 * | `ev`     | digest (32)                                       | signature (64) ‖ signed bytes   | getEvent, hasEvents; every index ends here |
 * | `tseq`   | type code (1) ‖ seq (u64)                         | digest (32)                     | readLog (one range per type, merged by seq) |
 * | `time`   | type code (1) ‖ hlc (8) ‖ digest (32)             | empty                           | readByTime, reconciliation ranges      |
 * | `tgt`    | type (1) ‖ target len (u16) ‖ target ‖ hlc (8) ‖ digest (32) | empty                | readTarget (rebuild, rollback)         |
 * | `state`  | type (1) ‖ target len (u16) ‖ target ‖ 0x00       | target record JSON (no cells)   | getTargetHeaders, getTarget, iterateTargets |
 * | `state`  | type (1) ‖ target len (u16) ‖ target ‖ 0x01 ‖ cell (UTF-8) | CellState JSON         | getCells, getTarget (one range per target) |
 * | `state`  | type (1) ‖ target len (u16) ‖ target ‖ 0x02       | Yjs snapshot (base64)           | getYjs (compaction), getTarget         |
 * | `state`  | type (1) ‖ target len (u16) ‖ target ‖ 0x03 ‖ digest (32) | Yjs update (base64)     | getYjs (compaction), getTarget         |
 * | `eid`    | author (32) ‖ event id (16)                       | digest (32)                     | getEventIdOwner (equivocation check)   |
 * | `cf`     | conflict id (UTF-8)                               | ConflictRecord JSON             | getConflict, listConflicts('all')      |
 * | `cfs`    | status code (1) ‖ conflict id (UTF-8)             | empty                           | listConflicts(status)                  |
 * | `eqv`    | author (32) ‖ kind (1) ‖ digest (32) ‖ digest (32), ascending | EquivocationRecord JSON | listEquivocations                  |
 * | `lpos`   | author (32) ‖ log (8) ‖ seq (u48)                 | digest (32)                     | getLogPositions, readLogRange (per-author logs) |
 * | `logs`   | author (32) ‖ log (8)                             | LogRecord JSON                  | getLogRecords, listLogs (reconciliation summaries) |
 * | `lhd`    | author (32) ‖ log (8) ‖ length (u48)              | root (32) ‖ signature (64)      | getLogHeads (a fetched range verified page by page) |
 * | `audit`  | seq (u64)                                         | AuditRecord JSON                | readAudit, chain head at open          |
 * | `meta`   | `formatVersion`, `head`                           | string / head record JSON       | format check; last seq, counters, node meta |
 *
 * Format 2 (issue 12): five index-or-event keys per event (`ev`, `tseq`, `time`, `tgt`, `eid`;
 * format 1 also kept a `seq` entry, which `tseq` answers), and one head record per commit
 * instead of nine meta and counter values.
 */
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import type { ConflictRecord } from '../core/records.ts'
import { EVENT_TYPE_CODE, type EventType } from '../core/types.ts'
import { toHex } from '../util/bytes.ts'

/** Any abstract-level database with binary key support: ClassicLevel (disk) or MemoryLevel. */
export type LevelDatabase = AbstractLevel<string | Buffer | Uint8Array, string, string>
type Sub<K, V> = AbstractSublevel<LevelDatabase, string | Buffer | Uint8Array, K, V>
type Bytes = Uint8Array

export interface Sublevels {
  readonly events: Sub<Bytes, Bytes>
  readonly typeSeq: Sub<Bytes, Bytes>
  readonly time: Sub<Bytes, Bytes>
  readonly target: Sub<Bytes, Bytes>
  readonly state: Sub<Bytes, string>
  readonly eventId: Sub<Bytes, Bytes>
  readonly conflict: Sub<string, string>
  readonly conflictStatus: Sub<Bytes, Bytes>
  readonly equivocation: Sub<Bytes, string>
  readonly audit: Sub<Bytes, string>
  readonly meta: Sub<string, string>
  readonly logPosition: Sub<Bytes, Bytes>
  readonly logs: Sub<Bytes, string>
  readonly logHeads: Sub<Bytes, Bytes>
}

/** Creates the sublevel handles. Call after every `db.open()`: abstract-level closes sublevels
 *  with their parent and does not reopen them. */
export function openSublevels(db: LevelDatabase): Sublevels {
  const bin = { keyEncoding: 'view', valueEncoding: 'view' }
  const binText = { keyEncoding: 'view', valueEncoding: 'utf8' }
  const text = { keyEncoding: 'utf8', valueEncoding: 'utf8' }
  return {
    events: db.sublevel<Bytes, Bytes>('ev', bin),
    typeSeq: db.sublevel<Bytes, Bytes>('tseq', bin),
    time: db.sublevel<Bytes, Bytes>('time', bin),
    target: db.sublevel<Bytes, Bytes>('tgt', bin),
    state: db.sublevel<Bytes, string>('state', binText),
    eventId: db.sublevel<Bytes, Bytes>('eid', bin),
    conflict: db.sublevel<string, string>('cf', text),
    conflictStatus: db.sublevel<Bytes, Bytes>('cfs', bin),
    equivocation: db.sublevel<Bytes, string>('eqv', binText),
    audit: db.sublevel<Bytes, string>('audit', binText),
    meta: db.sublevel<string, string>('meta', text),
    logPosition: db.sublevel<Bytes, Bytes>('lpos', bin),
    logs: db.sublevel<Bytes, string>('logs', binText),
    logHeads: db.sublevel<Bytes, Bytes>('lhd', bin),
  }
}

export const META_FORMAT_VERSION = 'formatVersion'
/** The head record: last seq, counters and the node's meta values, rewritten by every commit. */
export const META_HEAD = 'head'
export const META_STATE_HASH = 'stateHash'

export const EMPTY = new Uint8Array(0)
const DIGEST_RE = /^[0-9a-f]{64}$/
const HLC_KEY_RE = /^[0-9a-f]{16}$/
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const cat = (...parts: Bytes[]): Bytes => Buffer.concat(parts)
/**
 * Keys built per event and per cell (the write path's: `tseq`, `time`, `tgt`, `state`) are
 * written into one allocation each: a slice of Node's buffer pool, no intermediate arrays
 * (`Uint8Array.of` of the type code, then a concatenation), which were a tenth of what a local
 * write allocated. LevelDB copies a key when it is put or read, so a pool slice is never kept.
 */
const alloc = (n: number): Buffer => Buffer.allocUnsafe(n)

/** Copies `src` into `out` at `at` (short fields: no view object). */
function put(out: Bytes, at: number, src: Bytes): number {
  for (let i = 0; i < src.byteLength; i++) out[at + i] = src[i]
  return at + src.byteLength
}

/** u64 big-endian at `at` (values below 2^53). */
function putU64(out: Bytes, at: number, v: number): void {
  const hi = Math.floor(v / 0x1_0000_0000)
  const lo = v >>> 0
  out[at] = hi >>> 24
  out[at + 1] = (hi >>> 16) & 0xff
  out[at + 2] = (hi >>> 8) & 0xff
  out[at + 3] = hi & 0xff
  out[at + 4] = lo >>> 24
  out[at + 5] = (lo >>> 16) & 0xff
  out[at + 6] = (lo >>> 8) & 0xff
  out[at + 7] = lo & 0xff
}

const hexBytes = (hex: string): Bytes => Buffer.from(hex, 'hex')

/** 32 digest bytes, or undefined when `hex` is not a lowercase 64-char digest. */
export function digestKey(hex: string): Bytes | undefined {
  return typeof hex === 'string' && DIGEST_RE.test(hex) ? hexBytes(hex) : undefined
}

/** 8 HLC bytes from a core `hlcKey` (16 lowercase hex chars), or undefined. */
export function hlcBytesFromKey(hlcKey: string): Bytes | undefined {
  return typeof hlcKey === 'string' && HLC_KEY_RE.test(hlcKey) ? hexBytes(hlcKey) : undefined
}

/** 8 HLC bytes for (wallMs, counter 0): the first key at or after a wall time. */
export function hlcBytesAtMs(wallMs: number): Bytes {
  const out = new Uint8Array(8)
  const view = new DataView(out.buffer)
  view.setUint32(0, Math.floor(wallMs / 0x10000))
  view.setUint16(4, wallMs % 0x10000)
  return out
}

/** 16 event id bytes from a UUID string (any case), or undefined. */
export function eventIdBytes(uuid: string): Bytes | undefined {
  const id = typeof uuid === 'string' ? uuid.toLowerCase() : ''
  return UUID_RE.test(id) ? hexBytes(id.replaceAll('-', '')) : undefined
}

/** Wire code of a type; undefined for anything else (own keys only: not `toString`). */
export function typeCode(type: EventType): number | undefined {
  return typeof type === 'string' && Object.hasOwn(EVENT_TYPE_CODE, type) ? EVENT_TYPE_CODE[type] : undefined
}

/** u64 big-endian; sequence numbers stay below 2^53. */
export function seqKey(seq: number): Bytes {
  const out = new Uint8Array(8)
  const view = new DataView(out.buffer)
  view.setUint32(0, Math.floor(seq / 0x1_0000_0000))
  view.setUint32(4, seq >>> 0)
  return out
}

/** Reads a u64 written by `seqKey` at `offset`; undefined when out of bounds. */
export function readSeq(bytes: Bytes, offset = 0): number | undefined {
  if (bytes.byteLength < offset + 8) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 8)
  return view.getUint32(0) * 0x1_0000_0000 + view.getUint32(4)
}

export function typeSeqKey(code: number, seq: number): Bytes {
  const out = alloc(9)
  out[0] = code
  putU64(out, 1, seq)
  return out
}

export function timeKey(code: number, hlc: Bytes, digest: Bytes): Bytes {
  const out = alloc(1 + hlc.byteLength + digest.byteLength)
  out[0] = code
  put(out, put(out, 1, hlc), digest)
  return out
}

/** Writes a target prefix (type, length, target) into `out` at 0; returns its length. */
function putTargetPrefix(out: Bytes, code: number, target: Bytes): number {
  out[0] = code
  out[1] = target.byteLength >> 8
  out[2] = target.byteLength & 0xff
  out.set(target, 3)
  return 3 + target.byteLength
}

/** Prefix of every `tgt` key of one target; the length makes a target never a prefix of another. */
export function targetPrefix(code: number, target: Bytes): Bytes {
  const out = alloc(3 + target.byteLength)
  putTargetPrefix(out, code, target)
  return out
}

export function targetIndexKey(code: number, target: Bytes, hlc: Bytes, digest: Bytes): Bytes {
  const out = alloc(3 + target.byteLength + hlc.byteLength + digest.byteLength)
  put(out, put(out, putTargetPrefix(out, code, target), hlc), digest)
  return out
}

/** Format 3 (issue 12, state per cell): a target's record and each of its cells are entries of
 *  the `state` sublevel under the target's prefix, the record first (0x00), then its cells
 *  (0x01 ‖ cell name) in name order: one range read gives a whole target, one key one cell. */
export const STATE_RECORD = 0x00
export const STATE_CELL = 0x01
/** Yjs, append-only: the compacted snapshot, and one entry per update appended since. */
export const STATE_YJS_SNAPSHOT = 0x02
export const STATE_YJS_UPDATE = 0x03

export function targetRecordKey(code: number, target: Bytes): Bytes {
  const out = alloc(4 + target.byteLength)
  out[putTargetPrefix(out, code, target)] = STATE_RECORD
  return out
}

export function cellKey(code: number, target: Bytes, cell: string): Bytes {
  const at = 4 + target.byteLength
  const out = alloc(at + Buffer.byteLength(cell, 'utf8'))
  out[putTargetPrefix(out, code, target)] = STATE_CELL
  out.write(cell, at, 'utf8')
  return out
}

export function yjsSnapshotKey(code: number, target: Bytes): Bytes {
  return cat(targetPrefix(code, target), Uint8Array.of(STATE_YJS_SNAPSHOT))
}

export function yjsUpdateKey(code: number, target: Bytes, digest: Bytes): Bytes {
  return cat(targetPrefix(code, target), Uint8Array.of(STATE_YJS_UPDATE), digest)
}

/** What a `state` key holds. */
export type StateEntry =
  | { kind: 'record' }
  | { kind: 'cell'; cell: string }
  | { kind: 'yjsSnapshot' }
  | { kind: 'yjsUpdate'; digest: string }

/** Splits a `state` key: its target prefix and what it holds. Undefined when the key has none
 *  of the shapes. */
export function parseStateKey(key: Bytes): { prefix: Bytes; entry: StateEntry } | undefined {
  if (key.byteLength < 4) return undefined
  const end = 3 + ((key[1] << 8) | key[2])
  if (key.byteLength <= end) return undefined
  const prefix = key.subarray(0, end)
  const rest = key.byteLength - end - 1
  if (key[end] === STATE_RECORD && rest === 0) return { prefix, entry: { kind: 'record' } }
  if (key[end] === STATE_CELL)
    return { prefix, entry: { kind: 'cell', cell: Buffer.from(key.subarray(end + 1)).toString('utf8') } }
  if (key[end] === STATE_YJS_SNAPSHOT && rest === 0) return { prefix, entry: { kind: 'yjsSnapshot' } }
  if (key[end] === STATE_YJS_UPDATE && rest === 32)
    return { prefix, entry: { kind: 'yjsUpdate', digest: toHex(key.subarray(end + 1)) } }
  return undefined
}

export function eventIdKey(author: Bytes, eventId: Bytes): Bytes {
  const out = alloc(author.byteLength + eventId.byteLength)
  put(out, put(out, 0, author), eventId)
  return out
}

/** Kind codes of equivocation records: 1 two events at one log position, 2 under one event_id. */
export const EQUIVOCATION_KIND_CODE = { position: 1, event_id: 2 } as const

export function equivocationKey(author: Bytes, kind: number, first: Bytes, second: Bytes): Bytes {
  return cat(author, Uint8Array.of(kind), first, second)
}

const LOG_RE = /^[0-9a-f]{16}$/

/** author (32) ‖ log (8), or undefined when either is not hex of its size. */
export function logKey(author: string, log: string): Bytes | undefined {
  if (typeof author !== 'string' || !DIGEST_RE.test(author) || typeof log !== 'string' || !LOG_RE.test(log))
    return undefined
  return hexBytes(author + log)
}

/** author (32) ‖ the log-position trailer of signed bytes (log 8 ‖ seq u48 BE): the same key
 *  as logPositionKey, in one copy. */
export function logPositionKeyOf(author: Bytes, trailer: Bytes): Bytes {
  const out = new Uint8Array(46)
  out.set(author, 0)
  out.set(trailer, 32)
  return out
}

/** author (32) ‖ log (8) ‖ seq (u48 BE). */
export function logPositionKey(logKeyBytes: Bytes, seq: number): Bytes {
  const out = new Uint8Array(46)
  out.set(logKeyBytes, 0)
  const view = new DataView(out.buffer)
  view.setUint16(40, Math.floor(seq / 0x1_0000_0000))
  view.setUint32(42, seq % 0x1_0000_0000)
  return out
}

/** The seq of a `lpos` key. */
export function logPositionSeq(key: Bytes): number {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength)
  return view.getUint16(40) * 0x1_0000_0000 + view.getUint32(42)
}

export const STATUS_CODE: Readonly<Record<ConflictRecord['status'], number>> = {
  open: 1,
  resolved: 2,
  superseded: 3,
}

export function conflictStatusKey(code: number, id: string): Bytes {
  return cat(Uint8Array.of(code), Buffer.from(id, 'utf8'))
}

/** The last 32 bytes of an index key (`time`, `tgt`) as a hex digest. */
export function trailingDigest(key: Bytes): string {
  return toHex(key.subarray(key.byteLength - 32))
}

/** Range of every key starting with `prefix`: [prefix, successor of prefix). */
export function prefixRange(prefix: Bytes): { gte: Bytes; lt?: Bytes } {
  const end = Uint8Array.from(prefix)
  for (let i = end.byteLength - 1; i >= 0; i--) {
    if (end[i] !== 0xff) {
      end[i]++
      return { gte: prefix, lt: end.subarray(0, i + 1) }
    }
  }
  return { gte: prefix }
}

/** `sublevel/key` for error messages: text keys as they are, binary keys in hex. */
export function describeKey(sublevel: string, key: Bytes | string): string {
  return `${sublevel}/${typeof key === 'string' ? JSON.stringify(key) : toHex(key)}`
}
