/**
 * Rollback: restore a target to its state as of a past time or event, as a NEW signed event that
 * writes the old values explicitly (history is never rewritten). The past state is rebuilt with
 * the same merge rules from the target's own events.
 *
 * Cells only: a target's Yjs document is not rolled back (its history is kept inside Yjs);
 * docs/EVENTS.md says so.
 */
import type { RollbackRequest } from '../core/api.ts'
import { InvalidRollbackError } from '../core/errors.ts'
import { eventFromTrustedBytes, payloadActionOf } from '../core/event.ts'
import type { IngestItem } from '../core/ingest.ts'
import { type EventMeta, mergeEvent } from '../core/merge.ts'
import type { Store } from '../core/ports.ts'
import type { TargetState } from '../core/target-state.ts'
import { type Digest, isEventType, type JsonObject, type SignedEvent } from '../core/types.ts'
import { trustedYjsMerger } from '../core/yjs-merge.ts'
import { msFromIso } from '../util/time.ts'

/** Events of one target a rollback may replay (all are held in memory while the past state is
 *  rebuilt); beyond it the request is refused with a clear error. */
export const ROLLBACK_EVENTS_MAX = 20_000

export async function buildRollback(
  store: Store,
  current: TargetState | undefined,
  req: RollbackRequest,
  eventId: string,
): Promise<Extract<IngestItem, { kind: 'local' }>> {
  if (!isEventType(req.event_type))
    throw new InvalidRollbackError('event_type must be one of the four event types')
  if (typeof req.target_id !== 'string' || req.target_id.length === 0)
    throw new InvalidRollbackError('target_id is required')
  if ((req.to_time === undefined) === (req.to_event === undefined))
    throw new InvalidRollbackError('give exactly one of to_time or to_event')
  if (current === undefined)
    throw new InvalidRollbackError(`target ${req.event_type}/${req.target_id} has no events on this node`)
  const stored = await store.readTarget(req.event_type, req.target_id, ROLLBACK_EVENTS_MAX + 1)
  if (stored.length > ROLLBACK_EVENTS_MAX)
    throw new InvalidRollbackError(`target has more than ${ROLLBACK_EVENTS_MAX} events; rollback refused`)
  const events = stored.map((s) => eventFromTrustedBytes(s.signed, s.signature, s.digest))
  let keep: SignedEvent[]
  if (req.to_time !== undefined) {
    const t = msFromIso(req.to_time)
    if (t === undefined) throw new InvalidRollbackError('to_time must be an ISO 8601 date-time with a zone')
    keep = events.filter((e) => e.hlc.wallMs <= t)
    // Before its first event the target did not exist: "rolling back" to that would delete
    // every cell, which is not a rollback (docs/API.md: 400 invalid_rollback).
    if (keep.length === 0)
      throw new InvalidRollbackError(
        `target ${req.event_type}/${req.target_id} did not exist at ${req.to_time} (its first event is later); pick a later to_time`,
      )
  } else {
    const byDigest = new Map(events.map((e) => [e.digest as string, e]))
    const start = byDigest.get(String(req.to_event))
    if (start === undefined)
      throw new InvalidRollbackError(
        `to_event ${String(req.to_event).slice(0, 64)} is not an event of this target`,
      )
    const seen = new Set<string>()
    const queue: string[] = [start.digest]
    for (let i = 0; i < queue.length; i++) {
      const e = byDigest.get(queue[i])
      if (e === undefined || seen.has(e.digest)) continue
      seen.add(e.digest)
      queue.push(...e.parents)
    }
    keep = events.filter((e) => seen.has(e.digest))
  }
  const metas = new Map<Digest, EventMeta>()
  for (const e of keep)
    metas.set(e.digest, {
      hlcKey: e.hlc.wallMs.toString(16).padStart(12, '0') + e.hlc.counter.toString(16).padStart(4, '0'),
      parents: e.parents,
    })
  const ancestry = { meta: async (d: Digest) => metas.get(d) }
  let past: TargetState | undefined
  for (const e of keep)
    past = (await mergeEvent(past, e, payloadActionOf(e), ancestry, trustedYjsMerger, past !== undefined))
      .state

  const cells: JsonObject[] = []
  for (const cell of new Set([...Object.keys(current.cells), ...Object.keys(past?.cells ?? {})])) {
    const now = current.cells[cell]?.w
    const then = past?.cells[cell]?.w
    const nowDeleted = now === undefined || now.del === true
    const thenDeleted = then === undefined || then.del === true
    if (nowDeleted && thenDeleted) continue
    if (!nowDeleted && !thenDeleted && now!.h === then!.h) continue
    cells.push(thenDeleted ? { cell, del: true } : { cell, value: then!.v ?? null })
  }
  if (cells.length === 0)
    throw new InvalidRollbackError('nothing to roll back: the target already has that state')
  return {
    kind: 'local',
    eventId,
    type: req.event_type,
    targetId: req.target_id,
    payload: {
      op: 'rollback',
      ...(req.to_time !== undefined ? { to_time: req.to_time } : { to_event: String(req.to_event) }),
      cells,
    },
  }
}
