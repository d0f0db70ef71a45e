/** What open() checks and loads: the format version, and the head kept in memory. */
import { EVENT_TYPES, type EventType } from '../core/types.ts'
import { auditHash, EMPTY_AUDIT_HEAD } from './audit-chain.ts'
import { decodeAudit, decodeCount } from './codecs.ts'
import type { BatchOp, StoreHead } from './commit-plan.ts'
import { FORMAT_VERSION } from './constants.ts'
import { StorageCorruptionError, StorageFormatError } from './errors.ts'
import * as K from './keys.ts'
import { writeBatch } from './write-batch.ts'

/** Accepts our format version; stamps an empty database with it; refuses anything else. */
export async function checkFormat(db: K.LevelDatabase, s: K.Sublevels): Promise<void> {
  const version = await s.meta.get(K.META_FORMAT_VERSION)
  if (version === FORMAT_VERSION) return
  if (version !== undefined) {
    throw new StorageFormatError(
      `database has format version ${JSON.stringify(version)}; this build reads version ${FORMAT_VERSION} only. ` +
        'There is no migration: start this build on an empty data directory and let it catch up from peers ' +
        'that run this version (or back up the data and keep running the build that wrote it)',
    )
  }
  const any = await db.keys({ keyEncoding: 'view', limit: 1 }).all()
  if (any.length > 0)
    throw new StorageFormatError('database holds data but no formatVersion: it is not a gkm-sync store')
  await writeBatch(db, [
    { type: 'put', sublevel: s.meta, key: K.META_FORMAT_VERSION, value: FORMAT_VERSION },
  ] satisfies BatchOp[])
}

/** Last seq, audit chain head and counters; refuses a head record whose hash is wrong and
 *  counters that disagree with the log. */
export async function loadHead(s: K.Sublevels): Promise<StoreHead> {
  const [lastSeqKeys, lastAudit] = await Promise.all([
    s.seq.keys({ reverse: true, limit: 1 }).all(),
    s.audit.iterator({ reverse: true, limit: 1 }).all(),
  ])
  const lastSeq = lastSeqKeys.length === 0 ? 0 : (K.readSeq(lastSeqKeys[0]) ?? -1)
  if (lastSeq < 0)
    throw new StorageCorruptionError(`${K.describeKey('seq', lastSeqKeys[0])}: not a sequence key`)
  let audit = EMPTY_AUDIT_HEAD
  if (lastAudit.length > 0) {
    const [k, v] = lastAudit[0]
    const r = decodeAudit(k, K.readSeq(k) ?? -1, v)
    // The chain is extended from this record: a torn or edited head would poison every later link.
    if (auditHash(r.prevHash, r) !== r.hash) {
      throw new StorageCorruptionError(`${K.describeKey('audit', k)}: hash does not match the record`)
    }
    audit = { seq: r.seq, hash: r.hash }
  }
  const names = [
    K.COUNT_EVENTS,
    K.COUNT_TARGETS,
    K.COUNT_CONFLICTS_OPEN,
    ...EVENT_TYPES.map(K.countByTypeKey),
  ]
  const values = await s.count.getMany(names)
  const [events, targets, conflictsOpen, ...perType] = names.map((n, i) => decodeCount(n, values[i]))
  const byType = Object.fromEntries(EVENT_TYPES.map((t, i) => [t, perType[i]])) as Record<EventType, number>
  const typed = perType.reduce((a, b) => a + b, 0)
  if (events !== lastSeq || typed !== events) {
    throw new StorageCorruptionError(
      `count/events is ${events} and the per-type counts add up to ${typed}, but the log ends at seq ${lastSeq}`,
    )
  }
  return { lastSeq, audit, counters: { events, byType, targets, conflictsOpen } }
}
