/**
 * Start-up replay: when the materialized state is missing (first start after a format change,
 * a crash during a rebuild, or an explicit rebuild) it is rebuilt from the event log. Events and
 * the state they change are always written in one atomic batch, so a state that exists is never
 * behind the log; the marker of a complete state is the meta key `stateHash`, which a rebuild
 * writes last.
 *
 * Each target's events are merged in memory by the rebuild's fold (src/core/rebuild-fold.ts)
 * and the target written once, whole; a target larger than a page continues through the live
 * path's engine (Ingestor.ingest in 'replay' mode). Both give the live path's state
 * (test/unit/node/rebuild-fold.test.ts).
 *
 * Events are re-checked against the current allow-list (a revoked member's events are skipped),
 * by the same rule as live admission (`admittedAuthors`: the members plus the node's own key),
 * not re-verified (their signatures were verified when they were first stored).
 */
import { admittedAuthors } from '../core/authors.ts'
import { eventFromTrustedBytes } from '../core/event.ts'
import { formatHlc } from '../core/hlc.ts'
import { type IngestItem, type Ingestor, YJS_COMPACT_BYTES } from '../core/ingest.ts'
import type { CommitBatch, Store } from '../core/ports.ts'
import { type FoldEvent, foldTarget } from '../core/rebuild-fold.ts'
import type { ConflictRecord } from '../core/records.ts'
import { type TargetState, targetKey } from '../core/target-state.ts'
import { addHash, EMPTY_STATE_HASH } from '../core/view.ts'

/** Consecutive events of one target in the scan, for the fold. */
interface FoldRun {
  readonly key: string
  readonly events: FoldEvent[]
  bytes: number
  admitted: number
}

/** Events per rebuild page: large enough to amortise the fsync (1,000 writes per million
 *  events, each overlapped with merging the next page). Pages are what survives a young-generation
 *  GC while they are merged; 1,000 instead of 2,500 made the 1M rebuild ~5% cheaper in CPU and
 *  left a few MB less RSS (paired runs, docs/BENCHMARKS.md). */
export const REPLAY_BATCH_EVENTS = 1_000

/** Pages of the log whose folded targets are written in one commit (src/core/rebuild-fold.ts):
 *  fewer commits, each a round trip to the store's thread pool that the fold waited on. */
export const REPLAY_WRITE_PAGES = 4

/** Bytes of the log a rebuild holds in memory at a time, to sort it into target order
 *  (src/store/target-scan.ts): the log is spilled once into files of about half this each, and
 *  each file is sorted in it. It is RSS while the rebuild runs; 64 MiB was no faster than 16
 *  (docs/LIMITS.md). */
export const REPLAY_BUFFER_BYTES = 16 * 1024 * 1024

/** Version of the materialized state format; bump to force a rebuild after a merge-rule change.
 *  2: state per cell (target hash v2: cells as a sum of cell hashes). */
export const STATE_FORMAT = '2'

export interface ReplayReport {
  readonly rebuilt: boolean
  readonly events: number
  readonly skipped: number
  readonly ms: number
  /** Of `ms`, the time the rebuild waited for a page to be read, and for a page's write: what
   *  the three overlapped stages did not hide (docs/BENCHMARKS.md). */
  readonly waitReadMs?: number
  readonly waitWriteMs?: number
  /** Sequential scans of the log the rebuild made, and the entries they read in all. */
  readonly passes?: number
  readonly scanned?: number
  /** Why the rebuild could not spill the log to disk (it read the log in passes instead,
   *  slower): usually a full disk. */
  readonly spillFailed?: string
}

export async function needsRebuild(store: Store): Promise<boolean> {
  if ((await store.lastSeq()) === 0) return false
  return (
    (await store.getMeta('stateHash')) === undefined || (await store.getMeta('stateFormat')) !== STATE_FORMAT
  )
}

export async function rebuildState(
  store: Store,
  ingestor: Ingestor,
  opts: {
    /** The federation's members (hex keys); undefined = open federation. */
    members?: ReadonlySet<string>
    /** The node's own key (hex): admitted with the members, as live admission does. */
    selfKey: string
    now: () => number
    force?: boolean
    /** Events per page (REPLAY_BATCH_EVENTS); tests use small pages to cross page borders. */
    pageEvents?: number
    /** Bytes of the log held in memory per scan (REPLAY_BUFFER_BYTES); tests use small
     *  buffers to make many passes. */
    bufferBytes?: number
    /** Told when the rebuild starts (0 of total) and after each page: events read of the log's.
     *  A returned promise is awaited (tests hold the rebuild at a page). */
    onProgress?: (done: number, total: number) => void | Promise<void>
    /** false: every event through the live path (Ingestor.ingest in 'replay' mode), as before
     *  the fold; tests compare the two. */
    fold?: boolean
  },
): Promise<ReplayReport> {
  const t0 = opts.now()
  if (!opts.force && !(await needsRebuild(store))) return { rebuilt: false, events: 0, skipped: 0, ms: 0 }
  const total = await store.lastSeq()
  await opts.onProgress?.(0, total)
  await store.clearMaterialized()
  ingestor.resetCaches(EMPTY_STATE_HASH)
  // Target order, not arrival order: grouping a target's events writes and hashes its state
  // once per page instead of once per event. The order of targets is free (they are
  // independent); within a target the events come in (HLC, digest) order, parents first: the
  // rebuild merges with every event of the log already stored, so no parent is ever "missing",
  // and a child merged before its parent would leave the parent among the heads.
  //
  // Three stages overlap: the next page is read while this one is merged, and the last write
  // runs while the next pages are merged. A failed write fails the whole rebuild (the stateHash
  // marker is never written, so the next start rebuilds again). Targets are merged by the fold
  // (below); a target too large for it continues through the live path (Ingestor.ingest in
  // 'replay' mode), which does not cache what a replay page wrote, so a page that continues a
  // target waits for the write of its earlier part and reads its state and conflict records
  // back from the store.
  let events = 0
  let skipped = 0
  let read = 0
  let writing: Promise<unknown> = Promise.resolve()
  let lastTarget: string | undefined
  const pageEvents = opts.pageEvents ?? REPLAY_BATCH_EVENTS
  const bufferBytes = opts.bufferBytes ?? REPLAY_BUFFER_BYTES
  const useFold = opts.fold !== false
  const allowed = admittedAuthors(opts.members, opts.selfKey)
  const stats: { passes: number; scanned: number; spillFailed?: string } = { passes: 0, scanned: 0 }
  // Sequential scans of the log, not one random read per event (src/store/target-scan.ts).
  const pages = store.scanByTarget({ bufferBytes, pageEvents, stats })[Symbol.asyncIterator]()
  let reading = pages.next()
  let waitReadMs = 0
  let waitWriteMs = 0
  const waited = async (p: Promise<unknown>, into: 'read' | 'write') => {
    const t = opts.now()
    await p
    if (into === 'read') waitReadMs += opts.now() - t
    else waitWriteMs += opts.now() - t
  }
  // The fold (src/core/rebuild-fold.ts): each target's events are merged in memory and the
  // target written once. The last target of a page may continue in the next page, so its events
  // are carried over; a target of more than a page of events (or half the buffer's bytes) is
  // folded that far, written, and continued by the live path (`liveKey`), which reads its state
  // back from the store, as every page did before the fold.
  let carry: FoldRun | undefined
  let liveKey: string | undefined
  /** Sum of the hashes of the targets the fold wrote (the live path's are in the ingestor's). */
  let foldSum = EMPTY_STATE_HASH
  const fold = async (runs: readonly FoldRun[], nowMs: number) => {
    const targets: TargetState[] = []
    const conflicts: ConflictRecord[] = []
    for (const run of runs) {
      for (const { event, admitted } of run.events) if (admitted) ingestor.observeReplayed(event.hlc, nowMs)
      const r = await foldTarget(run.events, store, {
        nowMs,
        yjsCompactUpdates: ingestor.yjsCompactUpdates,
        yjsCompactBytes: YJS_COMPACT_BYTES,
      })
      events += run.admitted
      skipped += r.rejected
      if (r.state === undefined) continue
      foldSum = addHash(foldSum, r.state.hash!)
      targets.push(r.state)
      conflicts.push(...r.conflicts)
    }
    return { targets, conflicts }
  }
  // The fold's targets are written REPLAY_WRITE_PAGES pages of the log at a time (one commit of a
  // few pages: fewer round trips to the store's pool, which the fold would otherwise wait on).
  const writeEvents = REPLAY_WRITE_PAGES * pageEvents
  let held = { targets: [] as TargetState[], conflicts: [] as ConflictRecord[], events: 0 }
  const flush = async (live: CommitBatch | undefined) => {
    const { targets, conflicts } = held
    held = { targets: [], conflicts: [], events: 0 }
    const meta = { hlc: formatHlc(ingestor.hlc) }
    // One write in flight: bounds memory to the states of two writes. Unsynced: the marker
    // commit below is synced and makes the pages durable with it.
    if (live !== undefined) {
      await waited(writing, 'write')
      const { stateHash: _omit, ...rest } = live.meta
      writing = store.commit({ ...live, meta: { ...rest, ...meta }, unsynced: true })
      writing.catch(() => undefined)
    }
    if (targets.length === 0 && conflicts.length === 0) return
    await waited(writing, 'write')
    // Each folded target is written once, whole, and nothing of it was stored before.
    writing = store.commit({
      events: [],
      targets,
      conflicts,
      equivocations: [],
      audit: [],
      meta,
      unsynced: true,
      targetsNew: true,
    })
    // Observed when the next write or the end awaits it; not an unhandled rejection meanwhile.
    writing.catch(() => undefined)
  }
  try {
    for (;;) {
      const t = opts.now()
      const next = await reading
      waitReadMs += opts.now() - t
      if (next.done === true) break
      const page = next.value
      read += page.length
      // The next page is read while this one is merged.
      reading = pages.next()
      const nowMs = opts.now()
      const items: Array<IngestItem & { kind: 'signed' }> = []
      const runs: FoldRun[] = []
      for (const ev of page) {
        const e = eventFromTrustedBytes(ev.signed, ev.signature, ev.digest)
        const admitted = allowed === undefined || allowed.has(e.author)
        if (!admitted) skipped++
        const key = targetKey(e.type, e.targetId)
        if (!useFold || key === liveKey) {
          if (admitted) items.push({ kind: 'signed', event: e })
          continue
        }
        let run = runs.at(-1)
        if (run?.key !== key) {
          run = { key, events: [], bytes: 0, admitted: 0 }
          runs.push(run)
        }
        run.events.push({ event: e, admitted })
        run.bytes += ev.signed.byteLength
        if (admitted) run.admitted++
      }
      let live: CommitBatch | undefined
      if (items.length > 0) {
        // The live path continues a target an earlier page wrote: that write must land first.
        const first = items[0].event
        if (useFold || targetKey(first.type, first.targetId) === lastTarget) await waited(writing, 'write')
        const last = items.at(-1)!.event
        lastTarget = targetKey(last.type, last.targetId)
        const { batch, outcomes } = await ingestor.ingest(items, nowMs, [], 'replay')
        for (const o of outcomes) if (o.status === 'rejected') skipped++
        events += items.length
        ingestor.committed()
        live = batch
      }
      // Another target in the page: the live path's target has ended.
      if (runs.length > 0) liveKey = undefined
      const done: FoldRun[] = []
      for (const run of runs) {
        if (carry?.key === run.key) {
          carry.events.push(...run.events)
          carry.bytes += run.bytes
          carry.admitted += run.admitted
        } else {
          if (carry !== undefined) done.push(carry)
          carry = run
        }
        if (carry.events.length > pageEvents || carry.bytes > bufferBytes / 2) {
          // Too large to hold: folded this far; the rest of the target goes the live path.
          done.push(carry)
          liveKey = carry.key
          carry = undefined
        }
      }
      const folded = await fold(done, nowMs)
      held.targets.push(...folded.targets)
      held.conflicts.push(...folded.conflicts)
      held.events += page.length
      // The live path reads back what was written of its target: written now, then.
      if (live !== undefined || liveKey !== undefined || held.events >= writeEvents) await flush(live)
      await opts.onProgress?.(read, total)
    }
    if (carry !== undefined) {
      const folded = await fold([carry], opts.now())
      carry = undefined
      held.targets.push(...folded.targets)
      held.conflicts.push(...folded.conflicts)
    }
    await flush(undefined)
  } finally {
    // A failed page or write ends the scan (its snapshot is released); a read still running
    // then fails unobserved.
    reading.catch(() => undefined)
    await pages.return?.()
  }
  await waited(writing, 'write')
  const ms = opts.now() - t0
  // The node goes on from the rebuilt state: the live path's targets and the fold's.
  const stateHash = addHash(ingestor.stateHash, foldSum)
  ingestor.resetCaches(stateHash)
  await store.commit({
    events: [],
    targets: [],
    conflicts: [],
    equivocations: [],
    audit: [{ atMs: opts.now(), op: 'replay', origin: 'local:start', detail: { events, skipped, ms } }],
    meta: { stateHash, stateFormat: STATE_FORMAT, hlc: formatHlc(ingestor.hlc) },
  })
  return {
    rebuilt: true,
    events,
    skipped,
    ms,
    waitReadMs,
    waitWriteMs,
    passes: stats.passes,
    scanned: stats.scanned,
    ...(stats.spillFailed === undefined ? {} : { spillFailed: stats.spillFailed }),
  }
}
