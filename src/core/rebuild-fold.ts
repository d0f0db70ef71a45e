/**
 * The rebuild's fold: during a rebuild every event of a target arrives together, in (HLC,
 * digest) order, on an empty state (src/node/replay.ts). So a target's events are merged here in
 * memory, one after the other, into one whole state, and the target is written once: no store
 * reads of its header, cells or parents' metas per page, no partial state, no layer, no
 * per-page conflict loads, no Yjs read back for a compaction.
 *
 * It gives the state the live path (Ingestor.ingest in 'replay' mode) gives for the same events
 * in the same order, because it runs the same merge (`mergeEvent`, with the same pending-cell
 * sums) over the same ancestry: the events of the target, every one of them held by the log,
 * and the store for any other digest (a parent of another target, an event a revoked member
 * wrote: the log holds it, so it is never "missing"). Conflict records are made by the same
 * rules as live ingest's (src/core/conflict-records.ts). test/unit/node/rebuild-fold.test.ts compares both on
 * random event sets, store state against store state.
 */
import { recordConflicts } from './conflict-records.ts'
import { isEventRejectedError } from './errors.ts'
import { eventFromTrustedBytes, payloadActionOf } from './event.ts'
import { hlcKey } from './hlc.ts'
import { type AncestryPort, type EventMeta, mergeEvent, settleCellSum } from './merge.ts'
import type { StoreReader } from './ports.ts'
import type { ConflictRecord } from './records.ts'
import type { TargetState } from './target-state.ts'
import type { ConflictId, Digest, SignedEvent } from './types.ts'
import { targetHash } from './view.ts'
import { compactInto, trustedYjsMerger, yjsCompactionDue } from './yjs-merge.ts'

/** What the fold needs to know of the log besides the target's own events. */
export type FoldStore = Pick<StoreReader, 'getEvent'>

/** One event of a target as the rebuild read it; `admitted` false: its author is not admitted
 *  (a revoked member): not merged, but held by the log, so visible to ancestry walks. */
export interface FoldEvent {
  readonly event: SignedEvent
  readonly admitted: boolean
}

export interface FoldResult {
  /** The target's whole state (every cell, the Yjs snapshot and log), `hash` set; undefined
   *  when no event of the target was merged. */
  readonly state: TargetState | undefined
  /** Conflict records the target's merges made, in the order the live path writes them. */
  readonly conflicts: ConflictRecord[]
  /** Admitted events the merge refused (a payload that does not parse any more). */
  readonly rejected: number
}

/** Folds one target's events (all of them, in (HLC, digest) order) into its state. Async only
 *  where the ancestry must ask the store about a digest that is not the target's. */
export async function foldTarget(
  events: readonly FoldEvent[],
  store: FoldStore,
  opts: {
    nowMs: number
    /** Ingestor's compaction thresholds (YJS_COMPACT_UPDATES, YJS_COMPACT_BYTES). */
    yjsCompactUpdates: number
    yjsCompactBytes: number
  },
): Promise<FoldResult> {
  const own = new Map<Digest, SignedEvent>()
  const metas = new Map<Digest, EventMeta>()
  for (const { event } of events) {
    own.set(event.digest, event)
    metas.set(event.digest, { hlcKey: hlcKey(event.hlc), parents: event.parents })
  }
  const ancestry: AncestryPort = {
    meta: (d) => {
      const m = metas.get(d)
      return m !== undefined ? Promise.resolve(m) : storedMeta(d)
    },
  }
  const storedMeta = async (d: Digest): Promise<EventMeta | undefined> => {
    const e = await eventOf(d)
    if (e === undefined) return undefined
    const m = { hlcKey: hlcKey(e.hlc), parents: e.parents }
    metas.set(d, m)
    return m
  }
  const others = new Map<Digest, SignedEvent | null>()
  const eventOf = async (d: Digest): Promise<SignedEvent | undefined> => {
    const e = own.get(d) ?? others.get(d)
    if (e !== undefined) return e ?? undefined
    const stored = await store.getEvent(d)
    // Decoded for its meta or a conflict side: the same trusted decode the rebuild uses.
    const ev =
      stored === undefined ? undefined : eventFromTrustedBytes(stored.signed, stored.signature, stored.digest)
    others.set(d, ev ?? null)
    return ev
  }

  let s: TargetState | undefined
  const pending = new Map<string, string | undefined>()
  const conflicts = new Map<ConflictId, ConflictRecord>()
  let rejected = 0
  for (const { event: e, admitted } of events) {
    if (!admitted) continue
    try {
      const action = payloadActionOf(e)
      const result = await mergeEvent(s, e, action, ancestry, trustedYjsMerger, true, pending)
      s = result.state
      if (result.opened.length > 0 || result.closed.length > 0 || result.resolves !== undefined)
        // Nothing of this target was stored before: the records are the ones this fold made
        // (conflict ids name their target, so no other target's records matter).
        await recordConflicts({ ...result, state: s, nowMs: opts.nowMs }, conflicts, eventOf, (id) =>
          conflicts.get(id),
        )
    } catch (err) {
      if (!isEventRejectedError(err)) throw err
      rejected++
    }
  }
  if (s === undefined) return { state: undefined, conflicts: [], rejected }
  settleCellSum(s, pending)
  // The live path's compaction with nothing stored yet: the snapshot is the log folded.
  if (yjsCompactionDue(s, opts.yjsCompactUpdates, opts.yjsCompactBytes)) compactInto(s, { log: {} })
  s.hash = targetHash(s)
  return { state: s, conflicts: [...conflicts.values()], rejected }
}
