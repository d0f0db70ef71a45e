/**
 * Start-up replay: when the materialized state is missing (first start after a format change,
 * a crash during a rebuild, or an explicit rebuild) it is rebuilt from the event log. Events and
 * the state they change are always written in one atomic batch, so a state that exists is never
 * behind the log; the marker of a complete state is the meta key `stateHash`, which a rebuild
 * writes last.
 *
 * Events are re-checked against the current allow-list (a revoked member's events are skipped),
 * by the same rule as live admission (`admittedAuthors`: the members plus the node's own key),
 * not re-verified (their signatures were verified when they were first stored).
 */
import { admittedAuthors } from '../core/authors.ts'
import { eventFromTrustedBytes } from '../core/event.ts'
import type { IngestItem, Ingestor } from '../core/ingest.ts'
import type { Store } from '../core/ports.ts'
import { targetKey } from '../core/target-state.ts'
import { EMPTY_STATE_HASH } from '../core/view.ts'

/** Events per rebuild page: large enough to amortise the fsync (1,000 writes per million
 *  events, each overlapped with merging the next page). Pages are what survives a young-generation
 *  GC while they are merged; 1,000 instead of 2,500 made the 1M rebuild ~5% cheaper in CPU and
 *  left a few MB less RSS (paired runs, docs/BENCHMARKS.md). */
export const REPLAY_BATCH_EVENTS = 1_000

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
  // Three stages overlap: the next page is read while this one is merged, and this page's
  // batch is written while the next is merged. A failed write fails the whole rebuild (the
  // stateHash marker is never written, so the next start rebuilds again). The engine does not
  // cache what a replay page wrote (targets come in order and are not visited again), so a page
  // that continues the previous page's last target waits for that write and reads the target's
  // state and conflict records back from the store.
  let events = 0
  let skipped = 0
  let read = 0
  let writing: Promise<unknown> = Promise.resolve()
  let lastTarget: string | undefined
  const pageEvents = opts.pageEvents ?? REPLAY_BATCH_EVENTS
  const allowed = admittedAuthors(opts.members, opts.selfKey)
  const stats: { passes: number; scanned: number; spillFailed?: string } = { passes: 0, scanned: 0 }
  // Sequential scans of the log, not one random read per event (src/store/target-scan.ts).
  const pages = store
    .scanByTarget({ bufferBytes: opts.bufferBytes ?? REPLAY_BUFFER_BYTES, pageEvents, stats })
    [Symbol.asyncIterator]()
  let reading = pages.next()
  let waitReadMs = 0
  let waitWriteMs = 0
  const waited = async (p: Promise<unknown>, into: 'read' | 'write') => {
    const t = opts.now()
    await p
    if (into === 'read') waitReadMs += opts.now() - t
    else waitWriteMs += opts.now() - t
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
      const items: Array<IngestItem & { kind: 'signed' }> = []
      for (const ev of page) {
        const e = eventFromTrustedBytes(ev.signed, ev.signature, ev.digest)
        if (allowed !== undefined && !allowed.has(e.author)) {
          skipped++
          continue
        }
        items.push({ kind: 'signed', event: e })
      }
      const first = items[0]?.event
      if (first !== undefined && targetKey(first.type, first.targetId) === lastTarget)
        await waited(writing, 'write')
      const last = items.at(-1)?.event
      if (last !== undefined) lastTarget = targetKey(last.type, last.targetId)
      const { batch, outcomes } = await ingestor.ingest(items, opts.now(), [], 'replay')
      for (const o of outcomes) if (o.status === 'rejected') skipped++
      events += items.length
      const { stateHash: _omit, ...meta } = batch.meta
      ingestor.committed()
      // One write in flight: bounds memory to two pages' states.
      await waited(writing, 'write')
      // Unsynced: the marker commit below is synced and makes the pages durable with it.
      writing = store.commit({ ...batch, meta, unsynced: true })
      await opts.onProgress?.(read, total)
    }
  } finally {
    // A failed page or write ends the scan (its snapshot is released); a read still running
    // then fails unobserved.
    reading.catch(() => undefined)
    await pages.return?.()
  }
  await waited(writing, 'write')
  const ms = opts.now() - t0
  await store.commit({
    events: [],
    targets: [],
    conflicts: [],
    equivocations: [],
    audit: [{ atMs: opts.now(), op: 'replay', origin: 'local:start', detail: { events, skipped, ms } }],
    meta: { stateHash: ingestor.stateHash, stateFormat: STATE_FORMAT },
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
