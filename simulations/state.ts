/**
 * A node's state from its event set, computed by the shipped ingest engine (src/core/ingest.ts)
 * over an in-memory StoreReader: the same merge, state hash and conflict records the node
 * commits. State is a pure function of the event set, so the simulator computes it once per
 * distinct set (not per node) and, to check that purity, a second time in another order.
 */
import { eventFromTrustedBytes } from '../src/core/event.ts'
import { readLogPosition } from '../src/core/event-codec.ts'
import { type IngestItem, Ingestor } from '../src/core/ingest.ts'
import { openConflicts } from '../src/core/merge.ts'
import type { CommitBatch, LogRecord, StoreReader } from '../src/core/ports.ts'
import type { ConflictRecord, StoredEvent } from '../src/core/records.ts'
import { headerOf, type TargetState, targetKey } from '../src/core/target-state.ts'
import type { AuthorKey, ConflictId, Digest, EventType } from '../src/core/types.ts'
import { EMPTY_STATE_HASH } from '../src/core/view.ts'
import { trustedYjsMerger } from '../src/core/yjs-merge.ts'
import { signerFromSeed } from '../src/util/crypto.ts'

/** Committed data of one computation, in maps: the StoreReader port the Ingestor reads. */
class MapReader implements StoreReader {
  readonly events = new Map<string, StoredEvent>()
  readonly targets = new Map<string, TargetState>()
  readonly owners = new Map<string, Digest>()
  readonly conflicts = new Map<string, ConflictRecord>()

  async getEvent(d: Digest) {
    return this.events.get(d)
  }
  async hasEvents(ds: readonly Digest[]) {
    return ds.map((d) => this.events.has(d))
  }
  async getTarget(type: EventType, target: string) {
    return this.targets.get(targetKey(type, target))
  }
  async getEventIdOwner(author: AuthorKey, eventId: string) {
    return this.owners.get(`${author}/${eventId}`)
  }
  async getConflict(id: ConflictId) {
    return this.conflicts.get(id)
  }
  async getEvents(ds: readonly Digest[]) {
    return ds.map((d) => this.events.get(d))
  }
  async getTargets(refs: ReadonlyArray<{ type: EventType; target: string }>) {
    return refs.map((r) => this.targets.get(targetKey(r.type, r.target)))
  }
  async getTargetHeaders(refs: ReadonlyArray<{ type: EventType; target: string }>) {
    return refs.map((r) => {
      const t = this.targets.get(targetKey(r.type, r.target))
      return t === undefined ? undefined : headerOf(t)
    })
  }
  async getCells(type: EventType, target: string, cells: readonly string[]) {
    const t = this.targets.get(targetKey(type, target))
    return cells.map((c) => (t !== undefined && Object.hasOwn(t.cells, c) ? t.cells[c] : undefined))
  }
  async getYjs(type: EventType, target: string) {
    const t = this.targets.get(targetKey(type, target))
    return { ...(t?.yjs === undefined ? {} : { snapshot: t.yjs }), log: { ...t?.yjsLog } }
  }
  async getEventIdOwners(pairs: ReadonlyArray<{ author: AuthorKey; eventId: string }>) {
    return pairs.map((p) => this.owners.get(`${p.author}/${p.eventId}`))
  }
  readonly positions = new Map<string, Digest>()
  readonly logs = new Map<string, LogRecord>()
  async getLogPositions(ps: ReadonlyArray<{ author: AuthorKey; log: string; seq: number }>) {
    return ps.map((p) => this.positions.get(`${p.author}/${p.log}/${p.seq}`))
  }
  async readLogRun(author: AuthorKey, log: string, fromSeq: number, limit: number) {
    const out: Digest[] = []
    for (let s = fromSeq; out.length < limit; s++) {
      const d = this.positions.get(`${author}/${log}/${s}`)
      if (d === undefined) break
      out.push(d)
    }
    return out
  }
  async getLogHeads() {
    return []
  }
  async getLogRecords(ls: ReadonlyArray<{ author: AuthorKey; log: string }>) {
    return ls.map((l) => this.logs.get(`${l.author}/${l.log}`))
  }

  apply(batch: CommitBatch, accepted: ReadonlyArray<{ digest: Digest; author: string; eventId: string }>) {
    batch.events.forEach((e, i) => {
      this.events.set(accepted[i].digest, e)
      if (batch.eventIdTaken?.has(i) !== true)
        this.owners.set(`${accepted[i].author}/${accepted[i].eventId}`, accepted[i].digest)
      if (batch.positionTaken?.has(i) !== true) {
        const at = readLogPosition(e.signed)
        this.positions.set(`${accepted[i].author}/${at.log}/${at.seq}`, accepted[i].digest)
      }
    })
    for (const r of batch.logs ?? []) this.logs.set(`${r.author}/${r.log}`, r)
    // A batch carries the cells its group touched; the others stay as they were.
    for (const t of batch.targets) {
      const key = targetKey(t.type, t.target)
      const before = this.targets.get(key)
      const log: Record<string, string> = { ...before?.yjsLog, ...t.yjsLog }
      for (const d of t.yjsDropped ?? []) delete log[d]
      const { yjsDropped: _dropped, ...rest } = t
      const yjs = t.yjs ?? before?.yjs
      this.targets.set(key, {
        ...rest,
        cells: { ...before?.cells, ...t.cells },
        ...(yjs === undefined ? {} : { yjs }),
        ...(Object.keys(log).length === 0 ? {} : { yjsLog: log }),
      })
    }
    for (const c of batch.conflicts) this.conflicts.set(c.id, c)
  }
}

export interface ComputedState {
  readonly stateHash: string
  /** Open conflicts (from the targets' frontiers) and resolved ones, ids sorted. */
  readonly openConflicts: string[]
  readonly resolvedConflicts: string[]
  /** Conflict records the ingest wrote, by status (history-dependent; informative only). */
  readonly records: { open: number; resolved: number; superseded: number }
  readonly refused: number
}

const GROUP = 500

/** Feeds events through one Ingestor, group by group, as a node's write pipeline would. */
export class StateBuilder {
  readonly #reader = new MapReader()
  readonly #ingestor = new Ingestor(
    { store: this.#reader, signer: signerFromSeed(new Uint8Array(32)), crdt: trustedYjsMerger },
    { hlc: { wallMs: 0, counter: 0 }, stateHash: EMPTY_STATE_HASH, log: '0000000000000000', logNext: 0 },
  )
  #refused = 0

  async add(events: readonly StoredEvent[], nowMs: number): Promise<void> {
    for (let i = 0; i < events.length; i += GROUP) {
      const items: IngestItem[] = events
        .slice(i, i + GROUP)
        .map((e) => ({ kind: 'signed', event: eventFromTrustedBytes(e.signed, e.signature, e.digest) }))
      const r = await this.#ingestor.ingest(items, nowMs)
      this.#refused += r.outcomes.filter((o) => o.status === 'rejected').length
      this.#reader.apply(r.batch, r.accepted)
      this.#ingestor.committed()
    }
  }

  /** Conflict records by id (the oracle's view of what is open). */
  get conflicts(): ReadonlyMap<string, ConflictRecord> {
    return this.#reader.conflicts
  }

  result(): ComputedState {
    const open: string[] = []
    const resolved: string[] = []
    for (const t of this.#reader.targets.values()) {
      for (const c of openConflicts(t)) open.push(c.id)
      for (const id of Object.keys(t.resolved)) resolved.push(id)
    }
    const records = { open: 0, resolved: 0, superseded: 0 }
    for (const c of this.#reader.conflicts.values()) records[c.status]++
    return {
      stateHash: this.#ingestor.stateHash,
      openConflicts: open.sort(),
      resolvedConflicts: resolved.sort(),
      records,
      refused: this.#refused,
    }
  }
}

/** Ingests the events (already verified) in the given order and returns the state. */
export async function computeState(events: readonly StoredEvent[], nowMs: number): Promise<ComputedState> {
  const b = new StateBuilder()
  await b.add(events, nowMs)
  return b.result()
}
