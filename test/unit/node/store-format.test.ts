/**
 * Store format 3 (state per cell) through the engine, as a property: a random set of events (several authors,
 * types and targets, with causal parents and concurrent writes) arrives in random groups, in a
 * random order, with duplicates, through the Ingestor into a store. For every run:
 *
 * - the state hash equals the one of the same set arriving in another order and grouping (state
 *   is a function of the event set) and equals a rebuild from the log;
 * - the log (`readLog`, merged from the per-type `tseq` ranges) gives every event exactly once in
 *   seq order, whole and filtered by type, in pages of random size;
 * - every target read whole (its record and its cells) is the same in both orders, its cellSum,
 *   contested list and hash agree with its cells, and the targets' hashes sum to the state hash
 *   (one engine caches a single target, so its writes read cells back from the store);
 * - the head record (counters, meta) comes back after a reopen;
 * - the audit records name their events by seq range, and the ranges cover exactly the log.
 *
 * Seeded (GKM_SEED): a failure prints the seed and path that reproduce it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { type IngestItem, Ingestor } from '../../../src/core/ingest.ts'
import type { AuditDraft } from '../../../src/core/ports.ts'
import {
  type Digest,
  EVENT_TYPES,
  type EventType,
  type JsonObject,
  type SignedEvent,
} from '../../../src/core/types.ts'
import { addHash, cellSumOf, EMPTY_STATE_HASH, targetHash } from '../../../src/core/view.ts'
import { trustedYjsMerger } from '../../../src/core/yjs-merge.ts'
import { rebuildState } from '../../../src/node/replay.ts'
import { createMemoryStore } from '../../../src/store/index.ts'
import { makeEvent, testSigner } from '../../helpers/events.ts'

const SEED = Number(process.env.GKM_SEED ?? 20261205)
const NOW = 1_764_000_100_000
const authors = [testSigner(31), testSigner(32), testSigner(33)]

function payloadOf(type: EventType, v: number): JsonObject {
  switch (type) {
    case 'persona_update':
      return { op: 'set', fields: { [`f${v % 3}`]: v } }
    case 'vector_update':
      return { op: 'upsert', values: [v, v / 2] }
    case 'document_update':
      return { op: 'put', content: `doc ${v}` }
    case 'graph_update':
      return { op: 'add_edge', from: 'a', to: `n${v % 4}`, label: 'knows' }
  }
}

interface Spec {
  readonly author: number
  readonly type: number
  readonly target: number
  readonly value: number
  /** Name the target's latest event by this author's view as parent (else a concurrent root). */
  readonly follows: boolean
}

/** Signed events from specs: each author names the last event it wrote on the target. */
function build(specs: readonly Spec[]): SignedEvent[] {
  const last = new Map<string, Digest>()
  return specs.map((s, i) => {
    const type = EVENT_TYPES[s.type]
    const target = `t${s.target}`
    const key = `${s.author}/${type}/${target}`
    const parent = s.follows ? last.get(key) : undefined
    const e = makeEvent(authors[s.author], {
      type,
      target,
      payload: payloadOf(type, s.value),
      hlc: { wallMs: 1_764_000_000_000 + i, counter: 0 },
      parents: parent === undefined ? [] : [parent],
      eventId: `00000000-0000-4000-8000-${(i + 1).toString(16).padStart(12, '0')}`,
    })
    last.set(key, e.digest)
    return e
  })
}

/** Ingests `events` in groups (sizes from `cuts`) the way the write queue does: one audit draft
 *  per group naming its accepted events. */
async function ingestAll(events: readonly SignedEvent[], cuts: readonly number[], targetCacheMax?: number) {
  const store = createMemoryStore()
  await store.open()
  const ingestor = new Ingestor(
    { store, signer: testSigner(30), crdt: trustedYjsMerger },
    {
      hlc: { wallMs: 0, counter: 0 },
      stateHash: EMPTY_STATE_HASH,
      log: '00000000000000aa',
      logNext: 0,
      targetCacheMax,
    },
  )
  let at = 0
  let cut = 0
  while (at < events.length) {
    const size = 1 + (cuts[cut++ % cuts.length] ?? 0)
    const items: IngestItem[] = events.slice(at, at + size).map((event) => ({ kind: 'signed', event }))
    at += size
    const { batch, outcomes } = await ingestor.ingest(items, NOW)
    const accepted = outcomes.filter((o) => o.status === 'accepted').length
    const draft: AuditDraft = {
      atMs: NOW,
      op: 'push',
      origin: 'peer:test',
      detail: { accepted },
      ...(accepted > 0 ? { names: { from: 0, count: accepted } } : {}),
    }
    await store.commit({ ...batch, audit: [...batch.audit, draft] })
    ingestor.committed()
  }
  return { store, ingestor }
}

const specArb = fc.record({
  author: fc.nat(2),
  type: fc.nat(3),
  target: fc.nat(2),
  value: fc.nat(9),
  follows: fc.boolean(),
})

describe(`store format 3 through the engine (seed ${SEED})`, () => {
  it('log, head record, audit ranges and state hash agree whatever the order and grouping', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(specArb, { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(6), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(6), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 9 }),
        async (specs, cutsA, cutsB, shuffle, pageSize) => {
          const events = build(specs)
          // Order B: a deterministic shuffle of A, with some events twice.
          const order = events.map((e, i) => ({ e, k: (shuffle[i % shuffle.length] * (i + 7)) % 1009 }))
          order.sort((x, y) => x.k - y.k)
          const other = [...order.map((x) => x.e), ...events.filter((_, i) => i % 5 === 0)]
          const a = await ingestAll(events, cutsA)
          // B caches one target: its groups read most cells back from the store (targeted reads).
          const b = await ingestAll(other, cutsB, 1)
          try {
            assert.equal(a.ingestor.stateHash, b.ingestor.stateHash)
            // State per cell: each target, read whole (record and cells), is the same in both
            // stores; its cellSum, contested list and hash are those of its cells, and the
            // targets' hashes sum to the node's state hash.
            const whole = async (store: typeof a.store) => {
              const out = []
              for await (const t of store.iterateTargets()) out.push(t)
              return out
            }
            const [ta, tb] = [await whole(a.store), await whole(b.store)]
            assert.deepEqual(ta, tb)
            let sum = EMPTY_STATE_HASH
            for (const t of ta) {
              assert.equal(t.cellSum, cellSumOf(t.cells))
              assert.deepEqual(
                t.contested,
                Object.keys(t.cells)
                  .filter((c) => t.cells[c].f.length >= 2)
                  .sort(),
              )
              assert.equal(t.hash, targetHash(t))
              assert.deepEqual(await a.store.getTarget(t.type, t.target), t)
              sum = addHash(sum, t.hash!)
            }
            assert.equal(sum, a.ingestor.stateHash)
            for (const { store, ingestor } of [a, b]) {
              const n = events.length
              assert.equal(await store.lastSeq(), n)
              // The whole log, in pages, each event once in seq order.
              const seen: number[] = []
              const digests = new Set<string>()
              for (let after = 0; ; ) {
                const page = await store.readLog(after, pageSize)
                if (page.length === 0) break
                for (const r of page) {
                  seen.push(r.seq)
                  digests.add(r.event.digest!)
                }
                after = page[page.length - 1].seq
              }
              assert.deepEqual(
                seen,
                Array.from({ length: n }, (_, i) => i + 1),
              )
              assert.equal(digests.size, n)
              // Filtered by type: the same seqs as the whole log's events of that type.
              const all = await store.readLog(0, 1000)
              for (const type of EVENT_TYPES) {
                const want = all.filter(
                  (r) =>
                    specs[events.findIndex((e) => e.digest === r.event.digest)].type ===
                    EVENT_TYPES.indexOf(type),
                )
                const got = await store.readLog(0, 1000, [type])
                assert.deepEqual(
                  got.map((r) => r.seq),
                  want.map((r) => r.seq),
                )
              }
              // The audit ranges cover the log exactly, in order.
              const covered: number[] = []
              for (const r of await store.readAudit(0, 1000)) {
                const d = r.detail as { seq_first?: number; seq_last?: number; accepted: number }
                if (d.accepted === 0) {
                  assert.equal(d.seq_first, undefined)
                  continue
                }
                assert.equal(d.seq_last! - d.seq_first! + 1, d.accepted)
                for (let s = d.seq_first!; s <= d.seq_last!; s++) covered.push(s)
              }
              assert.deepEqual(covered, seen)
              // The head record: counters and meta values survive a reopen.
              const counts = await store.counts()
              assert.equal(counts.events, n)
              await store.close()
              await store.open()
              assert.deepEqual(await store.counts(), counts)
              assert.equal(await store.getMeta('stateHash'), ingestor.stateHash)
              // A rebuild from the log gives the same state.
              await rebuildState(store, ingestor, { selfKey: '00'.repeat(32), now: () => NOW, force: true })
              assert.equal(await store.getMeta('stateHash'), a.ingestor.stateHash)
            }
          } finally {
            await a.store.close()
            await b.store.close()
          }
        },
      ),
      { seed: SEED, numRuns: 25 },
    )
  })
})
