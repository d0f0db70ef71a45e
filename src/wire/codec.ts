/**
 * Bounded decoders of every wire message. Each one passes list limits to the protons decoder
 * (so a list is refused while it is read, not after) and then checks fixed sizes (signatures,
 * digests), byte lengths and the rules protobuf cannot state (exactly one of two fields).
 * Every failure is a `WireDecodeError` or `WireLimitError`; nothing else escapes.
 */
import type { Uint8ArrayList } from 'uint8arraylist'
import { DIGEST_BYTES, SIGNATURE_BYTES } from './constants.ts'
import { WireDecodeError, WireError, WireLimitError } from './errors.ts'
import { Announce, GossipEvent, GossipMessage } from './pb/gossip.ts'
import { PeerRecord, PeersRequest, PeersResponse } from './pb/peers.ts'
import {
  Event,
  LogBucket,
  LogHead,
  LogProbe,
  LogRange,
  LogSummary,
  PullRequest,
  PullResponse,
  PushRequest,
  PushResponse,
  ReconcileFrame,
  ReconRange,
  Refusal,
  ResolveRequest,
  ResolveResponse,
} from './pb/sync.ts'

/** What a reader accepts. All required: a caller states every limit. */
export interface WireLimits {
  /** Events in one push request or one pull frame; also rejections and digests in a push response. */
  readonly eventsMax: number
  /** Signed bytes of one event (header + target + parents + payload). */
  readonly signedBytesMax: number
  /** Digests in one pull request (fetch mode). */
  readonly digestsMax: number
  /** Event types in one pull request. */
  readonly typesMax: number
  /** Events in one gossip message (a publisher's batch). */
  readonly gossipEventsMax: number
  /** UTF-8 bytes of a short text field: cursor, error code and message, ids, strategy. */
  readonly textBytesMax: number
  /** UTF-8 bytes of a manual-merge value (JSON text). */
  readonly valueJsonBytesMax: number
}

type Bytes = Uint8Array | Uint8ArrayList

/** The largest time a JavaScript Date holds (ECMA-262 §21.4.1.22): a larger since_ms has no
 *  ISO 8601 form, so it is refused here rather than failing later in the pull handler. */
const DATE_MS_MAX = 8.64e15

/** Runs a protons decoder, mapping its failures to named wire errors. */
function run<T>(what: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (err instanceof WireError) throw err
    if ((err as Error)?.name === 'MaxLengthError') {
      throw new WireLimitError(`${what}: ${(err as Error).message}`, { cause: err })
    }
    throw new WireDecodeError(
      `${what}: not a valid protobuf message (${(err as Error)?.message ?? String(err)})`,
      { cause: err },
    )
  }
}

function textBytes(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

function checkText(what: string, s: string, max: number): void {
  if (textBytes(s) > max) throw new WireLimitError(`${what} is ${textBytes(s)} bytes; the limit is ${max}`)
}

function checkEvent(
  what: string,
  e: { signed: Uint8Array; signature: Uint8Array },
  limits: WireLimits,
): void {
  if (e.signature.byteLength !== SIGNATURE_BYTES) {
    throw new WireDecodeError(
      `${what}: signature is ${e.signature.byteLength} bytes, expected ${SIGNATURE_BYTES}`,
    )
  }
  if (e.signed.byteLength === 0) throw new WireDecodeError(`${what}: signed bytes are empty`)
  if (e.signed.byteLength > limits.signedBytesMax) {
    throw new WireLimitError(
      `${what}: signed bytes are ${e.signed.byteLength}; the limit is ${limits.signedBytesMax}`,
    )
  }
}

function checkDigest(what: string, d: Uint8Array): void {
  if (d.byteLength !== DIGEST_BYTES)
    throw new WireDecodeError(`${what} is ${d.byteLength} bytes, expected ${DIGEST_BYTES}`)
}

function checkRefusal(what: string, r: Refusal | undefined, limits: WireLimits): void {
  if (r === undefined) return
  if (r.code === '') throw new WireDecodeError(`${what}: refusal without a code`)
  checkText(`${what}.code`, r.code, limits.textBytesMax)
  checkText(`${what}.message`, r.message, limits.textBytesMax)
}

/** A decoded gossip payload: complete events (one or a batch) or an announcement of one. */
export type GossipPayload =
  | {
      readonly kind: 'events'
      readonly events: ReadonlyArray<{ readonly signed: Uint8Array; readonly signature: Uint8Array }>
    }
  | { readonly kind: 'announce'; readonly digest: Uint8Array; readonly size: number }

export function decodeGossipMessage(bytes: Bytes, limits: WireLimits): GossipPayload {
  const m = run('GossipMessage', () =>
    GossipMessage.decode(bytes, { limits: { events: limits.gossipEventsMax } }),
  )
  if ((m.events.length === 0) === (m.announce === undefined)) {
    throw new WireDecodeError('GossipMessage: either events or an announce must be set, not both')
  }
  if (m.events.length > 0) {
    for (const [i, e] of m.events.entries()) checkEvent(`GossipMessage.events[${i}]`, e, limits)
    return { kind: 'events', events: m.events.map((e) => ({ signed: e.signed, signature: e.signature })) }
  }
  const a = m.announce as Announce
  checkDigest('GossipMessage.announce.digest', a.digest)
  if (a.size === 0) throw new WireDecodeError('GossipMessage.announce.size must be > 0')
  if (a.size > limits.signedBytesMax + SIGNATURE_BYTES) {
    throw new WireLimitError(
      `announced event is ${a.size} bytes; the limit is ${limits.signedBytesMax + SIGNATURE_BYTES}`,
    )
  }
  return { kind: 'announce', digest: a.digest, size: a.size }
}

export function encodeGossipEvent(signed: Uint8Array, signature: Uint8Array): Uint8Array {
  return GossipMessage.encode({ events: [{ signed, signature } as GossipEvent] })
}

export function encodeGossipEvents(
  events: ReadonlyArray<{ readonly signed: Uint8Array; readonly signature: Uint8Array }>,
): Uint8Array {
  return GossipMessage.encode({ events: events.map((e) => ({ signed: e.signed, signature: e.signature })) })
}

export function encodeGossipAnnounce(digest: Uint8Array, size: number): Uint8Array {
  return GossipMessage.encode({ announce: { digest, size } as Announce })
}

export function decodePushRequest(bytes: Bytes, limits: WireLimits): PushRequest {
  const m = run('PushRequest', () => PushRequest.decode(bytes, { limits: { events: limits.eventsMax } }))
  for (const [i, e] of m.events.entries()) checkEvent(`PushRequest.events[${i}]`, e, limits)
  return m
}

export function decodePushResponse(bytes: Bytes, limits: WireLimits): PushResponse {
  const m = run('PushResponse', () =>
    PushResponse.decode(bytes, { limits: { rejected: limits.eventsMax, digests: limits.eventsMax } }),
  )
  for (const [i, d] of m.digests.entries()) checkDigest(`PushResponse.digests[${i}]`, d)
  for (const [i, r] of m.rejected.entries()) {
    checkText(`PushResponse.rejected[${i}].event_id`, r.eventId, limits.textBytesMax)
    checkText(`PushResponse.rejected[${i}].error`, r.error, limits.textBytesMax)
    checkText(`PushResponse.rejected[${i}].message`, r.message, limits.textBytesMax)
  }
  if (m.accepted > limits.eventsMax || m.duplicates > limits.eventsMax) {
    throw new WireLimitError(`PushResponse counts ${m.accepted}/${m.duplicates} exceed ${limits.eventsMax}`)
  }
  checkRefusal('PushResponse.error', m.error, limits)
  return m
}

export function decodePullRequest(bytes: Bytes, limits: WireLimits): PullRequest {
  const m = run('PullRequest', () =>
    PullRequest.decode(bytes, { limits: { types: limits.typesMax, digests: limits.digestsMax } }),
  )
  checkText('PullRequest.cursor', m.cursor, limits.textBytesMax)
  for (const [i, t] of m.types.entries()) checkText(`PullRequest.types[${i}]`, t, limits.textBytesMax)
  for (const [i, d] of m.digests.entries()) checkDigest(`PullRequest.digests[${i}]`, d)
  if (
    m.sinceMs !== undefined &&
    (!Number.isSafeInteger(m.sinceMs) || m.sinceMs < 0 || m.sinceMs > DATE_MS_MAX)
  ) {
    throw new WireDecodeError('PullRequest.since_ms is out of range')
  }
  const modes = (m.sinceMs !== undefined ? 1 : 0) + (m.cursor !== '' ? 1 : 0) + (m.digests.length > 0 ? 1 : 0)
  if (modes > 1) throw new WireDecodeError('PullRequest: since_ms, cursor and digests are exclusive')
  return m
}

export function decodePullResponse(bytes: Bytes, limits: WireLimits): PullResponse {
  const m = run('PullResponse', () => PullResponse.decode(bytes, { limits: { events: limits.eventsMax } }))
  for (const [i, e] of m.events.entries()) checkEvent(`PullResponse.events[${i}]`, e, limits)
  checkText('PullResponse.next_cursor', m.nextCursor, limits.textBytesMax)
  checkRefusal('PullResponse.error', m.error, limits)
  if (m.error !== undefined && !m.done)
    throw new WireDecodeError('PullResponse: a refusal must be the last frame')
  return m
}

export function decodeResolveRequest(bytes: Bytes, limits: WireLimits): ResolveRequest {
  const m = run('ResolveRequest', () => ResolveRequest.decode(bytes))
  checkText('ResolveRequest.conflict_id', m.conflictId, limits.textBytesMax)
  checkText('ResolveRequest.strategy', m.strategy, limits.textBytesMax)
  checkText('ResolveRequest.value_json', m.valueJson, limits.valueJsonBytesMax)
  if (m.conflictId === '') throw new WireDecodeError('ResolveRequest.conflict_id is empty')
  return m
}

export function decodeResolveResponse(bytes: Bytes, limits: WireLimits): ResolveResponse {
  const m = run('ResolveResponse', () => ResolveResponse.decode(bytes))
  checkText('ResolveResponse.conflict_id', m.conflictId, limits.textBytesMax)
  checkText('ResolveResponse.strategy', m.strategy, limits.textBytesMax)
  if (m.event !== undefined) checkEvent('ResolveResponse.event', m.event, limits)
  checkRefusal('ResolveResponse.error', m.error, limits)
  if ((m.event === undefined) === (m.error === undefined)) {
    throw new WireDecodeError('ResolveResponse: exactly one of event and error must be set')
  }
  return m
}

/** Bounds of a reconciliation frame besides the common limits (the core's session limits). */
export interface ReconcileLimits {
  readonly rangesMax: number
  /** Ids of one range (ids and wanted each). */
  readonly idsMax: number
  /** Digests of one fetch request. */
  readonly fetchMax: number
  /** Log summaries in one frame, and log ranges in one fetch. */
  readonly logsMax: number
  /** Log buckets in one frame (default LOG_BUCKETS_PER_FRAME). */
  readonly logBucketsMax?: number
}

/** Log buckets in one reconciliation frame: a bucket is at most ~110 bytes (a full-length
 *  prefix), usually ~25, so 2,048 of them stay far below a frame (docs/LIMITS.md). */
export const LOG_BUCKETS_PER_FRAME = 2_048
/** Runs one LogRange carries besides its first (a node's hole runs inside one log): 4,096
 *  runs are at most ~80 KB of varints, within a frame. */
export const LOG_RANGE_RUNS_MAX = 4_096
/** Merkle tree nodes in one reconciliation frame (a log's peaks are at most 48; a descent sends
 *  two nodes per log a round). */
export const LOG_PROBES_PER_FRAME = 2_048
/** Hex digits of a log bucket's prefix, at most: a log's key (author ‖ log) has 80. */
export const LOG_BUCKET_PREFIX_MAX = 80
/** Bytes of a log bucket's fingerprint. */
export const LOG_BUCKET_FINGERPRINT_BYTES = 16

/** A reconciliation answer's `accepted` count: the events the peer stored since its previous
 *  answer. In the log phase that is not bounded by one frame (stores finish after the frames
 *  that brought them), so the wire bounds it only by its type (uint32) and the session checks it
 *  against the events it pushed (more is a protocol error). A count taken for a frame's
 *  `eventsMax` cut off honest peers under load: docs/BENCHMARKS-MESH.md. */
export const RECONCILE_ACCEPTED_MAX = 0xffff_ffff

/** Hole runs one log summary lists (docs/PROTOCOL.md "Log phase"). */
export const LOG_SUMMARY_HOLES_MAX = 16

/** Positions and lengths of a log are u48 (docs/PROTOCOL.md "Signed event bytes"). */
const LOG_POSITION_MAX = 2n ** 48n - 1n

function checkLogId(what: string, author: Uint8Array, log: Uint8Array): void {
  if (author.byteLength !== 32)
    throw new WireLimitError(`${what}.author must be 32 bytes, got ${author.byteLength}`)
  if (log.byteLength !== 8) throw new WireLimitError(`${what}.log must be 8 bytes, got ${log.byteLength}`)
}

function checkPosition(what: string, n: bigint): void {
  if (n < 0n || n > LOG_POSITION_MAX) throw new WireLimitError(`${what} ${n} is outside 0..2^48-1`)
}

export function decodeReconcileFrame(
  bytes: Bytes,
  limits: WireLimits,
  recon: ReconcileLimits,
): ReconcileFrame {
  const m = run('ReconcileFrame', () =>
    ReconcileFrame.decode(bytes, {
      limits: {
        ranges: recon.rangesMax,
        ranges$: { ids: recon.idsMax, wanted: recon.idsMax },
        fetch: recon.fetchMax,
        events: limits.eventsMax,
        logs: recon.logsMax,
        logs$: { holes: 2 * LOG_SUMMARY_HOLES_MAX },
        logFetch: recon.logsMax,
        logFetch$: { runs: 2 * LOG_RANGE_RUNS_MAX },
        logBuckets: recon.logBucketsMax ?? LOG_BUCKETS_PER_FRAME,
        logProbes: LOG_PROBES_PER_FRAME,
      },
    }),
  )
  for (const [i, l] of m.logs.entries()) {
    const what = `ReconcileFrame.logs[${i}]`
    checkLogId(what, l.author, l.log)
    checkPosition(`${what}.contiguous`, l.contiguous)
    checkPosition(`${what}.end`, l.end)
    if (l.end < l.contiguous) throw new WireLimitError(`${what}.end is below contiguous`)
    checkDigest(`${what}.root`, l.root)
    if (l.holes.length % 2 !== 0) throw new WireLimitError(`${what}.holes must be from, to pairs`)
    let last = l.contiguous
    for (let h = 0; h < l.holes.length; h += 2) {
      const [from, to] = [l.holes[h], l.holes[h + 1]]
      if (from < last || to <= from || to > l.end)
        throw new WireLimitError(`${what}.holes must be ascending, non-empty runs within [contiguous, end)`)
      last = to
    }
  }
  for (const [i, b] of m.logBuckets.entries()) {
    const what = `ReconcileFrame.log_buckets[${i}]`
    if (b.prefix.byteLength > LOG_BUCKET_PREFIX_MAX)
      throw new WireLimitError(
        `${what}.prefix has ${b.prefix.byteLength} digits, more than ${LOG_BUCKET_PREFIX_MAX}`,
      )
    if (b.prefix.some((d) => d > 15)) throw new WireLimitError(`${what}.prefix digits must be 0..15`)
    if (b.mode > 2) throw new WireLimitError(`${what}.mode ${b.mode} is not 0, 1 or 2`)
    if (b.fingerprint.byteLength !== 0 && b.fingerprint.byteLength !== LOG_BUCKET_FINGERPRINT_BYTES)
      throw new WireLimitError(
        `${what}.fingerprint must be ${LOG_BUCKET_FINGERPRINT_BYTES} bytes, got ${b.fingerprint.byteLength}`,
      )
  }
  for (const [i, p] of m.logProbes.entries()) {
    const what = `ReconcileFrame.log_probes[${i}]`
    checkLogId(what, p.author, p.log)
    checkPosition(`${what}.length`, p.length)
    checkPosition(`${what}.to`, p.to)
    const size = p.to - p.from
    if (size <= 0n || (size & (size - 1n)) !== 0n || p.from % size !== 0n || p.to > p.length)
      throw new WireLimitError(`${what} must be a tree node: a power-of-two range, aligned, within length`)
    checkDigest(`${what}.hash`, p.hash)
  }
  for (const [i, r] of m.logFetch.entries()) {
    const what = `ReconcileFrame.log_fetch[${i}]`
    checkLogId(what, r.author, r.log)
    checkPosition(`${what}.from`, r.from)
    checkPosition(`${what}.to`, r.to)
    if (r.to <= r.from) throw new WireLimitError(`${what} is empty (to <= from)`)
    if (r.runs.length % 2 !== 0) throw new WireLimitError(`${what}.runs must be from, to pairs`)
    let last = r.to
    for (let h = 0; h < r.runs.length; h += 2) {
      const [from, to] = [r.runs[h], r.runs[h + 1]]
      checkPosition(`${what}.runs`, to)
      if (from < last || to <= from)
        throw new WireLimitError(`${what}.runs must be ascending, non-empty runs after [from, to)`)
      last = to
    }
  }
  if (m.head !== undefined) {
    checkLogId('ReconcileFrame.head', m.head.author, m.head.log)
    checkPosition('ReconcileFrame.head.length', m.head.length)
    if (m.head.length < 1n) throw new WireLimitError('ReconcileFrame.head.length must be at least 1')
    checkDigest('ReconcileFrame.head.root', m.head.root)
    if (m.head.signature.byteLength !== 64)
      throw new WireLimitError(
        `ReconcileFrame.head.signature must be 64 bytes, got ${m.head.signature.byteLength}`,
      )
  }
  checkText('ReconcileFrame.type', m.type, limits.textBytesMax)
  checkText('ReconcileFrame.state_hash', m.stateHash, limits.textBytesMax)
  for (const [i, d] of m.fetch.entries()) checkDigest(`ReconcileFrame.fetch[${i}]`, d)
  for (const [i, e] of m.events.entries()) checkEvent(`ReconcileFrame.events[${i}]`, e, limits)
  checkRefusal('ReconcileFrame.error', m.error, limits)
  // A log-phase answer counts the events the peer stored since its previous answer, which may
  // be several frames' worth; the session checks it against what it pushed (a uint32 on the wire).
  if (m.accepted > RECONCILE_ACCEPTED_MAX)
    throw new WireLimitError(`ReconcileFrame.accepted ${m.accepted} exceeds ${RECONCILE_ACCEPTED_MAX}`)
  return m
}

function varintBytes(n: number): number {
  let len = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    len++
  }
  return len
}

/** Encoded bytes of one `Event` inside a repeated field (tag + length + body), for frame packing. */
export function encodedEventBytes(signedBytes: number, signatureBytes: number = SIGNATURE_BYTES): number {
  const body = 1 + varintBytes(signedBytes) + signedBytes + 1 + varintBytes(signatureBytes) + signatureBytes
  return 1 + varintBytes(body) + body
}

export {
  Announce,
  Event,
  GossipEvent,
  GossipMessage,
  LogBucket,
  LogHead,
  LogProbe,
  LogRange,
  LogSummary,
  PeerRecord,
  PeersRequest,
  PeersResponse,
  PullRequest,
  PullResponse,
  PushRequest,
  PushResponse,
  ReconcileFrame,
  ReconRange,
  Refusal,
  ResolveRequest,
  ResolveResponse,
}

/** What a peer-exchange reader accepts (/gkm/peers/1.0.0). */
export interface PeerExchangeLimits {
  /** Peers in one answer. */
  readonly peersMax: number
  /** Addresses per peer. */
  readonly addrsMax: number
  /** UTF-8 bytes of a peer id or an address. */
  readonly textBytesMax: number
}

export function decodePeersRequest(bytes: Bytes): PeersRequest {
  return run('PeersRequest', () => PeersRequest.decode(bytes))
}

export function decodePeersResponse(bytes: Bytes, limits: PeerExchangeLimits): PeersResponse {
  const m = run('PeersResponse', () =>
    PeersResponse.decode(bytes, { limits: { peers: limits.peersMax, peers$: { addrs: limits.addrsMax } } }),
  )
  for (const [i, p] of m.peers.entries()) {
    if (p.peerId === '') throw new WireDecodeError(`PeersResponse.peers[${i}]: no peer id`)
    checkText(`PeersResponse.peers[${i}].peer_id`, p.peerId, limits.textBytesMax)
    for (const [k, a] of p.addrs.entries())
      checkText(`PeersResponse.peers[${i}].addrs[${k}]`, a, limits.textBytesMax)
  }
  return m
}
