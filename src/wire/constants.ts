/**
 * Sizes fixed by the wire format itself. Limits a reader chooses (list lengths, frame bytes)
 * are passed in as `WireLimits`; the net layer sets them in src/net/constants.ts.
 */

/** An Ed25519 signature is 64 bytes (RFC 8032). */
export const SIGNATURE_BYTES = 64

/** A digest is a sha256: 32 bytes. */
export const DIGEST_BYTES = 32

/** An unsigned varint length prefix of a frame is at most this long: 5 bytes encode 2^35 - 1,
 *  far beyond any frame we accept, so a longer prefix is refused before it is read. */
export const FRAME_PREFIX_BYTES_MAX = 5
