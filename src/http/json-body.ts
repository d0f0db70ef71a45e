/**
 * Request bodies: bytes -> JSON, refusing what JSON.parse would take silently or slowly.
 * - invalid UTF-8 is refused, not turned into U+FFFD (the stored text would differ from what
 *   the client sent);
 * - nesting deeper than BODY_JSON_DEPTH_MAX is refused by a scan before parsing;
 * - an empty (or all-blank) body is `undefined` (routes that allow it treat it as `{}`).
 */
import { BODY_JSON_DEPTH_MAX } from './constants.ts'
import { BadRequestError } from './errors.ts'

const UTF8 = new TextDecoder('utf-8', { fatal: true })

/** Throws BadRequestError naming what is wrong with the body. */
export function parseJsonBody(body: Uint8Array, depthMax: number = BODY_JSON_DEPTH_MAX): unknown {
  let text: string
  try {
    text = UTF8.decode(body)
  } catch {
    throw new BadRequestError(
      `request body is not valid UTF-8 (at byte ${firstInvalidUtf8(body)}); send JSON text in UTF-8`,
    )
  }
  if (text.trim() === '') return undefined
  const deep = depthExceededAt(text, depthMax)
  if (deep >= 0)
    throw new BadRequestError(
      `request body is nested deeper than ${depthMax} levels (at character ${deep}); payloads and values may nest 32 levels`,
    )
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new BadRequestError(`request body is not valid JSON: ${(err as Error).message}`)
  }
}

/** Index of the bracket that opens level `max + 1` outside strings, or -1. Linear, no stack. */
export function depthExceededAt(text: string, max: number): number {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
      continue
    }
    if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return -1
}

/** Offset of the first byte that breaks UTF-8 (for the error message). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let lo = 0
  let hi = bytes.byteLength
  // The longest valid prefix, by bisection on whole-prefix validity (decoding is fast).
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true })
      lo = mid
    } catch {
      hi = mid - 1
    }
  }
  // The decoder stops where a sequence cannot go on; name the byte that started it.
  let i = lo - 1
  while (i >= 0 && i >= lo - 3 && bytes[i] >= 0x80 && bytes[i] <= 0xbf) i--
  return i >= 0 && i >= lo - 3 && bytes[i] >= 0xc0 ? i : lo
}
