/**
 * SyncNode: the node's service (SyncApi) over the core engine, the store and the write queue.
 * Transports (HTTP, libp2p) call it; it validates, verifies, queues for group commit, and
 * feeds the change feed.
 */

import type {
  BackupResult,
  ChangeEvent,
  HistoryPage,
  HistoryRequest,
  PullPage,
  PullRequest,
  PushResult,
  ResolveRequest,
  ResolveResult,
  RollbackRequest,
  RollbackResult,
  StateView,
  StatusInfo,
  SyncApi,
} from '../core/api.ts'
import { admittedAuthors } from '../core/authors.ts'
import { HLC_WALL_MS_MAX, PULL_LIMIT_DEFAULT, PULL_LIMIT_MAX, PUSH_EVENTS_MAX } from '../core/constants.ts'
import {
  type EventRejectedError,
  InvalidRequestError,
  isEventRejectedError,
  RetryLaterError,
} from '../core/errors.ts'
import {
  badSignature,
  checkDigestClaim,
  checkEvent,
  eventToJson,
  fieldsFromJson,
  hasEnvelope,
  parseLocalWrite,
  payloadActionOf,
  type VerifyContext,
} from '../core/event.ts'
import { decodeSigned, digestOf, encodeSigned, readMeta } from '../core/event-codec.ts'
import { formatHlc, hlcKey } from '../core/hlc.ts'
import type { IngestItem, IngestOutcome, Ingestor } from '../core/ingest.ts'
import { openConflicts } from '../core/merge.ts'
import { type PayloadAction, parsePayload } from '../core/payload.ts'
import type { AuditDraft, LogHead, Store } from '../core/ports.ts'
import type { StoredEvent } from '../core/records.ts'
import {
  type Digest,
  EVENT_TYPES,
  type EventType,
  eventTypeOf,
  isEventType,
  type Origin,
  type SignedEvent,
} from '../core/types.ts'
import { crdtView, valueView } from '../core/view.ts'
import { StorageError } from '../store/errors.ts'
import { checkStore } from '../store/maintenance.ts'
import { fromHex, toHex } from '../util/bytes.ts'
import type { Signer } from '../util/crypto.ts'
import { isoFromMs, msFromIso } from '../util/time.ts'
import { readHistory } from './history.ts'
import { buildResolution } from './resolve.ts'
import { buildRollback } from './rollback.ts'
import type { StorageHealth } from './storage-health.ts'
import type { CommittedEvent, WriteQueue } from './write-queue.ts'

/** Checks untrusted Yjs bytes before they are queued (the worker guard). */
export interface YjsChecker {
  check(update: Uint8Array): Promise<void>
}

export interface SyncNodeComponents {
  readonly store: Store
  readonly ingestor: Ingestor
  readonly queue: WriteQueue
  readonly signer: Signer
  readonly yjs: YjsChecker
  readonly now: () => number
  readonly newEventId: () => string
  /** Verifies Ed25519 signatures of a whole push (the crypto pool). */
  readonly verify: (
    items: ReadonlyArray<{ key: Uint8Array; message: Uint8Array; signature: Uint8Array }>,
  ) => Promise<boolean[]>
  /** Told when a change-feed subscriber throws (the node logs it and counts it). The error is
   *  contained: delivery goes on, to that subscriber and to the others. */
  readonly onSubscriberError?: (err: unknown) => void
  /** Copies the store into a new store in a directory (LevelStore.backup); returns entries.
   *  `onProgress` hears how far the copy is. */
  readonly backup?: (dir: string, onProgress?: (progress: BackupProgress) => void) => Promise<number>
  /** Whether the store takes writes (absent: always assumed healthy). */
  readonly health?: StorageHealth
}

/** How far a backup is: entries copied, and (an estimate, when the store can tell) the share of
 *  the store behind them, 0..1 (src/store/copy-database.ts CopyProgress). */
export interface BackupProgress {
  readonly entries: number
  readonly fraction?: number
}

export interface SyncNodeInit {
  readonly nodeId: string
  readonly version: string
  readonly driftMaxMs: number
  /** Allow-listed authors (hex keys); undefined = open federation. */
  readonly members?: ReadonlySet<string>
  readonly dataTypes: readonly EventType[]
  readonly extraStatus?: () => Record<string, import('../core/types.ts').JsonValue>
}

/** Live changes held per subscriber while it catches up from the log (see subscribe). */
const SUBSCRIBE_BUFFER_MAX = 10_000

export function normalizeTypes(raw: unknown): EventType[] | undefined {
  if (raw === undefined) return undefined
  if (!Array.isArray(raw) || raw.length === 0)
    throw new InvalidRequestError('data_types must be a non-empty array of event types')
  return [
    ...new Set(
      raw.map((t) => {
        const type = eventTypeOf(t)
        if (type === undefined)
          throw new InvalidRequestError(`data_types: unknown type ${JSON.stringify(t).slice(0, 40)}`)
        return type
      }),
    ),
  ]
}

function rejection(eventId: string | null, err: EventRejectedError) {
  return { event_id: eventId, error: err.code, message: err.message }
}

/**
 * The Yjs guard's refusals that depend on this node's load or lifecycle, not on the bytes
 * (timeouts, memory kills, a full guard queue, a stopping or broken guard), as RetryLaterError:
 * refusing such an event for good would let nodes' event sets drift apart. Undefined for a
 * verdict on the bytes.
 */
export function retryLaterOf(err: unknown): RetryLaterError | undefined {
  const cause = (err as { cause?: { name?: string } })?.cause
  if (cause?.name !== 'YjsGuardTransientError' && (err as Error)?.name !== 'YjsGuardUnavailableError')
    return undefined
  return new RetryLaterError(
    `the Yjs update could not be checked now (${(err as Error).message}); offer it again later`,
    { cause: err },
  )
}

export class SyncNode implements SyncApi {
  readonly #c: SyncNodeComponents
  readonly #init: SyncNodeInit
  readonly #subscribers = new Set<(c: ChangeEvent) => void>()
  readonly #startedAt: number
  readonly #publicKey: string
  /** The one author rule (src/core/authors.ts), shared with the start-up rebuild. */
  readonly #allowedAuthors: ReadonlySet<string> | undefined

  constructor(components: SyncNodeComponents, init: SyncNodeInit) {
    this.#c = components
    this.#init = init
    this.#startedAt = components.now()
    this.#publicKey = toHex(components.signer.publicKey)
    this.#allowedAuthors = admittedAuthors(init.members, this.#publicKey)
  }

  #verifyContext(): VerifyContext {
    return {
      nowMs: this.#c.now(),
      driftMaxMs: this.#init.driftMaxMs,
      allowedAuthors: this.#allowedAuthors,
    }
  }

  /** Called by the write queue after each durable group. */
  onCommitted(events: readonly CommittedEvent[]): void {
    for (const { seq, event, request } of events) {
      const origin = request.origin
      // The digest travels with the change: subscribers need not hash the bytes again.
      const change: ChangeEvent = {
        seq,
        event: { signed: event.signed, signature: event.signature, digest: event.digest },
        origin,
      }
      for (const s of this.#subscribers) this.#call(s, change)
    }
  }

  /** Runs one subscriber; what it throws is reported, never passed on (it would reach the
   *  write queue's drain and end the process, and skip the subscribers after it). */
  #call(subscriber: (c: ChangeEvent) => void, change: ChangeEvent): void {
    try {
      subscriber(change)
    } catch (err) {
      this.#c.onSubscriberError?.(err)
    }
  }

  async #checkYjs(action: PayloadAction): Promise<void> {
    if (action.kind !== 'yjs') return
    try {
      await this.#c.yjs.check(action.update)
    } catch (err) {
      throw retryLaterOf(err) ?? err
    }
  }

  async #submit(
    items: IngestItem[],
    pre: Array<{ index: number; eventId: string | null; error: EventRejectedError }>,
    origin: Origin,
    total: number,
    answers = true,
  ): Promise<PushResult> {
    const audit = (outcomes: readonly IngestOutcome[]): AuditDraft => {
      let accepted = 0
      let duplicates = 0
      const rejected: Array<{ event_id: string | null; error: string }> = pre.map((p) => ({
        event_id: p.eventId,
        error: p.error.code,
      }))
      for (const o of outcomes) {
        if (o.status === 'accepted') accepted++
        else if (o.status === 'duplicate') duplicates++
        else rejected.push({ event_id: o.eventId, error: o.error.code })
      }
      return {
        atMs: this.#c.now(),
        op: 'push',
        origin: `${origin.kind}:${origin.id}`,
        // The accepted events are named by their seq range (seq_first, seq_last: the store adds
        // it), not by listing every digest again: the log maps seqs to digests.
        detail: { accepted, duplicates, rejected },
      }
    }
    this.#c.health?.checkWritable()
    const outcomes = items.length > 0 ? await this.#c.queue.submit({ items, audit, origin }) : []
    if (items.length === 0 && pre.length > 0) await this.#c.store.appendAudit([audit([])])
    // Stitch outcomes back into input order.
    // `events` (the per-event answer of POST /sync/push) only for pushes that answer a client:
    // a peer's push or a catch-up range is counted, not answered event by event.
    const result: PushResult = {
      accepted: 0,
      duplicates: 0,
      rejected: [],
      digests: [],
      ...(answers ? { events: [] } : {}),
    }
    const byIndex = new Map(pre.map((p) => [p.index, p]))
    let k = 0
    for (let i = 0; i < total; i++) {
      const p = byIndex.get(i)
      if (p !== undefined) {
        result.rejected.push(rejection(p.eventId, p.error))
        continue
      }
      const o = outcomes[k++]
      if (o.status === 'accepted') {
        result.accepted++
        result.digests.push(o.event.digest)
        result.events?.push({
          index: i,
          event_id: o.event.eventId,
          digest: o.event.digest,
          hlc: formatHlc(o.event.hlc),
          timestamp: isoFromMs(o.event.hlc.wallMs),
          client_timestamp: null,
        })
      } else if (o.status === 'duplicate') result.duplicates++
      else result.rejected.push(rejection(o.eventId, o.error))
    }
    return result
  }

  async push(raw: readonly unknown[], origin: Origin): Promise<PushResult> {
    if (raw.length > PUSH_EVENTS_MAX)
      throw new InvalidRequestError(`at most ${PUSH_EVENTS_MAX} events per push, got ${raw.length}`)
    const ctx = this.#verifyContext()
    // Local writes are stamped by this node's HLC; the answer says which HLC each got, next to
    // the timestamp the client sent (kept as sent: README "Which write wins").
    const clientTimestamps = new Map<number, string | null>()
    const result = await this.#admit(
      raw.length,
      origin,
      async (i) => {
        const r = raw[i]
        if (hasEnvelope(r)) {
          const { fields, signature, digest } = fieldsFromJson(r)
          const event = checkEvent(fields, encodeSigned(fields), signature, ctx)
          checkDigestClaim(digest, event)
          return { kind: 'signed', event }
        }
        const w = parseLocalWrite(r)
        clientTimestamps.set(i, w.timestamp ?? null)
        return {
          kind: 'local',
          eventId: (w.event_id ?? this.#c.newEventId()).toLowerCase(),
          // An id drawn here for this write cannot name an earlier event: not looked up.
          freshId: w.event_id === undefined,
          type: w.event_type,
          targetId: w.target_id,
          payload: w.payload,
        }
      },
      (i) => {
        // The id goes into the answer and the audit record: well-formed text only (a lone
        // surrogate, or a pair cut in two by the slice, has no canonical JSON form).
        const id = (raw[i] as { event_id?: unknown } | null)?.event_id
        return typeof id === 'string' ? id.slice(0, 64).toWellFormed() : null
      },
    )
    for (const e of result.events ?? []) {
      if (clientTimestamps.has(e.index)) e.client_timestamp = clientTimestamps.get(e.index) ?? null
      else {
        const sent = (raw[e.index] as { timestamp?: unknown } | null)?.timestamp
        e.client_timestamp = typeof sent === 'string' ? sent : null
      }
    }
    return result
  }

  async pushSigned(events: readonly StoredEvent[], origin: Origin): Promise<PushResult> {
    if (events.length > PUSH_EVENTS_MAX)
      throw new InvalidRequestError(`at most ${PUSH_EVENTS_MAX} events per push, got ${events.length}`)
    const ctx = this.#verifyContext()
    return this.#admit(
      events.length,
      origin,
      async (i) => ({
        kind: 'signed',
        event: checkEvent(decodeSigned(events[i].signed), events[i].signed, events[i].signature, ctx),
      }),
      () => null,
      true,
      false,
    )
  }

  async pushVerified(events: readonly SignedEvent[], origin: Origin, head?: LogHead): Promise<PushResult> {
    if (events.length > PUSH_EVENTS_MAX)
      throw new InvalidRequestError(`at most ${PUSH_EVENTS_MAX} events per push, got ${events.length}`)
    const ctx = this.#verifyContext()
    const last = events.length - 1
    return this.#admit(
      events.length,
      origin,
      async (i) => ({
        kind: 'signed',
        event: checkEvent(events[i], events[i].signed, events[i].signature, ctx),
        // The head they were verified against is kept with the group (once).
        ...(head !== undefined && i === last ? { head } : {}),
      }),
      (i) => events[i].eventId,
      false,
      false,
    )
  }

  /**
   * Admission of a push: parse and check each event (schema, membership, drift), verify all
   * signatures at once on the crypto pool, check Yjs updates in the guard, then queue what
   * passed for one group commit. Per-event failures become rejections; nothing else is lost.
   */
  async #admit(
    count: number,
    origin: Origin,
    parse: (i: number) => Promise<IngestItem>,
    idOf: (i: number) => string | null,
    verifySignatures = true,
    answers = true,
  ): Promise<PushResult> {
    const parsed: Array<IngestItem | undefined> = []
    const pre: Array<{ index: number; eventId: string | null; error: EventRejectedError }> = []
    const fail = (i: number, err: unknown) => {
      if (!isEventRejectedError(err)) throw err
      parsed[i] = undefined
      pre.push({ index: i, eventId: idOf(i), error: err })
    }
    for (let i = 0; i < count; i++) {
      try {
        parsed[i] = await parse(i)
      } catch (err) {
        fail(i, err)
      }
    }
    const signedIdx: number[] = []
    if (verifySignatures) for (let i = 0; i < count; i++) if (parsed[i]?.kind === 'signed') signedIdx.push(i)
    const valid = await this.#c.verify(
      signedIdx.map((i) => {
        const e = (parsed[i] as Extract<IngestItem, { kind: 'signed' }>).event
        return { key: fromHex(e.author)!, message: e.signed, signature: e.signature }
      }),
    )
    signedIdx.forEach((i, k) => {
      if (!valid[k]) fail(i, badSignature((parsed[i] as Extract<IngestItem, { kind: 'signed' }>).event))
    })
    for (let i = 0; i < count; i++) {
      const it = parsed[i]
      if (it === undefined) continue
      try {
        // One pass: the parse travels with the item (the event object, or the local item).
        if (it.kind === 'signed') await this.#checkYjs(payloadActionOf(it.event))
        else {
          const action = it.action ?? parsePayload(it.type, it.payload)
          parsed[i] = { ...it, action }
          await this.#checkYjs(action)
        }
      } catch (err) {
        fail(i, err)
      }
    }
    pre.sort((a, b) => a.index - b.index)
    const items = parsed.filter((it): it is IngestItem => it !== undefined)
    return this.#submit(items, pre, origin, count, answers)
  }

  async pull(req: PullRequest, origin: Origin): Promise<PullPage> {
    const types = normalizeTypes(req.data_types) ?? [...EVENT_TYPES]
    const limit = req.limit ?? PULL_LIMIT_DEFAULT
    if (!Number.isInteger(limit) || limit < 1 || limit > PULL_LIMIT_MAX)
      throw new InvalidRequestError(`limit must be an integer 1..${PULL_LIMIT_MAX}`)
    let page: PullPage
    const cursor = req.cursor
    if (cursor?.startsWith('t.') || (cursor === undefined && req.last_sync_time !== undefined)) {
      let sinceMs = 0
      let after: { hlcKey: string; digest: Digest } | undefined
      if (cursor !== undefined) {
        const m = /^t\.([0-9a-f]{16})\.([0-9a-f]{64})$/.exec(cursor)
        if (m === null) throw new InvalidRequestError('cursor is not a cursor this node issued')
        after = { hlcKey: m[1], digest: m[2] as Digest }
      } else {
        const ms = msFromIso(req.last_sync_time!)
        if (ms === undefined)
          throw new InvalidRequestError('last_sync_time must be an ISO 8601 date-time with a zone')
        sinceMs = ms
      }
      page = await this.#pullByTime(types, sinceMs, after, limit)
    } else {
      let afterSeq = 0
      if (cursor !== undefined) {
        const m = /^s\.(0|[1-9]\d{0,15})$/.exec(cursor)
        if (m === null) throw new InvalidRequestError('cursor is not a cursor this node issued')
        afterSeq = Number(m[1])
      }
      const rows = await this.#c.store.readLog(
        afterSeq,
        limit,
        types.length === EVENT_TYPES.length ? undefined : types,
      )
      const last = rows.length > 0 ? rows[rows.length - 1].seq : afterSeq
      const lastSeq = await this.#c.store.lastSeq()
      page = {
        events: rows.map((r) => r.event),
        next_cursor: `s.${last}`,
        has_more: rows.length === limit && last < lastSeq,
      }
    }
    // A pull that serves nothing is not a sync operation worth a record (and a durable write):
    // every peer's periodic catch-up would otherwise add one every 30 s to a log kept forever.
    // While the store refuses writes (a full disk) the record is best effort: the page is served
    // without it and the skip is counted (status `audit_skipped`), so reads keep working.
    if (page.events.length > 0) {
      const health = this.#c.health
      if (health?.writesStopped()) health.skippedAudits++
      else {
        try {
          await this.#c.store.appendAudit([
            {
              atMs: this.#c.now(),
              op: 'pull',
              origin: `${origin.kind}:${origin.id}`,
              detail: { events: page.events.length, cursor: cursor ?? null, next_cursor: page.next_cursor },
            },
          ])
        } catch (err) {
          if (health === undefined || !(err instanceof StorageError)) throw err
          health.skippedAudits++
        }
      }
    }
    return page
  }

  async #pullByTime(
    types: EventType[],
    sinceMs: number,
    after: { hlcKey: string; digest: Digest } | undefined,
    limit: number,
  ): Promise<PullPage> {
    // k-way merge of the per-type time indexes, ordered by (hlcKey, digest).
    const rows: Array<{ key: string; digest: string; event: StoredEvent }> = []
    for (const t of types) {
      for (const ev of await this.#c.store.readByTime(t, sinceMs, limit + 1, after)) {
        rows.push({ key: readMeta(ev.signed).hlcKey, digest: ev.digest ?? digestOf(ev.signed), event: ev })
      }
    }
    rows.sort((a, b) => (a.key !== b.key ? (a.key < b.key ? -1 : 1) : a.digest < b.digest ? -1 : 1))
    const page = rows.slice(0, limit)
    const last = page[page.length - 1]
    // An empty page keeps the client where it asked to be: after its cursor, or just before
    // `sinceMs` (the smallest key of that millisecond and the smallest digest), so the next
    // pull neither rewinds to the start of the log nor skips an event of that millisecond.
    const next =
      last === undefined
        ? after === undefined
          ? `t.${hlcKey({ wallMs: Math.min(Math.max(Math.ceil(sinceMs), 0), HLC_WALL_MS_MAX), counter: 0 })}.${'0'.repeat(64)}`
          : `t.${after.hlcKey}.${after.digest}`
        : `t.${last.key}.${last.digest}`
    return { events: page.map((r) => r.event), next_cursor: next, has_more: rows.length > limit }
  }

  async #localWrite(
    item: Extract<IngestItem, { kind: 'local' }>,
    origin: Origin,
    op: string,
    detail: Record<string, import('../core/types.ts').JsonValue>,
  ): Promise<SignedEvent> {
    this.#c.health?.checkWritable()
    const outcomes = await this.#c.queue.submit({
      items: [item],
      origin,
      audit: (o: readonly IngestOutcome[]) => ({
        atMs: this.#c.now(),
        op,
        origin: `${origin.kind}:${origin.id}`,
        detail: { ...detail, digest: o[0]?.status === 'accepted' ? o[0].event.digest : null },
      }),
    })
    const o = outcomes[0]
    if (o.status === 'rejected') throw o.error
    if (o.status !== 'accepted') throw new InvalidRequestError('the write was a duplicate')
    return o.event
  }

  async resolveConflict(req: ResolveRequest, origin: Origin): Promise<ResolveResult> {
    const conflict = await this.#c.store.getConflict(String(req.conflictId) as never)
    const item = buildResolution(conflict, req, this.#publicKey, this.#c.newEventId())
    const e = await this.#localWrite(item, origin, 'resolve', {
      conflict_id: req.conflictId,
      strategy: req.resolutionStrategy,
    })
    return { conflict_id: String(req.conflictId), strategy: req.resolutionStrategy, event: eventToJson(e) }
  }

  async rollback(req: RollbackRequest, origin: Origin): Promise<RollbackResult> {
    const current = isEventType(req.event_type)
      ? await this.#c.ingestor.target(req.event_type, String(req.target_id))
      : undefined
    const item = await buildRollback(this.#c.store, current, req, this.#c.newEventId())
    const e = await this.#localWrite(item, origin, 'rollback', {
      event_type: req.event_type,
      target_id: req.target_id,
      to_time: req.to_time ?? null,
      to_event: req.to_event ?? null,
    })
    const cells = (item.payload.cells as unknown[]).length
    return { event: eventToJson(e), cells }
  }

  conflicts(status: 'open' | 'resolved' | 'superseded' | 'all', limit: number) {
    return this.#c.store.listConflicts(status, limit)
  }

  equivocations(limit: number) {
    return this.#c.store.listEquivocations(limit)
  }

  async state(type: EventType, target: string): Promise<StateView | undefined> {
    if (!isEventType(type))
      throw new InvalidRequestError(`unknown event type ${JSON.stringify(type).slice(0, 40)}`)
    const s = await this.#c.ingestor.target(type, target)
    if (s === undefined) return undefined
    const crdt = crdtView(s)
    return {
      event_type: type,
      target_id: target,
      value: valueView(s),
      ...(crdt === undefined ? {} : { crdt }),
      heads: s.heads,
      events: s.events,
      open_conflicts: openConflicts(s).map((c) => c.id),
      hash: s.hash ?? '',
    }
  }

  async history(type: EventType, target: string, req: HistoryRequest): Promise<HistoryPage> {
    if (!isEventType(type))
      throw new InvalidRequestError(`unknown event type ${JSON.stringify(type).slice(0, 40)}`)
    return readHistory(this.#c.store, type, target, req)
  }

  async status(): Promise<StatusInfo> {
    const counts = await this.#c.store.counts()
    return {
      node_id: this.#init.nodeId,
      public_key: this.#publicKey,
      version: this.#init.version,
      started_at: isoFromMs(this.#startedAt),
      events: counts.events,
      events_by_type: counts.byType,
      targets: counts.targets,
      conflicts_open: counts.conflictsOpen,
      state_hash: this.#c.ingestor.stateHash,
      last_seq: await this.#c.store.lastSeq(),
      hlc: formatHlc(this.#c.ingestor.hlc),
      members: this.#init.members === undefined ? 'open' : this.#init.members.size,
      data_types: [...this.#init.dataTypes],
      ingest_queue: this.#c.queue.queuedEvents,
      ingest_queue_bytes: this.#c.queue.queuedBytes,
      storage: this.degraded() === undefined ? 'ok' : `degraded: ${this.degraded()}`,
      audit_skipped: this.#c.health?.skippedAudits ?? 0,
      ...(this.#init.extraStatus?.() ?? {}),
    }
  }

  /** A consistent copy of the store (docs/API.md `POST /admin/backup`); `onProgress` hears how
   *  far the copy is (`gkm-sync backup` draws it). */
  async backup(
    dir: string,
    origin: Origin,
    onProgress?: (progress: BackupProgress) => void,
  ): Promise<BackupResult> {
    const backup = this.#c.backup
    if (backup === undefined) throw new InvalidRequestError('this node cannot make backups')
    if (typeof dir !== 'string' || !dir.startsWith('/') || dir.includes('\0'))
      throw new InvalidRequestError("dir must be an absolute path on the node's machine")
    const entries = await backup(dir, onProgress)
    const summary = await checkStore(dir)
    // Best effort: a backup is most wanted when the disk is in trouble.
    await this.#c.store
      .appendAudit([
        {
          atMs: this.#c.now(),
          op: 'backup',
          origin: `${origin.kind}:${origin.id}`,
          detail: { dir, entries, last_seq: summary.lastSeq },
        },
      ])
      .catch(() => {
        if (this.#c.health !== undefined) this.#c.health.skippedAudits++
      })
    return {
      dir,
      entries,
      events: summary.events,
      last_seq: summary.lastSeq,
      state_hash: summary.stateHash ?? null,
    }
  }

  /** Why the node is degraded (its store refuses writes, or a read met damaged data). */
  degraded(): string | undefined {
    return this.#c.health?.degraded()
  }

  async health(): Promise<{ ok: boolean; degraded?: string }> {
    const why = this.degraded()
    return why === undefined ? { ok: true } : { ok: false, degraded: why }
  }

  audit(afterSeq: number, limit: number, newestFirst = false) {
    return this.#c.store.readAudit(afterSeq, limit, newestFirst)
  }

  subscribe(
    afterSeq: number,
    onChange: (c: ChangeEvent) => void,
    onError?: (err: Error) => void,
  ): () => void {
    // Replay stored events first, buffering live ones, then switch to live delivery.
    let last = afterSeq
    let live = false
    let closed = false
    // Live events arriving while the log is replayed wait here, bounded: past the bound they are
    // dropped and read again from the log (where they already are) before going live.
    const buffer: ChangeEvent[] = []
    let overflowed = false
    const deliver = (c: ChangeEvent) => {
      if (c.seq <= last) return
      last = c.seq
      this.#call(onChange, c)
    }
    const listener = (c: ChangeEvent) => {
      if (closed) return
      if (live) deliver(c)
      else if (buffer.length < SUBSCRIBE_BUFFER_MAX) buffer.push(c)
      else overflowed = true
    }
    this.#subscribers.add(listener)
    void (async () => {
      const replayOrigin: Origin = { kind: 'replay', id: 'log' }
      for (;;) {
        if (closed) return
        const rows = await this.#c.store.readLog(last, 500)
        for (const r of rows) if (!closed) deliver({ seq: r.seq, event: r.event, origin: replayOrigin })
        if (rows.length < 500) {
          if (!overflowed) break
          overflowed = false
          buffer.length = 0
        }
      }
      for (const c of buffer.splice(0)) if (!closed) deliver(c)
      live = true
    })().catch((err: unknown) => {
      closed = true
      this.#subscribers.delete(listener)
      onError?.(err as Error)
    })
    return () => {
      closed = true
      this.#subscribers.delete(listener)
    }
  }
}
