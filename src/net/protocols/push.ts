/**
 * `/gkm/sync/push/1.0.0`: the client sends `PushRequest` frames, the server answers each with a
 * `PushResponse` (the result of `SyncApi.pushSigned`), until the client closes its side or
 * PUSH_REQUESTS_PER_STREAM_MAX requests were served. Same semantics as `POST /sync/push` for
 * signed events; a peer cannot ask this node to sign anything here.
 */
import type { PeerId } from '@libp2p/interface'
import type { PushResult } from '../../core/api.ts'
import { PUSH_EVENTS_MAX } from '../../core/constants.ts'
import { digestOf } from '../../core/event-codec.ts'
import type { StoredEvent } from '../../core/records.ts'
import { fromHex, toHex } from '../../util/bytes.ts'
import {
  decodePushRequest,
  decodePushResponse,
  encodedEventBytes,
  PushRequest,
  PushResponse,
} from '../../wire/index.ts'
import {
  FRAME_BYTES_MIN,
  FRAME_OVERHEAD_BYTES,
  PROTOCOL_PUSH,
  PUSH_REQUESTS_PER_STREAM_MAX,
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

export async function handlePush(ctx: ProtocolContext, lp: Framed, peer: string): Promise<void> {
  for (let served = 0; served < PUSH_REQUESTS_PER_STREAM_MAX; served++) {
    const frame = await readFrame(lp, deadline(), served > 0)
    if (frame === undefined) return
    const request = decodePushRequest(frame, { ...ctx.limits, eventsMax: PUSH_EVENTS_MAX })
    const events: StoredEvent[] = request.events.map((e) => ({ signed: e.signed, signature: e.signature }))
    let response: PushResponse
    try {
      const result = await ctx.api.pushSigned(events, { kind: 'peer', id: peer })
      ctx.stats.inc('push.events_accepted', result.accepted)
      ctx.stats.inc('push.events_rejected', result.rejected.length)
      response = {
        accepted: result.accepted,
        duplicates: result.duplicates,
        rejected: result.rejected.map((r) => ({
          eventId: r.event_id ?? '',
          error: clip(r.error, ctx.limits.textBytesMax),
          message: clip(r.message, ctx.limits.textBytesMax),
        })),
        digests: result.digests.map((d) => fromHex(d) ?? new Uint8Array(0)),
      }
      if (result.accepted > 0) {
        // Events new to this node may be new to the mesh: gossip them on.
        const accepted = new Set(result.digests)
        ctx.publishAccepted(events.filter((e) => accepted.has(digestOf(e.signed))))
      }
    } catch (err) {
      const code = refusalCode(err)
      response = {
        accepted: 0,
        duplicates: 0,
        rejected: [],
        digests: [],
        error: { code, message: clip((err as Error).message, ctx.limits.textBytesMax) },
      }
    }
    await lp.write(PushResponse.encode(response), { signal: deadline() })
  }
}

/** Splits events into requests that fit a frame and the push limit. */
export function chunkForFrames(
  events: readonly StoredEvent[],
  frameBytesMax: number,
  eventsMax: number,
): StoredEvent[][] {
  const chunks: StoredEvent[][] = []
  let current: StoredEvent[] = []
  let bytes = FRAME_OVERHEAD_BYTES
  for (const e of events) {
    const size = encodedEventBytes(e.signed.byteLength, e.signature.byteLength)
    if (current.length > 0 && (bytes + size > frameBytesMax || current.length >= eventsMax)) {
      chunks.push(current)
      current = []
      bytes = FRAME_OVERHEAD_BYTES
    }
    current.push(e)
    bytes += size
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

/** Pushes signed events to a peer over one stream (several requests when large). */
export async function pushTo(
  ctx: ProtocolContext,
  peer: PeerId,
  events: readonly StoredEvent[],
  signal?: AbortSignal,
): Promise<PushResult> {
  const total: PushResult = { accepted: 0, duplicates: 0, rejected: [], digests: [] }
  if (events.length === 0) return total
  const { stream, lp } = await openFramed(ctx, peer, PROTOCOL_PUSH, deadline(undefined, signal))
  try {
    // The receiver's frame limit is unknown: stay within the floor every node accepts.
    for (const chunk of chunkForFrames(events, FRAME_BYTES_MIN, PUSH_EVENTS_MAX)) {
      await lp.write(PushRequest.encode({ events: chunk }), { signal: deadline(undefined, signal) })
      const frame = await readFrame(lp, deadline(undefined, signal), false)
      if (frame === undefined) throw new UnexpectedMessageError('push stream ended without a response')
      const res = decodePushResponse(frame, { ...ctx.limits, eventsMax: PUSH_EVENTS_MAX })
      if (res.error !== undefined) throw new RemoteRefusedError(res.error.code, res.error.message)
      total.accepted += res.accepted
      total.duplicates += res.duplicates
      total.rejected.push(
        ...res.rejected.map((r) => ({
          event_id: r.eventId === '' ? null : r.eventId,
          error: r.error,
          message: r.message,
        })),
      )
      total.digests.push(...res.digests.map(toHex))
    }
    await stream.close({ signal: deadline(undefined, signal) })
    return total
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}
