/**
 * The one rule for target ids, used by every path that takes one (push, signed events from
 * peers, GET /state, rollback): an id that is accepted can always be read back, shown in a log
 * and typed in a URL.
 */
import { TARGET_ID_BYTES_MAX } from './constants.ts'

/**
 * Characters no id may hold:
 * - C0 controls, DEL and C1 controls (U+0085 NEL included): they break logs and terminals;
 * - U+2028 / U+2029: line breaks to JavaScript and many log viewers;
 * - bidirectional formatting (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069): they make an id
 *   display as another one ("Trojan Source");
 * - U+FEFF (byte order mark / zero-width no-break space): invisible.
 * Lone surrogates are refused separately (they have no UTF-8 form at all).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const UNSAFE_ID_CHAR_RE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/

function codePoint(s: string): string {
  return `U+${s.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
}

/** UTF-8 length without allocating: a lone surrogate (refused first) never reaches it. */
function utf8Length(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4
      i++
    } else n += 3
  }
  return n
}

/** Why `v` is not an acceptable target id, or undefined when it is. */
export function targetIdProblem(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length === 0) return 'must be a non-empty string'
  if (!v.isWellFormed()) return 'must be valid Unicode (it holds a lone surrogate)'
  const m = UNSAFE_ID_CHAR_RE.exec(v)
  if (m !== null)
    return `must not contain control characters, line separators or bidirectional formatting (found ${codePoint(m[0])} at ${m.index})`
  if (utf8Length(v) > TARGET_ID_BYTES_MAX) return `must be at most ${TARGET_ID_BYTES_MAX} UTF-8 bytes`
  return undefined
}
