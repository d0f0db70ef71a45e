/**
 * The ingest engine: turns a group of events (verified remote events and local writes) into one
 * CommitBatch. Sans-IO: it reads committed data through the StoreReader port, is given the time,
 * and returns the batch; the node writes the batch durably, then calls `committed()` (or
 * `discard()` when the write failed). One Ingestor is the single writer of a node's state.
 */

import { toHex } from '../util/bytes.ts'
import type { Signer } from '../util/crypto.ts'
import { LruMap } from '../util/lru.ts'
import { recordConflicts } from './conflict-records.ts'
import { PARENTS_MAX } from './constants.ts'
import { EquivocationError, type EventRejectedError, isEventRejectedError } from './errors.ts'
import { eventFromTrustedBytes, payloadActionOf, stampEvent } from './event.ts'
import { canonicalJson, readMeta } from './event-codec.ts'
import { formatHlc, hlcKey, observeHlc, tickHlc } from './hlc.ts'
import { LogBook, LogGroup } from './log-book.ts'
import {
  type AncestryPort,
  type CrdtMerger,
  type EventMeta,
  mergeEvent,
  type PendingCells,
  settleCellSum,
} from './merge.ts'
import { type PayloadAction, parsePayload } from './payload.ts'
import type { AuditDraft, CommitBatch, EquivocationRecord, LogHead, StoreReader } from './ports.ts'
import type { ConflictRecord, StoredEvent } from './records.ts'
import { type CellState, headerOf, type TargetState, targetKey } from './target-state.ts'
import type { AuthorKey, ConflictId, Digest, EventType, Hlc, JsonObject, SignedEvent } from './types.ts'
import { addHash, targetHash } from './view.ts'
import { compactInto, trustedYjsMerger, yjsCompactionDue } from './yjs-merge.ts'

export type IngestItem =
  | {
      readonly kind: 'signed'
      readonly event: SignedEvent
      /** A signed head of the event's log that was verified against it (a fetched range): kept
       *  so this node can serve the range to others, verified the same way. */
      readonly head?: LogHead
    }
  | {
      readonly kind: 'local'
      readonly eventId: string
      readonly type: EventType
      readonly targetId: string
      readonly payload: JsonObject
      /** The payload parsed at admission (one pass); parsed here when absent. */
      readonly action?: PayloadAction
      /** Parents besides the target's heads (a resolution names its conflict's sides). */
      readonly extraParents?: readonly Digest[]
      /** The event id was drawn at random (122 bits) by this node for this write, the client
       *  named none: no earlier event holds it, so the engine does not look up its owner (one
       *  read per event). The store still refuses a taken id (commitReads). */
      readonly freshId?: boolean
    }

export type IngestOutcome =
  | { readonly status: 'accepted'; readonly event: SignedEvent }
  | { readonly status: 'duplicate'; readonly digest: Digest }
  | { readonly status: 'rejected'; readonly eventId: string | null; readonly error: EventRejectedError }

export interface IngestComponents {
  readonly store: StoreReader
  readonly signer: Signer
  readonly crdt: CrdtMerger
}

export interface IngestInit {
  /** The node's own log id (16 hex) and the next position in it (from the store). */
  readonly log: string
  readonly logNext: number
  /** HLC to continue from (the last one written, from store meta). */
  readonly hlc: Hlc
  /** The node's state hash as last committed. */
  readonly stateHash: string
  /** Cached target states (the engine is the only writer, so the cache stays exact). */
  readonly targetCacheMax?: number
  /** Cached event metas for ancestry walks (immutable, so always safe to cache). */
  readonly metaCacheMax?: number
  /** Yjs updates appended before a compaction (YJS_COMPACT_UPDATES; tests use fewer). */
  readonly yjsCompactUpdates?: number
}

export interface GroupResult {
  readonly outcomes: IngestOutcome[]
  readonly batch: CommitBatch
  /** Accepted events in batch order (batch.events[i] is accepted[i]). */
  readonly accepted: SignedEvent[]
}

/** Cached target states: hot targets stay in memory, at most 5,000 of them and at most
 *  TARGET_CACHE_BYTES_MAX as targetCacheBytes() estimates them. */
export const TARGET_CACHE_MAX = 5_000
/** Cached event metas (HLC key + parents): the recent DAG that ancestry walks visit; at most
 *  50,000 and at most META_CACHE_BYTES_MAX. */
export const META_CACHE_MAX = 50_000
/** Bytes of V8 heap the target cache may hold (estimated). A cached target is its record and up
 *  to CACHED_CELLS_MAX cells; counted alone, 5,000 targets of 64 cells would be ~100 MB, and
 *  under sustained writes the caches were what grew the heap (docs/BENCHMARKS.md, "Memory
 *  under write load"): 12 MiB keeps ~3,000 targets of a few cells, the hot set of a node's
 *  writes, inside the node's RSS budget. */
export const TARGET_CACHE_BYTES_MAX = 12 * 1024 * 1024
/** Bytes the meta cache may hold (estimated): ~30,000 metas of one parent. A miss costs one
 *  synchronous point read of the event (docs/STORAGE.md). */
export const META_CACHE_BYTES_MAX = 8 * 1024 * 1024

/** Estimated V8 heap bytes of a cached target (measured with heap snapshots: a 64-hex digest
 *  string is ~80 B, a cell with its winner, stamp and one frontier entry ~320 B, the record's
 *  fixed part ~600 B). An estimate for bounding the cache, not an exact size. */
export function targetCacheBytes(s: TargetState): number {
  let cells = 0
  for (const cell in s.cells) cells += 320 + cell.length + 120 * s.cells[cell].f.length
  return 600 + 96 * (s.heads.length + s.missing.length + s.contested.length) + cells
}

/** Estimated V8 heap bytes of a cached meta and its key (digest string, HLC key, parents). */
export function metaCacheBytes(m: EventMeta): number {
  return 240 + 96 * m.parents.length
}

/** Groups ingested ahead of their durable write, at most: the write pipeline keeps one group
 *  being written and one being merged. */
export const INGEST_LAYERS_MAX = 4

/** What one ingested, not yet committed group changed. */
interface Layer {
  readonly targets: Map<string, TargetState>
  readonly metas: Map<Digest, EventMeta>
  readonly owners: Map<string, Digest>
  readonly events: Map<Digest, SignedEvent>
  readonly conflicts: Map<ConflictId, ConflictRecord>
  readonly stateHash: string
  /** Promote into the caches at committed(). A replay page does not: the rebuild reads targets
   *  in order and never comes back to one, so caching its states and metas only churned the old
   *  generation (a quarter of a 1M-event rebuild went to GC). */
  readonly cache: boolean
}

/** Cells kept per cached target, at most: the recently written ones (a hot persona's fields, a
 *  graph's latest edges). A cached target is its small parts plus these; more are read back
 *  from the store when a write needs them (one targeted read). */
export const CACHED_CELLS_MAX = 64

/** The cache entry after a committed group: its state's small parts, the cells the group
 *  changed and the cells cached before (all of them unless that makes more than
 *  CACHED_CELLS_MAX, then only the group's). */
function cachedState(before: TargetState | undefined, s: TargetState): TargetState {
  // The Yjs snapshot and log are not cached: a group appends to the log without reading it.
  const { yjs: _snapshot, yjsLog: _log, yjsDropped: _dropped, ...record } = s
  const own = Object.keys(s.cells).length
  if (before === undefined || own >= CACHED_CELLS_MAX) return record
  const prior = Object.keys(before.cells)
  if (prior.length + own > CACHED_CELLS_MAX) return record
  const cells: Record<string, CellState> = {}
  for (const cell of prior) cells[cell] = before.cells[cell]
  for (const cell of Object.keys(s.cells)) cells[cell] = s.cells[cell]
  return { ...record, cells }
}

/** Yjs updates appended to a document before the engine compacts them into a snapshot (the
 *  y-leveldb pattern). An update then costs an append, not a decode and re-encode of the whole
 *  document; a compaction costs the document once (~0.1-0.2 s for 1 MB here: read, merged,
 *  written), so this many updates share it (~0.3 ms each for 1 MB; `npm run bench -- yjs`).
 *  A whole read (GET /state) merges at most this many updates with the snapshot. */
export const YJS_COMPACT_UPDATES = 512
/** Bytes of Yjs updates appended before a compaction, at most (besides the count): bounds what a
 *  whole read applies on top of the snapshot when updates are large (512 updates of up to
 *  64 KiB would be 32 MiB). */
export const YJS_COMPACT_BYTES = 4 * 1024 * 1024

/** Runs a batched read in slices the store accepts. */
async function chunked<T, R>(
  list: readonly T[],
  read: (part: T[]) => Promise<R[]>,
  size = 10_000,
): Promise<R[]> {
  const out: R[] = []
  for (let i = 0; i < list.length; i += size) out.push(...(await read(list.slice(i, i + size))))
  return out
}

/** Evidence that an author signed two events where it may sign one; ordered by digest. */
function equivocationOf(
  kind: EquivocationRecord['kind'],
  a: SignedEvent,
  b: SignedEvent,
  atMs: number,
): EquivocationRecord {
  const [x, y] = a.digest < b.digest ? [a, b] : [b, a]
  const stored = (e: SignedEvent): StoredEvent => ({
    signed: e.signed,
    signature: e.signature,
    digest: e.digest,
  })
  return { author: a.author, kind, events: [stored(x), stored(y)], atMs }
}

export class Ingestor {
  readonly #store: StoreReader
  readonly #signer: Signer
  readonly #crdt: CrdtMerger
  readonly #targets: LruMap<string, TargetState>
  readonly #metas: LruMap<Digest, EventMeta>
  readonly #author: AuthorKey
  readonly #yjsCompact: number
  #hlc: Hlc
  readonly #book: LogBook
  /** State hash of the committed state. */
  #stateHash: string
  /** Results of groups ingested but not yet durably written, oldest first. A group may be
   *  ingested while the one before it is being written (the node's write pipeline); it then
   *  builds on these layers. committed() promotes the oldest; discard() drops them all. */
  #layers: Layer[] = []
  /** Bumped by every committed(): a store read that straddles one must not fill the cache. */
  #generation = 0

  constructor(components: IngestComponents, init: IngestInit) {
    this.#store = components.store
    this.#signer = components.signer
    this.#crdt = components.crdt
    this.#author = toHex(components.signer.publicKey) as AuthorKey
    this.#hlc = init.hlc
    this.#stateHash = init.stateHash
    this.#targets = new LruMap(init.targetCacheMax ?? TARGET_CACHE_MAX, {
      max: TARGET_CACHE_BYTES_MAX,
      of: targetCacheBytes,
    })
    this.#metas = new LruMap(init.metaCacheMax ?? META_CACHE_MAX, {
      max: META_CACHE_BYTES_MAX,
      of: metaCacheBytes,
    })
    this.#book = new LogBook(components.store, components.signer, init.log, init.logNext)
    this.#yjsCompact = init.yjsCompactUpdates ?? YJS_COMPACT_UPDATES
  }

  /** The per-author log book (own log id, records of every log held). */
  get logs(): LogBook {
    return this.#book
  }

  get hlc(): Hlc {
    return this.#hlc
  }

  /** State hash of the committed state (what the store holds). */
  get stateHash(): string {
    return this.#stateHash
  }

  /** Groups ingested and not yet committed or discarded. */
  get uncommittedGroups(): number {
    return this.#layers.length
  }

  /** Current committed state of a target, whole (every cell): one read of the store. The
   *  engine's own cache holds partial states (the cells groups touched), never whole targets. */
  async target(type: EventType, target: string): Promise<TargetState | undefined> {
    return this.#store.getTarget(type, target)
  }

  /** Committed state of a target without its cells (through the cache, which may hold some). */
  async #header(type: EventType, target: string): Promise<TargetState | undefined> {
    const key = targetKey(type, target)
    const cached = this.#targets.get(key)
    if (cached !== undefined) return cached
    const generation = this.#generation
    const [s] = await this.#store.getTargetHeaders([{ type, target }])
    // A commit that landed meanwhile may have replaced what was read: do not cache it then.
    if (s !== undefined && generation === this.#generation) this.#targets.set(key, s)
    return s
  }

  /**
   * Loads into the partial state `s` the cells a merge needs that it does not hold yet: newest
   * uncommitted layer first, then the cache, then one targeted read of the store for the rest.
   * Each cell is copied (the merge changes its state in place). Cells that exist nowhere stay
   * absent (a new cell).
   */
  async #loadCells(
    s: TargetState,
    cells: Iterable<string>,
    prefetched?: Map<string, CellState | undefined>,
  ): Promise<void> {
    const key = targetKey(s.type, s.target)
    const need: string[] = []
    for (const cell of cells) {
      if (Object.hasOwn(s.cells, cell)) continue
      const known =
        this.#fromLayers((l) => {
          const t = l.targets.get(key)
          return t !== undefined && Object.hasOwn(t.cells, cell) ? t.cells[cell] : undefined
        }) ?? this.#cachedCell(key, cell)
      if (known !== undefined) s.cells[cell] = { w: known.w, f: [...known.f] }
      else if (prefetched?.has(cell) === true) {
        // Read from the store for the whole group at once (#prefetch): absent there is absent.
        const c = prefetched.get(cell)
        if (c !== undefined) s.cells[cell] = { w: c.w, f: [...c.f] }
      } else if (!need.includes(cell)) need.push(cell)
    }
    if (need.length === 0) return
    const found = await this.#store.getCells(s.type, s.target, need)
    need.forEach((cell, i) => {
      const c = found[i]
      if (c !== undefined) s.cells[cell] = { w: c.w, f: [...c.f] }
    })
  }

  #cachedCell(key: string, cell: string): CellState | undefined {
    const t = this.#targets.get(key)
    return t !== undefined && Object.hasOwn(t.cells, cell) ? t.cells[cell] : undefined
  }

  /** Newest value of `pick` over the uncommitted layers. */
  #fromLayers<T>(pick: (l: Layer) => T | undefined): T | undefined {
    for (let i = this.#layers.length - 1; i >= 0; i--) {
      const v = pick(this.#layers[i])
      if (v !== undefined) return v
    }
    return undefined
  }

  /** State a new group builds on: the newest uncommitted layer's, else the committed one. */
  async #current(type: EventType, target: string): Promise<TargetState | undefined> {
    const key = targetKey(type, target)
    const layered = this.#fromLayers((l) => l.targets.get(key))
    return layered ?? (await this.#header(type, target))
  }

  async #committedMeta(d: Digest): Promise<EventMeta | undefined> {
    const cached = this.#fromLayers((l) => l.metas.get(d)) ?? this.#metas.get(d)
    if (cached !== undefined) return cached
    const ev = await this.#store.getEvent(d)
    if (ev === undefined) return undefined
    const m = readMeta(ev.signed)
    const meta = { hlcKey: m.hlcKey, parents: m.parents }
    this.#metas.set(d, meta)
    return meta
  }

  /** Ancestry over committed and uncommitted events plus the given overlay. */
  ancestry(overlay?: Map<Digest, EventMeta>): AncestryPort {
    return { meta: async (d) => overlay?.get(d) ?? (await this.#committedMeta(d)) }
  }

  /**
   * Processes a group. Remote events must already be verified (signature, drift, membership,
   * payload schema, Yjs safety). Nothing is written: the caller commits `batch`.
   */
  async ingest(
    items: readonly IngestItem[],
    nowMs: number,
    audit: readonly AuditDraft[] = [],
    mode: 'live' | 'replay' = 'live',
  ): Promise<GroupResult> {
    const replay = mode === 'replay'
    if (this.#layers.length >= INGEST_LAYERS_MAX)
      throw new Error(
        `Ingestor: ${this.#layers.length} groups wait for their write (max ${INGEST_LAYERS_MAX})`,
      )
    const targets = new Map<string, TargetState>()
    const metas = new Map<Digest, EventMeta>()
    const owners = new Map<string, Digest>()
    const conflicts = new Map<ConflictId, ConflictRecord>()
    const equivocations: EquivocationRecord[] = []
    const events = new Map<Digest, SignedEvent>()
    const outcomes: IngestOutcome[] = []
    const accepted: SignedEvent[] = []
    const ancestry = this.ancestry(metas)
    const prevStates = new Map<string, TargetState | undefined>()
    // Cells each target's merges changed: their hashes are summed once per group (settleCellSum).
    const pendingCells = new Map<string, PendingCells>()
    const unsigned: SignedEvent[] = []
    const group = new LogGroup()
    const eventIdTaken = new Set<number>()
    const positionTaken = new Set<number>()

    // Replay re-applies events already in the log: no presence or equivocation checks.
    const signed = replay ? [] : items.flatMap((it) => (it.kind === 'signed' ? [it.event] : []))
    // Events at positions past their log's end are not held (their digest covers the position):
    // only the others are looked up (a catch-up of new positions reads neither `ev` nor `lpos`).
    const unheldFlags = signed.length > 0 ? await this.#book.unheld(signed) : []
    const unheld = new Set<SignedEvent>(signed.filter((_, i) => unheldFlags[i]))
    const lookup = signed.filter((e) => !unheld.has(e))
    const present = new Set<Digest>()
    const has = lookup.length > 0 ? await this.#store.hasEvents(lookup.map((e) => e.digest)) : []
    lookup.forEach((e, i) => {
      if (has[i] || this.#fromLayers((l) => l.events.get(e.digest)) !== undefined) present.add(e.digest)
    })

    const { loaded, ownersLoaded, cellsLoaded } = await this.#prefetch(items, replay)
    if (!replay)
      await this.#book.prefetch(
        group,
        signed.filter((e) => !present.has(e.digest)),
        unheld,
      )
    // The group merges into partial copies of its targets (the small parts and the cells its
    // events need, #loadCells): a write to a target of a million cells costs the cells written.
    const stateOf = async (type: EventType, target: string): Promise<TargetState | undefined> => {
      const key = targetKey(type, target)
      if (targets.has(key)) return targets.get(key)
      const s = loaded.has(key) ? loaded.get(key) : await this.#current(type, target)
      prevStates.set(key, s)
      if (s === undefined) return undefined
      const own = headerOf(s)
      targets.set(key, own)
      return own
    }
    const ownerOf = async (author: AuthorKey, eventId: string): Promise<Digest | undefined> => {
      const k = `${author}/${eventId}`
      return (
        owners.get(k) ??
        this.#fromLayers((l) => l.owners.get(k)) ??
        (ownersLoaded.has(k) ? ownersLoaded.get(k) : await this.#store.getEventIdOwner(author, eventId))
      )
    }
    const eventOf = async (d: Digest): Promise<SignedEvent | undefined> => {
      const e = events.get(d) ?? this.#fromLayers((l) => l.events.get(d))
      if (e !== undefined) return e
      const stored = await this.#store.getEvent(d)
      if (stored === undefined) return undefined
      return eventFromTrustedBytes(stored.signed, stored.signature, stored.digest)
    }

    for (const item of items) {
      let e: SignedEvent
      let action: PayloadAction | undefined
      // The events this one equivocates with, if any (its event_id, its log position).
      let idOf: SignedEvent | undefined
      let positionOf: SignedEvent | undefined
      let idTaken = false
      let forked = false
      try {
        if (item.kind === 'signed') {
          e = item.event
          if (present.has(e.digest) || events.has(e.digest)) {
            outcomes.push({ status: 'duplicate', digest: e.digest })
            continue
          }
          if (!replay) {
            // Two events where an author may sign one are kept both (state stays a function of
            // the event set, whatever arrived first) and recorded as evidence, once the event
            // is accepted (below).
            const owner = await ownerOf(e.author, e.eventId)
            idTaken = owner !== undefined && owner !== e.digest
            if (idTaken) idOf = await eventOf(owner as Digest)
            const held = await this.#book.heldAt(group, e)
            forked = held !== undefined && held !== e.digest
            if (forked) positionOf = await eventOf(held as Digest)
          }
          this.#hlc = observeHlc(this.#hlc, e.hlc, nowMs)
        } else {
          // A local write retried with the same event_id (a client that timed out) is the same
          // write: answer it as a duplicate. Other content under that id is refused.
          const owner = item.freshId === true ? undefined : await ownerOf(this.#author, item.eventId)
          if (owner !== undefined) {
            const known = events.get(owner) ?? (await eventOf(owner))
            if (
              known !== undefined &&
              known.type === item.type &&
              known.targetId === item.targetId &&
              canonicalJson(known.payload) === canonicalJson(item.payload)
            ) {
              outcomes.push({ status: 'duplicate', digest: owner })
              continue
            }
            throw new EquivocationError(
              `event_id ${item.eventId} was already used by this node for other content`,
            )
          }
          const prev = await stateOf(item.type, item.targetId)
          const parents = await this.#chooseParents(prev?.heads ?? [], item.extraParents ?? [], ancestry)
          const hlc = tickHlc(this.#hlc, nowMs)
          action = item.action ?? parsePayload(item.type, item.payload)
          e = stampEvent(
            {
              eventId: item.eventId,
              type: item.type,
              targetId: item.targetId,
              payload: item.payload,
              hlc,
              parents,
              log: this.#book.log,
              seq: this.#book.nextOwnSeq(group),
            },
            this.#signer.publicKey,
            action,
          )
          unsigned.push(e)
          // A local event is newer than every parent by construction (the HLC observed them).
          this.#hlc = hlc
        }
        action ??= payloadActionOf(e)
        const key = targetKey(e.type, e.targetId)
        const prev = await stateOf(e.type, e.targetId)
        metas.set(e.digest, { hlcKey: hlcKey(e.hlc), parents: e.parents })
        let result: Awaited<ReturnType<typeof mergeEvent>>
        try {
          if (prev !== undefined)
            await this.#loadCells(
              prev,
              [...(action.kind === 'yjs' ? [] : action.writes.map((w) => w.cell)), ...prev.contested],
              cellsLoaded.get(key),
            )
          // Replayed Yjs updates passed the bounded guard when they were first stored.
          let pending = pendingCells.get(key)
          if (pending === undefined) {
            pending = new Map()
            pendingCells.set(key, pending)
          }
          result = await mergeEvent(
            prev,
            e,
            action,
            ancestry,
            replay ? trustedYjsMerger : this.#crdt,
            true,
            pending,
          )
        } catch (err) {
          metas.delete(e.digest)
          throw err
        }
        targets.set(key, result.state)
        if (idTaken) {
          if (idOf !== undefined) equivocations.push(equivocationOf('event_id', e, idOf, nowMs))
          eventIdTaken.add(accepted.length)
        } else owners.set(`${e.author}/${e.eventId}`, e.digest)
        if (forked) {
          if (positionOf !== undefined) equivocations.push(equivocationOf('position', e, positionOf, nowMs))
          positionTaken.add(accepted.length)
          this.#book.fork(group, e)
        } else if (!replay) this.#book.claim(group, e, e.digest)
        events.set(e.digest, e)
        accepted.push(e)
        outcomes.push({ status: 'accepted', event: e })
        if (result.opened.length > 0 || result.closed.length > 0 || result.resolves !== undefined)
          await recordConflicts(
            { ...result, nowMs },
            conflicts,
            eventOf,
            async (id) =>
              conflicts.get(id) ??
              this.#fromLayers((l) => l.conflicts.get(id)) ??
              (await this.#store.getConflict(id)),
          )
      } catch (err) {
        if (!isEventRejectedError(err)) throw err
        const eventId = item.kind === 'signed' ? item.event.eventId : item.eventId
        outcomes.push({ status: 'rejected', eventId, error: err })
      }
    }

    // Local writes were stamped (bytes, digest) one by one; sign them together (in parallel
    // when the signer can), before anything leaves the engine.
    const survivors = unsigned.filter((e) => events.has(e.digest))
    if (survivors.length > 0) {
      const messages = survivors.map((e) => e.signed)
      const sigs =
        this.#signer.signMany !== undefined
          ? await this.#signer.signMany(messages)
          : messages.map((m) => this.#signer.sign(m))
      survivors.forEach((e, i) => {
        ;(e as { signature: Uint8Array }).signature = sigs[i]
      })
    }

    for (const [key, s] of targets) {
      const pending = pendingCells.get(key)
      if (pending !== undefined) settleCellSum(s, pending)
    }

    // Yjs, append-only: a document whose log reached YJS_COMPACT_UPDATES updates is folded into
    // a new snapshot, when no uncommitted group touched it (the store then holds its whole log;
    // otherwise a later group does it).
    for (const [key, s] of targets) {
      if (!yjsCompactionDue(s, this.#yjsCompact, YJS_COMPACT_BYTES)) continue
      if (this.#layers.some((l) => l.targets.has(key))) continue
      // The stored snapshot and log, this group's updates: the store deletes the stored log
      // entries folded and does not append this group's.
      compactInto(s, await this.#store.getYjs(s.type, s.target))
    }

    let stateHash = this.#layers.at(-1)?.stateHash ?? this.#stateHash
    for (const [key, s] of targets) {
      const before = prevStates.get(key)
      const oldHash = before === undefined ? undefined : (before.hash ?? targetHash(before))
      s.hash = targetHash(s)
      stateHash = addHash(stateHash, s.hash, oldHash)
    }
    const verifiedHeads: LogHead[] = []
    for (const it of items) if (it.kind === 'signed' && it.head !== undefined) verifiedHeads.push(it.head)
    const { records: logs, heads } = await this.#book.finish(group, verifiedHeads)
    this.#layers.push({ targets, metas, owners, events, conflicts, stateHash, cache: !replay })
    const batch: CommitBatch = {
      // The digest travels with the event: the store does not hash the bytes again.
      events: replay
        ? []
        : accepted.map((e): StoredEvent => ({ signed: e.signed, signature: e.signature, digest: e.digest })),
      targets: [...targets.values()],
      conflicts: [...conflicts.values()],
      equivocations,
      logs,
      heads,
      ...(eventIdTaken.size > 0 ? { eventIdTaken } : {}),
      ...(positionTaken.size > 0 ? { positionTaken } : {}),
      audit: [
        ...audit,
        ...equivocations.map(
          (q): AuditDraft => ({
            atMs: nowMs,
            op: 'equivocation',
            origin: `author:${q.author}`,
            detail: { kind: q.kind, digests: q.events.map((x) => x.digest ?? '') },
          }),
        ),
      ],
      meta: { hlc: formatHlc(this.#hlc), stateHash },
    }
    return { outcomes, batch, accepted }
  }

  /**
   * Reads everything a group will need in three batched round trips (target states, event-id
   * owners, parent metas) instead of one awaited read per event: the ingest path is bound by
   * read latency otherwise.
   */
  async #prefetch(
    items: readonly IngestItem[],
    replay: boolean,
  ): Promise<{
    loaded: Map<string, TargetState | undefined>
    ownersLoaded: Map<string, Digest | undefined>
    cellsLoaded: Map<string, Map<string, CellState | undefined>>
  }> {
    const refs = new Map<string, { type: EventType; target: string }>()
    const pairs = new Map<string, { author: AuthorKey; eventId: string }>()
    const author = toHex(this.#signer.publicKey) as AuthorKey
    for (const it of items) {
      const type = it.kind === 'signed' ? it.event.type : it.type
      const target = it.kind === 'signed' ? it.event.targetId : it.targetId
      const key = targetKey(type, target)
      if (this.#fromLayers((l) => l.targets.get(key)) === undefined && this.#targets.get(key) === undefined)
        refs.set(key, { type, target })
      if (!replay && (it.kind === 'signed' || it.freshId !== true)) {
        const p =
          it.kind === 'signed'
            ? { author: it.event.author, eventId: it.event.eventId }
            : { author, eventId: it.eventId }
        pairs.set(`${p.author}/${p.eventId}`, p)
      }
    }
    const loaded = new Map<string, TargetState | undefined>()
    const ownersLoaded = new Map<string, Digest | undefined>()
    const refList = [...refs.entries()]
    const pairList = [...pairs.entries()]
    const [states, owners] = await Promise.all([
      chunked(
        refList.map(([, r]) => r),
        (part) => this.#store.getTargetHeaders(part),
      ),
      chunked(
        pairList.map(([, p]) => p),
        (part) => this.#store.getEventIdOwners(part),
      ),
    ])
    // Keys in no uncommitted layer: no pending write can change them, so caching is safe.
    refList.forEach(([k], i) => {
      loaded.set(k, states[i])
      if (states[i] !== undefined) this.#targets.set(k, states[i]!)
    })
    pairList.forEach(([k], i) => {
      ownersLoaded.set(k, owners[i])
    })
    // Metas of parents and heads the merge will look at.
    const want = new Set<Digest>()
    for (const it of items) if (it.kind === 'signed') for (const p of it.event.parents) want.add(p)
    for (const st of loaded.values()) if (st !== undefined) for (const h of st.heads) want.add(h)
    for (const it of items) {
      if (it.kind !== 'local') continue
      const key = targetKey(it.type, it.targetId)
      const st = this.#fromLayers((l) => l.targets.get(key)) ?? this.#targets.get(key)
      if (st !== undefined) for (const h of st.heads) want.add(h)
    }
    for (const it of items) if (it.kind === 'signed') want.delete(it.event.digest) // in the group itself
    const missing = [...want].filter(
      (d) => this.#metas.get(d) === undefined && this.#fromLayers((l) => l.metas.get(d)) === undefined,
    )
    const events = await chunked(missing, (part) => this.#store.getEvents(part))
    missing.forEach((d, i) => {
      const ev = events[i]
      if (ev !== undefined) {
        const m = readMeta(ev.signed)
        this.#metas.set(d, { hlcKey: m.hlcKey, parents: m.parents })
      }
    })
    return { loaded, ownersLoaded, cellsLoaded: await this.#prefetchCells(items, loaded) }
  }

  /**
   * The stored cells the group's events write (and the contested cells of their targets), one
   * read per target instead of one per event: only for targets read from the store just now
   * (loaded, in no uncommitted layer) and cells the cache does not hold. `#loadCells` takes
   * them after the layers and the cache, which are newer.
   */
  async #prefetchCells(
    items: readonly IngestItem[],
    loaded: Map<string, TargetState | undefined>,
  ): Promise<Map<string, Map<string, CellState | undefined>>> {
    const want = new Map<string, { type: EventType; target: string; cells: Set<string> }>()
    for (const it of items) {
      const type = it.kind === 'signed' ? it.event.type : it.type
      const target = it.kind === 'signed' ? it.event.targetId : it.targetId
      const key = targetKey(type, target)
      const stored = loaded.get(key) ?? this.#targets.get(key)
      if (stored === undefined || this.#fromLayers((l) => l.targets.get(key)) !== undefined) continue
      let action: PayloadAction | undefined
      try {
        action = it.kind === 'signed' ? payloadActionOf(it.event) : it.action
      } catch {
        continue // refused in the group's loop, with its own error
      }
      if (action === undefined) continue
      let w = want.get(key)
      if (w === undefined) {
        w = { type, target, cells: new Set(stored.contested) }
        want.set(key, w)
      }
      if (action.kind !== 'yjs') for (const x of action.writes) w.cells.add(x.cell)
    }
    const out = new Map<string, Map<string, CellState | undefined>>()
    await Promise.all(
      [...want].map(async ([key, w]) => {
        const cells = [...w.cells].filter((c) => this.#cachedCell(key, c) === undefined)
        if (cells.length === 0) return
        const found = await chunked(cells, (part) => this.#store.getCells(w.type, w.target, part))
        out.set(key, new Map(cells.map((c, i) => [c, found[i]])))
      }),
    )
    return out
  }

  /** The target's heads (newest first when there are too many) plus required extra parents. */
  async #chooseParents(
    heads: readonly Digest[],
    extra: readonly Digest[],
    ancestry: AncestryPort,
  ): Promise<Digest[]> {
    const out = new Set<Digest>(extra.slice(0, PARENTS_MAX))
    if (heads.length + out.size > PARENTS_MAX) {
      const withHlc = await Promise.all(
        heads.map(async (d) => ({ d, k: (await ancestry.meta(d))?.hlcKey ?? '' })),
      )
      withHlc.sort((a, b) => (a.k > b.k ? -1 : a.k < b.k ? 1 : 0))
      for (const h of withHlc) if (out.size < PARENTS_MAX) out.add(h.d)
    } else {
      for (const h of heads) out.add(h)
    }
    return [...out].sort()
  }

  /** The oldest uncommitted group's batch is durably written: its results become the
   *  committed state. Groups must be written in the order they were ingested. */
  committed(): void {
    const p = this.#layers.shift()
    if (p === undefined) return
    this.#generation++
    if (p.cache) {
      for (const [k, s] of p.targets) this.#targets.set(k, cachedState(this.#targets.get(k), s))
      for (const [d, m] of p.metas) this.#metas.set(d, m)
    } else {
      // What the caches hold of these targets is older than this layer.
      for (const k of p.targets.keys()) this.#targets.delete(k)
    }
    this.#stateHash = p.stateHash
    this.#book.committed()
  }

  /** The oldest uncommitted group's batch was not written: forget it and every group ingested
   *  after it (they built on it). Committed caches were never touched. */
  discard(): void {
    this.#layers = []
    this.#book.discard()
  }

  /** Yjs updates appended before a compaction (YJS_COMPACT_UPDATES unless configured). */
  get yjsCompactUpdates(): number {
    return this.#yjsCompact
  }

  /** Rebuild support: an event the rebuild merged outside ingest() (src/core/rebuild-fold.ts)
   *  advances the clock as ingest() would have. */
  observeReplayed(hlc: Hlc, nowMs: number): void {
    this.#hlc = observeHlc(this.#hlc, hlc, nowMs)
  }

  /** Rebuild support: forget every cached target (after clearMaterialized). */
  resetCaches(stateHash: string): void {
    this.#targets.clear()
    this.#layers = []
    this.#book.reset()
    this.#stateHash = stateHash
  }
}
