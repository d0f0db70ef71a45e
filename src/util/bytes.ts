/**
 * Byte helpers shared by every layer: hex and base64 codecs with strict parsing.
 * Buffer is used for speed; callers get plain Uint8Array views.
 */

import { isUtf8 as nodeIsUtf8 } from 'node:buffer'

const HEX_RE = /^(?:[0-9a-f]{2})*$/

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Strict lowercase hex; returns undefined on anything else (odd length, uppercase, other chars). */
export function fromHex(hex: string): Uint8Array | undefined {
  if (!HEX_RE.test(hex)) return undefined
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

/** A Buffer over the same memory as `bytes` (for its native hex and UTF-8 writers). */
export function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/** Strict standard base64 (with padding); returns undefined on malformed input. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !B64_RE.test(text)) return undefined
  const buf = Buffer.from(text, 'base64')
  // Reject non-canonical encodings (stray bits in the last symbol) by round-tripping.
  if (buf.toString('base64') !== text) return undefined
  return new Uint8Array(buf)
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0
}

export function utf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'))
}

/** Whether the bytes are well-formed UTF-8 (native check, no decoding). */
export function isUtf8(bytes: Uint8Array): boolean {
  return bytes.byteLength === 0 || nodeIsUtf8(bytes)
}

export function fromUtf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
}
