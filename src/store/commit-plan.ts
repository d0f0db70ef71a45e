/**
 * Turns a CommitBatch into the operations of one atomic LevelDB batch plus the store head it
 * leads to. Pure: the reads it depends on (what is already stored) are done by the caller and
 * passed in, so a failed write leaves nothing to undo.
 */

import { TARGET_ID_BYTES_MAX } from '../core/constants.ts'
import { isLogSeq, LOG_TRAILER_BYTES } from '../core/event-codec.ts'
import type { AuditDraft, CommitBatch, EquivocationRecord } from '../core/ports.ts'
import type { ConflictRecord, StoredEvent } from '../core/records.ts'
import type { TargetState } from '../core/target-state.ts'
import type { EventType } from '../core/types.ts'
import { toHex, utf8 } from '../util/bytes.ts'
import { sha256 } from '../util/crypto.ts'
import { type AuditHead, chainAudit } from './audit-chain.ts'
import { encodeEquivocation, encodeEventValue, encodeHead, SIGNATURE_BYTES } from './codecs.ts'
import { DuplicateEventError, EventIdTakenError, InvalidStoreArgumentError } from './errors.ts'
import { type EventHeader, readEventHeader } from './event-header.ts'
import {
  cellKey,
  conflictStatusKey,
  digestKey,
  EMPTY,
  EQUIVOCATION_KIND_CODE,
  equivocationKey,
  eventIdKey,
  logKey,
  logPositionKey,
  logPositionKeyOf,
  META_FORMAT_VERSION,
  META_HEAD,
  STATUS_CODE,
  type Sublevels,
  seqKey,
  targetIndexKey,
  targetRecordKey,
  timeKey,
  typeCode,
  typeSeqKey,
  yjsSnapshotKey,
  yjsUpdateKey,
} from './keys.ts'
import { stripVectorCell } from './vector-state.ts'
import type { BatchOp, StoreBatch } from './write-batch.ts'

export interface StoreCounters {
  readonly events: number
  readonly byType: Readonly<Record<EventType, number>>
  readonly targets: number
  readonly conflictsOpen: number
}

/** What the store keeps in memory between writes; replaced whole after a write succeeds. All
 *  but the audit head is the `meta/head` record on disk (the audit head is the last audit
 *  record, read at open). */
export interface StoreHead {
  readonly lastSeq: number
  readonly audit: AuditHead
  readonly counters: StoreCounters
  /** Node meta values (hlc, stateHash, stateFormat, ...) as committed. */
  readonly meta: Readonly<Record<string, string>>
}

export type { BatchOp } from './write-batch.ts'

export interface PreparedEvent {
  readonly event: StoredEvent
  readonly header: EventHeader
  readonly digest: Uint8Array
  /** The `eid` key (author ‖ event id), built once for the reads and the plan. */
  readonly eidKey: Uint8Array
}

const invalid = (why: string): never => {
  throw new InvalidStoreArgumentError(why)
}

function prepareOne(e: StoredEvent, what: string): PreparedEvent {
  if (
    !(e?.signed instanceof Uint8Array) ||
    !(e.signature instanceof Uint8Array) ||
    e.signature.byteLength !== SIGNATURE_BYTES
  ) {
    return invalid(`${what}: needs signed bytes and a ${SIGNATURE_BYTES}-byte signature`)
  }
  const header = readEventHeader(e.signed)
  if (header === undefined) return invalid(`${what}: signed bytes are not an encoded event`)
  // One pass: the digest computed when the event came in travels with it, and the store does
  // not hash the bytes again. Every read re-checks it (decodeEventValue), so a wrong digest is
  // found as corruption, never served.
  const eidKey = eventIdKey(header.author, header.eventId)
  if (e.digest === undefined) return { event: e, header, digest: sha256(e.signed), eidKey }
  const digest = digestKey(e.digest)
  if (digest === undefined) return invalid(`${what}: digest must be 64 lowercase hex characters`)
  return { event: e, header, digest, eidKey }
}

/** Checks and hashes the batch's events; refuses an event that appears twice in it. */
export function prepareEvents(
  events: readonly StoredEvent[],
  eventIdTaken?: ReadonlySet<number>,
): PreparedEvent[] {
  const seen = new Set<string>()
  const ids = new Map<string, string>()
  return events.map((e, i) => {
    const p = prepareOne(e, `events[${i}]`)
    const digest = e.digest ?? toHex(p.digest)
    if (seen.has(digest)) throw new DuplicateEventError(`event ${digest} appears twice in one commit`)
    seen.add(digest)
    const owner = toHex(p.eidKey)
    const other = ids.get(owner)
    if (other !== undefined && eventIdTaken?.has(i) !== true)
      throw new EventIdTakenError(`events ${other} and ${digest} of one commit share author and event_id`)
    if (other === undefined) ids.set(owner, digest)
    return p
  })
}

/** A target of a commit with its key parts, checked and built once for the reads and the plan. */
export interface PreparedTarget {
  readonly state: TargetState
  readonly code: number
  readonly bytes: Uint8Array
  readonly recordKey: Uint8Array
  /** The record key in hex: the target's identity in the commit's maps. */
  readonly hex: string
}

export function prepareTargets(targets: readonly TargetState[]): PreparedTarget[] {
  return targets.map((state) => {
    const { code, bytes } = targetKeyParts(state)
    const recordKey = targetRecordKey(code, bytes)
    return { state, code, bytes, recordKey, hex: toHex(recordKey) }
  })
}

/** Type code and target bytes of a target state, checked. */
function targetKeyParts(t: TargetState): { code: number; bytes: Uint8Array } {
  const code = typeCode(t?.type)
  if (code === undefined) return invalid(`target state has unknown type ${JSON.stringify(t?.type)}`)
  const bytes = typeof t.target === 'string' ? utf8(t.target) : EMPTY
  if (bytes.byteLength < 1 || bytes.byteLength > TARGET_ID_BYTES_MAX)
    return invalid(`target id must be 1..${TARGET_ID_BYTES_MAX} UTF-8 bytes`)
  return { code, bytes }
}

/** A target's record and the cells it carries (state per cell, format 3): cells not in
 *  `t.cells` stay as stored. A vector's `value` cell leaves its values in its event. Yjs: a new
 *  snapshot when `t.yjs` is set, the updates of `t.yjsLog` appended, those of `t.yjsDropped`
 *  (folded into the snapshot) deleted. */
function planTarget(s: Sublevels, out: StoreBatch, p: PreparedTarget) {
  const { state: t, code, bytes } = p
  const what = `target ${t.type}/${t.target}`
  if (!isObj(t.cells)) invalid(`${what} needs a cells record`)
  out.put(s.state, p.recordKey, toJson(recordOf(t), what))
  for (const cell of Object.keys(t.cells))
    out.put(s.state, cellKey(code, bytes, cell), toJson(stripVectorCell(t.type, cell, t.cells[cell]), what))
  if (t.yjs !== undefined) out.put(s.state, yjsSnapshotKey(code, bytes), String(t.yjs))
  for (const d of t.yjsDropped ?? []) out.del(s.state, yjsUpdateKey(code, bytes, yjsDigest(d, what)))
  for (const [d, update] of Object.entries(t.yjsLog ?? {}))
    out.put(s.state, yjsUpdateKey(code, bytes, yjsDigest(d, what)), String(update))
}

const isObj = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v)

const yjsDigest = (d: string, what: string): Uint8Array =>
  digestKey(d) ?? invalid(`${what}: Yjs log entries are named by 64 lowercase hex digests`)

/** The record: everything but the cells and the Yjs document (each under its own keys). */
function recordOf(t: TargetState): Omit<TargetState, 'cells'> {
  const { cells: _cells, yjs: _yjs, yjsLog: _log, yjsDropped: _dropped, ...record } = t
  return record
}

function toJson(value: unknown, what: string): string {
  try {
    return JSON.stringify(value)
  } catch (err) {
    throw new InvalidStoreArgumentError(`${what} has no JSON form`, { cause: err })
  }
}

export interface CommitReads {
  /** Per unique target key (hex): whether a state is already stored. */
  readonly targetExists: ReadonlyMap<string, boolean>
  /** Per conflict id in the batch: the stored record's status, if any. */
  readonly conflictStatus: ReadonlyMap<string, ConflictRecord['status'] | undefined>
}

export interface CommitPlan {
  readonly ops: BatchOp[]
  readonly head: StoreHead
  readonly seqs: number[]
}

/** What a planned commit leads to, once its batch is written. */
export interface PlannedCommit {
  readonly head: StoreHead
  readonly seqs: number[]
}

/**
 * Puts a commit's operations into `out` (nothing is written until the caller writes it) and
 * returns the head the commit leads to. Throws InvalidStoreArgumentError for a malformed batch;
 * the caller then discards `out`.
 */
export function planCommit(
  s: Sublevels,
  out: StoreBatch,
  head: StoreHead,
  batch: CommitBatch,
  events: readonly PreparedEvent[],
  targets: readonly PreparedTarget[],
  reads: CommitReads,
): PlannedCommit {
  const put = (
    sublevel: Parameters<StoreBatch['put']>[0],
    key: Uint8Array | string,
    value: Uint8Array | string,
  ) => out.put(sublevel, key, value)
  const byType = { ...head.counters.byType }
  let { targets: targetCount, conflictsOpen } = head.counters
  const prepared = targets
  let seq = head.lastSeq
  const seqs: number[] = []

  const taken = batch.eventIdTaken
  const positionTaken = batch.positionTaken
  for (const [i, { event, header, digest, eidKey }] of events.entries()) {
    seq += 1
    seqs.push(seq)
    const code = header.typeCode
    put(s.events, digest, encodeEventValue(event))
    put(s.typeSeq, typeSeqKey(code, seq), digest)
    put(s.time, timeKey(code, header.hlc, digest), EMPTY)
    put(s.target, targetIndexKey(code, header.target, header.hlc, digest), EMPTY)
    if (taken === undefined || !taken.has(i)) put(s.eventId, eidKey, digest)
    if (positionTaken === undefined || !positionTaken.has(i)) {
      // author ‖ log ‖ seq (u48 BE): the signed bytes' trailer holds the last two as they are.
      const signed = event.signed
      put(
        s.logPosition,
        logPositionKeyOf(header.author, signed.subarray(signed.byteLength - LOG_TRAILER_BYTES)),
        digest,
      )
    }
    byType[header.type] += 1
  }
  for (const [i, r] of (batch.logs ?? []).entries()) {
    const key = logKey(r?.author, r?.log)
    if (key === undefined) invalid(`logs[${i}] needs a hex author and a 16-hex-char log id`)
    put(s.logs, key as Uint8Array, toJson(r, `logs[${i}]`))
  }
  for (const [i, h] of (batch.heads ?? []).entries()) {
    const key = logKey(h?.author, h?.log)
    const root = digestKey(h?.root)
    const sig =
      typeof h?.signature === 'string' && /^[0-9a-f]{128}$/.test(h.signature) ? h.signature : undefined
    if (key === undefined || root === undefined || sig === undefined || !isLogSeq(h.length) || h.length < 1)
      invalid(`heads[${i}] needs a hex author, log id, length >= 1, root and 64-byte signature`)
    put(
      s.logHeads,
      logPositionKey(key as Uint8Array, h.length),
      Buffer.concat([root as Uint8Array, Buffer.from(sig as string, 'hex')]),
    )
  }

  const counted = new Set<string>()
  for (const t of prepared) {
    planTarget(s, out, t)
    if (!counted.has(t.hex) && reads.targetExists.get(t.hex) !== true) targetCount += 1
    counted.add(t.hex)
  }

  const status = new Map(reads.conflictStatus)
  for (const c of batch.conflicts) conflictsOpen += planConflict(s, out, c, status)

  for (const [i, r] of batch.equivocations.entries()) put(s.equivocation, ...equivocationEntry(r, i))

  const audit = chainAudit(head.audit, namedAudit(batch.audit, head.lastSeq, events.length))
  for (const r of audit) put(s.audit, seqKey(r.seq), JSON.stringify(r))

  const meta: Record<string, string> = { ...head.meta }
  for (const [k, v] of Object.entries(batch.meta)) {
    if (typeof v !== 'string') invalid(`meta ${JSON.stringify(k)} must be a string`)
    if (k.length === 0 || k === META_FORMAT_VERSION || k === META_HEAD)
      invalid(`meta key ${JSON.stringify(k)} is empty or owned by the store`)
    meta[k] = v
  }

  const counters: StoreCounters = {
    events: head.counters.events + events.length,
    byType,
    targets: targetCount,
    conflictsOpen,
  }
  const last = audit.at(-1)
  const next: StoreHead = {
    lastSeq: seq,
    audit: last === undefined ? head.audit : { seq: last.seq, hash: last.hash },
    counters,
    meta,
  }
  const h = headOp(s, next)
  if (h.type === 'put') out.put(h.sublevel, h.key, h.value)
  return { seqs, head: next }
}

/** The one head record a commit writes (replacing nine meta and counter values of format 1). */
export function headOp(s: Sublevels, h: StoreHead): BatchOp {
  return {
    type: 'put',
    sublevel: s.meta,
    key: META_HEAD,
    value: encodeHead({ lastSeq: h.lastSeq, ...h.counters, meta: h.meta }),
  }
}

/** Drafts that name events of this commit get their seq range (`seq_first`, `seq_last`) in the
 *  detail: the record names the group, the log holds the digests. */
function namedAudit(drafts: readonly AuditDraft[], lastSeq: number, count: number): AuditDraft[] {
  return drafts.map((d) => {
    const n = d.names
    if (n === undefined) return d
    if (!Number.isSafeInteger(n.from) || !Number.isSafeInteger(n.count) || n.from < 0 || n.count < 0)
      invalid(`audit draft ${JSON.stringify(d.op)}: names needs non-negative integers from and count`)
    if (n.from + n.count > count)
      invalid(
        `audit draft ${JSON.stringify(d.op)} names events ${n.from}..${n.from + n.count} of a commit of ${count}`,
      )
    const { names: _names, ...rest } = d
    if (n.count === 0) return rest
    return {
      ...rest,
      detail: { ...d.detail, seq_first: lastSeq + n.from + 1, seq_last: lastSeq + n.from + n.count },
    }
  })
}

/** Upserts one conflict and moves its status index entry; returns the change of the open count. */
function planConflict(
  s: Sublevels,
  out: StoreBatch,
  c: ConflictRecord,
  status: Map<string, ConflictRecord['status'] | undefined>,
): number {
  if (typeof c?.id !== 'string' || c.id.length === 0) invalid('conflict record needs an id')
  const code = Object.hasOwn(STATUS_CODE, c.status)
    ? STATUS_CODE[c.status]
    : invalid(`conflict ${c.id} has unknown status ${JSON.stringify(c.status)}`)
  const prev = status.get(c.id)
  if (prev !== undefined && prev !== c.status)
    out.del(s.conflictStatus, conflictStatusKey(STATUS_CODE[prev], c.id))
  out.put(s.conflict, c.id, toJson(c, `conflict ${c.id}`))
  out.put(s.conflictStatus, conflictStatusKey(code, c.id), EMPTY)
  status.set(c.id, c.status)
  return (c.status === 'open' ? 1 : 0) - (prev === 'open' ? 1 : 0)
}

function equivocationEntry(r: EquivocationRecord, i: number): [Uint8Array, string] {
  const author = digestKey(r?.author)
  if (author === undefined || !Number.isFinite(r.atMs) || !Array.isArray(r.events) || r.events.length !== 2)
    return invalid(`equivocations[${i}] needs a hex author, two events and atMs`)
  const a = prepareOne(r.events[0], `equivocations[${i}].events[0]`)
  const b = prepareOne(r.events[1], `equivocations[${i}].events[1]`)
  if (Buffer.compare(a.header.author, author) !== 0 || Buffer.compare(b.header.author, author) !== 0)
    return invalid(`equivocations[${i}]: an event has another author than the record`)
  if (Buffer.compare(a.digest, b.digest) >= 0)
    return invalid(`equivocations[${i}]: events must be two different events ordered by digest`)
  const kind = r.kind === 'position' || r.kind === 'event_id' ? EQUIVOCATION_KIND_CODE[r.kind] : undefined
  if (kind === undefined) return invalid(`equivocations[${i}] has unknown kind ${JSON.stringify(r.kind)}`)
  return [equivocationKey(author, kind, a.digest, b.digest), encodeEquivocation(r)]
}

/** Audit drafts alone, for appendAudit. */
export function planAudit(s: Sublevels, head: StoreHead, drafts: readonly AuditDraft[]): CommitPlan {
  const audit = chainAudit(head.audit, namedAudit(drafts, head.lastSeq, 0))
  const last = audit.at(-1)
  return {
    ops: audit.map((r) => ({ type: 'put', sublevel: s.audit, key: seqKey(r.seq), value: JSON.stringify(r) })),
    seqs: [],
    head: last === undefined ? head : { ...head, audit: { seq: last.seq, hash: last.hash } },
  }
}

/** A commit that writes only node meta values (a new own log id, the state format). */
export function metaOnlyBatch(meta: Readonly<Record<string, string>>): CommitBatch {
  return { events: [], targets: [], conflicts: [], equivocations: [], audit: [], meta }
}
