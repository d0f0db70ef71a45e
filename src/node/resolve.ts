/**
 * Turning a resolve-conflict request into a resolution event. The strategies are relative to
 * the node that resolves (the spec's prefer_local / prefer_remote); the event carries the chosen
 * value explicitly, so every node that applies it reaches the same state.
 *
 * - prefer_local: the newest side written by this node; when this node wrote none, the value in
 *   effect here (the last-write-wins winner).
 * - prefer_remote: the newest side written by another node.
 * - manual_merge: the `value` given (or `deleted: true` for "absent").
 */
import type { ResolveRequest } from '../core/api.ts'
import { JSON_DEPTH_MAX } from '../core/constants.ts'
import { ConflictNotFoundError, InvalidResolutionError } from '../core/errors.ts'
import type { IngestItem } from '../core/ingest.ts'
import { jsonProblem, RESOLUTION_STRATEGIES } from '../core/payload.ts'
import type { ConflictRecord, ConflictSide } from '../core/records.ts'
import type { Digest, JsonObject } from '../core/types.ts'

function newest(sides: readonly ConflictSide[]): ConflictSide | undefined {
  const key = (s: ConflictSide) => {
    const [wall, counter] = s.hlc.split(':').map(Number)
    return wall * 65536 + counter
  }
  return [...sides].sort((a, b) => key(b) - key(a) || (a.author < b.author ? 1 : -1))[0]
}

function cellOf(side: ConflictSide, cell: string): JsonObject {
  return side.deleted === true ? { cell, del: true } : { cell, value: side.value ?? null }
}

export function buildResolution(
  conflict: ConflictRecord | undefined,
  req: ResolveRequest,
  localKey: string,
  eventId: string,
): Extract<IngestItem, { kind: 'local' }> {
  if (typeof req.conflictId !== 'string' || !/^[0-9a-f]{64}$/.test(req.conflictId)) {
    throw new InvalidResolutionError(
      'conflictId must be the 64-hex id of a conflict (see GET /sync/conflicts)',
    )
  }
  if (!(RESOLUTION_STRATEGIES as readonly unknown[]).includes(req.resolutionStrategy)) {
    throw new InvalidResolutionError(`resolutionStrategy must be one of ${RESOLUTION_STRATEGIES.join(', ')}`)
  }
  if (conflict === undefined) throw new ConflictNotFoundError(`no conflict ${req.conflictId} on this node`)
  if (conflict.status !== 'open') {
    throw new InvalidResolutionError(
      `conflict ${conflict.id} is already ${conflict.status}${conflict.resolvedBy ? ` by ${conflict.resolvedBy}` : ''}`,
    )
  }
  let write: JsonObject
  switch (req.resolutionStrategy) {
    case 'prefer_local': {
      const side =
        newest(conflict.sides.filter((s) => s.author === localKey)) ??
        conflict.sides.find((s) => s.digest === conflict.winner)
      if (side === undefined) throw new InvalidResolutionError('the conflict has no side to prefer')
      write = cellOf(side, conflict.cell)
      break
    }
    case 'prefer_remote': {
      const side = newest(conflict.sides.filter((s) => s.author !== localKey))
      if (side === undefined)
        throw new InvalidResolutionError(
          'every side of this conflict was written by this node; use prefer_local or manual_merge',
        )
      write = cellOf(side, conflict.cell)
      break
    }
    case 'manual_merge': {
      if (req.deleted === true && req.value !== undefined)
        throw new InvalidResolutionError(
          'manual_merge takes either the merged value or deleted: true (resolve to absent), not both',
        )
      if (req.deleted === true) write = { cell: conflict.cell, del: true }
      else if (req.value === undefined)
        throw new InvalidResolutionError(
          'manual_merge needs the merged value in `value` (or `deleted: true`)',
        )
      else {
        // The value sits three levels down in the payload (`cells[0].value`).
        const problem = jsonProblem(req.value, JSON_DEPTH_MAX - 3)
        if (problem !== undefined) throw new InvalidResolutionError(`value: ${problem}`)
        write = { cell: conflict.cell, value: req.value }
      }
      break
    }
  }
  return {
    kind: 'local',
    eventId,
    type: conflict.type,
    targetId: conflict.target,
    payload: { op: 'resolve', conflict_id: conflict.id, strategy: req.resolutionStrategy, cells: [write] },
    extraParents: conflict.sides.map((s) => s.digest as Digest),
  }
}
