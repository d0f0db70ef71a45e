/**
 * Frames of the direct fan-out stream (`/gkm/sync/direct/1.0.0`, docs/PROTOCOL.md "Direct
 * fan-out"). A stream is a sequence of frames, each:
 *
 *   u32 BE  length of the rest of the frame (at most DIRECT_FRAME_BYTES_MAX)
 *   u8      kind: 1 = one event
 *   u8      covered count c (at most DIRECT_COVERED_MAX)
 *   c x 4   covered peer tags: peers this copy was sent to (and its senders), so a receiver does
 *           not relay it there again
 *   u32 BE  signed length s (at most EVENT_SIGNED_BYTES_MAX)
 *   s       the event's canonical signed bytes
 *   64      its Ed25519 signature
 *
 * Pure: no I/O. The decoder buffers at most one frame and refuses a frame by its length prefix
 * before buffering it.
 */
import { createHash } from 'node:crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { SIGNATURE_BYTES } from '../wire/index.ts'
import { DIRECT_COVERED_MAX, DIRECT_FRAME_BYTES_MAX, EVENT_SIGNED_BYTES_MAX } from './constants.ts'
import { DirectFrameError } from './errors.ts'

export const DIRECT_KIND_EVENT = 1
export const PEER_TAG_BYTES = 4

export interface DirectFrame {
  /** Peer tags (PEER_TAG_BYTES each) the copy has reached or is being sent to. */
  readonly covered: readonly number[]
  readonly signed: Uint8Array
  readonly signature: Uint8Array
}

/** A peer's tag: the first 4 bytes of sha256(peer id text), as an unsigned number. Collisions
 *  only cost a missed relay, which reconciliation repairs. */
export function peerTag(peerId: string): number {
  return createHash('sha256').update(peerId).digest().readUInt32BE(0)
}

/** Encodes one frame, length prefix included. `covered` beyond DIRECT_COVERED_MAX is cut. */
export function encodeDirectFrame(frame: DirectFrame): Uint8Array {
  if (frame.signature.byteLength !== SIGNATURE_BYTES)
    throw new RangeError(`a signature is ${SIGNATURE_BYTES} bytes, got ${frame.signature.byteLength}`)
  const covered =
    frame.covered.length > DIRECT_COVERED_MAX ? frame.covered.slice(0, DIRECT_COVERED_MAX) : frame.covered
  const rest = 2 + PEER_TAG_BYTES * covered.length + 4 + frame.signed.byteLength + SIGNATURE_BYTES
  if (rest > DIRECT_FRAME_BYTES_MAX) throw new RangeError(`a direct frame of ${rest} bytes is over the limit`)
  const out = Buffer.allocUnsafe(4 + rest)
  let o = out.writeUInt32BE(rest, 0)
  o = out.writeUInt8(DIRECT_KIND_EVENT, o)
  o = out.writeUInt8(covered.length, o)
  for (const tag of covered) o = out.writeUInt32BE(tag >>> 0, o)
  o = out.writeUInt32BE(frame.signed.byteLength, o)
  out.set(frame.signed, o)
  o += frame.signed.byteLength
  out.set(frame.signature, o)
  return out
}

function decodeBody(body: Uint8Array): DirectFrame {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  if (buf.byteLength < 2) throw new DirectFrameError('truncated', 'a frame is at least 2 bytes')
  const kind = buf.readUInt8(0)
  if (kind !== DIRECT_KIND_EVENT) throw new DirectFrameError('unknown_kind', `frame kind ${kind}`)
  const count = buf.readUInt8(1)
  if (count > DIRECT_COVERED_MAX)
    throw new DirectFrameError('covered_too_many', `${count} covered peers (at most ${DIRECT_COVERED_MAX})`)
  let o = 2
  if (buf.byteLength < o + PEER_TAG_BYTES * count + 4)
    throw new DirectFrameError('truncated', 'the frame ends inside its covered list')
  const covered: number[] = []
  for (let i = 0; i < count; i++, o += PEER_TAG_BYTES) covered.push(buf.readUInt32BE(o))
  const signedLength = buf.readUInt32BE(o)
  o += 4
  if (signedLength > EVENT_SIGNED_BYTES_MAX)
    throw new DirectFrameError(
      'event_too_large',
      `signed bytes of ${signedLength} (at most ${EVENT_SIGNED_BYTES_MAX})`,
    )
  if (buf.byteLength !== o + signedLength + SIGNATURE_BYTES)
    throw new DirectFrameError(
      'length_mismatch',
      `frame of ${buf.byteLength} bytes for ${signedLength} signed bytes and a ${SIGNATURE_BYTES}-byte signature`,
    )
  return {
    covered,
    signed: body.subarray(o, o + signedLength),
    signature: body.subarray(o + signedLength),
  }
}

/** Splits a byte stream into frames; throws DirectFrameError on the first bad one (the stream
 *  is then to be cut: what follows cannot be trusted to be aligned). */
export class DirectFrameDecoder {
  readonly #buf = new Uint8ArrayList()

  /** Bytes held for an incomplete frame (at most one frame plus its prefix). */
  get buffered(): number {
    return this.#buf.byteLength
  }

  push(chunk: Uint8Array | Uint8ArrayList): DirectFrame[] {
    this.#buf.append(chunk)
    const out: DirectFrame[] = []
    for (;;) {
      if (this.#buf.byteLength < 4) return out
      const length = this.#buf.getUint32(0)
      if (length > DIRECT_FRAME_BYTES_MAX)
        throw new DirectFrameError(
          'too_large',
          `frame of ${length} bytes (at most ${DIRECT_FRAME_BYTES_MAX})`,
        )
      if (this.#buf.byteLength < 4 + length) return out
      const body = this.#buf.subarray(4, 4 + length)
      this.#buf.consume(4 + length)
      out.push(decodeBody(body))
    }
  }
}
