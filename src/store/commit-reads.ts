/**
 * The reads a commit depends on, done before its batch is planned: presence of its events and
 * targets, owners of its event ids, status of its conflicts. Commits run one at a time, so
 * nothing changes between these reads and the write.
 */
import type { CommitBatch } from '../core/ports.ts'
import { toHex } from '../util/bytes.ts'
import { decodeConflict } from './codecs.ts'
import { type CommitReads, type PreparedEvent, targetStateKey } from './commit-plan.ts'
import { DuplicateEventError, EventIdTakenError } from './errors.ts'
import * as K from './keys.ts'

/** Refuses events already stored or whose event id is taken. */
export async function commitReads(
  s: K.Sublevels,
  batch: CommitBatch,
  events: readonly PreparedEvent[],
): Promise<CommitReads> {
  const eidKeys = events.map((e) => K.eventIdKey(e.header.author, e.header.eventId))
  const targetKeys = [
    ...new Map(
      batch.targets.map((t) => {
        const k = targetStateKey(t)
        return [toHex(k), k] as const
      }),
    ).entries(),
  ]
  const conflictIds = [...new Set(batch.conflicts.map((c) => c.id))]
  const [present, owners, targetsFound, conflicts] = await Promise.all([
    // getMany, not hasMany (see LevelStore.hasEvents): gets use the bloom filters, seeks do not.
    events.length === 0
      ? []
      : s.events.getMany(events.map((e) => e.digest)).then((v) => v.map((x) => x !== undefined)),
    eidKeys.length === 0 ? [] : s.eventId.getMany(eidKeys),
    // getMany, not hasMany: LevelDB's has_many seeks, and a seek walks over tombstones left by
    // a rebuild's clearMaterialized; a get stops at the first entry for its key.
    targetKeys.length === 0
      ? []
      : s.state.getMany(targetKeys.map(([, k]) => k)).then((v) => v.map((x) => x !== undefined)),
    conflictIds.length === 0 ? [] : s.conflict.getMany(conflictIds),
  ])
  events.forEach((e, i) => {
    if (present[i]) throw new DuplicateEventError(`event ${toHex(e.digest)} is already stored`)
    const owner = owners[i]
    if (owner !== undefined)
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
