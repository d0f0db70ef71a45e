/**
 * Second half of the Store conformance suite (see store-suite.ts): materialized records, the
 * audit chain, failure behaviour, argument limits, and a 10,000-event run.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { canonicalJson } from '../../src/core/event-codec.ts'
import type { AuditRecord, StoredEvent } from '../../src/core/records.ts'
import type { TargetState } from '../../src/core/target-state.ts'
import { EVENT_TYPES } from '../../src/core/types.ts'
import { sha256 } from '../../src/util/crypto.ts'
import { audit, batchOf, bob, conflict, makeEvent, stored, targetState, uuid } from './event-fixtures.ts'
import { assertSameEvents, type MakeStore, reopen, withStore } from './store-suite.ts'

const cid = (n: number) => n.toString(16).padStart(64, 'c')

/** Recomputes every link independently of the store's code. */
function assertChain(records: readonly AuditRecord[], prevHash: string, firstSeq: number): void {
  let prev = prevHash
  records.forEach((r, i) => {
    assert.equal(r.seq, firstSeq + i)
    assert.equal(r.prevHash, prev)
    const body = canonicalJson({ seq: r.seq, atMs: r.atMs, op: r.op, origin: r.origin, detail: r.detail })
    assert.equal(
      r.hash,
      Buffer.from(sha256(Buffer.from(prev, 'hex'), Buffer.from(body, 'utf8'))).toString('hex'),
    )
    prev = r.hash
  })
}

async function drain(it: AsyncIterable<TargetState>): Promise<TargetState[]> {
  const out: TargetState[] = []
  for await (const t of it) out.push(t)
  return out
}

export function runRecordConformance(makeStore: MakeStore): void {
  it('round-trips target states and counts distinct targets', () =>
    withStore(makeStore, async (store) => {
      const e = makeEvent({ n: 1 })
      const odd = targetState('persona_update', 'a/b!c\u0000ü', e)
      await store.commit(batchOf({ events: [stored(e)], targets: [odd, targetState('persona_update', 'a')] }))
      assert.deepEqual(await store.getTarget('persona_update', 'a/b!c\u0000ü'), odd)
      assert.equal(await store.getTarget('vector_update', 'a/b!c\u0000ü'), undefined)
      assert.equal(await store.getTarget('persona_update', 'a/b'), undefined)
      assert.equal((await store.counts()).targets, 2)
      const updated = { ...odd, events: 2 }
      await store.commit(batchOf({ targets: [updated, updated, targetState('vector_update', 'a')] }))
      assert.deepEqual(await store.getTarget('persona_update', 'a/b!c\u0000ü'), updated)
      assert.equal((await store.counts()).targets, 3)
      const many = Array.from({ length: 300 }, (_, i) => targetState('document_update', `doc-${i}`))
      await store.commit(batchOf({ targets: many }))
      const all = await drain(store.iterateTargets())
      assert.equal(all.length, 303)
      assert.equal(new Set(all.map((t) => `${t.type}/${t.target}`)).size, 303)
      assert.equal((await store.counts()).targets, 303)
    }))

  it('keeps a target per cell: partial commits, targeted cell reads, whole reads across pages', () =>
    withStore(makeStore, async (store) => {
      const e = makeEvent({ n: 1 })
      const cellOf = (i: number) => ({
        w: { d: e.digest, s: `0000${e.author}`, h: `=${i}`, v: i },
        f: [{ d: e.digest, s: `0000${e.author}`, h: `=${i}` }],
      })
      // 600 cells: more than one page (256 keys) of iterateTargets, between two small targets.
      const big = targetState('graph_update', 'big', e)
      for (let i = 0; i < 600; i++) big.cells[`edge:${String(i).padStart(4, '0')}`] = cellOf(i)
      const before = targetState('graph_update', 'a-small', e)
      const after = targetState('persona_update', 'z-small', e)
      await store.commit(batchOf({ events: [stored(e)], targets: [before, big, after] }))
      assert.deepEqual(await store.getTarget('graph_update', 'big'), big)
      // A commit carrying some cells changes those and leaves the others as stored.
      const changed = { ...big, events: 2, cells: { 'edge:0007': cellOf(70), 'edge:9999': cellOf(9) } }
      await store.commit(batchOf({ targets: [changed] }))
      const whole = {
        ...big,
        events: 2,
        cells: { ...big.cells, 'edge:0007': cellOf(70), 'edge:9999': cellOf(9) },
      }
      assert.deepEqual(await store.getTarget('graph_update', 'big'), whole)
      assert.deepEqual(await store.getCells('graph_update', 'big', ['edge:0007', 'edge:nope', 'edge:0599']), [
        cellOf(70),
        undefined,
        cellOf(599),
      ])
      assert.deepEqual(await store.getCells('graph_update', 'nope', ['edge:0007']), [undefined])
      const [header, none] = await store.getTargetHeaders([
        { type: 'graph_update', target: 'big' },
        { type: 'graph_update', target: 'nope' },
      ])
      assert.deepEqual(header, { ...whole, cells: {} })
      assert.equal(none, undefined)
      // In key order: type code, then target length, then target.
      assert.deepEqual(await drain(store.iterateTargets()), [after, whole, before])
      assert.equal((await store.counts()).targets, 3)
    }))

  it('upserts conflicts, keeps the status index and the open count exact', () =>
    withStore(makeStore, async (store) => {
      const sides = [makeEvent({ n: 1 }), makeEvent({ n: 2, signer: bob })]
      await store.commit(
        batchOf({
          conflicts: [
            conflict(cid(1), 'open', sides),
            conflict(cid(2), 'open'),
            conflict(cid(3), 'superseded'),
          ],
        }),
      )
      assert.equal((await store.counts()).conflictsOpen, 2)
      assert.deepEqual(await store.getConflict(cid(1) as never), conflict(cid(1), 'open', sides))
      assert.equal(await store.getConflict(cid(9) as never), undefined)
      await store.commit(batchOf({ conflicts: [conflict(cid(1), 'resolved', sides)] }))
      assert.equal((await store.counts()).conflictsOpen, 1)
      assert.deepEqual(
        (await store.listConflicts('open', 10)).map((c) => c.id),
        [cid(2)],
      )
      assert.deepEqual(
        (await store.listConflicts('resolved', 10)).map((c) => [c.id, c.status]),
        [[cid(1), 'resolved']],
      )
      assert.deepEqual(
        (await store.listConflicts('superseded', 10)).map((c) => c.id),
        [cid(3)],
      )
      assert.deepEqual(
        (await store.listConflicts('all', 10)).map((c) => c.id),
        [cid(1), cid(2), cid(3)],
      )
      assert.equal((await store.listConflicts('all', 2)).length, 2)
      // Twice in one batch: the last record wins, and the count follows each step.
      await store.commit(
        batchOf({
          conflicts: [conflict(cid(2), 'superseded'), conflict(cid(2), 'open'), conflict(cid(4), 'open')],
        }),
      )
      assert.equal((await store.counts()).conflictsOpen, 2)
      assert.deepEqual(
        (await store.listConflicts('open', 10)).map((c) => c.id),
        [cid(2), cid(4)],
      )
      assert.deepEqual(
        (await store.listConflicts('superseded', 10)).map((c) => c.id),
        [cid(3)],
      )
      await reopen(store)
      assert.equal((await store.counts()).conflictsOpen, 2)
    }))

  it('stores equivocation evidence', () =>
    withStore(makeStore, async (store) => {
      const first = makeEvent({ n: 1, eventId: uuid(5) })
      const second = makeEvent({ n: 2, eventId: uuid(5) })
      const [x, y] = first.digest < second.digest ? [first, second] : [second, first]
      const record = {
        author: first.author,
        kind: 'event_id' as const,
        events: [stored(x), stored(y)] as [StoredEvent, StoredEvent],
        atMs: 1_700_000_000_123,
      }
      // Both events are kept; the second's event-id entry is not written (the first keeps it).
      await store.commit(batchOf({ events: [stored(first)] }))
      await store.commit(
        batchOf({ events: [stored(second)], equivocations: [record], eventIdTaken: new Set([0]) }),
      )
      const list = await store.listEquivocations(10)
      assert.equal(list.length, 1)
      assert.equal(list[0].kind, 'event_id')
      assert.equal(list[0].atMs, record.atMs)
      assertSameEvents([...list[0].events], [x, y])
      assert.ok((await store.getEvent(second.digest)) !== undefined, 'both events are in the event set')
      assert.equal(await store.getEventIdOwner(first.author, uuid(5)), first.digest)
      const unordered = { ...record, events: [stored(y), stored(x)] as [StoredEvent, StoredEvent] }
      await assert.rejects(store.commit(batchOf({ equivocations: [unordered] })), {
        name: 'InvalidStoreArgumentError',
      })
      assert.equal((await store.listEquivocations(10)).length, 1)
    }))

  it('chains the audit log across commits, appendAudit and reopen', () =>
    withStore(makeStore, async (store) => {
      await store.commit(
        batchOf({ events: [stored(makeEvent({ n: 1 }))], audit: [audit('push', 1), audit('conflict', 2)] }),
      )
      await store.appendAudit([audit('pull', 3)])
      await store.appendAudit([])
      await reopen(store)
      await store.appendAudit([audit('start', 4), audit('peer', 5)])
      await store.commit(batchOf({ audit: [audit('push', 6)] }))
      const records = await store.readAudit(0, 100)
      assert.deepEqual(
        records.map((r) => r.op),
        ['push', 'conflict', 'pull', 'start', 'peer', 'push'],
      )
      assert.deepEqual(records[0].detail, audit('push', 1).detail)
      assertChain(records, '0'.repeat(64), 1)
      const tail = await store.readAudit(2, 3)
      assert.deepEqual(
        tail.map((r) => r.seq),
        [3, 4, 5],
      )
      assertChain(tail, records[1].hash, 3)
    }))

  it("stores meta values with the batch; formatVersion is the store's", () =>
    withStore(makeStore, async (store) => {
      assert.equal(await store.getMeta('formatVersion'), '3')
      assert.equal(await store.getMeta('hlc'), undefined)
      await store.commit(
        batchOf({ meta: { hlc: '1700000000000:3', stateHash: 'ab'.repeat(32), 'odd/key!': 'ü' } }),
      )
      assert.equal(await store.getMeta('hlc'), '1700000000000:3')
      assert.equal(await store.getMeta('odd/key!'), 'ü')
      await assert.rejects(store.commit(batchOf({ meta: { formatVersion: '4' } })), {
        name: 'InvalidStoreArgumentError',
      })
      await assert.rejects(store.commit(batchOf({ meta: { head: '{}' } })), {
        name: 'InvalidStoreArgumentError',
      })
      assert.equal(await store.getMeta('formatVersion'), '3')
      // A later commit keeps the values it does not set (one head record holds them all).
      await store.commit(batchOf({ meta: { hlc: '1700000000001:0' } }))
      assert.equal(await store.getMeta('stateHash'), 'ab'.repeat(32))
      assert.equal(await store.getMeta('hlc'), '1700000000001:0')
      await reopen(store)
      assert.equal(await store.getMeta('stateHash'), 'ab'.repeat(32))
      assert.equal(await store.getMeta('hlc'), '1700000000001:0')
      assert.equal(await store.getMeta('odd/key!'), 'ü')
    }))

  it('an audit draft that names events of its commit gets their seq range, not their digests', () =>
    withStore(makeStore, async (store) => {
      await store.commit(batchOf({ events: [stored(makeEvent({ n: 1 }))] }))
      const events = [2, 3, 4, 5].map((n) => stored(makeEvent({ n })))
      await store.commit(
        batchOf({
          events,
          audit: [
            { ...audit('push', 1), names: { from: 0, count: 1 } },
            { ...audit('push', 2), names: { from: 1, count: 3 } },
            { ...audit('push', 3), names: { from: 4, count: 0 } },
          ],
        }),
      )
      const records = await store.readAudit(0, 10)
      assert.deepEqual(
        records.map((r) => [r.detail.seq_first, r.detail.seq_last]),
        [
          [2, 2],
          [3, 5],
          [undefined, undefined],
        ],
      )
      assert.ok(records.every((r) => !('names' in r)))
      assertChain(records, '0'.repeat(64), 1)
      // Naming events the commit does not hold is refused, and nothing is written.
      await assert.rejects(
        store.commit(
          batchOf({
            events: [stored(makeEvent({ n: 6 }))],
            audit: [{ ...audit('push', 4), names: { from: 0, count: 2 } }],
          }),
        ),
        { name: 'InvalidStoreArgumentError' },
      )
      await assert.rejects(store.appendAudit([{ ...audit('pull', 5), names: { from: 0, count: 1 } }]), {
        name: 'InvalidStoreArgumentError',
      })
      assert.equal(await store.lastSeq(), 5)
      assert.equal((await store.readAudit(0, 10)).length, 3)
      // The event was put into the batch before the audit draft was refused: the batch was
      // discarded, not written.
      assert.equal(await store.getEvent(makeEvent({ n: 6 }).digest), undefined)
      assert.deepEqual(await store.hasEvents([makeEvent({ n: 6 }).digest]), [false])
    }))

  it('takes the digest an event carries, refuses a malformed one, and finds a wrong one on read', () =>
    withStore(makeStore, async (store) => {
      const a = makeEvent({ n: 1 })
      const b = makeEvent({ n: 2 })
      await store.commit(batchOf({ events: [{ ...stored(a), digest: a.digest }] }))
      assert.equal((await store.getEvent(a.digest))?.digest, a.digest)
      await assert.rejects(store.commit(batchOf({ events: [{ ...stored(b), digest: 'XY' }] })), {
        name: 'InvalidStoreArgumentError',
      })
      // A digest that is not the bytes' (a caller's bug) is never served as the event.
      const c = makeEvent({ n: 3 })
      await store.commit(batchOf({ events: [{ ...stored(c), digest: b.digest }] }))
      await assert.rejects(store.getEvent(b.digest), { name: 'StorageCorruptionError' })
    }))

  it('counts events in total and by type', () =>
    withStore(makeStore, async (store) => {
      const types = [
        'vector_update',
        'vector_update',
        'graph_update',
        'document_update',
        'vector_update',
      ] as const
      await store.commit(batchOf({ events: types.map((type, i) => stored(makeEvent({ n: i + 1, type }))) }))
      const counts = await store.counts()
      assert.equal(counts.events, 5)
      assert.deepEqual(counts.byType, {
        vector_update: 3,
        persona_update: 0,
        document_update: 1,
        graph_update: 1,
      })
      await reopen(store)
      assert.deepEqual(await store.counts(), counts)
    }))

  it('clearMaterialized drops states and conflicts, keeps the log, indexes, audit and meta', () =>
    withStore(makeStore, async (store) => {
      const events = [1, 2, 3].map((n) => makeEvent({ n }))
      await store.commit(
        batchOf({
          events: events.map(stored),
          targets: [targetState('persona_update', 'target-1', events[0])],
          conflicts: [conflict(cid(1), 'open'), conflict(cid(2), 'resolved')],
          audit: [audit('push', 1)],
          meta: { stateHash: 'ab'.repeat(32), hlc: '1:0' },
        }),
      )
      await store.clearMaterialized()
      assert.equal(await store.getTarget('persona_update', 'target-1'), undefined)
      assert.deepEqual(await drain(store.iterateTargets()), [])
      assert.deepEqual(await store.listConflicts('all', 10), [])
      assert.deepEqual(await store.listConflicts('open', 10), [])
      assert.equal(await store.getConflict(cid(1) as never), undefined)
      assert.equal(await store.getMeta('stateHash'), undefined)
      assert.equal(await store.getMeta('hlc'), '1:0')
      const counts = await store.counts()
      assert.deepEqual([counts.events, counts.targets, counts.conflictsOpen], [3, 0, 0])
      assert.equal((await store.readLog(0, 10)).length, 3)
      assert.equal((await store.readTarget('persona_update', 'target-1', 10)).length, 3)
      assert.equal((await store.readAudit(0, 10)).length, 1)
      await store.commit(
        batchOf({
          targets: [targetState('persona_update', 'target-1')],
          conflicts: [conflict(cid(1), 'open')],
        }),
      )
      await reopen(store)
      assert.deepEqual([(await store.counts()).targets, (await store.counts()).conflictsOpen], [1, 1])
    }))

  it('a commit too large for synchronous reads refuses a stored event or a taken id the same way', () =>
    withStore(makeStore, async (store) => {
      // 40 events: past SYNC_READ_KEYS_MAX (32), so the commit's reads go through getMany.
      const first = makeEvent({ n: 1, eventId: uuid(1) })
      await store.commit(batchOf({ events: [stored(first)] }))
      const many = Array.from({ length: 40 }, (_, i) => makeEvent({ n: 100 + i }))
      await assert.rejects(store.commit(batchOf({ events: [...many, first].map(stored) })), {
        name: 'DuplicateEventError',
      })
      const sameId = makeEvent({ n: 2, eventId: uuid(1) })
      await assert.rejects(store.commit(batchOf({ events: [...many, sameId].map(stored) })), {
        name: 'EventIdTakenError',
      })
      assert.equal((await store.counts()).events, 1)
      const { seqs } = await store.commit(batchOf({ events: many.map(stored) }))
      assert.deepEqual(
        seqs,
        Array.from({ length: 40 }, (_, i) => i + 2),
      )
    }))

  it('a failed commit changes nothing: closed store, duplicate event, taken event id', () =>
    withStore(makeStore, async (store) => {
      const first = makeEvent({ n: 1, eventId: uuid(1) })
      await store.commit(
        batchOf({
          events: [stored(first)],
          targets: [targetState('persona_update', 'target-1')],
          audit: [audit('push', 1)],
        }),
      )
      const before = await store.counts()
      const sameIdOtherContent = makeEvent({ n: 2, eventId: uuid(1) })
      const fresh = makeEvent({ n: 3 })
      await assert.rejects(store.commit(batchOf({ events: [stored(fresh), stored(first)] })), {
        name: 'DuplicateEventError',
      })
      await assert.rejects(store.commit(batchOf({ events: [stored(fresh), stored(fresh)] })), {
        name: 'DuplicateEventError',
      })
      await assert.rejects(store.commit(batchOf({ events: [stored(fresh), stored(sameIdOtherContent)] })), {
        name: 'EventIdTakenError',
      })
      await assert.rejects(
        store.commit(batchOf({ events: [{ signed: new Uint8Array(10), signature: new Uint8Array(64) }] })),
        { name: 'InvalidStoreArgumentError' },
      )
      await assert.rejects(
        store.commit(batchOf({ conflicts: [{ ...conflict(cid(1), 'open'), status: 'weird' as never }] })),
        { name: 'InvalidStoreArgumentError' },
      )
      assert.equal(await store.getEvent(fresh.digest), undefined)
      await store.close()
      await assert.rejects(store.commit(batchOf({ events: [stored(fresh)], audit: [audit('push', 2)] })))
      await assert.rejects(store.appendAudit([audit('pull', 3)]))
      await store.open()
      assert.deepEqual(await store.counts(), before)
      assert.equal(await store.lastSeq(), 1)
      assert.equal(await store.getEvent(fresh.digest), undefined)
      assert.deepEqual(
        (await store.commit(batchOf({ events: [stored(fresh)], audit: [audit('push', 4)] }))).seqs,
        [2],
      )
      const records = await store.readAudit(0, 10)
      assert.deepEqual(
        records.map((r) => r.seq),
        [1, 2],
      )
      assertChain(records, '0'.repeat(64), 1)
    }))

  it('refuses unbounded or malformed reads, and use before open', async () => {
    const { store, cleanup } = await makeStore()
    try {
      await assert.rejects(store.readLog(0, 10), { name: 'StoreNotOpenError' })
      await store.open()
      await assert.rejects(store.readLog(0, 1e9), { name: 'InvalidStoreArgumentError' })
      await assert.rejects(store.readLog(-1, 10), { name: 'InvalidStoreArgumentError' })
      await assert.rejects(store.readByTime('persona_update', 0, -1), { name: 'InvalidStoreArgumentError' })
      await assert.rejects(
        store.readByTime('persona_update', 0, 10, { hlcKey: 'xyz', digest: 'a'.repeat(64) as never }),
        { name: 'InvalidStoreArgumentError' },
      )
      await assert.rejects(store.readTarget('nope' as never, 't', 10), { name: 'InvalidStoreArgumentError' })
      await assert.rejects(store.listConflicts('all', 1.5), { name: 'InvalidStoreArgumentError' })
      await assert.rejects(store.listConflicts('weird' as never, 10), { name: 'InvalidStoreArgumentError' })
      await assert.rejects(store.readAudit(0, Number.POSITIVE_INFINITY), {
        name: 'InvalidStoreArgumentError',
      })
    } finally {
      await cleanup()
    }
  })

  it('handles 10,000 events in batches of 500 (log, time index, counts)', () =>
    withStore(makeStore, async (store) => {
      const total = 10_000
      for (let start = 0; start < total; start += 500) {
        const events = Array.from({ length: 500 }, (_, i) => {
          const n = start + i + 1
          return stored(
            makeEvent({
              n,
              type: EVENT_TYPES[n % 4],
              target: `t${n % 97}`,
              wallMs: 1_700_000_000_000 + ((n * 7919) % total),
            }),
          )
        })
        const { seqs } = await store.commit(batchOf({ events, audit: [audit('push', start)] }))
        assert.equal(seqs[499], start + 500)
      }
      assert.equal(await store.lastSeq(), total)
      assert.equal((await store.counts()).events, total)
      let seen = 0
      for (let after = 0; ; ) {
        const page = await store.readLog(after, 1000)
        if (page.length === 0) break
        assert.equal(page[0].seq, after + 1)
        seen += page.length
        after = page[page.length - 1].seq
      }
      assert.equal(seen, total)
      assert.equal((await store.readLog(0, 5000, ['graph_update'])).length, 2500)
      assert.equal((await store.readByTime('vector_update', 0, 5000)).length, 2500)
      assert.equal((await store.readAudit(0, 100)).length, 20)
    }))
}
