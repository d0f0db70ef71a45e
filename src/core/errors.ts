/**
 * Named errors of the core, told apart by `name` (and the stable `code` that goes on the wire
 * and into HTTP answers), never by message text.
 *
 * - `EventRejectedError` subclasses: a peer or client sent an event we refuse. The node keeps
 *   running; the rejection is answered and audited.
 * - `LocalMisuseError` subclasses: a caller of the API asked for something impossible.
 */

export abstract class EventRejectedError extends Error {
  abstract readonly code: string
}

/** A required field is missing or has the wrong type or form. */
export class MalformedEventError extends EventRejectedError {
  override readonly name = 'MalformedEventError'
  readonly code = 'malformed'
}

/** `event_type` is not one of the four known types. */
export class UnknownEventTypeError extends EventRejectedError {
  override readonly name = 'UnknownEventTypeError'
  readonly code = 'unknown_type'
}

/** The payload's canonical JSON is larger than the limit. */
export class PayloadTooLargeError extends EventRejectedError {
  override readonly name = 'PayloadTooLargeError'
  readonly code = 'payload_too_large'
}

/** The payload does not follow its type's schema (docs/EVENTS.md). */
export class InvalidPayloadError extends EventRejectedError {
  override readonly name = 'InvalidPayloadError'
  readonly code = 'invalid_payload'
}

/** The signature does not verify against the author key over the canonical bytes. */
export class BadSignatureError extends EventRejectedError {
  override readonly name = 'BadSignatureError'
  readonly code = 'bad_signature'
}

/** An allow-list is configured and the author is not on it. */
export class UnknownAuthorError extends EventRejectedError {
  override readonly name = 'UnknownAuthorError'
  readonly code = 'unknown_author'
}

/** The event's HLC is further in the future than the allowed drift. */
export class ClockDriftError extends EventRejectedError {
  override readonly name = 'ClockDriftError'
  readonly code = 'clock_drift'
}

/** The same author already signed different content under this `event_id`. */
export class EquivocationError extends EventRejectedError {
  override readonly name = 'EquivocationError'
  readonly code = 'equivocation'
}

/** A Yjs update could not be applied within the time and memory bound, or is not valid Yjs. */
export class UnsafeCrdtUpdateError extends EventRejectedError {
  override readonly name = 'UnsafeCrdtUpdateError'
  readonly code = 'unsafe_crdt_update'
}

export abstract class LocalMisuseError extends Error {
  abstract readonly code: string
}

/** No conflict with this id is known on this node. */
export class ConflictNotFoundError extends LocalMisuseError {
  override readonly name = 'ConflictNotFoundError'
  readonly code = 'conflict_not_found'
}

/** The resolution request cannot be carried out (bad strategy, missing value, no such side). */
export class InvalidResolutionError extends LocalMisuseError {
  override readonly name = 'InvalidResolutionError'
  readonly code = 'invalid_resolution'
}

/** A rollback request names no usable point (unknown event, time before the target existed). */
export class InvalidRollbackError extends LocalMisuseError {
  override readonly name = 'InvalidRollbackError'
  readonly code = 'invalid_rollback'
}

/** A request (pull, state read) is malformed. */
export class InvalidRequestError extends LocalMisuseError {
  override readonly name = 'InvalidRequestError'
  readonly code = 'invalid_request'
}

export function isEventRejectedError(err: unknown): err is EventRejectedError {
  return err instanceof EventRejectedError
}

/** The event could not be checked now (the node is overloaded or stopping); it is not at fault
 *  and should be offered again later. Gossip ignores it rather than penalising the sender. */
export class RetryLaterError extends EventRejectedError {
  override readonly name = 'RetryLaterError'
  readonly code = 'retry_later'
}

/** A peer's reconciliation message breaks the protocol (bounds out of order, wrong sizes, too
 *  many ranges or rounds): the session ends and the peer is counted as misbehaving. */
export class ReconcileProtocolError extends Error {
  override readonly name = 'ReconcileProtocolError'
  readonly code = 'reconcile_protocol'
}
