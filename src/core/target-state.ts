/**
 * The materialized state of one target, as stored and hashed. A pure function of the set of
 * events on the target (see merge.ts); JSON-serialisable.
 */
import type { ConflictId, Digest, EventType, JsonValue } from './types.ts'

/** One write to a cell, identified by its event. `s` orders writes: hlcKey (16 hex) + author. */
export interface CellEntry {
  /** Digest of the event that wrote it. */
  readonly d: Digest
  /** Stamp: hlcKey(hlc) + author hex; (s, d) is a total order. */
  readonly s: string
  /** Identity of the written value (merge.ts valueHash): `d` for a tombstone, `=<json>` for short
   *  values, else 16 hex chars of sha256 of its canonical JSON. */
  readonly h: string
}

export interface CellState {
  /** The last-write-wins winner: the greatest (s, d) over every write to the cell. */
  w: CellEntry & { v?: JsonValue; del?: true }
  /** The frontier: writes to the cell that no other write to the cell has in its causal past.
   *  Two or more with different `h` are an open conflict. Sorted by (s, d). */
  f: CellEntry[]
}

export interface TargetState {
  readonly type: EventType
  readonly target: string
  cells: Record<string, CellState>
  /** Events of the target that no other event of the target names as a parent. Sorted. */
  heads: Digest[]
  /** Parents named by events of this target that this node does not hold (yet). Sorted. */
  missing: Digest[]
  /** Yjs, append-only (the y-leveldb pattern): the snapshot, one update (base64) merging the
   *  updates compacted so far. Stored under its own key, not in the record: in a partial state
   *  (the ingest engine's) it is present only when a compaction wrote a new one. */
  yjs?: string
  /** Yjs updates appended since the snapshot, by event digest (base64), each under its own key.
   *  Whole state: all of them; partial state and commit batch: the ones to append. */
  yjsLog?: Record<Digest, string>
  /** Commit batch only: log entries a compaction folded into the new snapshot (deleted). */
  yjsDropped?: Digest[]
  /** Sum mod 2^256 of the digests of every Yjs update applied (64 hex): the document's
   *  fingerprint in the target hash. A function of the set of updates, so of the event set,
   *  and known without decoding the document (a state vector is not enough: deletions do not
   *  advance it). */
  yjsSum?: string
  /** Updates in the log (since the snapshot), and their bytes: the engine compacts at
   *  YJS_COMPACT_UPDATES or YJS_COMPACT_BYTES (src/core/ingest.ts). */
  yjsPending?: number
  yjsPendingBytes?: number
  /** Resolution events per conflict id: the greatest (by stamp) resolution that names it. */
  resolved: Record<ConflictId, { d: Digest; s: string }>
  /** Number of events applied to the target. */
  events: number
  /** Greatest HLC key seen on the target. */
  lastHlc: string
  /** Sum mod 2^256 (64 hex) of cellHash() over every cell: the cells' part of the target hash,
   *  updated by each merge for the cells it touched (view.ts). */
  cellSum: string
  /** Cells whose frontier holds two or more writes, sorted: the cells a late intermediate event
   *  may change besides those it writes (merge.ts), known without reading every cell. */
  contested: string[]
  /** targetHash() of this state, cached for the node's state-hash sum (not itself hashed). */
  hash?: string
}

export function emptyTarget(type: EventType, target: string): TargetState {
  return {
    type,
    target,
    cells: {},
    heads: [],
    missing: [],
    resolved: {},
    events: 0,
    lastHlc: '',
    cellSum: EMPTY_CELL_SUM,
    contested: [],
  }
}

/** cellSum of a target without cells. */
export const EMPTY_CELL_SUM = '0'.repeat(64)

/**
 * A copy of a state's small parts with no cells: what the store keeps as a target's record, and
 * the start of a partial state (the ingest engine loads only the cells a group touches). Arrays
 * and records are copied: a merge changes its state in place.
 */
export function headerOf(s: TargetState): TargetState {
  const { yjs: _snapshot, yjsLog: _log, yjsDropped: _dropped, ...record } = s
  return {
    ...record,
    cells: {},
    heads: [...s.heads],
    missing: [...s.missing],
    resolved: { ...s.resolved },
    contested: [...s.contested],
  }
}

export function compareEntry(a: { s: string; d: string }, b: { s: string; d: string }): number {
  if (a.s !== b.s) return a.s < b.s ? -1 : 1
  return a.d === b.d ? 0 : a.d < b.d ? -1 : 1
}

/** Stable key of a target: `<type>/<target>`. */
export function targetKey(type: EventType, target: string): string {
  return `${type}/${target}`
}
