/**
 * What the ingest engine reads per group: events at positions past their log's end are known not
 * held (their digest covers the position), so they are neither looked up in the event set nor in
 * the log positions; every other event is, so a re-sent event is still a duplicate, also one
 * past a hole. A group's cells are read once per target, not once per event.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type IngestItem, Ingestor } from '../../../src/core/ingest.ts'
import type { Store } from '../../../src/core/ports.ts'
import type { SignedEvent } from '../../../src/core/types.ts'
import { EMPTY_STATE_HASH } from '../../../src/core/view.ts'
import { trustedYjsMerger } from '../../../src/core/yjs-merge.ts'
import { createMemoryStore } from '../../../src/store/index.ts'
import { makeEvent, testSigner } from '../../helpers/events.ts'

const NOW = 1_764_000_100_000
const writer = testSigner(51)

/** The store, counting the keys of the reads under test. */
function counted(store: Store) {
  const reads = { has: 0, positions: 0, cellCalls: 0, cells: 0, owners: 0 }
  const own: Partial<Store> = {
    getEventIdOwners: (p) => {
      reads.owners += p.length
      return store.getEventIdOwners(p)
    },
    getEventIdOwner: (a, id) => {
      reads.owners += 1
      return store.getEventIdOwner(a, id)
    },
    hasEvents: (d) => {
      reads.has += d.length
      return store.hasEvents(d)
    },
    getLogPositions: (p) => {
      reads.positions += p.length
      return store.getLogPositions(p)
    },
    getCells: (type, target, cells) => {
      reads.cellCalls++
      reads.cells += cells.length
      return store.getCells(type, target, cells)
    },
  }
  const spy = new Proxy(store, {
    get: (t, k) =>
      Object.hasOwn(own, k)
        ? own[k as keyof Store]
        : (t[k as keyof Store] as (...a: unknown[]) => unknown).bind(t),
  })
  return { spy, reads }
}

const event = (seq: number, target = `p${seq % 3}`): SignedEvent =>
  makeEvent(writer, {
    seq,
    target,
    payload: { op: 'set', fields: { [`f${seq}`]: seq } },
    hlc: { wallMs: 1_764_000_000_000 + seq, counter: 0 },
  })

async function group(engine: Ingestor, store: Store, events: SignedEvent[]) {
  const items: IngestItem[] = events.map((e) => ({ kind: 'signed', event: e }))
  const r = await engine.ingest(items, NOW)
  await store.commit(r.batch)
  engine.committed()
  return r.outcomes.map((o) => o.status)
}

describe('ingest reads', () => {
  it('skips the presence and position reads past a log end, keeps them below it (holes too)', async () => {
    const store = createMemoryStore()
    await store.open()
    const { spy, reads } = counted(store)
    const engine = new Ingestor(
      { store: spy, signer: testSigner(50), crdt: trustedYjsMerger },
      { hlc: { wallMs: 0, counter: 0 }, stateHash: EMPTY_STATE_HASH, log: '00000000000000bb', logNext: 0 },
    )
    const ev = Array.from({ length: 8 }, (_, i) => event(i))
    // Positions 0, 1 and 5: a hole at 2..4; the log's end is 6.
    assert.deepEqual(await group(engine, store, [ev[0], ev[1], ev[5]]), ['accepted', 'accepted', 'accepted'])
    assert.equal(reads.has, 0, 'a new log: nothing looked up')
    assert.equal(reads.positions, 0)
    // 5 again (below the end, past the hole), 3 (in the hole), 6 and 7 (past the end).
    assert.deepEqual(await group(engine, store, [ev[5], ev[3], ev[6], ev[7]]), [
      'duplicate',
      'accepted',
      'accepted',
      'accepted',
    ])
    assert.equal(reads.has, 2, 'only the two positions below the end are looked up')
    assert.equal(reads.positions, 1, "the duplicate's position is not read")
    assert.equal((await store.counts()).events, 6)
  })

  it("reads a group's stored cells once per target", async () => {
    const store = createMemoryStore()
    await store.open()
    const { spy, reads } = counted(store)
    const engine = new Ingestor(
      { store: spy, signer: testSigner(50), crdt: trustedYjsMerger },
      { hlc: { wallMs: 0, counter: 0 }, stateHash: EMPTY_STATE_HASH, log: '00000000000000bb', logNext: 0 },
    )
    await group(engine, store, [event(0, 'a'), event(1, 'b')])
    // A fresh engine (nothing cached): 30 events over targets a and b, a cell each.
    const { spy: spy2, reads: reads2 } = counted(store)
    const fresh = new Ingestor(
      { store: spy2, signer: testSigner(50), crdt: trustedYjsMerger },
      { hlc: { wallMs: 0, counter: 0 }, stateHash: engine.stateHash, log: '00000000000000bb', logNext: 0 },
    )
    const next = Array.from({ length: 30 }, (_, i) => event(2 + i, i % 2 === 0 ? 'a' : 'b'))
    assert.ok((await group(fresh, store, next)).every((s) => s === 'accepted'))
    assert.equal(reads2.cellCalls, 2, 'one cell read per target')
    assert.equal(reads2.cells, 30)
    void reads
  })

  it('does not look up the owner of an event id it drew itself; a client-named id is looked up', async () => {
    const store = createMemoryStore()
    await store.open()
    const { spy, reads } = counted(store)
    const engine = new Ingestor(
      { store: spy, signer: testSigner(52), crdt: trustedYjsMerger },
      { hlc: { wallMs: 0, counter: 0 }, stateHash: EMPTY_STATE_HASH, log: '00000000000000cc', logNext: 0 },
    )
    const local = (id: string, freshId: boolean): IngestItem => ({
      kind: 'local',
      eventId: id,
      freshId,
      type: 'persona_update',
      targetId: 'p-fresh',
      payload: { op: 'set', fields: { a: id } },
    })
    const ids = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002']
    const run = async (items: IngestItem[]) => {
      const r = await engine.ingest(items, NOW)
      await store.commit(r.batch)
      engine.committed()
      return r.outcomes.map((o) => o.status)
    }
    assert.deepEqual(await run([local(ids[0], true), local(ids[1], true)]), ['accepted', 'accepted'])
    assert.equal(reads.owners, 0, 'ids drawn by the node: no owner reads')
    // The same id named by a client (a retry): looked up, and answered as the duplicate it is.
    assert.deepEqual(await run([local(ids[0], false)]), ['duplicate'])
    assert.ok(reads.owners >= 1, 'a client-named id is looked up')
    // A drawn id that (against all odds) is taken: the store still refuses the commit.
    const r = await engine.ingest([local(ids[1], true)], NOW)
    await assert.rejects(store.commit(r.batch), { name: 'EventIdTakenError' })
    engine.discard()
  })
})
