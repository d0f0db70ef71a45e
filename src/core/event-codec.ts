/**
 * The canonical, byte-exact encoding of an event: the bytes the author signs and whose sha256
 * is the event's digest. Specified byte for byte in docs/PROTOCOL.md ("Signed event bytes"),
 * checked by test/vectors.
 *
 *   magic        4  "GKE3" (GKE2 had no log position; GKE1 carried vectors as JSON numbers)
 *   type         1  1 vector_update, 2 persona_update, 3 document_update, 4 graph_update
 *   event_id    16  UUID bytes
 *   hlc          8  u48 wall ms BE, u16 counter BE
 *   author      32  Ed25519 public key
 *   target_len   2  u16 BE, 1..255
 *   target       n  UTF-8
 *   parent_cnt   1  u8, 0..16
 *   parents   32*k  digests, strictly ascending
 *   payload_len  4  u32 BE, <= 65536
 *   payload      m  RFC 8785 canonical JSON (UTF-8); a vector upsert's `values` are not in it
 *   dims         2  u16 BE: 1..4096 for a vector_update upsert, 0 for every other event
 *   values    4*d  float32 little-endian, finite
 *   log          8  the author's log: a random id its store drew when it was created
 *   seq          6  u48 BE: the event's position in that log, 0-based
 *
 * The log position is a trailer so every offset of the header (readMeta, the store's
 * event-header.ts) stays where it was. One author may have several logs (a wiped or restored
 * store starts a new one, so it never re-signs positions it signed before); within a log, two
 * different events at one position are a fork (docs/EVENTS.md "Forks").
 *
 * Vectors travel as packed float32 (3 KB for 768 dimensions, not ~15 KB of JSON digits): the
 * in-memory payload keeps `values` as numbers, each exactly a float32 (`Math.fround`).
 */
import canonicalize from 'canonicalize'
import { fromBase64, fromUtf8, isUtf8, toHex, utf8 } from '../util/bytes.ts'
import { sha256Hex } from '../util/crypto.ts'
import {
  HLC_COUNTER_MAX,
  HLC_WALL_MS_MAX,
  PARENTS_MAX,
  PAYLOAD_BYTES_MAX,
  SIGNED_MAGIC,
  TARGET_ID_BYTES_MAX,
  VECTOR_DIMENSIONS_MAX,
} from './constants.ts'
import { MalformedEventError, PayloadTooLargeError, UnknownEventTypeError } from './errors.ts'
import {
  type AuthorKey,
  type Digest,
  EVENT_TYPE_CODE,
  EVENT_TYPES,
  type EventType,
  type Hlc,
  type JsonObject,
  type JsonValue,
} from './types.ts'

const MAGIC = utf8(SIGNED_MAGIC)
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const DIGEST_RE = /^[0-9a-f]{64}$/
const LOG_RE = /^[0-9a-f]{16}$/
/** Bytes of the log-position trailer: log id (8) and seq (u48). */
export const LOG_TRAILER_BYTES = 14
/** The shortest valid signed bytes: header, a 1-byte target, parent count, payload length,
 *  vector dimensions and the log position. */
export const SIGNED_BYTES_MIN = 4 + 1 + 16 + 8 + 32 + 2 + 1 + 1 + 4 + 2 + LOG_TRAILER_BYTES
/** Offset of the author key in signed bytes (docs/PROTOCOL.md). */
const AUTHOR_AT = 29
/** Largest position in a log (u48). */
export const LOG_SEQ_MAX = 2 ** 48 - 1

/** The signed fields of an event, before encoding. */
export interface EventFields {
  eventId: string
  type: EventType
  targetId: string
  payload: JsonObject
  author: AuthorKey
  hlc: Hlc
  parents: readonly Digest[]
  /** The author's log, 16 lowercase hex chars (8 bytes). */
  log: string
  /** Position in the log, 0-based. */
  seq: number
}

export function isLogId(text: unknown): text is string {
  return typeof text === 'string' && LOG_RE.test(text)
}

export function isLogSeq(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= LOG_SEQ_MAX
}

export function canonicalJson(value: unknown): string {
  // RFC 8785 serialises well-formed strings, finite numbers, booleans and null exactly as
  // JSON.stringify does; only objects (key order) and what the library refuses (lone surrogates,
  // NaN, infinities) go through it. Most cell values are primitives.
  if (typeof value === 'boolean' || value === null) return JSON.stringify(value)
  if (typeof value === 'number' && Number.isFinite(value)) return JSON.stringify(value)
  if (typeof value === 'string' && value.isWellFormed()) return JSON.stringify(value)
  // Plain objects and arrays whose keys already come in ascending order (payloads as clients
  // and decoders build them): JSON.stringify writes exactly the RFC 8785 text, natively.
  if (typeof value === 'object' && plainCanonical(value, 0)) return JSON.stringify(value)
  let text: string | undefined
  try {
    text = canonicalize(value)
  } catch (err) {
    // Lone surrogates, non-finite numbers, nesting beyond the stack: a fault of the value, so
    // the event that carries it is refused, never the group it arrived with.
    throw new MalformedEventError(`value has no canonical JSON form: ${(err as Error)?.message ?? err}`, {
      cause: err,
    })
  }
  if (text === undefined) throw new MalformedEventError('value has no JSON form')
  return text
}

/**
 * Whether `text` is the RFC 8785 canonical form of `value`, where `value` is `JSON.parse(text)`:
 * the check every decoded payload passes (one event, one encoding). Fast path: JSON.stringify
 * writes strings and finite numbers exactly as RFC 8785 does, so the text is canonical when
 * stringify gives it back, every object's keys come in ascending UTF-16 order and every string
 * is well-formed (RFC 8785 refuses lone surrogates, which JSON.stringify escapes). Any other
 * case (integer-like keys, which V8 iterates first whatever the text said; a number the text
 * wrote in another form; duplicate keys) takes the full serialisation, so the answer is always
 * `canonicalJson(value) === text` (property-tested against the library).
 */
export function isCanonicalText(value: unknown, text: string): boolean {
  if (JSON.stringify(value) === text && plainCanonical(value, 0)) return true
  try {
    return canonicalJson(value) === text
  } catch {
    return false
  }
}

/**
 * Whether JSON.stringify(v) is v's RFC 8785 text: well-formed strings, finite numbers, booleans,
 * null, arrays of such, and plain objects (no prototype but Object's or none, no toJSON) whose
 * keys come in ascending UTF-16 order in iteration order, all the way down. Anything else
 * (integer-like keys out of order, undefined, a Date, nesting past 256) is left to the library.
 */
function plainCanonical(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
      return v.isWellFormed()
    case 'number':
      return Number.isFinite(v)
    case 'boolean':
      return true
    case 'object':
      break
    default:
      return false
  }
  if (v === null) return true
  if (depth > 256) return false
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!plainCanonical(v[i], depth + 1)) return false
    return true
  }
  const proto = Object.getPrototypeOf(v)
  if ((proto !== Object.prototype && proto !== null) || 'toJSON' in (v as object)) return false
  let prev: string | undefined
  for (const k of Object.keys(v as object)) {
    if (prev !== undefined && !(prev < k)) return false
    if (!k.isWellFormed() || !plainCanonical((v as Record<string, unknown>)[k], depth + 1)) return false
    prev = k
  }
  return true
}

export function isUuid(text: string): boolean {
  return UUID_RE.test(text)
}

export function isDigest(text: string): text is Digest {
  return DIGEST_RE.test(text)
}

/** Base64 of packed little-endian float32 -> numbers; undefined when it is not that. */
export function float32FromBase64(text: string): number[] | undefined {
  const bytes = fromBase64(text)
  if (bytes === undefined || bytes.byteLength === 0 || bytes.byteLength % 4 !== 0) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = new Array<number>(bytes.byteLength / 4)
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true)
  return out
}

/** Numbers (each a float32) -> base64 of packed little-endian float32. */
export function float32ToBase64(values: readonly number[]): string {
  const bytes = new Uint8Array(4 * values.length)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i], true)
  return Buffer.from(bytes).toString('base64')
}

/** True for the one payload whose `values` travel as packed float32 after the JSON part. */
function isVectorUpsert(type: EventType, payload: JsonObject): boolean {
  return type === 'vector_update' && payload.op === 'upsert' && Array.isArray(payload.values)
}

/**
 * Splits a payload into its JSON part and its packed vector (vector upserts only). Values are
 * rounded to float32; a value that is not a finite number, or overflows float32, is refused.
 */
export function splitPayload(
  type: EventType,
  payload: JsonObject,
): { json: JsonObject; vector?: Float32Array } {
  if (type === 'vector_update' && payload.op === 'upsert' && !Array.isArray(payload.values)) {
    // Signed bytes always carry the values packed: an event encoded with them anywhere else
    // (base64 text in the JSON part, say) would have bytes no decoder reads back.
    throw new MalformedEventError('a vector upsert carries its values as an array of numbers')
  }
  if (!isVectorUpsert(type, payload)) return { json: payload }
  const values = payload.values as unknown[]
  if (values.length < 1 || values.length > VECTOR_DIMENSIONS_MAX)
    throw new MalformedEventError(`a vector has 1..${VECTOR_DIMENSIONS_MAX} values, got ${values.length}`)
  const vector = new Float32Array(values.length)
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new MalformedEventError(`vector values[${i}] is not a finite number`)
    vector[i] = v
    if (!Number.isFinite(vector[i])) throw new MalformedEventError(`vector values[${i}] overflows float32`)
  }
  const { values: _values, ...json } = payload
  return { json, vector }
}

/** The payload as it reads back after encoding: vector values rounded to float32, and values
 *  given as base64 of packed float32 (little-endian; the HTTP API accepts both) unpacked. */
export function normalizePayload(type: EventType, payload: JsonObject): JsonObject {
  if (type === 'vector_update' && payload.op === 'upsert' && typeof payload.values === 'string') {
    const values = float32FromBase64(payload.values)
    if (values === undefined)
      throw new MalformedEventError(
        'vector values as text must be base64 of little-endian float32 (4 bytes each)',
      )
    return { ...payload, values }
  }
  if (!isVectorUpsert(type, payload)) return payload
  const values = payload.values as JsonValue[]
  let exact = true
  for (const v of values) if (typeof v !== 'number' || Math.fround(v) !== v) exact = false
  if (exact) return payload
  return { ...payload, values: values.map((v) => (typeof v === 'number' ? Math.fround(v) : v)) }
}

/** Encodes the signed bytes. Throws a named error when a field is outside its limits. */
export function encodeSigned(f: EventFields): Uint8Array {
  const { json, vector } = splitPayload(f.type, f.payload)
  const payloadJson = canonicalJson(json)
  const eventId = f.eventId.toLowerCase()
  if (!UUID_RE.test(eventId))
    throw new MalformedEventError(`event_id must be a UUID, got ${JSON.stringify(f.eventId).slice(0, 80)}`)
  const code = EVENT_TYPE_CODE[f.type]
  if (code === undefined)
    throw new UnknownEventTypeError(`unknown event_type ${JSON.stringify(f.type).slice(0, 80)}`)
  const target = utf8(f.targetId)
  if (target.byteLength < 1 || target.byteLength > TARGET_ID_BYTES_MAX) {
    throw new MalformedEventError(
      `target_id must be 1..${TARGET_ID_BYTES_MAX} UTF-8 bytes, got ${target.byteLength}`,
    )
  }
  if (!DIGEST_RE.test(f.author))
    throw new MalformedEventError('author must be a 32-byte Ed25519 public key in hex')
  const { wallMs, counter } = f.hlc
  if (
    !Number.isInteger(wallMs) ||
    wallMs < 0 ||
    wallMs > HLC_WALL_MS_MAX ||
    !Number.isInteger(counter) ||
    counter < 0 ||
    counter > HLC_COUNTER_MAX
  ) {
    throw new MalformedEventError('hlc out of range')
  }
  if (f.parents.length > PARENTS_MAX)
    throw new MalformedEventError(`at most ${PARENTS_MAX} parents, got ${f.parents.length}`)
  for (let i = 0; i < f.parents.length; i++) {
    if (!DIGEST_RE.test(f.parents[i])) throw new MalformedEventError(`parents[${i}] is not a hex digest`)
    if (i > 0 && !(f.parents[i - 1] < f.parents[i]))
      throw new MalformedEventError('parents must be strictly ascending')
  }
  const payload = utf8(payloadJson)
  if (payload.byteLength > PAYLOAD_BYTES_MAX) {
    throw new PayloadTooLargeError(
      `payload is ${payload.byteLength} bytes of canonical JSON; the limit is ${PAYLOAD_BYTES_MAX}`,
    )
  }
  if (!LOG_RE.test(f.log)) throw new MalformedEventError('log must be 8 bytes in lowercase hex (16 chars)')
  if (!isLogSeq(f.seq)) throw new MalformedEventError(`seq must be an integer 0..${LOG_SEQ_MAX}`)
  const dims = vector?.length ?? 0
  const size =
    4 +
    1 +
    16 +
    8 +
    32 +
    2 +
    target.byteLength +
    1 +
    32 * f.parents.length +
    4 +
    payload.byteLength +
    2 +
    4 * dims +
    LOG_TRAILER_BYTES
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let o = 0
  out.set(MAGIC, o)
  o += 4
  out[o++] = code
  out.set(Buffer.from(eventId.replaceAll('-', ''), 'hex'), o)
  o += 16
  view.setUint32(o, Math.floor(wallMs / 0x10000))
  view.setUint16(o + 4, wallMs % 0x10000)
  view.setUint16(o + 6, counter)
  o += 8
  out.set(Buffer.from(f.author, 'hex'), o)
  o += 32
  view.setUint16(o, target.byteLength)
  o += 2
  out.set(target, o)
  o += target.byteLength
  out[o++] = f.parents.length
  for (const p of f.parents) {
    out.set(Buffer.from(p, 'hex'), o)
    o += 32
  }
  view.setUint32(o, payload.byteLength)
  o += 4
  out.set(payload, o)
  o += payload.byteLength
  view.setUint16(o, dims)
  o += 2
  for (let i = 0; i < dims; i++, o += 4) view.setFloat32(o, (vector as Float32Array)[i], true)
  out.set(Buffer.from(f.log, 'hex'), o)
  o += 8
  view.setUint16(o, Math.floor(f.seq / 0x100000000))
  view.setUint32(o + 2, f.seq % 0x100000000)
  return out
}

/** The author key of signed bytes (a view; the bytes decoded once, or at least SIGNED_BYTES_MIN
 *  long). */
export function readAuthor(signed: Uint8Array): Uint8Array {
  return signed.subarray(AUTHOR_AT, AUTHOR_AT + 32)
}

/** Reads the log position from the trailer of signed bytes (trusted: the bytes decoded once). */
export function readLogPosition(signed: Uint8Array): { log: string; seq: number } {
  const at = signed.byteLength - LOG_TRAILER_BYTES
  const view = new DataView(signed.buffer, signed.byteOffset, signed.byteLength)
  return {
    log: toHex(signed.subarray(at, at + 8)),
    seq: view.getUint16(at + 8) * 0x100000000 + view.getUint32(at + 10),
  }
}

function uuidFromHex(h: string): string {
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/**
 * Decodes signed bytes (from the wire or the store). Every length is checked against the limits
 * before it is used; the payload must already be in canonical form (re-encoding gives the same
 * bytes), so one event has exactly one encoding.
 */
export function decodeSigned(bytes: Uint8Array, trusted = false): EventFields {
  const fail = (why: string): never => {
    throw new MalformedEventError(`signed bytes: ${why}`)
  }
  if (bytes.byteLength < SIGNED_BYTES_MIN) fail('too short')
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) fail(`bad magic (not ${SIGNED_MAGIC})`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  // One Buffer over the bytes for every hex and UTF-8 field (toString of a range), not a view
  // per field: a rebuild decodes every event of the log.
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let o = 4
  const type = EVENT_TYPES[bytes[o++] - 1]
  if (type === undefined) throw new UnknownEventTypeError(`unknown event type code ${bytes[4]}`)
  const eventId = uuidFromHex(buf.toString('hex', o, o + 16))
  o += 16
  const wallMs = view.getUint32(o) * 0x10000 + view.getUint16(o + 4)
  const counter = view.getUint16(o + 6)
  o += 8
  const author = buf.toString('hex', o, o + 32) as AuthorKey
  o += 32
  const targetLen = view.getUint16(o)
  o += 2
  if (targetLen < 1 || targetLen > TARGET_ID_BYTES_MAX) fail(`target length ${targetLen}`)
  if (o + targetLen + 1 > bytes.byteLength) fail('truncated target')
  if (!trusted && !isUtf8(bytes.subarray(o, o + targetLen))) fail('target is not valid UTF-8')
  const targetId = buf.toString('utf8', o, o + targetLen)
  o += targetLen
  const parentCount = bytes[o++]
  if (parentCount > PARENTS_MAX) fail(`${parentCount} parents (max ${PARENTS_MAX})`)
  if (o + 32 * parentCount + 4 > bytes.byteLength) fail('truncated parents')
  const parents: Digest[] = []
  for (let i = 0; i < parentCount; i++) {
    const p = buf.toString('hex', o, o + 32) as Digest
    if (i > 0 && !(parents[i - 1] < p)) fail('parents not strictly ascending')
    parents.push(p)
    o += 32
  }
  const payloadLen = view.getUint32(o)
  o += 4
  if (payloadLen > PAYLOAD_BYTES_MAX)
    throw new PayloadTooLargeError(`payload is ${payloadLen} bytes; the limit is ${PAYLOAD_BYTES_MAX}`)
  if (o + payloadLen + 2 + LOG_TRAILER_BYTES > bytes.byteLength) fail('truncated payload')
  // Invalid UTF-8 would decode to U+FFFD and re-encode to other bytes: two encodings of one event.
  if (!trusted && !isUtf8(bytes.subarray(o, o + payloadLen))) fail('payload is not valid UTF-8')
  const payloadText = buf.toString('utf8', o, o + payloadLen)
  o += payloadLen
  const dims = view.getUint16(o)
  o += 2
  if (o + 4 * dims + LOG_TRAILER_BYTES !== bytes.byteLength)
    fail('vector length and log position do not match the remaining bytes')
  let payload: unknown
  try {
    payload = JSON.parse(payloadText)
  } catch {
    fail('payload is not JSON')
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
    fail('payload is not a JSON object')
  if (!trusted && !isCanonicalText(payload, payloadText)) fail('payload is not in canonical JSON form')
  const p = payload as JsonObject
  const vectorUpsert = type === 'vector_update' && p.op === 'upsert'
  if (vectorUpsert) {
    if (dims < 1 || dims > VECTOR_DIMENSIONS_MAX)
      fail(`a vector upsert carries 1..${VECTOR_DIMENSIONS_MAX} values, got ${dims}`)
    if ('values' in p) fail('a vector upsert carries its values packed, not in the JSON part')
    const values = new Array<number>(dims)
    for (let i = 0; i < dims; i++, o += 4) {
      const v = view.getFloat32(o, true)
      if (!Number.isFinite(v)) fail(`vector values[${i}] is not finite`)
      values[i] = v
    }
    // `values` first would change the key order of the object; JSON order is irrelevant here
    // (canonical JSON sorts keys), so append it.
    p.values = values
  } else if (dims !== 0) fail('only a vector upsert carries packed values')
  // The log position (readLogPosition), from this call's views.
  const at = bytes.byteLength - LOG_TRAILER_BYTES
  const log = buf.toString('hex', at, at + 8)
  const seq = view.getUint16(at + 8) * 0x100000000 + view.getUint32(at + 10)
  return {
    eventId,
    type,
    targetId,
    payload: payload as JsonObject,
    author,
    hlc: { wallMs, counter },
    parents,
    log,
    seq,
  }
}

/** The event type of canonical signed bytes (byte 4 after the magic), without decoding the
 *  rest; undefined when the bytes are not an event. */
export function eventTypeOfSigned(signed: Uint8Array): EventType | undefined {
  if (signed.byteLength < 5) return undefined
  for (let i = 0; i < 4; i++) if (signed[i] !== MAGIC[i]) return undefined
  return EVENT_TYPES[signed[4] - 1]
}

export function digestOf(signed: Uint8Array): Digest {
  return sha256Hex(signed) as Digest
}

/** Reads only the HLC key and parents from signed bytes (hot path of ancestry walks). */
export function readMeta(signed: Uint8Array): { hlcKey: string; parents: Digest[]; type: EventType } {
  const view = new DataView(signed.buffer, signed.byteOffset, signed.byteLength)
  const wallMs = view.getUint32(21) * 0x10000 + view.getUint16(25)
  const counter = view.getUint16(27)
  const hlcKey = wallMs.toString(16).padStart(12, '0') + counter.toString(16).padStart(4, '0')
  const targetLen = view.getUint16(61)
  let o = 63 + targetLen
  const count = signed[o++]
  const parents: Digest[] = []
  for (let i = 0; i < count; i++, o += 32) parents.push(toHex(signed.subarray(o, o + 32)) as Digest)
  return { hlcKey, parents, type: EVENT_TYPES[signed[4] - 1] }
}

/** Reads only the type and target from trusted signed bytes (the adapters' change feed: no
 *  payload parse, which for a 768-dimension vector is most of a full decode). */
export function readTypeAndTarget(signed: Uint8Array): { type: EventType; targetId: string } {
  const targetLen = (signed[61] << 8) | signed[62]
  return { type: EVENT_TYPES[signed[4] - 1], targetId: fromUtf8(signed.subarray(63, 63 + targetLen)) }
}
