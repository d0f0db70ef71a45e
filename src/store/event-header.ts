/**
 * Reads the fixed-offset header of canonical signed bytes (layout in src/core/event-codec.ts)
 * without decoding the payload: the store's hot paths need only the type, event id, HLC, author
 * and target of an event to build its index keys.
 *
 *   0 magic "GKE3" | 4 type | 5 event_id (16) | 21 hlc (8) | 29 author (32) | 61 target_len (2) | 63 target
 *
 * The 8 HLC bytes (u48 wall ms BE, u16 counter BE) sort exactly like `hlcKey()` of the core.
 */
import { SIGNED_MAGIC, TARGET_ID_BYTES_MAX } from '../core/constants.ts'
import { LOG_TRAILER_BYTES } from '../core/event-codec.ts'
import { EVENT_TYPES, type EventType } from '../core/types.ts'
import { utf8 } from '../util/bytes.ts'

const MAGIC = utf8(SIGNED_MAGIC)
export const TYPE_AT = 4
const EVENT_ID_AT = 5
export const HLC_AT = 21
const AUTHOR_AT = 29
export const TARGET_LEN_AT = 61
export const TARGET_AT = 63
/** Header, a 1-byte target, parent count, payload length, vector dimensions and the log
 *  position: the shortest valid encoding. */
export const SIGNED_BYTES_MIN = TARGET_AT + 1 + 1 + 4 + 2 + LOG_TRAILER_BYTES

export interface EventHeader {
  readonly typeCode: number
  readonly type: EventType
  readonly eventId: Uint8Array
  readonly hlc: Uint8Array
  readonly author: Uint8Array
  readonly target: Uint8Array
}

/** Length of the target id when `signed` starts with a well-formed header, else 0. */
function headerTargetLength(signed: Uint8Array): number {
  if (signed.byteLength < SIGNED_BYTES_MIN) return 0
  for (let i = 0; i < MAGIC.byteLength; i++) if (signed[i] !== MAGIC[i]) return 0
  if (EVENT_TYPES[signed[TYPE_AT] - 1] === undefined) return 0
  const targetLen = (signed[TARGET_LEN_AT] << 8) | signed[TARGET_LEN_AT + 1]
  if (targetLen < 1 || targetLen > TARGET_ID_BYTES_MAX) return 0
  if (TARGET_AT + targetLen + 1 + 4 + 2 + LOG_TRAILER_BYTES > signed.byteLength) return 0
  return targetLen
}

/** Whether `signed` can be an event's bytes (the checks of readEventHeader, without its views:
 *  a rebuild checks every event of the log). */
export function isEventHeader(signed: Uint8Array): boolean {
  return headerTargetLength(signed) > 0
}

/** The header fields as views into `signed`, or undefined when the bytes cannot be an event. */
export function readEventHeader(signed: Uint8Array): EventHeader | undefined {
  const targetLen = headerTargetLength(signed)
  if (targetLen === 0) return undefined
  const typeCode = signed[TYPE_AT]
  const type = EVENT_TYPES[typeCode - 1]
  return {
    typeCode,
    type,
    eventId: signed.subarray(EVENT_ID_AT, HLC_AT),
    hlc: signed.subarray(HLC_AT, AUTHOR_AT),
    author: signed.subarray(AUTHOR_AT, TARGET_LEN_AT),
    target: signed.subarray(TARGET_AT, TARGET_AT + targetLen),
  }
}
