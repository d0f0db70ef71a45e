/**
 * Errors of the wire layer, told apart by `name` and a stable `code` (sent back in a
 * `Refusal` and counted in stats). All of them are the remote side's fault: bytes that do not
 * decode, or decode into something outside the limits. Local misuse (encoding a value that
 * breaks a limit) throws `WireEncodeError`.
 */

export abstract class WireError extends Error {
  abstract readonly code: string
}

/** The bytes are not a valid message: bad protobuf, wrong field sizes, missing or extra parts. */
export class WireDecodeError extends WireError {
  override readonly name = 'WireDecodeError'
  readonly code = 'wire_malformed'
}

/** The message decodes but a list, frame or field is larger than the limit the reader set. */
export class WireLimitError extends WireError {
  override readonly name = 'WireLimitError'
  readonly code = 'wire_limit'
}

/** A caller asked to encode a message that the limits forbid (a bug on this side). */
export class WireEncodeError extends Error {
  override readonly name = 'WireEncodeError'
  readonly code = 'wire_encode'
}

export function isWireError(err: unknown): err is WireError {
  return err instanceof WireError
}
