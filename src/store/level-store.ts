/**
 * The Store port over abstract-level: LevelDB on disk (`createLevelStore`) or memory-level
 * (`createMemoryStore`), one implementation. Key layout: keys.ts; semantics: docs/STORAGE.md.
 *
 * Writes (commit, appendAudit, clearMaterialized, close) run one at a time, so the in-memory
 * head (last seq, audit chain head, counters) always matches the disk; it is replaced only after
 * a batch has resolved. Reads run concurrently and read multi-key answers from one snapshot.
 */
import { join } from 'node:path'
import { TARGET_ID_BYTES_MAX } from '../core/constants.ts'
import { isLogSeq, LOG_SEQ_MAX } from '../core/event-codec.ts'
import type {
  AuditDraft,
  CommitBatch,
  CommitResult,
  EquivocationRecord,
  LogHead,
  LogRecord,
  Store,
} from '../core/ports.ts'
import type { AuditRecord, ConflictRecord, StoredEvent } from '../core/records.ts'
import type { CellState, TargetState } from '../core/target-state.ts'
import type { AuthorKey, ConflictId, Digest, EventType } from '../core/types.ts'
import { fromUtf8, toHex, utf8 } from '../util/bytes.ts'
import { checkLimit, checkSeq, codeOf, misuse } from './arguments.ts'
import { clearMaterialized } from './clear-materialized.ts'
import {
  decodeAudit,
  decodeCell,
  decodeConflict,
  decodeEquivocation,
  decodeEventValue,
  decodeLogRecord,
  decodeTargetRecord,
} from './codecs.ts'
import {
  type PlannedCommit,
  planAudit,
  planCommit,
  prepareEvents,
  prepareTargets,
  type StoreHead,
} from './commit-plan.ts'
import { commitReads } from './commit-reads.ts'
import {
  READ_LIMIT_MAX,
  SCAN_BUFFER_BYTES_MIN,
  SPILL_BUCKETS_MAX,
  SPILL_DIR,
  WALK_PAGE_SIZE,
} from './constants.ts'
import { type CopyProgress, copyDatabase } from './copy-database.ts'
import {
  StorageCorruptionError,
  StorageDamagedError,
  type StorageError,
  StorageFullError,
  StorageWriteError,
  StoreNotOpenError,
} from './errors.ts'
import type { TargetPage } from './event-queries.ts'
import * as Q from './event-queries.ts'
import * as K from './keys.ts'
import { checkFormat, loadHead } from './load-head.ts'
import { openLevelDatabase } from './open-level.ts'
import { readMany, readManyKeyed, readOne } from './read-many.ts'
import { type ScanStats, scanByTarget } from './target-scan.ts'
import { restoreVectorCell, vectorEventOfCell } from './vector-state.ts'
import { StoreBatch, type writeBatch } from './write-batch.ts'

export type { LevelDatabase } from './keys.ts'

interface Opened {
  readonly db: K.LevelDatabase
  readonly s: K.Sublevels
}

/** A digest stored as an index value (32 bytes); anything else is corruption, named by its key. */
function digestValue(sublevel: string, key: Uint8Array, value: Uint8Array): Digest {
  if (value.byteLength !== 32)
    throw new StorageCorruptionError(`${K.describeKey(sublevel, key)}: value is not a digest`)
  return toHex(value) as Digest
}

export class LevelStore implements Store {
  readonly #source: string | K.LevelDatabase
  #db: K.LevelDatabase | undefined
  #opened: Opened | undefined
  #head: StoreHead | undefined
  #tail: Promise<unknown> = Promise.resolve()
  /** The write failure that stopped writes until reopen() (see writeFault). */
  #fault: StorageError | undefined
  #reopening = false

  /** A data directory (LevelDB; a store is created only in a directory without one) or an
   *  abstract-level database to own. */
  constructor(source: string | K.LevelDatabase, opts: { create?: boolean } = {}) {
    this.#source = source
    this.#create = opts.create ?? true
  }

  /** False: a directory without a store is refused instead of given a new one. */
  readonly #create: boolean

  async open(): Promise<void> {
    if (this.#opened !== undefined) return
    if (this.#db === undefined) {
      if (typeof this.#source === 'string') {
        this.#db = await openLevelDatabase(this.#source, { create: this.#create })
      } else {
        this.#db = this.#source
        await this.#db.open()
      }
    } else {
      await this.#db.open()
    }
    const db = this.#db
    try {
      const s = K.openSublevels(db)
      await checkFormat(db, s)
      this.#head = await loadHead(s)
      this.#opened = { db, s }
    } catch (err) {
      await db.close()
      throw err
    }
  }

  close(): Promise<void> {
    return this.#serial(async () => {
      const opened = this.#opened
      this.#opened = undefined
      this.#head = undefined
      if (opened !== undefined) await opened.db.close()
      if (typeof this.#source === 'string') this.#db = undefined
    })
  }

  /**
   * A consistent copy of the whole store (one LevelDB snapshot) into a new store in `dir`,
   * made while the node runs: writes go on meanwhile, the copy holds each of their batches
   * entirely or not at all. Returns the entries copied.
   */
  backup(dir: string, onProgress?: (progress: CopyProgress) => void): Promise<number> {
    const { db } = this.#open()
    return copyDatabase(db, dir, onProgress)
  }

  /**
   * The failed database write that stopped this store's writes, if any. After LevelDB failed a
   * write (a full disk, an I/O error) its log may end in a torn record and LevelDB itself may
   * refuse every later write, so the store refuses writes (with this error's class) until
   * reopen() has succeeded. Reads go on.
   */
  writeFault(): StorageError | undefined {
    return this.#fault
  }

  /**
   * Closes and opens the database again (after the running writes), reloading the head from
   * disk: LevelDB recovers its log, dropping a torn tail, and forgets a sticky write error.
   * A batch whose write failed may or may not be in the reopened store (LevelDB cannot tell);
   * the head is read back, so the store stays consistent either way. Reads made while the
   * database is closed fail with StoreNotOpenError. If the open fails the store stays closed
   * and reopen() may be called again.
   */
  reopen(): Promise<void> {
    return this.#serial(async () => {
      const opened = this.#opened
      this.#reopening = true
      this.#opened = undefined
      try {
        if (opened !== undefined) await opened.db.close()
        let db: K.LevelDatabase
        if (typeof this.#source === 'string') {
          this.#db = undefined
          db = await openLevelDatabase(this.#source, { create: false })
          this.#db = db
        } else {
          db = this.#source
          await db.open()
        }
        const s = K.openSublevels(db)
        await checkFormat(db, s)
        this.#head = await loadHead(s)
        this.#opened = { db, s }
        this.#fault = undefined
      } finally {
        this.#reopening = false
      }
    })
  }

  commit(batch: CommitBatch): Promise<CommitResult> {
    return this.#serial(async () => {
      const { db, s } = this.#open()
      const events = prepareEvents(batch.events, batch.eventIdTaken)
      const targets = prepareTargets(batch.targets)
      const reads = await commitReads(s, batch, events, targets)
      // Planned straight into LevelDB's batch: no operation list, and nothing of the plan but
      // the head and the seqs is held while the write waits for its fsync (write-batch.ts).
      const out = new StoreBatch(db)
      let plan: PlannedCommit
      try {
        plan = planCommit(s, out, this.#head!, batch, events, targets, reads)
      } catch (err) {
        await out.discard()
        throw err
      }
      await this.#writeBatch(out, batch.unsynced !== true)
      this.#head = plan.head
      return { seqs: plan.seqs }
    })
  }

  appendAudit(records: readonly AuditDraft[]): Promise<void> {
    return this.#serial(async () => {
      const { db, s } = this.#open()
      if (records.length === 0) return
      const plan = planAudit(s, this.#head!, records)
      await this.#write(db, plan.ops)
      this.#head = plan.head
    })
  }

  clearMaterialized(): Promise<void> {
    return this.#serial(async () => {
      const { db, s } = this.#open()
      this.#checkFault()
      try {
        await clearMaterialized(db, s, this.#head!, (head) => {
          this.#head = head
        })
      } catch (err) {
        if (err instanceof StorageWriteError || err instanceof StorageDamagedError) this.#fault ??= err
        throw err
      }
    })
  }

  async getEvent(digest: Digest): Promise<StoredEvent | undefined> {
    const { s } = this.#open()
    const key = K.digestKey(digest)
    if (key === undefined) return undefined
    const value = readOne(s.events, key)
    return value === undefined ? undefined : decodeEventValue(key, value)
  }

  async hasEvents(digests: readonly Digest[]): Promise<boolean[]> {
    const { s } = this.#open()
    if (digests.length > READ_LIMIT_MAX)
      misuse(`at most ${READ_LIMIT_MAX} digests per call, got ${digests.length}`)
    const keys = digests.map((d) => K.digestKey(d))
    const valid = keys.filter((k) => k !== undefined)
    // getMany, not hasMany: classic-level's hasMany seeks an iterator per key, which skips the
    // bloom filters and costs more as the LSM grows; a get of an absent key is usually answered
    // by the filters alone.
    const found = await readMany(s.events, valid)
    let i = 0
    return keys.map((k) => (k === undefined ? false : found[i++] !== undefined))
  }

  /** A whole target: its record and every cell, one range read (one snapshot). */
  async getTarget(type: EventType, target: string): Promise<TargetState | undefined> {
    const { s } = this.#open()
    const bytes = typeof target === 'string' ? utf8(target) : new Uint8Array(0)
    if (bytes.byteLength < 1 || bytes.byteLength > TARGET_ID_BYTES_MAX) return undefined
    const prefix = K.targetPrefix(codeOf(type), bytes)
    const rows = await s.state.iterator(K.prefixRange(prefix)).all()
    if (rows.length === 0) return undefined
    const [state] = assembleTargets(rows)
    checkTarget(state, type, target, rows[0][0])
    await this.#withVectors([state])
    return state
  }

  /** Reads back the vectors stored cells leave in their events (vector-state.ts). */
  async #withVectors(states: ReadonlyArray<TargetState | undefined>): Promise<void> {
    const need: Array<{ state: TargetState; cell: CellState; digest: Digest }> = []
    for (const state of states) {
      const cell = state?.cells.value
      const digest = cell === undefined ? undefined : vectorEventOfCell(state!.type, 'value', cell)
      if (digest !== undefined) need.push({ state: state!, cell: cell!, digest })
    }
    await this.#restoreVectors(need)
  }

  async #restoreVectors(need: ReadonlyArray<{ state: { target: string }; cell: CellState; digest: Digest }>) {
    for (let i = 0; i < need.length; i += READ_LIMIT_MAX) {
      const part = need.slice(i, i + READ_LIMIT_MAX)
      const events = await this.getEvents(part.map((x) => x.digest))
      for (const [j, x] of part.entries())
        restoreVectorCell(x.cell, events[j], `state of vector_update ${JSON.stringify(x.state.target)}`)
    }
  }

  async getEventIdOwner(author: AuthorKey, eventId: string): Promise<Digest | undefined> {
    const { s } = this.#open()
    const a = K.digestKey(author)
    const id = K.eventIdBytes(eventId)
    if (a === undefined || id === undefined) return undefined
    const key = K.eventIdKey(a, id)
    const value = readOne(s.eventId, key)
    return value === undefined ? undefined : digestValue('eid', key, value)
  }

  async getEvents(digests: readonly Digest[]): Promise<Array<StoredEvent | undefined>> {
    const { s } = this.#open()
    if (digests.length > READ_LIMIT_MAX)
      misuse(`at most ${READ_LIMIT_MAX} digests per call, got ${digests.length}`)
    const keys = digests.map((d) => K.digestKey(d))
    return readManyKeyed(s.events, keys, decodeEventValue)
  }

  /** Whole targets (one range read each). */
  async getTargets(
    refs: ReadonlyArray<{ type: EventType; target: string }>,
  ): Promise<Array<TargetState | undefined>> {
    this.#open()
    if (refs.length > READ_LIMIT_MAX) misuse(`at most ${READ_LIMIT_MAX} targets per call, got ${refs.length}`)
    const out: Array<TargetState | undefined> = []
    for (const r of refs) out.push(await this.getTarget(r.type, r.target))
    return out
  }

  async getTargetHeaders(
    refs: ReadonlyArray<{ type: EventType; target: string }>,
  ): Promise<Array<TargetState | undefined>> {
    const { s } = this.#open()
    if (refs.length > READ_LIMIT_MAX) misuse(`at most ${READ_LIMIT_MAX} targets per call, got ${refs.length}`)
    const keys = refs.map(({ type, target }) => {
      const bytes = typeof target === 'string' ? utf8(target) : new Uint8Array(0)
      return bytes.byteLength < 1 || bytes.byteLength > TARGET_ID_BYTES_MAX
        ? undefined
        : K.targetRecordKey(codeOf(type), bytes)
    })
    const valid = keys.filter((k) => k !== undefined)
    const texts = await readMany(s.state, valid)
    let i = 0
    return keys.map((key, j) => {
      if (key === undefined) return undefined
      const text = texts[i++]
      if (text === undefined) return undefined
      const state = decodeTargetRecord(key, text)
      checkTarget(state, refs[j].type, refs[j].target, key)
      return state
    })
  }

  /** A target's Yjs snapshot and log (one range read), for a compaction. */
  async getYjs(type: EventType, target: string): Promise<{ snapshot?: string; log: Record<Digest, string> }> {
    const { s } = this.#open()
    const bytes = typeof target === 'string' ? utf8(target) : new Uint8Array(0)
    if (bytes.byteLength < 1 || bytes.byteLength > TARGET_ID_BYTES_MAX) return { log: {} }
    const code = codeOf(type)
    const rows = await s.state
      .iterator({
        gte: K.yjsSnapshotKey(code, bytes),
        lte: K.yjsUpdateKey(code, bytes, new Uint8Array(32).fill(0xff)),
      })
      .all()
    const out: { snapshot?: string; log: Record<Digest, string> } = { log: {} }
    for (const [key, text] of rows) {
      const entry = K.parseStateKey(key)?.entry
      if (entry?.kind === 'yjsSnapshot') out.snapshot = text
      else if (entry?.kind === 'yjsUpdate') out.log[entry.digest as Digest] = text
      else throw new StorageCorruptionError(`${K.describeKey('state', key)}: not a Yjs entry`)
    }
    return out
  }

  async getCells(
    type: EventType,
    target: string,
    cells: readonly string[],
  ): Promise<Array<CellState | undefined>> {
    const { s } = this.#open()
    if (cells.length > READ_LIMIT_MAX) misuse(`at most ${READ_LIMIT_MAX} cells per call, got ${cells.length}`)
    const bytes = typeof target === 'string' ? utf8(target) : new Uint8Array(0)
    if (bytes.byteLength < 1 || bytes.byteLength > TARGET_ID_BYTES_MAX) return cells.map(() => undefined)
    const code = codeOf(type)
    const keys = cells.map((cell) => K.cellKey(code, bytes, String(cell)))
    const texts = await readMany(s.state, keys)
    const out = texts.map((text, i) => (text === undefined ? undefined : decodeCell(keys[i], text)))
    const need: Array<{ state: { target: string }; cell: CellState; digest: Digest }> = []
    out.forEach((cell, i) => {
      const digest = cell === undefined ? undefined : vectorEventOfCell(type, cells[i], cell)
      if (digest !== undefined) need.push({ state: { target }, cell: cell!, digest })
    })
    await this.#restoreVectors(need)
    return out
  }

  async getEventIdOwners(
    pairs: ReadonlyArray<{ author: AuthorKey; eventId: string }>,
  ): Promise<Array<Digest | undefined>> {
    const { s } = this.#open()
    if (pairs.length > READ_LIMIT_MAX) misuse(`at most ${READ_LIMIT_MAX} ids per call, got ${pairs.length}`)
    const keys = pairs.map(({ author, eventId }) => {
      const a = K.digestKey(author)
      const id = K.eventIdBytes(eventId)
      return a === undefined || id === undefined ? undefined : K.eventIdKey(a, id)
    })
    return readManyKeyed(s.eventId, keys, (key, value) => digestValue('eid', key, value))
  }

  async getLogPositions(
    positions: ReadonlyArray<{ author: AuthorKey; log: string; seq: number }>,
  ): Promise<Array<Digest | undefined>> {
    const { s } = this.#open()
    if (positions.length > READ_LIMIT_MAX)
      misuse(`at most ${READ_LIMIT_MAX} positions per call, got ${positions.length}`)
    const keys = positions.map(({ author, log, seq }) => {
      const k = K.logKey(author, log)
      return k === undefined || !isLogSeq(seq) ? undefined : K.logPositionKey(k, seq)
    })
    return readManyKeyed(s.logPosition, keys, (key, value) => digestValue('lpos', key, value))
  }

  async readLogRun(author: AuthorKey, log: string, fromSeq: number, limit: number): Promise<Digest[]> {
    const { s } = this.#open()
    checkLimit(limit)
    const k = K.logKey(author, log)
    if (k === undefined || !isLogSeq(fromSeq) || limit === 0) return []
    const rows = await s.logPosition
      .iterator({ gte: K.logPositionKey(k, fromSeq), lt: K.logPositionKey(k, LOG_SEQ_MAX), limit })
      .all()
    const out: Digest[] = []
    for (const [key, value] of rows) {
      if (K.logPositionSeq(key) !== fromSeq + out.length) break
      out.push(digestValue('lpos', key, value))
    }
    return out
  }

  async getLogRecords(
    logs: ReadonlyArray<{ author: AuthorKey; log: string }>,
  ): Promise<Array<LogRecord | undefined>> {
    const { s } = this.#open()
    if (logs.length > READ_LIMIT_MAX) misuse(`at most ${READ_LIMIT_MAX} logs per call, got ${logs.length}`)
    const keys = logs.map(({ author, log }) => K.logKey(author, log))
    return readManyKeyed(s.logs, keys, decodeLogRecord)
  }

  async getLogHeads(
    author: AuthorKey,
    log: string,
    fromLength: number,
    toLength: number,
    limit: number,
  ): Promise<LogHead[]> {
    const { s } = this.#open()
    checkLimit(limit)
    const k = K.logKey(author, log)
    if (
      k === undefined ||
      !isLogSeq(fromLength) ||
      !isLogSeq(toLength) ||
      toLength <= fromLength ||
      limit === 0
    )
      return []
    const rows = await s.logHeads
      .iterator({ gt: K.logPositionKey(k, fromLength), lte: K.logPositionKey(k, toLength), limit })
      .all()
    return rows.map(([key, value]) => {
      if (value.byteLength !== 96)
        throw new StorageCorruptionError(`${K.describeKey('lhd', key)}: value is not a root and a signature`)
      return {
        author,
        log,
        length: K.logPositionSeq(key),
        root: toHex(value.subarray(0, 32)),
        signature: toHex(value.subarray(32)),
      }
    })
  }

  async listLogs(after: { author: AuthorKey; log: string } | undefined, limit: number): Promise<LogRecord[]> {
    const { s } = this.#open()
    checkLimit(limit)
    if (limit === 0) return []
    const from = after === undefined ? undefined : K.logKey(after.author, after.log)
    if (after !== undefined && from === undefined) misuse('listLogs: after needs a hex author and log id')
    const rows = await s.logs.iterator(from === undefined ? { limit } : { gt: from, limit }).all()
    return rows.map(([k, v]) => decodeLogRecord(k, v))
  }

  async readLogRange(
    author: AuthorKey,
    log: string,
    fromSeq: number,
    toSeq: number,
    limit: number,
  ): Promise<Array<{ seq: number; event: StoredEvent }>> {
    const { s } = this.#open()
    checkLimit(limit)
    const k = K.logKey(author, log)
    if (k === undefined || !isLogSeq(fromSeq) || !isLogSeq(toSeq) || toSeq <= fromSeq || limit === 0)
      return []
    const rows = await s.logPosition
      .iterator({ gte: K.logPositionKey(k, fromSeq), lt: K.logPositionKey(k, toSeq), limit })
      .all()
    const stored = await this.getEvents(rows.map(([, v]) => toHex(v) as Digest))
    return rows.map(([key], i) => {
      const event = stored[i]
      if (event === undefined)
        throw new StorageCorruptionError(
          `${K.describeKey('lpos', key)}: names an event the store does not hold`,
        )
      return { seq: K.logPositionSeq(key), event }
    })
  }

  async readLogHeld(
    author: AuthorKey,
    log: string,
    fromSeq: number,
    toSeq: number,
    limit: number,
  ): Promise<number[]> {
    const { s } = this.#open()
    checkLimit(limit)
    const k = K.logKey(author, log)
    if (k === undefined || !isLogSeq(fromSeq) || !isLogSeq(toSeq) || toSeq <= fromSeq || limit === 0)
      return []
    const keys = await s.logPosition
      .keys({ gte: K.logPositionKey(k, fromSeq), lt: K.logPositionKey(k, toSeq), limit })
      .all()
    return keys.map((key) => K.logPositionSeq(key))
  }

  async getConflict(id: ConflictId): Promise<ConflictRecord | undefined> {
    const { s } = this.#open()
    if (typeof id !== 'string' || id.length === 0) return undefined
    const text = readOne(s.conflict, id)
    return text === undefined ? undefined : decodeConflict(id, text)
  }

  async lastSeq(): Promise<number> {
    this.#open()
    return this.#head!.lastSeq
  }

  async readLog(
    afterSeq: number,
    limit: number,
    types?: readonly EventType[],
  ): Promise<Array<{ seq: number; event: StoredEvent }>> {
    const { db, s } = this.#open()
    return Q.readLog(db, s, afterSeq, limit, types)
  }

  async readByTime(
    type: EventType,
    sinceMs: number,
    limit: number,
    after?: { hlcKey: string; digest: Digest },
  ): Promise<StoredEvent[]> {
    const { db, s } = this.#open()
    return Q.readByTime(db, s, type, sinceMs, limit, after)
  }

  async scanEventKeys(type: EventType, after: Uint8Array | undefined, limit: number): Promise<Uint8Array[]> {
    const { db, s } = this.#open()
    return Q.scanEventKeys(db, s, type, after, limit)
  }

  async readByTargetOrder(
    after: string | undefined,
    limit: number,
  ): Promise<{ events: StoredEvent[]; next: string | undefined }> {
    const { db, s } = this.#open()
    return Q.readByTargetOrder(db, s, after, limit)
  }

  scanByTarget(opts: {
    bufferBytes: number
    pageEvents: number
    stats?: ScanStats
  }): AsyncIterable<StoredEvent[]> {
    const { db, s } = this.#open()
    if (!Number.isSafeInteger(opts.pageEvents) || opts.pageEvents < 1 || opts.pageEvents > READ_LIMIT_MAX)
      misuse(`pageEvents must be 1 to ${READ_LIMIT_MAX}, got ${opts.pageEvents}`)
    if (!Number.isSafeInteger(opts.bufferBytes) || opts.bufferBytes < SCAN_BUFFER_BYTES_MIN)
      misuse(`bufferBytes must be an integer of at least ${SCAN_BUFFER_BYTES_MIN}, got ${opts.bufferBytes}`)
    return this.#scanByTarget(db, s, opts)
  }

  /** On disk the log is read once into spill files beside the tables (target-scan.ts). */
  async *#scanByTarget(
    db: K.LevelDatabase,
    s: K.Sublevels,
    opts: { bufferBytes: number; pageEvents: number; stats?: ScanStats },
  ): AsyncGenerator<StoredEvent[]> {
    if (typeof this.#source !== 'string') return yield* scanByTarget(db, s, opts)
    // Buckets of about half the buffer each, from the size LevelDB estimates for the log (or
    // 512 bytes an event when it has none); a bucket that comes out larger is read in passes.
    const sized = db as { approximateSize?: (a: string, b: string) => Promise<number> }
    const estimate = Math.max(
      this.#head!.counters.events * 512,
      (await sized.approximateSize?.('!ev!', '!ev"')) ?? 0,
    )
    const buckets = Math.min(SPILL_BUCKETS_MAX, Math.max(1, Math.ceil(estimate / (opts.bufferBytes / 2))))
    yield* scanByTarget(db, s, { ...opts, spill: { dir: join(this.#source, SPILL_DIR), buckets } })
  }

  async readTarget(
    type: EventType,
    target: string,
    limit: number,
    page?: TargetPage,
  ): Promise<StoredEvent[]> {
    const { db, s } = this.#open()
    return Q.readTarget(db, s, type, target, limit, page)
  }

  /** Pages of WALK_PAGE_SIZE keys (records and cells), each from its own short read; a commit
   *  between pages may show. A target is yielded once its last cell has been read. */
  async *iterateTargets(): AsyncIterable<TargetState> {
    let after: Uint8Array | undefined
    let carry: Array<[Uint8Array, string]> = []
    for (;;) {
      const { s } = this.#open()
      const rows = await s.state
        .iterator({ ...(after === undefined ? {} : { gt: after }), limit: WALK_PAGE_SIZE })
        .all()
      const last = rows.length < WALK_PAGE_SIZE
      const all = carry.concat(rows)
      // Keep the last target's rows for the next page unless this is the end (it may go on).
      let cut = all.length
      if (!last && all.length > 0) {
        const tail = K.parseStateKey(all[all.length - 1][0])?.prefix
        while (cut > 0 && tail !== undefined && samePrefix(all[cut - 1][0], tail)) cut--
      }
      carry = all.slice(cut)
      const states = assembleTargets(all.slice(0, cut))
      await this.#withVectors(states)
      yield* states
      if (last) return
      after = rows[rows.length - 1][0]
    }
  }

  async listConflicts(status: ConflictRecord['status'] | 'all', limit: number): Promise<ConflictRecord[]> {
    const { db, s } = this.#open()
    checkLimit(limit)
    if (limit === 0) return []
    if (status === 'all') {
      const rows = await s.conflict.iterator({ limit }).all()
      return rows.map(([k, v]) => decodeConflict(k, v))
    }
    const code = Object.hasOwn(K.STATUS_CODE, status)
      ? K.STATUS_CODE[status]
      : misuse(`unknown conflict status ${JSON.stringify(status)}`)
    return Q.withSnapshot(db, async (snapshot) => {
      const keys = await s.conflictStatus
        .keys({ ...K.prefixRange(Uint8Array.of(code)), limit, snapshot })
        .all()
      const ids = keys.map((k) => fromUtf8(k.subarray(1)))
      const texts = ids.length === 0 ? [] : await s.conflict.getMany(ids, { snapshot })
      return ids.map((id, i) => {
        const text = texts[i]
        if (text === undefined)
          throw new StorageCorruptionError(`${K.describeKey('cfs', keys[i])}: indexes a missing conflict`)
        const record = decodeConflict(id, text)
        if (record.status !== status)
          throw new StorageCorruptionError(
            `${K.describeKey('cfs', keys[i])}: indexes a conflict whose status is ${record.status}`,
          )
        return record
      })
    })
  }

  async listEquivocations(limit: number): Promise<EquivocationRecord[]> {
    const { s } = this.#open()
    checkLimit(limit)
    if (limit === 0) return []
    const rows = await s.equivocation.iterator({ limit }).all()
    return rows.map(([k, v]) => decodeEquivocation(k, v))
  }

  async readAudit(afterSeq: number, limit: number, newestFirst = false): Promise<AuditRecord[]> {
    const { s } = this.#open()
    checkSeq(afterSeq, 'afterSeq')
    checkLimit(limit)
    if (limit === 0) return []
    const range = newestFirst
      ? { reverse: true, ...(afterSeq > 0 ? { lt: K.seqKey(afterSeq) } : {}) }
      : { gt: K.seqKey(afterSeq) }
    const rows = await s.audit.iterator({ ...range, limit }).all()
    return rows.map(([k, v]) => decodeAudit(k, K.readSeq(k) ?? -1, v))
  }

  async getMeta(key: string): Promise<string | undefined> {
    const { s } = this.#open()
    if (typeof key !== 'string' || key.length === 0) misuse('meta key must be a non-empty string')
    if (key === K.META_FORMAT_VERSION) return s.meta.get(key)
    // Node meta values live in the head record, which the store keeps in memory.
    return Object.hasOwn(this.#head!.meta, key) ? this.#head!.meta[key] : undefined
  }

  async counts(): Promise<{
    events: number
    byType: Record<EventType, number>
    targets: number
    conflictsOpen: number
  }> {
    this.#open()
    const c = this.#head!.counters
    return { events: c.events, byType: { ...c.byType }, targets: c.targets, conflictsOpen: c.conflictsOpen }
  }

  #open(): Opened {
    if (this.#opened === undefined)
      throw new StoreNotOpenError(
        this.#reopening || this.#fault !== undefined
          ? 'the store is being reopened after a failed write; retry shortly'
          : 'store is not open (call open() first, or it was closed)',
      )
    return this.#opened
  }

  #checkFault(): void {
    const f = this.#fault
    if (f === undefined) return
    const Class =
      f instanceof StorageFullError
        ? StorageFullError
        : f instanceof StorageDamagedError
          ? StorageDamagedError
          : StorageWriteError
    throw new Class(`writes are stopped since a write failed (${f.message}); they resume after a reopen`, {
      cause: f,
    })
  }

  /** The one write path of commit and appendAudit: refused while a fault stands; a failure of
   *  the database itself stops later writes until reopen(). */
  async #write(db: K.LevelDatabase, ops: Parameters<typeof writeBatch>[1], sync = true): Promise<void> {
    await this.#writeBatch(await StoreBatch.of(db, ops), sync)
  }

  /** Writes a filled batch unless the store is known faulty; a write or damage error makes it so. */
  async #writeBatch(out: StoreBatch, sync: boolean): Promise<void> {
    try {
      this.#checkFault()
    } catch (err) {
      await out.discard()
      throw err
    }
    try {
      await out.write(sync)
    } catch (err) {
      if (err instanceof StorageWriteError || err instanceof StorageDamagedError) this.#fault ??= err
      throw err
    }
  }

  /** Runs writes one at a time, in call order; a failed write does not stop the next. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn)
    this.#tail = run.catch(() => undefined)
    return run
  }
}

/** Whether a `state` key starts with a target prefix followed by its record or cell marker. */
function samePrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  return (
    key.byteLength > prefix.byteLength && Buffer.compare(key.subarray(0, prefix.byteLength), prefix) === 0
  )
}

/** Targets from `state` rows in key order: each record followed by its cells. */
function assembleTargets(rows: ReadonlyArray<[Uint8Array, string]>): TargetState[] {
  const out: TargetState[] = []
  let cur: { state: TargetState; prefix: Uint8Array } | undefined
  for (const [key, text] of rows) {
    const parsed = K.parseStateKey(key)
    if (parsed === undefined)
      throw new StorageCorruptionError(`${K.describeKey('state', key)}: not a state key`)
    const { entry } = parsed
    if (entry.kind === 'record') {
      cur = { state: decodeTargetRecord(key, text), prefix: parsed.prefix }
      out.push(cur.state)
      continue
    }
    if (cur === undefined || Buffer.compare(cur.prefix, parsed.prefix) !== 0)
      throw new StorageCorruptionError(
        `${K.describeKey('state', key)}: an entry of a target without a record`,
      )
    if (entry.kind === 'yjsSnapshot') cur.state.yjs = text
    else if (entry.kind === 'yjsUpdate') {
      cur.state.yjsLog ??= {}
      cur.state.yjsLog[entry.digest as Digest] = text
    } else {
      const cell = decodeCell(key, text)
      // A cell named "__proto__" becomes an own property (plain assignment would not).
      if (entry.cell === '__proto__')
        Object.defineProperty(cur.state.cells, entry.cell, {
          value: cell,
          enumerable: true,
          writable: true,
          configurable: true,
        })
      else cur.state.cells[entry.cell] = cell
    }
  }
  return out
}

function checkTarget(state: TargetState, type: EventType, target: string, key: Uint8Array): void {
  if (state.type !== type || state.target !== target)
    throw new StorageCorruptionError(`${K.describeKey('state', key)}: holds the state of another target`)
}
