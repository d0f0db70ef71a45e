/**
 * Merge rules: how one event changes a target's state. The state after any set of events is the
 * same whatever the order or duplication of their arrival (property-tested in
 * test/unit/core/merge-order.test.ts):
 *
 * - Last-write-wins per cell: the winner is the greatest (stamp, digest) over all writes, where
 *   stamp = (HLC, author). A max over a set does not depend on order.
 * - Frontier per cell: the writes no other write to the cell has in its causal past (parents are
 *   the author's heads on the target). Domination only grows as events arrive, so the maximal set
 *   of the final event set is reached whatever the order; when a missing intermediate event
 *   arrives late, frontiers of the target are re-checked (it may complete a causal path).
 * - A frontier with two or more different values is an open conflict; its id is derived from the
 *   target, the cell and the sorted digests, so every node names it the same.
 * - Resolutions are ordinary cell writes that name their conflict; the greatest one per conflict
 *   is recorded.
 * - Yjs updates merge into the target's Yjs document (commutative by construction).
 */
import { sha256Hex } from '../util/crypto.ts'
import { ANCESTRY_VISIT_MAX } from './constants.ts'
import { canonicalJson } from './event-codec.ts'
import { hlcKey } from './hlc.ts'
import type { CellWrite, PayloadAction } from './payload.ts'
import {
  type CellEntry,
  type CellState,
  compareEntry,
  EMPTY_CELL_SUM,
  emptyTarget,
  type TargetState,
} from './target-state.ts'
import type { ConflictId, Digest, EventType, SignedEvent } from './types.ts'
import { valueJson } from './value-json.ts'
import { addHash, cellHash, hexSum } from './view.ts'

/** What the merge needs to know about an event it holds: its HLC key and parents. */
export interface EventMeta {
  readonly hlcKey: string
  readonly parents: readonly Digest[]
}

export interface AncestryPort {
  /** Meta of an event this node holds (committed or earlier in the same group), else undefined. */
  meta(digest: Digest): Promise<EventMeta | undefined>
}

/** Merges Yjs updates. The node's implementation runs untrusted bytes under a time/memory bound. */
export interface CrdtMerger {
  merge(base: Uint8Array | undefined, update: Uint8Array): Promise<Uint8Array>
}

export interface OpenConflict {
  readonly id: ConflictId
  readonly cell: string
  readonly sides: readonly CellEntry[]
  readonly winner: Digest
}

export interface MergeResult {
  readonly state: TargetState
  /** Conflicts open after the event that were not open before. */
  readonly opened: OpenConflict[]
  /** Conflicts open before the event that no longer are. */
  readonly closed: ConflictId[]
  /** Set when the event is a resolution: the conflict it names. */
  readonly resolves?: ConflictId
}

export function stampOf(e: SignedEvent): string {
  return hlcKey(e.hlc) + e.author
}

/** Identifies a written value for "same value?" checks: short canonical JSON as itself (most
 *  field values: numbers, flags, short strings), longer values by 64 bits of their sha256. */
export function valueHash(w: CellWrite): string {
  if (w.del) return 'd'
  const text = valueJson(w.value)
  return text.length <= 24 ? `=${text}` : sha256Hex(text).slice(0, 16)
}

export function conflictIdOf(
  type: EventType,
  target: string,
  cell: string,
  digests: readonly string[],
): ConflictId {
  const text = canonicalJson(['gkm-conflict-v1', type, target, cell, [...digests].sort()])
  return sha256Hex(text) as ConflictId
}

function openConflictOf(s: TargetState, cell: string, c: CellState): OpenConflict | undefined {
  if (c.f.length < 2) return undefined
  const h0 = c.f[0].h
  if (c.f.every((e) => e.h === h0)) return undefined
  return {
    id: conflictIdOf(
      s.type,
      s.target,
      cell,
      c.f.map((e) => e.d),
    ),
    cell,
    sides: c.f,
    winner: c.w.d,
  }
}

/** All open conflicts of a target (derived from its frontiers). */
export function openConflicts(s: TargetState): OpenConflict[] {
  const out: OpenConflict[] = []
  for (const cell of Object.keys(s.cells).sort()) {
    const c = openConflictOf(s, cell, s.cells[cell])
    if (c !== undefined) out.push(c)
  }
  return out
}

/**
 * True when `anc` is in the causal past of an event with `parents` and HLC key `descHlc`.
 * Breadth-first over parents, pruning events not newer than `anc` (a descendant always has a
 * greater HLC), visiting at most ANCESTRY_VISIT_MAX events; deterministic for a given event set.
 */
export async function isAncestor(
  ancestry: AncestryPort,
  anc: { d: Digest; hlcKey: string },
  parents: readonly Digest[],
  descHlc: string,
): Promise<boolean> {
  if (anc.hlcKey >= descHlc) return false
  const queue: Digest[] = [...parents]
  const visited = new Set<Digest>()
  for (let i = 0; i < queue.length && visited.size < ANCESTRY_VISIT_MAX; i++) {
    const d = queue[i]
    if (d === anc.d) return true
    if (visited.has(d)) continue
    visited.add(d)
    const m = await ancestry.meta(d)
    if (m === undefined || m.hlcKey <= anc.hlcKey) continue
    for (const p of m.parents) queue.push(p)
  }
  return false
}

function cloneState(s: TargetState): TargetState {
  return {
    ...s,
    cells: Object.fromEntries(Object.entries(s.cells).map(([k, c]) => [k, { w: c.w, f: [...c.f] }])),
    heads: [...s.heads],
    missing: [...s.missing],
    resolved: { ...s.resolved },
    contested: [...s.contested],
    ...(s.yjsLog === undefined ? {} : { yjsLog: { ...s.yjsLog } }),
  }
}

/** Adds `cell` to (or removes it from) the sorted contested list. */
function setContested(list: string[], cell: string, contested: boolean): void {
  let i = 0
  while (i < list.length && list[i] < cell) i++
  const present = list[i] === cell
  if (contested && !present) list.splice(i, 0, cell)
  else if (!contested && present) list.splice(i, 1)
}

function insertSorted(list: Digest[], d: Digest): void {
  let i = 0
  while (i < list.length && list[i] < d) i++
  if (list[i] !== d) list.splice(i, 0, d)
}

/** Removes frontier entries dominated by another entry of the same frontier. */
async function pruneFrontier(ancestry: AncestryPort, f: CellEntry[]): Promise<CellEntry[]> {
  const keep: CellEntry[] = []
  for (const x of f) {
    let dominated = false
    for (const y of f) {
      if (y === x) continue
      const ym = await ancestry.meta(y.d)
      if (
        ym !== undefined &&
        (await isAncestor(ancestry, { d: x.d, hlcKey: x.s.slice(0, 16) }, ym.parents, y.s.slice(0, 16)))
      ) {
        dominated = true
        break
      }
    }
    if (!dominated) keep.push(x)
  }
  return keep
}

/**
 * Cells a group of merges changed, with each one's cellHash before the group (undefined: the
 * cell did not exist). Given to mergeEvent, it records the cells instead of updating `cellSum`
 * per event; settleCellSum then hashes each changed cell once for the whole group: a rebuild
 * page holds a target's events together, and hashing every cell after every event was a tenth
 * of a rebuild's CPU (sha256 and a 256-bit sum per cell per event).
 */
export type PendingCells = Map<string, string | undefined>

/** Brings `s.cellSum` up to date for the cells in `pending` (then empties it). The sum is the
 *  same as per-event updates give: each changed cell's hash before the group is subtracted once
 *  and its hash after the group added once. */
export function settleCellSum(s: TargetState, pending: PendingCells): void {
  if (pending.size === 0) return
  let v = BigInt(`0x${s.cellSum}`)
  for (const [cell, before] of pending) {
    const c = s.cells[cell]
    if (c !== undefined) v += BigInt(`0x${cellHash(cell, c)}`)
    if (before !== undefined) v -= BigInt(`0x${before}`)
  }
  s.cellSum = hexSum(v)
  pending.clear()
}

/**
 * Applies one new (not yet applied) event to the state of its target. The event itself must be
 * visible through `ancestry` (the caller adds it to its group overlay first). With `inPlace`
 * the caller owns `prev` (a private copy) and it is updated directly; otherwise it is copied.
 * With `pending` the cells' part of the hash is left to settleCellSum (`cellSum` is stale until
 * then); without it, `cellSum` is exact after every call.
 */
export async function mergeEvent(
  prev: TargetState | undefined,
  e: SignedEvent,
  action: PayloadAction,
  ancestry: AncestryPort,
  crdt: CrdtMerger,
  inPlace = false,
  pending?: PendingCells,
): Promise<MergeResult> {
  // A Yjs update is appended, not merged into the document (append-only, the y-leveldb
  // pattern): the guard checked the update itself when it was admitted; the ingest engine
  // compacts the log into a snapshot every YJS_COMPACT_UPDATES updates. `crdt` merges nothing
  // here any more; it stays for callers that compact.
  void crdt
  const s = prev === undefined ? emptyTarget(e.type, e.targetId) : inPlace ? prev : cloneState(prev)
  const stamp = stampOf(e)
  const eHlc = stamp.slice(0, 16)

  const missingIdx = s.missing.indexOf(e.digest)
  const wasMissing = missingIdx >= 0
  if (wasMissing) s.missing.splice(missingIdx, 1)
  for (const p of e.parents) {
    if ((await ancestry.meta(p)) === undefined) insertSorted(s.missing, p)
  }
  // Every event of the target this node holds is an ancestor of (or is) one of its heads. An
  // event that names all the heads as parents therefore has every earlier write in its causal
  // past, and dominates every frontier entry without an ancestry walk: the common case of a
  // writer that saw the target's latest state (every local write). Without this, a write to a
  // field last written long ago walked the DAG back to it, one stored event at a time.
  const seesAll = !wasMissing && s.heads.length > 0 && s.heads.every((h) => e.parents.includes(h))
  // In place: `s` is this call's own copy (or the caller's, with inPlace).
  for (let i = s.heads.length - 1; i >= 0; i--) if (e.parents.includes(s.heads[i])) s.heads.splice(i, 1)
  if (!wasMissing) insertSorted(s.heads, e.digest)
  s.events += 1
  if (eHlc > s.lastHlc) s.lastHlc = eHlc

  const writes = action.kind === 'yjs' ? [] : action.writes
  // Cells whose frontier may change: those written, and (after a late intermediate) every
  // contested one. `s` may be partial (the ingest engine loads only the cells an event needs):
  // it must hold every cell written and every contested one.
  const touched = new Set(writes.map((w) => w.cell))
  if (wasMissing) for (const cell of s.contested) touched.add(cell)
  const before = new Map<string, ConflictId>()
  const hashBefore = new Map<string, string>()
  for (const cell of touched) {
    const c = s.cells[cell]
    if (c === undefined) {
      if (s.contested.includes(cell)) throw new Error(`mergeEvent: contested cell ${cell} is not loaded`)
      if (pending !== undefined && !pending.has(cell)) pending.set(cell, undefined)
      continue
    }
    if (pending === undefined) hashBefore.set(cell, cellHash(cell, c))
    else if (!pending.has(cell)) pending.set(cell, cellHash(cell, c))
    const oc = openConflictOf(s, cell, c)
    if (oc !== undefined) before.set(cell, oc.id)
  }

  for (const w of writes) {
    const entry: CellEntry = { d: e.digest, s: stamp, h: valueHash(w) }
    const winner = w.del ? { ...entry, del: true as const } : { ...entry, v: w.value }
    const c = s.cells[w.cell]
    if (c === undefined) {
      s.cells[w.cell] = { w: winner, f: [entry] }
      continue
    }
    if (compareEntry(entry, c.w) > 0) c.w = winner
    if (seesAll || (c.f.length === 1 && e.parents.includes(c.f[0].d))) {
      // Common cases: the writer saw every head, or directly follows the only frontier entry.
      c.f = [entry]
      continue
    }
    const f: CellEntry[] = []
    let dominated = false
    for (const x of c.f) {
      if (await isAncestor(ancestry, { d: x.d, hlcKey: x.s.slice(0, 16) }, e.parents, eHlc)) continue
      // Only an event that arrived after its descendants can be dominated by a frontier entry.
      if (wasMissing && !dominated) {
        const xm = await ancestry.meta(x.d)
        if (
          xm !== undefined &&
          (await isAncestor(ancestry, { d: e.digest, hlcKey: eHlc }, xm.parents, x.s.slice(0, 16)))
        ) {
          dominated = true
        }
      }
      f.push(x)
    }
    if (!dominated) f.push(entry)
    f.sort(compareEntry)
    c.f = f
  }
  if (wasMissing) {
    for (const cell of touched) {
      const c = s.cells[cell]
      if (c !== undefined && c.f.length >= 2) c.f = await pruneFrontier(ancestry, c.f)
    }
  }

  // The cells' part of the target hash and the contested list, for the touched cells only.
  for (const cell of touched) {
    const c = s.cells[cell]
    if (c === undefined) continue
    if (pending === undefined) s.cellSum = addHash(s.cellSum, cellHash(cell, c), hashBefore.get(cell))
    setContested(s.contested, cell, c.f.length >= 2)
  }

  const opened: OpenConflict[] = []
  const closed: ConflictId[] = []
  for (const cell of touched) {
    const c = s.cells[cell]
    const oc = c === undefined ? undefined : openConflictOf(s, cell, c)
    const was = before.get(cell)
    if (was !== undefined && was !== oc?.id) closed.push(was)
    if (oc !== undefined && oc.id !== was) opened.push(oc)
  }

  let resolves: ConflictId | undefined
  if (action.kind === 'resolve') {
    resolves = action.conflictId as ConflictId
    const cur = s.resolved[resolves]
    if (cur === undefined || compareEntry({ s: stamp, d: e.digest }, cur) > 0)
      s.resolved[resolves] = { d: e.digest, s: stamp }
  }
  if (action.kind === 'yjs') {
    s.yjsLog ??= {}
    s.yjsLog[e.digest] = Buffer.from(action.update).toString('base64')
    s.yjsPending = (s.yjsPending ?? 0) + 1
    s.yjsPendingBytes = (s.yjsPendingBytes ?? 0) + action.update.byteLength
    s.yjsSum = addHash(s.yjsSum ?? EMPTY_CELL_SUM, e.digest)
  }
  return { state: s, opened, closed, resolves }
}
