/**
 * Limits of the event model. Every number says why it is what it is; the HTTP, wire and store
 * layers take their own limits from here or from config, never from literals.
 */

/** Canonical JSON bytes of one payload. Matrix and strfry cap a whole event at 64 KiB; a
 *  1536-dimension float vector (~30 KB as JSON) fits with room for metadata. */
export const PAYLOAD_BYTES_MAX = 64 * 1024

/** UTF-8 bytes of a target id. Matrix caps ids and state keys at 255 bytes. */
export const TARGET_ID_BYTES_MAX = 255

/** Causal parents per event: the heads the author had seen on the target. Concurrent heads
 *  beyond this are rare (each is an unmerged concurrent write); the newest ones are kept. */
export const PARENTS_MAX = 16

/** Nesting depth of payload JSON: deep enough for documents, shallow enough that a recursive
 *  walk cannot exhaust the stack (10,000-deep JSON is a known attack). */
export const JSON_DEPTH_MAX = 32

/** Dimensions of one vector: covers every common embedding size (<= 4096). */
export const VECTOR_DIMENSIONS_MAX = 4096

/** Fields set or unset by one persona event; names are at most FIELD_NAME_BYTES_MAX bytes. */
export const FIELDS_PER_EVENT_MAX = 256
export const FIELD_NAME_BYTES_MAX = 128

/** Graph node ids and labels, as for target ids. */
export const GRAPH_ID_BYTES_MAX = 255

/** Cells written by one resolution or rollback event. */
export const CELLS_PER_EVENT_MAX = 1024

/** Default allowed clock drift: an event stamped further ahead of our wall clock is refused,
 *  because under LWW a future timestamp would win forever (jlongster's HLC uses 60 s). */
export const HLC_DRIFT_MAX_MS_DEFAULT = 60_000

/** HLC layout: 48-bit wall milliseconds (good until year 10889) and a 16-bit counter. */
export const HLC_WALL_MS_MAX = 2 ** 48 - 1
export const HLC_COUNTER_MAX = 0xffff

/** Ancestry walks (concurrency checks) visit at most this many events, so one query is bounded
 *  even on a target with a long history; beyond it two writes count as concurrent (a conflict
 *  is reported rather than hidden). The walk is deterministic, so every node agrees. */
export const ANCESTRY_VISIT_MAX = 10_000

/** Bytes of the canonical signed encoding before the variable parts (see docs/PROTOCOL.md). */
export const SIGNED_MAGIC = 'GKE3'

/** Events in one push (HTTP or libp2p). 1,000 x 64 KiB bounds one request's decoded size. */
export const PUSH_EVENTS_MAX = 1000

/** Pull page sizes: a default small enough for a quick answer, a max that bounds one frame. */
export const PULL_LIMIT_DEFAULT = 500
export const PULL_LIMIT_MAX = 5000

/** Default and largest page of a target's history (`GET /state/:type/:id/history`): 500
 *  summaries of at most ~1 KB each keep an answer under 1 MB, and a client pages on with the
 *  cursor (a target may hold any number of events). */
export const HISTORY_LIMIT_DEFAULT = 50
export const HISTORY_LIMIT_MAX = 500
/** A history entry summarises its payload to this many characters of canonical JSON (payloads
 *  go up to 64 KiB; the full event is one pull or change-feed entry away). */
export const HISTORY_PREVIEW_CHARS = 200
