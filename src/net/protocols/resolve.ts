/**
 * `/gkm/sync/resolve-conflict/1.0.0`: one `ResolveRequest`, one `ResolveResponse`. The server
 * resolves the conflict as `POST /sync/resolve-conflict` does: it signs a resolution event with
 * its own key, stores it and gossips it; the answer carries that event. Because the event is
 * signed by the server, only members may ask, and only when the network allows it
 * (`NetInit.allowRemoteResolve`, on by default with an allow-list, off when open).
 */
import type { PeerId } from '@libp2p/interface'
import type { ResolveRequest as ApiResolveRequest, ResolveResult } from '../../core/api.ts'
import { eventFromWire, eventToJson, fieldsFromJson } from '../../core/event.ts'
import { encodeSigned } from '../../core/event-codec.ts'
import { RESOLUTION_STRATEGIES, type ResolutionStrategy } from '../../core/payload.ts'
import type { JsonValue } from '../../core/types.ts'
import {
  decodeResolveRequest,
  decodeResolveResponse,
  ResolveRequest,
  ResolveResponse,
} from '../../wire/index.ts'
import { PROTOCOL_RESOLVE } from '../constants.ts'
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

export async function handleResolve(ctx: ProtocolContext, lp: Framed, peer: string): Promise<void> {
  const frame = await readFrame(lp, deadline(), false)
  const req = decodeResolveRequest(frame as Uint8Array, ctx.limits)
  const answer = async (r: Omit<ResolveResponse, 'conflictId'>) =>
    lp.write(ResolveResponse.encode({ conflictId: req.conflictId, ...r }), { signal: deadline() })
  const refuse = (code: string, message: string) =>
    answer({ strategy: req.strategy, error: { code, message: clip(message, ctx.limits.textBytesMax) } })

  if (!ctx.allowRemoteResolve) return refuse('forbidden', 'this node does not resolve conflicts for peers')
  if (!(RESOLUTION_STRATEGIES as readonly string[]).includes(req.strategy)) {
    return refuse('invalid_resolution', `strategy must be one of ${RESOLUTION_STRATEGIES.join(', ')}`)
  }
  let value: JsonValue | undefined
  if (req.valueJson !== '') {
    try {
      value = JSON.parse(req.valueJson) as JsonValue
    } catch {
      return refuse('invalid_resolution', 'value_json is not JSON')
    }
  }
  const apiReq: ApiResolveRequest = {
    conflictId: req.conflictId,
    resolutionStrategy: req.strategy as ResolutionStrategy,
    value,
    deleted: req.deleted ? true : undefined,
  }
  let result: ResolveResult
  try {
    result = await ctx.api.resolveConflict(apiReq, { kind: 'peer', id: peer })
  } catch (err) {
    return refuse(refusalCode(err), (err as Error).message)
  }
  const { fields, signature } = fieldsFromJson(result.event)
  const event = { signed: encodeSigned(fields), signature }
  // Stored with a peer origin, so the change feed does not publish it: gossip it here.
  ctx.publishAccepted([event])
  ctx.stats.inc('resolve.resolved')
  await answer({ strategy: result.strategy, event })
}

/** Asks a peer to resolve a conflict; returns the resolution event it signed (verified). */
export async function resolveOn(
  ctx: ProtocolContext,
  peer: PeerId,
  req: ApiResolveRequest,
  signal?: AbortSignal,
): Promise<ResolveResult> {
  const { stream, lp } = await openFramed(ctx, peer, PROTOCOL_RESOLVE, deadline(undefined, signal))
  try {
    await lp.write(
      ResolveRequest.encode({
        conflictId: req.conflictId,
        strategy: req.resolutionStrategy,
        valueJson: req.value === undefined ? '' : JSON.stringify(req.value),
        deleted: req.deleted === true,
      }),
      { signal: deadline(undefined, signal) },
    )
    const frame = await readFrame(lp, deadline(undefined, signal), false)
    if (frame === undefined) throw new UnexpectedMessageError('resolve stream ended without a response')
    const res = decodeResolveResponse(frame, ctx.limits)
    if (res.error !== undefined) throw new RemoteRefusedError(res.error.code, res.error.message)
    const e = res.event as { signed: Uint8Array; signature: Uint8Array }
    const verified = eventFromWire(e.signed, e.signature, ctx.verifyContext())
    await stream.close({ signal: deadline(undefined, signal) })
    return {
      conflict_id: res.conflictId,
      strategy: res.strategy as ResolutionStrategy,
      event: eventToJson(verified),
    }
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}
