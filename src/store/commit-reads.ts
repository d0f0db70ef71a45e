/**
 * The reads a commit depends on, done before its batch is planned: presence of its events and
 * targets, owners of its event ids, status of its conflicts. Commits run one at a time, so
 * nothing changes between these reads and the write.
 */
import type { CommitBatch } from '../core/ports.ts'
import { toHex } from '../util/bytes.ts'
import { decodeConflict } from './codecs.ts'
import type { CommitReads, PreparedEvent, PreparedTarget } from './commit-plan.ts'
import { DuplicateEventError, EventIdTakenError } from './errors.ts'
import type * as K from './keys.ts'
import { readMany } from './read-many.ts'

/** Refuses events already stored or whose event id is taken. */
export async function commitReads(
  s: K.Sublevels,
  batch: CommitBatch,
  events: readonly PreparedEvent[],
  targets: readonly PreparedTarget[],
): Promise<CommitReads> {
  const eidKeys = events.map((e) => e.eidKey)
  const targetKeys = [...new Map(targets.map((t) => [t.hex, t.recordKey] as const)).entries()]
  const conflictIds = [...new Set(batch.conflicts.map((c) => c.id))]
  // getMany/getSync, not hasMany: LevelDB's has_many seeks, which skips the bloom filters and
  // walks over tombstones left by a rebuild's clearMaterialized; a get stops at the first entry.
  const [present, owners, targetsFound, conflicts] = await Promise.all([
    readMany(
      s.events,
      events.map((e) => e.digest),
    ).then((v) => v.map((x) => x !== undefined)),
    readMany(s.eventId, eidKeys),
    batch.targetsNew === true
      ? targetKeys.map(() => false)
      : readMany(
          s.state,
          targetKeys.map(([, k]) => k),
        ).then((v) => v.map((x) => x !== undefined)),
    batch.targetsNew === true ? conflictIds.map(() => undefined) : readMany(s.conflict, conflictIds),
  ])
  events.forEach((e, i) => {
    if (present[i]) throw new DuplicateEventError(`event ${toHex(e.digest)} is already stored`)
    const owner = owners[i]
    if (owner !== undefined && batch.eventIdTaken?.has(i) !== true)
      throw new EventIdTakenError(
        `event ${toHex(e.digest)}: its author's event_id already names event ${toHex(owner)}`,
      )
  })
  return {
    targetExists: new Map(targetKeys.map(([hex], i) => [hex, targetsFound[i]])),
    conflictStatus: new Map(
      conflictIds.map((id, i) => {
        const text = conflicts[i]
        return [id, text === undefined ? undefined : decodeConflict(id, text).status]
      }),
    ),
  }
}
