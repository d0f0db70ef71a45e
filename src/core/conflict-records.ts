/**
 * The conflict records a merge's outcome makes, one rule for the live path (Ingestor) and the
 * rebuild's fold (src/core/rebuild-fold.ts): a rebuild must give the records live ingest gave.
 *
 * - A conflict the merge opened gets a record naming each side (its event, author, HLC and the
 *   value it wrote to the cell, or `deleted`); `detectedAtMs` is kept from an earlier record.
 * - A conflict the merge closed becomes `resolved` (a resolution names it) or `superseded`.
 * - A resolution naming a conflict closed earlier without it marks that record resolved.
 */
import { payloadActionOf } from './event.ts'
import { formatHlc, hlcFromKey } from './hlc.ts'
import type { OpenConflict } from './merge.ts'
import type { CellWrite } from './payload.ts'
import type { ConflictRecord, ConflictSide } from './records.ts'
import type { TargetState } from './target-state.ts'
import type { ConflictId, Digest, SignedEvent } from './types.ts'

/** Value a conflict side wrote to a cell, read from its event's payload. */
export function sideWrite(e: SignedEvent, cell: string): CellWrite | undefined {
  const action = payloadActionOf(e)
  return action.kind === 'yjs' ? undefined : action.writes.find((w) => w.cell === cell)
}

export interface ConflictChanges {
  readonly state: TargetState
  readonly opened: readonly OpenConflict[]
  readonly closed: readonly ConflictId[]
  readonly resolves?: ConflictId
  readonly nowMs: number
}

/** Writes into `conflicts` the records `changes` make. `load` finds a record made before
 *  (this group's, an earlier layer's, the store's); `eventOf` a side's event. */
export async function recordConflicts(
  changes: ConflictChanges,
  conflicts: Map<ConflictId, ConflictRecord>,
  eventOf: (d: Digest) => Promise<SignedEvent | undefined>,
  load: (id: ConflictId) => ConflictRecord | undefined | Promise<ConflictRecord | undefined>,
): Promise<void> {
  const { state, opened, closed, resolves, nowMs } = changes
  for (const oc of opened) {
    const sides: ConflictSide[] = []
    for (const entry of oc.sides) {
      const ev = await eventOf(entry.d)
      if (ev === undefined) continue
      const w = sideWrite(ev, oc.cell)
      const hlc = formatHlc(hlcFromKey(entry.s.slice(0, 16)))
      sides.push(
        w === undefined || w.del
          ? { digest: entry.d, eventId: ev.eventId, author: ev.author, hlc, deleted: true }
          : { digest: entry.d, eventId: ev.eventId, author: ev.author, hlc, value: w.value },
      )
    }
    const existing = await load(oc.id)
    conflicts.set(oc.id, {
      id: oc.id,
      type: state.type,
      target: state.target,
      cell: oc.cell,
      sides,
      winner: oc.winner,
      status: state.resolved[oc.id] !== undefined ? 'resolved' : 'open',
      resolvedBy: state.resolved[oc.id]?.d,
      detectedAtMs: existing?.detectedAtMs ?? nowMs,
    })
  }
  for (const id of closed) {
    const rec = await load(id)
    if (rec === undefined) continue
    const r = state.resolved[id]
    conflicts.set(id, {
      ...rec,
      status: r !== undefined ? 'resolved' : 'superseded',
      resolvedBy: r?.d,
      closedAtMs: nowMs,
    })
  }
  if (resolves !== undefined) {
    const rec = await load(resolves)
    const r = state.resolved[resolves]
    if (rec !== undefined && rec.status !== 'open' && r !== undefined && rec.resolvedBy !== r.d) {
      conflicts.set(resolves, {
        ...rec,
        status: 'resolved',
        resolvedBy: r.d,
        closedAtMs: rec.closedAtMs ?? nowMs,
      })
    }
  }
}
