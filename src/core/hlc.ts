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

/** Fixed-width 16-hex-char key that sorts like the HLC: 12 hex wall + 4 hex counter. */
export function hlcKey(h: Hlc): string {
  return h.wallMs.toString(16).padStart(12, '0') + h.counter.toString(16).padStart(4, '0')
}

export function hlcFromKey(key: string): Hlc {
  return { wallMs: Number.parseInt(key.slice(0, 12), 16), counter: Number.parseInt(key.slice(12, 16), 16) }
}
