/**
 * Errors of the mesh, told apart by `name` and a stable `code`:
 *
 * - `RemoteProtocolError` subclasses: the remote peer broke the protocol or refused us (its
 *   fault, or its decision). Wire decode errors (src/wire/errors.ts) are of this kind too.
 * - `LocalNetError` subclasses: this node was asked for something it cannot do (bad config,
 *   not started, a non-member address).
 * - `NetTimeoutError`: an operation ran out of time (neither side's fault provably).
 */

export abstract class RemoteProtocolError extends Error {
  abstract readonly code: string
}

/** The remote answered with a `Refusal` (its `code` is kept in `remoteCode`). */
export class RemoteRefusedError extends RemoteProtocolError {
  override readonly name = 'RemoteRefusedError'
  readonly code = 'remote_refused'
  readonly remoteCode: string
  constructor(remoteCode: string, message: string) {
    super(`peer refused: ${remoteCode}: ${message}`)
    this.remoteCode = remoteCode
  }
}

/** The remote sent frames in an order or shape the protocol does not allow. */
export class UnexpectedMessageError extends RemoteProtocolError {
  override readonly name = 'UnexpectedMessageError'
  readonly code = 'unexpected_message'
}

/** The remote opened our protocol streams faster than the per-peer rate allows. */
export class StreamRateLimitedError extends RemoteProtocolError {
  override readonly name = 'StreamRateLimitedError'
  readonly code = 'rate_limited'
}

/** The remote served an event whose digest is not the one asked for. */
export class FetchMismatchError extends RemoteProtocolError {
  override readonly name = 'FetchMismatchError'
  readonly code = 'fetch_mismatch'
}

/** A session's stream ended before the session did. Not proof of misbehaviour: the peer may
 *  have failed on its own side (a full write queue, a timeout under load, a restart) or the
 *  connection dropped; so it is not a strike, and the session is retried (docs/MESH.md). */
export class StreamEndedEarlyError extends RemoteProtocolError {
  override readonly name = 'StreamEndedEarlyError'
  readonly code = 'stream_ended'
}

/** The peer closed a connection we dialled right after the handshake: most often its
 *  connection gater refused us (we are not in its members list, or the pnet key differs). */
export class PeerClosedError extends RemoteProtocolError {
  override readonly name = 'PeerClosedError'
  readonly code = 'peer_closed'
}

export abstract class LocalNetError extends Error {
  abstract readonly code: string
}

/** The network configuration is invalid (limits, addresses, keys). */
export class NetConfigError extends LocalNetError {
  override readonly name = 'NetConfigError'
  readonly code = 'net_config'
}

/** A bootstrap, members or swarm key file does not follow its format (line numbers included). */
export class PeerFileFormatError extends LocalNetError {
  override readonly name = 'PeerFileFormatError'
  readonly code = 'peer_file_format'
}

/** The peer is not on the federation's allow-list. */
export class NotAMemberError extends LocalNetError {
  override readonly name = 'NotAMemberError'
  readonly code = 'not_a_member'
}

/** The network is not running (start() not called, or stop() called). */
export class NetworkNotRunningError extends LocalNetError {
  override readonly name = 'NetworkNotRunningError'
  readonly code = 'not_running'
}

export class NetTimeoutError extends Error {
  override readonly name = 'NetTimeoutError'
  readonly code = 'timeout'
}

/** The node cannot reconcile yet: its event index is still loading after start-up. */
export class IndexNotReadyError extends LocalNetError {
  override readonly name = 'IndexNotReadyError'
  readonly code = 'not_ready'
}

/** A peer broke the reconciliation rules too often (forged or withheld events, malformed
 *  messages): it is refused for a while. */
export class PeerBannedError extends LocalNetError {
  override readonly name = 'PeerBannedError'
  readonly code = 'peer_banned'
}

/** A peer sent a frame on the direct fan-out stream (`/gkm/sync/direct/1.0.0`) that is not one:
 *  too large, an unknown kind, lengths that do not add up. `reason` says which; the stream is
 *  cut and the peer refused on that protocol for a while (docs/MESH.md "Direct fan-out"). */
export class DirectFrameError extends RemoteProtocolError {
  override readonly name = 'DirectFrameError'
  readonly code = 'bad_direct_frame'
  readonly reason: string
  constructor(reason: string, message: string) {
    super(`bad direct frame (${reason}): ${message}`)
    this.reason = reason
  }
}

/** A peer sent too many events that fail their checks (signature, membership, schema) on the
 *  direct fan-out stream: the stream is cut and the peer refused on that protocol for a while. */
export class DirectPeerRejectedError extends RemoteProtocolError {
  override readonly name = 'DirectPeerRejectedError'
  readonly code = 'direct_rejected'
}
