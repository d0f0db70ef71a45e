/**
 * Input of `gkm-sync push`: a JSON array of events, `{ "events": [...] }`, one JSON event, or
 * NDJSON (one event per line), split into pushes the node accepts.
 */
import { CliUsageError } from './errors.ts'

/** Events per push: the node's PUSH_EVENTS_MAX (src/core/constants.ts; the CLI may not import
 *  the core, so the number is repeated). */
export const PUSH_BATCH_EVENTS = 1000

/** JSON bytes per push: half the node's default http.bodyBytesMax (16 MiB), leaving room for a
 *  node configured lower. */
export const PUSH_BATCH_BYTES = 8 * 1024 * 1024

/** Events from the text of a file; `name` is used in messages. */
export function parseEvents(text: string, name: string): unknown[] {
  const trimmed = text.trim()
  if (trimmed === '') throw new CliUsageError(`${name} is empty; expected a JSON array of events or NDJSON`)
  let whole: unknown
  let wholeError: Error | undefined
  try {
    whole = JSON.parse(trimmed)
  } catch (err) {
    wholeError = err as Error
  }
  if (wholeError === undefined) {
    if (Array.isArray(whole)) return whole
    if (whole !== null && typeof whole === 'object') {
      const events = (whole as { events?: unknown }).events
      if (Object.keys(whole).length === 1 && Array.isArray(events)) return events
      return [whole]
    }
    throw new CliUsageError(
      `${name} must hold events: a JSON array, an object, or NDJSON (one event per line)`,
    )
  }
  if (trimmed.startsWith('[')) throw new CliUsageError(`${name} is not valid JSON: ${wholeError.message}`)
  // NDJSON: every non-empty line is one event.
  const events: unknown[] = []
  const lines = trimmed.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim()
    if (line === '') continue
    try {
      events.push(JSON.parse(line))
    } catch (err) {
      throw new CliUsageError(
        `${name}:${i + 1}: not valid JSON (NDJSON expects one event per line): ${(err as Error).message}`,
      )
    }
  }
  return events
}

/** Splits events into pushes of at most PUSH_BATCH_EVENTS events and about PUSH_BATCH_BYTES. */
export function batches(
  events: readonly unknown[],
  eventsMax = PUSH_BATCH_EVENTS,
  bytesMax = PUSH_BATCH_BYTES,
): unknown[][] {
  const out: unknown[][] = []
  let current: unknown[] = []
  let bytes = 2
  for (const e of events) {
    const size = Buffer.byteLength(JSON.stringify(e) ?? 'null') + 1
    if (current.length > 0 && (current.length >= eventsMax || bytes + size > bytesMax)) {
      out.push(current)
      current = []
      bytes = 2
    }
    current.push(e)
    bytes += size
  }
  if (current.length > 0) out.push(current)
  return out
}
