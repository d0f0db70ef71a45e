/**
 * Start-up replay: when the materialized state is missing (first start after a format change,
 * a crash during a rebuild, or an explicit rebuild) it is rebuilt from the event log. Events and
 * the state they change are always written in one atomic batch, so a state that exists is never
 * behind the log; the marker of a complete state is the meta key `stateHash`, which a rebuild
 * writes last.
 *
 * Events are re-checked against the current allow-list (a revoked member's events are skipped),
 * not re-verified (their signatures were verified when they were first stored).
 */
import { eventFromTrustedBytes } from '../core/event.ts'
import type { IngestItem, Ingestor } from '../core/ingest.ts'
import type { Store } from '../core/ports.ts'
import { EMPTY_STATE_HASH } from '../core/view.ts'

/** Events per rebuild batch: large batches amortise the fsync; small enough to bound memory. */
export const REPLAY_BATCH_EVENTS = 5000

/** Version of the materialized state format; bump to force a rebuild after a merge-rule change. */
export const STATE_FORMAT = '1'

export interface ReplayReport {
  readonly rebuilt: boolean
  readonly events: number
  readonly skipped: number
  readonly ms: number
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
  opts: { members?: ReadonlySet<string>; now: () => number; force?: boolean },
): Promise<ReplayReport> {
  const t0 = opts.now()
  if (!opts.force && !(await needsRebuild(store))) return { rebuilt: false, events: 0, skipped: 0, ms: 0 }
  await store.clearMaterialized()
  ingestor.resetCaches(EMPTY_STATE_HASH)
  // Target order, not arrival order: state is a function of the event set, so the order is
  // free, and grouping a target's events writes and hashes its state once per page instead of
  // once per event.
  let after: string | undefined
  let events = 0
  let skipped = 0
  for (;;) {
    const page = await store.readByTargetOrder(after, REPLAY_BATCH_EVENTS)
    if (page.events.length === 0) break
    after = page.next
    const items: IngestItem[] = []
    for (const ev of page.events) {
      const e = eventFromTrustedBytes(ev.signed, ev.signature, ev.digest)
      if (opts.members !== undefined && !opts.members.has(e.author)) {
        skipped++
        continue
      }
      items.push({ kind: 'signed', event: e })
    }
    const { batch, outcomes } = await ingestor.ingest(items, opts.now(), [], 'replay')
    for (const o of outcomes) if (o.status === 'rejected') skipped++
    events += items.length
    const { stateHash: _omit, ...meta } = batch.meta
    try {
      await store.commit({ ...batch, meta })
    } catch (err) {
      ingestor.discard()
      throw err
    }
    ingestor.committed()
  }
  const ms = opts.now() - t0
  await store.commit({
    events: [],
    targets: [],
    conflicts: [],
    equivocations: [],
    audit: [{ atMs: opts.now(), op: 'replay', origin: 'local:start', detail: { events, skipped, ms } }],
    meta: { stateHash: ingestor.stateHash, stateFormat: STATE_FORMAT },
  })
  return { rebuilt: true, events, skipped, ms }
}
