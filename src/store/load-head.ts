/** What open() checks and loads: the format version, and the head kept in memory. */
import { EVENT_TYPES } from '../core/types.ts'
import { auditHash, EMPTY_AUDIT_HEAD } from './audit-chain.ts'
import { decodeAudit, decodeHead } from './codecs.ts'
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
      `database has format version ${JSON.stringify(version)}; this build reads version ${FORMAT_VERSION} only ` +
        `and does not migrate older stores: start the node on an empty data directory (move this one aside) ` +
        `and let it catch up from its peers, or run the release that wrote it`,
    )
  }
  const any = await db.keys({ keyEncoding: 'view', limit: 1 }).all()
  if (any.length > 0)
    throw new StorageFormatError('database holds data but no formatVersion: it is not a gkm-sync store')
  await writeBatch(db, [
    { type: 'put', sublevel: s.meta, key: K.META_FORMAT_VERSION, value: FORMAT_VERSION },
  ] satisfies BatchOp[])
}

/** The seq of the last `tseq` entry of each type: the log's end is the largest. */
async function logEnd(s: K.Sublevels): Promise<number> {
  const lasts = await Promise.all(
    EVENT_TYPES.map((_, i) =>
      s.typeSeq.keys({ gte: Uint8Array.of(i + 1), lt: Uint8Array.of(i + 2), reverse: true, limit: 1 }).all(),
    ),
  )
  let end = 0
  for (const keys of lasts) {
    if (keys.length === 0) continue
    const seq = keys[0].byteLength === 9 ? K.readSeq(keys[0], 1) : undefined
    if (seq === undefined)
      throw new StorageCorruptionError(`${K.describeKey('tseq', keys[0])}: not a log entry`)
    end = Math.max(end, seq)
  }
  return end
}

/** Last seq, audit chain head, counters and meta values; refuses an audit head whose hash is
 *  wrong and a head record that disagrees with the log. */
export async function loadHead(s: K.Sublevels): Promise<StoreHead> {
  const [end, lastAudit, headText] = await Promise.all([
    logEnd(s),
    s.audit.iterator({ reverse: true, limit: 1 }).all(),
    s.meta.get(K.META_HEAD),
  ])
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
  const h = decodeHead(headText)
  const typed = EVENT_TYPES.reduce((a, t) => a + h.byType[t], 0)
  if (h.lastSeq !== end || h.events !== end || typed !== end) {
    throw new StorageCorruptionError(
      `meta/"head" says the log ends at seq ${h.lastSeq} with ${h.events} events (${typed} by type), but the log ends at seq ${end}`,
    )
  }
  return {
    lastSeq: h.lastSeq,
    audit,
    counters: {
      events: h.events,
      byType: { ...h.byType },
      targets: h.targets,
      conflictsOpen: h.conflictsOpen,
    },
    meta: { ...h.meta },
  }
}
