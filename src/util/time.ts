/** ISO 8601 conversions used to derive an event's `timestamp` from its HLC wall time. */

// Strict ISO 8601 UTC with optional fraction; offsets are accepted (converted to UTC).
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/

/** Milliseconds since the epoch to the canonical form `YYYY-MM-DDTHH:mm:ss.sssZ`. */
export function isoFromMs(ms: number): string {
  return new Date(ms).toISOString()
}

/**
 * Parses an ISO 8601 timestamp with date, time and zone (`Z` or `±HH:MM`). Returns undefined for
 * anything else, including out-of-range fields (`24:00`, leap second `:60`, month 13, year 0000),
 * so every node reaches the same verdict on odd inputs.
 */
export function msFromIso(text: string): number | undefined {
  if (text.length > 40) return undefined
  const m = ISO_RE.exec(text)
  if (m === null) return undefined
  const [, y, mo, d, h, mi, s] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31) return undefined
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined
  const ms = Date.parse(text)
  if (!Number.isFinite(ms)) return undefined
  // Date.parse rolls Feb 30 over to March; refuse it by checking the day survived.
  const probe = new Date(Date.UTC(year, month - 1, day))
  if (probe.getUTCDate() !== day) return undefined
  return ms
}
