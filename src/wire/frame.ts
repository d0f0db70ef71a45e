/**
 * Framing: every message on a protocol stream is `uvarint(length) || body` (the multiformats
 * unsigned varint, as libp2p's `lpStream` writes it). The net layer frames through `lpStream`
 * from @libp2p/utils; this pure version states the format, checks vectors, and lets tests feed
 * arbitrary bytes to the same limits.
 */
import { FRAME_PREFIX_BYTES_MAX } from './constants.ts'
import { WireDecodeError, WireLimitError } from './errors.ts'

export function encodeFrame(body: Uint8Array): Uint8Array {
  const prefix: number[] = []
  let n = body.byteLength
  while (n >= 0x80) {
    prefix.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 0x80)
  }
  prefix.push(n)
  const out = new Uint8Array(prefix.length + body.byteLength)
  out.set(prefix, 0)
  out.set(body, prefix.length)
  return out
}

/** Result of reading frames from a buffer: complete bodies and the unread rest (a partial frame). */
export interface FrameRead {
  readonly frames: Uint8Array[]
  readonly rest: Uint8Array
}

/**
 * Splits `bytes` into complete frames. A length above `frameBytesMax` is refused as soon as its
 * prefix is read (before any body byte is buffered); a prefix longer than 5 bytes is malformed.
 */
export function readFrames(bytes: Uint8Array, frameBytesMax: number): FrameRead {
  const frames: Uint8Array[] = []
  let o = 0
  while (o < bytes.byteLength) {
    let len = 0
    let shift = 1
    let i = o
    let complete = false
    while (i < bytes.byteLength) {
      const b = bytes[i++]
      len += (b & 0x7f) * shift
      shift *= 0x80
      if (i - o > FRAME_PREFIX_BYTES_MAX)
        throw new WireDecodeError('frame length prefix is longer than 5 bytes')
      if ((b & 0x80) === 0) {
        complete = true
        break
      }
    }
    if (!complete) break
    if (len > frameBytesMax) throw new WireLimitError(`frame of ${len} bytes; the limit is ${frameBytesMax}`)
    if (i + len > bytes.byteLength) break
    frames.push(bytes.subarray(i, i + len))
    o = i + len
  }
  return { frames, rest: bytes.subarray(o) }
}
