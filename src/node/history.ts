/**
 * Per-target history: every event of one target, newest first, a page at a time, each with its
 * digest (what a rollback's `to_event` names) and a short summary of its payload.
 */
import type { HistoryEntry, HistoryPage, HistoryRequest } from '../core/api.ts'
import { HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX, HISTORY_PREVIEW_CHARS } from '../core/constants.ts'
import { InvalidRequestError } from '../core/errors.ts'
import { eventFromTrustedBytes } from '../core/event.ts'
import { canonicalJson, isDigest } from '../core/event-codec.ts'
import { formatHlc } from '../core/hlc.ts'
import type { Store } from '../core/ports.ts'
import type { Digest, EventType } from '../core/types.ts'
import { isoFromMs } from '../util/time.ts'

const CURSOR_RE = /^h\.([0-9a-f]{16})\.([0-9a-f]{64})$/

export async function readHistory(
  store: Store,
  type: EventType,
  target: string,
  req: HistoryRequest,
): Promise<HistoryPage> {
  const limit = req.limit ?? HISTORY_LIMIT_DEFAULT
  if (!Number.isInteger(limit) || limit < 1 || limit > HISTORY_LIMIT_MAX)
    throw new InvalidRequestError(`limit must be an integer from 1 to ${HISTORY_LIMIT_MAX}`)
  let after: { hlcKey: string; digest: Digest } | undefined
  if (req.cursor !== undefined) {
    const m = CURSOR_RE.exec(req.cursor)
    if (m === null || !isDigest(m[2]))
      throw new InvalidRequestError('cursor must be a next_cursor from a previous history page')
    after = { hlcKey: m[1], digest: m[2] as Digest }
  }
  const stored = await store.readTarget(type, target, limit + 1, { newestFirst: true, after })
  const page = stored.slice(0, limit).map((s) => entryOf(s.signed, s.signature, s.digest))
  const last = page[page.length - 1]
  const hasMore = stored.length > limit
  return {
    event_type: type,
    target_id: target,
    events: page.map((p) => p.entry),
    next_cursor: hasMore && last !== undefined ? `h.${last.hlcKey}.${last.entry.digest}` : null,
    has_more: hasMore,
  }
}

function entryOf(
  signed: Uint8Array,
  signature: Uint8Array,
  digest: string | undefined,
): { entry: HistoryEntry; hlcKey: string } {
  const e = eventFromTrustedBytes(signed, signature, digest)
  const json = canonicalJson(e.payload)
  const op = typeof e.payload.op === 'string' ? e.payload.op : null
  return {
    hlcKey: e.hlc.wallMs.toString(16).padStart(12, '0') + e.hlc.counter.toString(16).padStart(4, '0'),
    entry: {
      digest: e.digest,
      event_id: e.eventId,
      author: e.author,
      hlc: formatHlc(e.hlc),
      timestamp: isoFromMs(e.hlc.wallMs),
      parents: [...e.parents],
      op,
      payload_chars: json.length,
      payload_preview:
        json.length <= HISTORY_PREVIEW_CHARS ? json : `${json.slice(0, HISTORY_PREVIEW_CHARS)}…`,
    },
  }
}
