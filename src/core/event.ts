/**
 * Building, parsing and verifying events. Pure: the clock value, the event id and the signer
 * are inputs.
 */
import { fromHex, toHex } from '../util/bytes.ts'
import { type Signer, verifyEd25519 } from '../util/crypto.ts'
import { isoFromMs, msFromIso } from '../util/time.ts'
import {
  BadSignatureError,
  ClockDriftError,
  MalformedEventError,
  UnknownAuthorError,
  UnknownEventTypeError,
} from './errors.ts'
import {
  decodeSigned,
  digestOf,
  type EventFields,
  encodeSigned,
  isDigest,
  isLogId,
  isLogSeq,
  isUuid,
  normalizePayload,
} from './event-codec.ts'
import { formatHlc, parseHlc } from './hlc.ts'
import { targetIdProblem } from './ids.ts'
import { type PayloadAction, parsePayload } from './payload.ts'
import {
  type AuthorKey,
  type Digest,
  EVENT_TYPE_NAMES,
  eventTypeOf,
  type Hlc,
  type JsonObject,
  type LocalWrite,
  type SignedEvent,
  type SyncEventJson,
} from './types.ts'

/** What a verifier needs besides the event: the time and the membership rule. */
export interface VerifyContext {
  /** Physical time now, ms since the epoch. */
  readonly nowMs: number
  /** Largest allowed lead of an event's HLC wall time over `nowMs`. */
  readonly driftMaxMs: number
  /** When set, only these authors are accepted. */
  readonly allowedAuthors?: ReadonlySet<string>
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

const malformed = (why: string): never => {
  throw new MalformedEventError(why)
}

/**
 * One pass: the payload of an event is parsed once on its way in, and the parse travels with the
 * event object, under a symbol key (not enumerable in JSON, never sent). `CHECKED` holds the
 * signed bytes `checkEvent` computed the event's digest from, so a second check of the same
 * object (the gossip validator's event handed to `pushVerified`) re-checks membership and drift
 * but neither hashes nor parses again. Symbol properties, not a WeakMap and a WeakSet keyed by
 * the event: every event of a catch-up went through both, and V8's ephemeron tables cost more
 * in inserts and in garbage collection than the parse they saved.
 */
const ACTION: unique symbol = Symbol('gkm.action')
const CHECKED: unique symbol = Symbol('gkm.checked')
type Carrying = SignedEvent & { [ACTION]?: PayloadAction; [CHECKED]?: Uint8Array }

/** The parsed payload of an event: parsed at most once per event object. Throws the parse's
 *  named error for a payload that does not parse. */
export function payloadActionOf(e: SignedEvent): PayloadAction {
  const c = e as Carrying
  let a = c[ACTION]
  if (a === undefined) {
    a = parsePayload(e.type, e.payload)
    c[ACTION] = a
  }
  return a
}

/** An all-zero signature: the placeholder of a stamped event until it is signed. */
export const UNSIGNED = new Uint8Array(64)

/** Signs a set of fields; validates the payload first so an author cannot sign garbage. */
export function signEvent(fields: Omit<EventFields, 'author'>, signer: Signer): SignedEvent {
  const e = stampEvent(fields, signer.publicKey)
  return { ...e, signature: signer.sign(e.signed) }
}

/**
 * Encodes an event and computes its digest, without signing: the digest does not depend on the
 * signature, so a group of local writes is stamped one by one and signed together later.
 * `signature` is UNSIGNED until then.
 */
export function stampEvent(
  fields: Omit<EventFields, 'author'>,
  publicKey: Uint8Array,
  payloadChecked: boolean | PayloadAction = false,
): SignedEvent {
  const action = payloadChecked === false ? parsePayload(fields.type, fields.payload) : payloadChecked
  const author = toHex(publicKey) as AuthorKey
  const parents = [...new Set(fields.parents)].sort()
  // Vector values as they read back: float32 (base64 input decoded, numbers rounded).
  const payload = normalizePayload(fields.type, fields.payload)
  const all: EventFields = { ...fields, payload, eventId: fields.eventId.toLowerCase(), author, parents }
  const signed = encodeSigned(all)
  const e: SignedEvent = {
    eventId: all.eventId,
    type: all.type,
    targetId: all.targetId,
    payload,
    author,
    hlc: all.hlc,
    parents,
    log: all.log,
    seq: all.seq,
    signed,
    signature: UNSIGNED,
    digest: digestOf(signed),
  }
  if (action !== true) (e as Carrying)[ACTION] = action
  return e
}

/** Checks the fields of a local write (spec fields only) and returns them typed. */
export function parseLocalWrite(raw: unknown): LocalWrite {
  if (!isObject(raw)) return malformed('event must be a JSON object')
  const { event_id, timestamp, event_type, target_id, payload } = raw
  if (event_id !== undefined && (typeof event_id !== 'string' || !isUuid(event_id.toLowerCase()))) {
    malformed('event_id must be a UUID string')
  }
  if (timestamp !== undefined && (typeof timestamp !== 'string' || msFromIso(timestamp) === undefined)) {
    malformed('timestamp must be an ISO 8601 date-time with a zone (e.g. 2026-01-01T00:00:00.000Z)')
  }
  if (event_type === undefined) malformed('event_type is missing')
  const type = eventTypeOf(event_type)
  if (type === undefined) {
    throw new UnknownEventTypeError(
      `unknown event_type ${JSON.stringify(event_type).slice(0, 60)}; expected one of ${EVENT_TYPE_NAMES.join(', ')}`,
    )
  }
  const idProblem = targetIdProblem(target_id)
  if (idProblem !== undefined) malformed(`target_id ${idProblem}`)
  if (!isObject(payload)) malformed('payload must be a JSON object')
  for (const k of Object.keys(raw)) {
    if (!['event_id', 'timestamp', 'event_type', 'target_id', 'payload'].includes(k)) {
      malformed(
        `unexpected field ${JSON.stringify(k).slice(0, 60)} in a local write (a signed event carries author, hlc, parents and signature together)`,
      )
    }
  }
  return { ...(raw as unknown as LocalWrite), event_type: type }
}

/** True when the object carries an envelope (any of its fields), so it must be a signed event. */
export function hasEnvelope(raw: unknown): boolean {
  return isObject(raw) && ('signature' in raw || 'author' in raw || 'hlc' in raw || 'parents' in raw)
}

/** Parses the JSON form of a signed event into its fields; no signature check yet. */
export function fieldsFromJson(raw: unknown): {
  fields: EventFields
  signature: Uint8Array
  timestamp: string
  /** The `digest` the JSON claims (answers carry it); check it with `checkDigestClaim`. */
  digest?: string
} {
  if (!isObject(raw)) return malformed('event must be a JSON object')
  const r = raw
  for (const k of ['event_id', 'timestamp', 'event_type', 'target_id', 'author', 'hlc', 'signature']) {
    if (r[k] === undefined) malformed(`${k} is missing`)
    if (typeof r[k] !== 'string') malformed(`${k} must be a string`)
  }
  for (const k of Object.keys(r)) {
    if (
      ![
        'event_id',
        'timestamp',
        'event_type',
        'target_id',
        'payload',
        'author',
        'hlc',
        'parents',
        'log',
        'seq',
        'signature',
        'digest',
      ].includes(k)
    ) {
      malformed(`unexpected field ${JSON.stringify(k).slice(0, 60)}`)
    }
  }
  const type = eventTypeOf(r.event_type)
  if (type === undefined)
    throw new UnknownEventTypeError(`unknown event_type ${JSON.stringify(r.event_type).slice(0, 60)}`)
  if (!isObject(r.payload)) malformed('payload must be a JSON object')
  const hlc = parseHlc(r.hlc as string)
  if (hlc === undefined) return malformed('hlc must be "<wallMs>:<counter>" (decimal)')
  if (r.timestamp !== isoFromMs(hlc.wallMs))
    malformed(`timestamp must equal the HLC wall time ${isoFromMs(hlc.wallMs)}`)
  if (!Array.isArray(r.parents)) malformed('parents must be an array of hex digests')
  const parents = r.parents as unknown[]
  for (const p of parents)
    if (typeof p !== 'string' || !isDigest(p)) malformed('parents must be 64-char lowercase hex digests')
  const signature = fromHex(r.signature as string)
  if (signature === undefined || signature.byteLength !== 64)
    return malformed('signature must be 64 bytes in lowercase hex')
  if (!isDigest(r.author as string)) malformed('author must be a 32-byte Ed25519 public key in lowercase hex')
  if (!isUuid((r.event_id as string).toLowerCase())) malformed('event_id must be a UUID')
  if (!isLogId(r.log)) malformed('log must be the 8-byte log id in lowercase hex (16 chars)')
  if (!isLogSeq(r.seq)) malformed('seq must be an integer position in the log, 0 or more')
  if (r.digest !== undefined && (typeof r.digest !== 'string' || !isDigest(r.digest)))
    malformed('digest, when given, must be the 64-char lowercase hex sha256 of the signed bytes')
  return {
    fields: {
      eventId: (r.event_id as string).toLowerCase(),
      type,
      targetId: r.target_id as string,
      payload: r.payload as JsonObject,
      author: r.author as AuthorKey,
      hlc,
      parents: parents as Digest[],
      log: r.log as string,
      seq: r.seq as number,
    },
    signature,
    timestamp: r.timestamp as string,
    ...(r.digest === undefined ? {} : { digest: r.digest as string }),
  }
}

/** A JSON event may carry its `digest` (every answer does); when it does it must be the
 *  digest of the event's signed bytes, so a copied-and-edited event is not taken silently. */
export function checkDigestClaim(claimed: string | undefined, e: SignedEvent): void {
  if (claimed === undefined || claimed === e.digest) return
  // An edited copy usually fails its signature too: that is the error to name.
  if (!verifyEd25519(fromHex(e.author)!, e.signed, e.signature)) throw badSignature(e)
  malformed(
    `digest ${claimed.slice(0, 16)}... does not match the event (its signed bytes hash to ${e.digest.slice(0, 16)}...)`,
  )
}

/** Verifies signature, membership, drift and payload schema of a decoded event. */
export function verifyEvent(
  fields: EventFields,
  signed: Uint8Array,
  signature: Uint8Array,
  ctx: VerifyContext,
): SignedEvent {
  const e = checkEvent(fields, signed, signature, ctx)
  if (!verifyEd25519(fromHex(fields.author)!, signed, signature)) throw badSignature(fields)
  return e
}

export function badSignature(fields: { author: string }): BadSignatureError {
  return new BadSignatureError(`signature does not verify for author ${fields.author.slice(0, 16)}...`)
}

/**
 * Every check but the signature (membership, drift, payload schema); the caller verifies the
 * signature, e.g. for a whole push at once on the crypto pool.
 */
export function checkEvent(
  fields: EventFields,
  signed: Uint8Array,
  signature: Uint8Array,
  ctx: VerifyContext,
): SignedEvent {
  const idProblem = targetIdProblem(fields.targetId)
  if (idProblem !== undefined) malformed(`target_id ${idProblem}`)
  if (ctx.allowedAuthors !== undefined && !ctx.allowedAuthors.has(fields.author)) {
    throw new UnknownAuthorError(`author ${fields.author.slice(0, 16)}... is not a member of this federation`)
  }
  if (fields.hlc.wallMs - ctx.nowMs > ctx.driftMaxMs) {
    throw new ClockDriftError(
      `event time ${isoFromMs(fields.hlc.wallMs)} is ${fields.hlc.wallMs - ctx.nowMs} ms ahead of this node's clock (max ${ctx.driftMaxMs} ms)`,
    )
  }
  const same = fields as Carrying
  if (same[CHECKED] === signed && same.signed === signed && same.signature === signature) return same
  const e: Carrying = {
    eventId: fields.eventId,
    type: fields.type,
    targetId: fields.targetId,
    payload: fields.payload,
    author: fields.author,
    hlc: fields.hlc,
    parents: [...fields.parents],
    log: fields.log,
    seq: fields.seq,
    signed,
    signature,
    digest: digestOf(signed),
    [ACTION]: parsePayload(fields.type, fields.payload),
    [CHECKED]: signed,
  }
  return e
}

/** JSON form of a signed event -> verified event. */
export function eventFromJson(raw: unknown, ctx: VerifyContext): SignedEvent {
  const { fields, signature, digest } = fieldsFromJson(raw)
  const e = verifyEvent(fields, encodeSigned(fields), signature, ctx)
  checkDigestClaim(digest, e)
  return e
}

/** Wire / store form (signed bytes + signature) -> verified event. */
export function eventFromWire(signed: Uint8Array, signature: Uint8Array, ctx: VerifyContext): SignedEvent {
  return verifyEvent(decodeSigned(signed), signed, signature, ctx)
}

/** Store form -> event, trusting bytes this node verified before (replay path: no signature
 *  check, no canonical-form re-check; the digest is reused when the store computed it). */
export function eventFromTrustedBytes(
  signed: Uint8Array,
  signature: Uint8Array,
  digest?: string,
): SignedEvent {
  const f = decodeSigned(signed, true)
  return {
    ...f, // decodeSigned built every field (parents included) fresh for this call
    signed,
    signature,
    digest: (digest as Digest | undefined) ?? digestOf(signed),
  }
}

export function eventToJson(e: SignedEvent): SyncEventJson {
  return {
    event_id: e.eventId,
    timestamp: isoFromMs(e.hlc.wallMs),
    event_type: e.type,
    target_id: e.targetId,
    payload: e.payload,
    author: e.author,
    hlc: formatHlc(e.hlc),
    parents: [...e.parents],
    log: e.log,
    seq: e.seq,
    signature: toHex(e.signature),
    digest: e.digest,
  }
}

export type { EventFields, Hlc }
