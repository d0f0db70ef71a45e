/**
 * The rebuild's fold (src/core/rebuild-fold.ts) must give the store state the live path gives.
 * Property test over seeded random event sets: targets of every type written by several authors
 * with concurrent branches (conflicts), merges, deletes (persona unset, vector delete, graph
 * remove_edge and property unsets), resolutions, Yjs documents, parents on other targets and
 * parents the log does not hold, hot targets larger than a page (the fold hands them to the
 * live path half-way) and a revoked author whose events other events build on.
 *
 * 1. The events arrive live (shuffled, groups of 1-5). A rebuild by the fold then gives the live
 *    store: every target whole (record, every cell, the Yjs document's content), the conflicts
 *    the final state holds, the counters, the state hash.
 * 2. With a members list that leaves an author out, a rebuild by the fold and a rebuild through
 *    the live path alone (`fold: false`, the code before the fold) give the same store state,
 *    every conflict record included (superseded ones too: both take the events in the same
 *    order), and the same clock.
 *
 * Seeded: GKM_SEED=<n> reproduces a run (the seed is in the suite's name).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Ingestor } from '../../../src/core/ingest.ts'
import type { Store } from '../../../src/core/ports.ts'
import type { Digest, EventType, JsonObject, SignedEvent } from '../../../src/core/types.ts'
import { crdtView, valueView } from '../../../src/core/view.ts'
import { rebuildState } from '../../../src/node/replay.ts'
import { createMemoryStore } from '../../../src/store/index.ts'
import { prng } from '../../helpers/crash.ts'
import { makeEvent, testSigner } from '../../helpers/events.ts'
import {
  ingestLive as ingestLiveWith,
  resolutions as resolveSome,
  shuffled,
  testEngine,
} from '../../helpers/rebuild-history.ts'
import { twoAuthorYjsUpdates } from '../../helpers/yjs-edits.ts'

const SEED = Number(process.env.GKM_SEED ?? 20261206)
const NOW = 1_764_000_900_000
const authors = [testSigner(61), testSigner(62), testSigner(63), testSigner(64)]
/** Written live, then left out of the members list: its events are skipped by a rebuild. */
const REVOKED = testSigner(65)
const SELF = testSigner(60)
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const selfKey = hex(SELF.publicKey)
const members = new Set(authors.map((a) => hex(a.publicKey)))
/** Small, so documents compact live and in both rebuilds. */
const YJS_COMPACT = 12

const engine = (store: Store) => testEngine(store, SELF, '00000000000000cc', YJS_COMPACT)
const ingestLive = (store: Store, events: readonly SignedEvent[], seed: number, ingestor = engine(store)) =>
  ingestLiveWith(store, events, seed, ingestor, NOW)
const resolutions = (store: Store, seed: number) => resolveSome(store, seed, authors)

function payloadOf(type: EventType, rnd: () => number, n: number): JsonObject {
  const pick = (k: number) => Math.floor(rnd() * k)
  const r = rnd()
  switch (type) {
    case 'persona_update':
      return r < 0.2
        ? { op: 'unset', fields: [`f${pick(5)}`] }
        : { op: 'set', fields: { [`f${pick(5)}`]: pick(4), ...(rnd() < 0.3 ? { [`g${pick(3)}`]: n } : {}) } }
    case 'vector_update':
      return r < 0.2
        ? { op: 'delete' }
        : { op: 'upsert', values: [pick(5), pick(5) / 4], metadata: { k: pick(3) } }
    case 'document_update':
      return { op: 'put', content: `doc ${pick(3)}` }
    case 'graph_update': {
      const to = `n${pick(4)}`
      if (r < 0.2) return { op: 'remove_edge', from: 'a', to, label: 'knows' }
      if (r < 0.4)
        return rnd() < 0.5
          ? { op: 'set_edge_properties', from: 'a', to, label: 'knows', properties: { w: pick(3) } }
          : { op: 'set_edge_properties', from: 'a', to, label: 'knows', properties: {}, unset: ['w'] }
      return {
        op: 'add_edge',
        from: 'a',
        to,
        label: 'knows',
        ...(rnd() < 0.3 ? { properties: { w: n } } : {}),
      }
    }
  }
}

/** A random event set: see the file's comment. */
function history(seed: number, wild: boolean): SignedEvent[] {
  const rnd = prng(seed)
  const types: EventType[] = ['persona_update', 'vector_update', 'document_update', 'graph_update']
  const writers = [...authors, REVOKED]
  const heads = new Map<string, Set<Digest>>()
  const own = new Map<string, Digest>()
  const out: SignedEvent[] = []
  let wall = 1_764_000_000_000
  let counter = 0
  for (let i = 0; i < 700; i++) {
    const type = types[Math.floor(rnd() * types.length)]
    // Two hot targets of ~100 events (more than the small pages below), many small ones.
    const target = rnd() < 0.3 ? `hot-${Math.floor(rnd() * 2)}` : `t${Math.floor(rnd() * 50)}`
    const a = Math.floor(rnd() * writers.length)
    const key = `${type}/${target}`
    const seen = heads.get(key) ?? new Set<Digest>()
    const r = rnd()
    const parents: Digest[] =
      r < 0.45 ? [...seen] : r < 0.75 ? [own.get(`${a}/${key}`)].filter((d) => d !== undefined) : []
    if (rnd() < 0.03) parents.push(hex(Buffer.alloc(32, i % 251)) as Digest) // never held: missing
    // `wild`: what no honest author signs, and where the live state depends on the arrival
    // order, so only rebuilds (one order) are compared on such sets. A parent on another
    // target (live, it is marked missing when it comes later and never unmarked: merge.ts
    // unmarks a target's own events), and clocks not above the parents' (a rebuild merges by
    // HLC, so such a child before its parent).
    if (wild && rnd() < 0.03 && out.length > 0) parents.push(out[Math.floor(rnd() * out.length)].digest)
    // Increasing clocks, now and then the same wall time (the counter decides).
    if (rnd() < 0.8) {
      wall += 1 + Math.floor(rnd() * 3)
      counter = wild ? Math.floor(rnd() * 3) : 0
    } else counter = wild ? Math.floor(rnd() * 3) : counter + 1
    const e = makeEvent(writers[a], {
      type,
      target,
      payload: payloadOf(type, rnd, i),
      hlc: { wallMs: wall, counter },
      parents: [...new Set(parents)].sort() as Digest[],
    })
    for (const p of e.parents) seen.delete(p)
    seen.add(e.digest)
    heads.set(key, seen)
    own.set(`${a}/${key}`, e.digest)
    out.push(e)
  }
  // A Yjs document edited by two authors who exchange state now and then.
  const updates = twoAuthorYjsUpdates(rnd, 40, 6, 7)
  for (const { a, u } of updates) {
    wall += 1
    out.push(
      makeEvent(authors[a], {
        type: 'document_update',
        target: 'ydoc',
        payload: { op: 'yjs', update: Buffer.from(u).toString('base64') },
        hlc: { wallMs: wall, counter: 0 },
      }),
    )
  }
  return out
}

/** The store's materialized state: every target whole (the Yjs document by its content: where
 *  its updates sit, snapshot or log, depends on when compactions ran), conflict records
 *  (`superseded` ones only when `all`: they are the conflicts an arrival order passed through),
 *  counters and the state hash. */
async function dump(store: Store, all: boolean) {
  const targets: unknown[] = []
  for await (const t of store.iterateTargets()) {
    const whole = (await store.getTarget(t.type, t.target))!
    const { yjs: _y, yjsLog: _l, yjsPending: _p, yjsPendingBytes: _b, yjsDropped: _d, ...rest } = whole
    targets.push({ ...rest, doc: crdtView(whole) ?? null, value: valueView(whole) })
  }
  const conflicts = (await store.listConflicts('all', 10_000))
    .filter((c) => all || c.status !== 'superseded')
    .sort((a, b) => (a.id < b.id ? -1 : 1))
  const counts = await store.counts()
  return { targets, conflicts, counts, stateHash: await store.getMeta('stateHash') }
}

/** [events per page, buffer bytes]: one page for everything; pages smaller than the hot
 *  targets (the fold hands them to the live path) and buffers that need many passes. */
const SHAPES = [
  [1000, 64 * 1024 * 1024],
  [9, 16 * 1024],
  [40, 64 * 1024],
] as const

/** The event set ingested live (shuffled), then resolutions of some of its conflicts. */
async function liveStore(store: Store, seed: number, wild: boolean): Promise<Ingestor> {
  const live = engine(store)
  await ingestLive(store, shuffled(history(seed, wild), seed + 1), seed + 2, live)
  const extra = await resolutions(store, seed + 3)
  assert.ok(extra.length > 0, 'some conflicts to resolve')
  await ingestLive(store, extra, seed + 4, live)
  return live
}

describe(`the rebuild's fold gives the live path's store state (seed ${SEED})`, () => {
  for (const seed of [SEED, SEED + 100, SEED + 200]) {
    it(`seed ${seed}: live ingest, then a rebuild by the fold`, async () => {
      const store = createMemoryStore()
      await store.open()
      const live = await liveStore(store, seed, false)
      const want = await dump(store, false)
      assert.ok(
        want.conflicts.some((c) => c.status === 'open') &&
          want.conflicts.some((c) => c.status === 'resolved'),
        'open and resolved conflicts',
      )
      assert.ok(
        want.targets.some((t) => (t as { missing: string[] }).missing.length > 0),
        'a target with a parent the log does not hold',
      )
      for (const [pageEvents, bufferBytes] of SHAPES) {
        const open = engine(store)
        await rebuildState(store, open, { selfKey, now: () => NOW, force: true, pageEvents, bufferBytes })
        assert.deepEqual(await dump(store, false), want, `pages of ${pageEvents}, buffer ${bufferBytes}`)
        assert.equal(open.stateHash, live.stateHash)
      }
      await store.close()
    })

    it(`seed ${seed}: a rebuild by the fold and one by the live path alone, a member revoked`, async () => {
      const store = createMemoryStore()
      await store.open()
      await liveStore(store, seed, true)
      const everyone = await dump(store, false)
      for (const [pageEvents, bufferBytes] of SHAPES) {
        const what = `pages of ${pageEvents}, buffer ${bufferBytes}`
        const opts = { selfKey, members, now: () => NOW, force: true, pageEvents, bufferBytes }
        const byLive = engine(store)
        const a = await rebuildState(store, byLive, { ...opts, fold: false })
        const reference = await dump(store, true)
        const byFold = engine(store)
        const b = await rebuildState(store, byFold, opts)
        assert.ok(a.skipped > 0, `${what}: the revoked author's events are skipped`)
        assert.deepEqual([b.events, b.skipped], [a.events, a.skipped], what)
        assert.deepEqual(await dump(store, true), reference, what)
        assert.notEqual(reference.stateHash, everyone.stateHash, `${what}: revoking changes the state`)
        assert.equal(byFold.stateHash, byLive.stateHash, what)
        assert.deepEqual(byFold.hlc, byLive.hlc, what)
      }
      await store.close()
    })
  }
})
