/**
 * Hybrid logical clock (Kulkarni et al. 2014) as a pure value type. The physical time is always
 * an argument: the core never reads a clock.
 *
 * Order: (wallMs, counter). An event's HLC is greater than every HLC its author had seen,
 * so a causal descendant always sorts after its ancestors.
 */
import { HLC_COUNTER_MAX, HLC_WALL_MS_MAX } from './constants.ts'
import type { Hlc } from './types.ts'

export const HLC_ZERO: Hlc = { wallMs: 0, counter: 0 }

export function compareHlc(a: Hlc, b: Hlc): number {
  return a.wallMs !== b.wallMs ? a.wallMs - b.wallMs : a.counter - b.counter
}

/** Advance for a local event at physical time `nowMs`. Counter overflow moves the wall by 1 ms. */
export function tickHlc(last: Hlc, nowMs: number): Hlc {
  const wall = Math.max(last.wallMs, Math.floor(nowMs))
  if (wall === last.wallMs) {
    return last.counter < HLC_COUNTER_MAX
      ? { wallMs: wall, counter: last.counter + 1 }
      : { wallMs: wall + 1, counter: 0 }
  }
  return { wallMs: wall, counter: 0 }
}

/** Merge a remote HLC into ours (receive rule). The caller has already refused excessive drift. */
export function observeHlc(last: Hlc, remote: Hlc, nowMs: number): Hlc {
  const wall = Math.max(last.wallMs, remote.wallMs, Math.floor(nowMs))
  let counter: number
  if (wall === last.wallMs && wall === remote.wallMs) counter = Math.max(last.counter, remote.counter) + 1
  else if (wall === last.wallMs) counter = last.counter + 1
  else if (wall === remote.wallMs) counter = remote.counter + 1
  else counter = 0
  return counter <= HLC_COUNTER_MAX ? { wallMs: wall, counter } : { wallMs: wall + 1, counter: 0 }
}

/** `"<wallMs>:<counter>"`, decimal, no leading zeros. */
export function formatHlc(h: Hlc): string {
  return `${h.wallMs}:${h.counter}`
}

const HLC_TEXT_RE = /^(0|[1-9]\d{0,14}):(0|[1-9]\d{0,4})$/

export function parseHlc(text: string): Hlc | undefined {
  const m = HLC_TEXT_RE.exec(text)
  if (m === null) return undefined
  const wallMs = Number(m[1])
  const counter = Number(m[2])
  if (wallMs > HLC_WALL_MS_MAX || counter > HLC_COUNTER_MAX) return undefined
  return { wallMs, counter }
}

/** Two hex digits of each byte value. */
const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Fixed-width 16-hex-char key that sorts like the HLC: 12 hex wall + 4 hex counter. Built from
 *  a table of byte digits (a rebuild makes two per event, and Number#toString(16) with padStart
 *  was ~1 us each); an HLC outside the valid range (never made by a parsed event) is written by
 *  the general code, as before. */
export function hlcKey(h: Hlc): string {
  const w = h.wallMs
  const c = h.counter
  if (
    !(Number.isInteger(w) && w >= 0 && w <= HLC_WALL_MS_MAX && Number.isInteger(c) && c >= 0 && c <= 0xffff)
  )
    return w.toString(16).padStart(12, '0') + c.toString(16).padStart(4, '0')
  const hi = Math.floor(w / 0x1000000)
  const lo = w - hi * 0x1000000
  return (
    HEX_BYTE[hi >>> 16] +
    HEX_BYTE[(hi >>> 8) & 0xff] +
    HEX_BYTE[hi & 0xff] +
    HEX_BYTE[lo >>> 16] +
    HEX_BYTE[(lo >>> 8) & 0xff] +
    HEX_BYTE[lo & 0xff] +
    HEX_BYTE[c >>> 8] +
    HEX_BYTE[c & 0xff]
  )
}

export function hlcFromKey(key: string): Hlc {
  return { wallMs: Number.parseInt(key.slice(0, 12), 16), counter: Number.parseInt(key.slice(12, 16), 16) }
}
