/**
 * `/gkm/sync/pull/1.0.0`: one `PullRequest`, answered by `PullResponse` frames until one has
 * `done = true`. Three modes (docs/PROTOCOL.md (mesh protocols)):
 *
 * - cursor (arrival order, the catch-up mode) and since_ms (HLC time): pages of
 *   `SyncApi.pull`; with `stream` the server sends pages until caught up, PULL_STREAM_PAGES_MAX
 *   pages, or the answer's byte budget is spent; a page larger than a frame is split over
 *   several frames and only its last frame carries `next_cursor`;
 *
 * Byte budget: a reader buffers what arrives and is not read yet (`frameBytesMax + 64` bytes,
 * libp2p's byte stream has no back-pressure), and a catch-up client stores each frame before it
 * reads the next. So one whole answer stays within the answer frame size (`frameBytes`): a page
 * whose events would pass the budget is cut to the prefix that fits (pulled again with that
 * limit, so its cursor is exact), and the answer ends there with `has_more`. A log of 10 KB
 * events used to overflow a 4 MiB reader (`StreamBufferError: Read buffer overflow`).
 * - digests (fetch): events from the server's recent-event cache (announced events); the ones
 *   it no longer holds are left out.
 */
import type { PeerId } from '@libp2p/interface'
import type { PullRequest as ApiPullRequest } from '../../core/api.ts'
import { PULL_LIMIT_DEFAULT } from '../../core/constants.ts'
import type { StoredEvent } from '../../core/records.ts'
import { type EventType, isEventType } from '../../core/types.ts'
import { toHex } from '../../util/bytes.ts'
import { isoFromMs } from '../../util/time.ts'
import {
  decodePullRequest,
  decodePullResponse,
  encodedEventBytes,
  PullRequest,
  PullResponse,
  SIGNATURE_BYTES,
} from '../../wire/index.ts'
import {
  ANSWER_FRAME_OVERHEAD_BYTES,
  EVENT_SIGNED_BYTES_MAX,
  FRAME_BYTES_MIN,
  FRAME_OVERHEAD_BYTES,
  PROTOCOL_PULL,
  PULL_STREAM_PAGES_MAX,
} from '../constants.ts'
import { RemoteRefusedError, UnexpectedMessageError } from '../errors.ts'
import {
  clip,
  deadline,
  type Framed,
  openFramed,
  type ProtocolContext,
  readFrame,
  refusalCode,
} from './context.ts'

/** Writes one page as one or more frames; the last carries the cursor (and `done` if final). */
async function writePage(
  ctx: ProtocolContext,
  lp: Framed,
  frameBytes: number,
  events: readonly StoredEvent[],
  nextCursor: string,
  hasMore: boolean,
  done: boolean,
): Promise<void> {
  let batch: StoredEvent[] = []
  let bytes = FRAME_OVERHEAD_BYTES
  for (const e of events) {
    const size = encodedEventBytes(e.signed.byteLength, e.signature.byteLength)
    if (batch.length > 0 && (bytes + size > frameBytes || batch.length >= ctx.limits.eventsMax)) {
      await lp.write(PullResponse.encode({ events: batch }), { signal: deadline() })
      batch = []
      bytes = FRAME_OVERHEAD_BYTES
    }
    batch.push(e)
    bytes += size
  }
  await lp.write(PullResponse.encode({ events: batch, nextCursor, hasMore, done }), { signal: deadline() })
  ctx.stats.inc('pull.events_served', events.length)
}

async function refuse(lp: Framed, code: string, message: string, textMax: number): Promise<void> {
  await lp.write(PullResponse.encode({ done: true, error: { code, message: clip(message, textMax) } }), {
    signal: deadline(),
  })
}

/** Bytes an event takes in a frame. */
const sizeOf = (e: StoredEvent) => encodedEventBytes(e.signed.byteLength, e.signature.byteLength)

/** Event bytes one pull answer may carry when its frames are at most `frameBytes`: the frame
 *  less the overhead reserved for the answer's frame headers, cursors and flags (one
 *  FRAME_OVERHEAD_BYTES, plus ANSWER_FRAME_OVERHEAD_BYTES per page for the prefixes and cursors
 *  of the page's frames). Never less than one maximal event (FRAME_BYTES_MIN). */
export function answerBytesMax(frameBytes: number): number {
  return Math.max(
    encodedEventBytes(EVENT_SIGNED_BYTES_MAX, SIGNATURE_BYTES),
    frameBytes - FRAME_OVERHEAD_BYTES - (PULL_STREAM_PAGES_MAX + 1) * ANSWER_FRAME_OVERHEAD_BYTES,
  )
}

/** How many events from the start of `events` fit in `budget` bytes (at least one if the first
 *  fits). */
export function prefixThatFits(events: readonly StoredEvent[], budget: number): number {
  let bytes = 0
  for (let i = 0; i < events.length; i++) {
    bytes += sizeOf(events[i])
    if (bytes > budget) return i
  }
  return events.length
}

export async function handlePull(ctx: ProtocolContext, lp: Framed, peer: string): Promise<void> {
  const frame = await readFrame(lp, deadline(), false)
  const req = decodePullRequest(frame as Uint8Array, ctx.limits)
  // Answer frames fit what the client reads (0: the floor every node reads) and what we send.
  const frameBytes = Math.min(ctx.frameBytesMax, Math.max(FRAME_BYTES_MIN, req.frameBytesMax))
  if (req.digests.length > 0) {
    // Within the answer's byte budget too: what does not fit is left out like an event no
    // longer held (the asker gets it by pull).
    const found: StoredEvent[] = []
    let budget = answerBytesMax(frameBytes)
    for (const d of req.digests) {
      const e = ctx.recent.get(toHex(d))
      if (e === undefined || sizeOf(e) > budget) continue
      found.push(e)
      budget -= sizeOf(e)
    }
    ctx.stats.inc('pull.fetch_served')
    await writePage(ctx, lp, frameBytes, found, '', false, true)
    return
  }
  const types: EventType[] = []
  for (const t of req.types) {
    if (!isEventType(t))
      return refuse(lp, 'invalid_request', `unknown event type ${JSON.stringify(t)}`, ctx.limits.textBytesMax)
    types.push(t)
  }
  const base: ApiPullRequest = {
    data_types: types.length > 0 ? types : undefined,
    limit: req.limit === 0 ? PULL_LIMIT_DEFAULT : req.limit,
  }
  let apiReq: ApiPullRequest = {
    ...base,
    cursor: req.cursor === '' ? undefined : req.cursor,
    last_sync_time: req.sinceMs !== undefined ? isoFromMs(req.sinceMs) : undefined,
  }
  let budget = answerBytesMax(frameBytes)
  for (let pages = 1; ; pages++) {
    let page: Awaited<ReturnType<typeof ctx.api.pull>>
    let cut = false
    try {
      page = await ctx.api.pull(apiReq, { kind: 'peer', id: peer })
      const fits = prefixThatFits(page.events, budget)
      if (fits < page.events.length) {
        // The first event always fits an answer's first page (budget >= one maximal event); a
        // later page that cannot take even one ends the answer before it.
        if (fits === 0 && pages > 1) {
          await writePage(ctx, lp, frameBytes, [], '', true, true)
          return
        }
        // The same pull with the smaller limit is the prefix, with its exact cursor.
        page = await ctx.api.pull({ ...apiReq, limit: Math.max(1, fits) }, { kind: 'peer', id: peer })
        cut = true
        ctx.stats.inc('pull.pages_cut_by_bytes')
      }
    } catch (err) {
      return refuse(lp, refusalCode(err), (err as Error).message, ctx.limits.textBytesMax)
    }
    for (const e of page.events) budget -= sizeOf(e)
    const last = !req.stream || !page.has_more || pages >= PULL_STREAM_PAGES_MAX || cut
    await writePage(ctx, lp, frameBytes, page.events, page.next_cursor, page.has_more, last)
    if (last) return
    apiReq = { ...base, cursor: page.next_cursor }
  }
}

/** One frame of a pull answer, as the client sees it. */
export interface PullFrame {
  readonly events: StoredEvent[]
  /** Set when the frame completes a page. */
  readonly nextCursor?: string
  readonly hasMore: boolean
  readonly done: boolean
}

export interface PullFromRequest {
  readonly cursor?: string
  readonly sinceMs?: number
  readonly types?: readonly EventType[]
  readonly limit?: number
  readonly stream?: boolean
  readonly digests?: readonly Uint8Array[]
}

/** Pulls from a peer, yielding frames until the answer is done. Stopping early aborts the stream. */
export async function* pullFrom(
  ctx: ProtocolContext,
  peer: PeerId,
  req: PullFromRequest,
  signal?: AbortSignal,
): AsyncGenerator<PullFrame> {
  const { stream, lp } = await openFramed(ctx, peer, PROTOCOL_PULL, deadline(undefined, signal))
  let finished = false
  try {
    await lp.write(
      PullRequest.encode({
        cursor: req.cursor ?? '',
        sinceMs: req.sinceMs,
        types: [...(req.types ?? [])],
        limit: req.limit ?? 0,
        stream: req.stream ?? false,
        digests: [...(req.digests ?? [])],
        frameBytesMax: ctx.frameBytesMax,
      }),
      { signal: deadline(undefined, signal) },
    )
    for (;;) {
      const frame = await readFrame(lp, deadline(undefined, signal), false)
      if (frame === undefined) throw new UnexpectedMessageError('pull stream ended before done')
      const res = decodePullResponse(frame, ctx.limits)
      if (res.error !== undefined) throw new RemoteRefusedError(res.error.code, res.error.message)
      const out: PullFrame = {
        events: res.events.map((e) => ({ signed: e.signed, signature: e.signature })),
        nextCursor: res.nextCursor === '' ? undefined : res.nextCursor,
        hasMore: res.hasMore,
        done: res.done,
      }
      if (res.done) finished = true
      yield out
      if (res.done) break
    }
    await stream.close({ signal: deadline(undefined, signal) })
  } finally {
    if (!finished) stream.abort(new UnexpectedMessageError('pull abandoned before done'))
  }
}

/** Fetch mode: the events with these digests that the peer still holds. */
export async function fetchFrom(
  ctx: ProtocolContext,
  peer: PeerId,
  digests: readonly Uint8Array[],
  signal?: AbortSignal,
): Promise<StoredEvent[]> {
  const out: StoredEvent[] = []
  for await (const frame of pullFrom(ctx, peer, { digests }, signal)) out.push(...frame.events)
  return out
}
