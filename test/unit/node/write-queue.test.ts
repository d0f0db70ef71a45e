/**
 * The write pipeline: the next group is merged while the previous one is being written. Every
 * acknowledged request is durable and in order; a failed write fails its group and every group
 * merged on top of it, and the node goes on from the state that is on disk.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { type IngestItem, Ingestor } from '../../../src/core/ingest.ts'
import type { CommitBatch, Store } from '../../../src/core/ports.ts'
import { EMPTY_STATE_HASH } from '../../../src/core/view.ts'
import { trustedYjsMerger } from '../../../src/core/yjs-merge.ts'
import { StorageWriteError } from '../../../src/node/errors.ts'
import { type CommittedEvent, WriteQueue } from '../../../src/node/write-queue.ts'
import { createMemoryStore } from '../../../src/store/index.ts'
import { testSigner, testUuid } from '../../helpers/events.ts'

const NOW = 1_764_000_000_000

/** A store whose writes take `ms` and whose n-th write (1-based) fails, when asked. */
function slowStore(store: Store, ms: number, failAt?: Set<number>, seen?: () => void): Store {
  let writes = 0
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'commit')
        return async (batch: CommitBatch) => {
          const n = ++writes
          await delay(ms)
          seen?.()
          if (failAt?.has(n)) throw new Error(`disk full (write ${n})`)
          return target.commit(batch)
        }
      const v = Reflect.get(target, prop, target)
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
}

function local(i: number, target = `p${i % 3}`): IngestItem {
  return {
    kind: 'local',
    eventId: testUuid(),
    type: 'persona_update',
    targetId: target,
    payload: { op: 'set', fields: { n: i } },
  }
}

async function setup(ms: number, failAt?: Set<number>, bytes = { queue: 1 << 20, group: 1 << 20 }) {
  const base = createMemoryStore()
  await base.open()
  const peak = { layers: 0 }
  // Groups merged ahead of their write, seen when a write lands: 2 means the pipeline overlapped.
  const store = slowStore(base, ms, failAt, () => {
    peak.layers = Math.max(peak.layers, ingestor.uncommittedGroups)
  })
  const ingestor: Ingestor = new Ingestor(
    { store, signer: testSigner(31), crdt: trustedYjsMerger },
    { hlc: { wallMs: 0, counter: 0 }, stateHash: EMPTY_STATE_HASH, log: '00000000000000aa', logNext: 0 },
  )
  const committed: CommittedEvent[] = []
  const queue = new WriteQueue(ingestor, store, {
    groupEventsMax: 4,
    queueEventsMax: 1000,
    queueBytesMax: bytes.queue,
    groupBytesMax: bytes.group,
    now: () => NOW,
    onCommitted: (events) => committed.push(...events),
  })
  return { base, ingestor, queue, committed, peak }
}

const origin = { kind: 'http' as const, id: 'test' }

describe('WriteQueue byte bounds', () => {
  const big = (i: number): IngestItem => ({
    kind: 'local',
    eventId: testUuid(),
    type: 'persona_update',
    targetId: `big${i}`,
    payload: { op: 'set', fields: { text: 'x'.repeat(1000) } },
  })

  it('refuses a request that would take the queued bytes past the bound, as busy', async () => {
    const { queue } = await setup(20, undefined, { queue: 3000, group: 3000 })
    const first = queue.submit({ items: [big(1), big(2)], origin }) // ~2 KB, taken
    await assert.rejects(queue.submit({ items: [big(3), big(4)], origin }), { name: 'IngestBusyError' })
    assert.equal((await first).length, 2)
    // Once written, the room is back.
    assert.equal((await queue.submit({ items: [big(5), big(6)], origin })).length, 2)
    assert.equal(queue.queuedBytes, 0)
    await queue.stop()
  })

  it('takes a request larger than the bound when the queue is empty', async () => {
    const { queue } = await setup(1, undefined, { queue: 1500, group: 1500 })
    const o = await queue.submit({ items: [big(1), big(2), big(3)], origin })
    assert.ok(o.every((x) => x.status === 'accepted'))
    await queue.stop()
  })

  it('closes a group before the request that would cross the group byte bound', async () => {
    const { queue } = await setup(10, undefined, { queue: 1 << 20, group: 2500 })
    // 9 single-event requests of ~1 KB, submitted in one turn; groups of at most 4 events but
    // 2,500 bytes hold 2 each: 5 groups, where the event bound alone would make 3.
    const all = await Promise.all(
      Array.from({ length: 9 }, (_, i) => queue.submit({ items: [big(i)], origin })),
    )
    assert.equal(all.length, 9)
    assert.equal(queue.groups, 5)
    await queue.stop()
  })
})

describe('WriteQueue grouping', () => {
  it('takes the requests submitted in one turn as one group, and a later one in a group of its own', async () => {
    // The mesh hands a round of arrivals over as one push per peer, in one turn
    // (src/net/ingest-queue.ts): one group commit, not one per peer.
    const { queue, committed } = await setup(5)
    const peers = ['a', 'b', 'c', 'd'].map((id, i) =>
      queue.submit({ items: [local(i)], origin: { kind: 'peer', id } }),
    )
    const answers = await Promise.all(peers)
    assert.deepEqual(
      answers.map((o) => o.map((x) => x.status)),
      [['accepted'], ['accepted'], ['accepted'], ['accepted']],
    )
    assert.equal(queue.groups, 1, 'four requests of one turn: one group')
    assert.deepEqual(
      committed.map((c) => c.seq),
      [1, 2, 3, 4],
    )
    await queue.submit({ items: [local(9)], origin })
    assert.equal(queue.groups, 2)
    await queue.stop()
  })
})

describe('WriteQueue pipeline', () => {
  it('answers every request after its write, in order, with the state the log implies', async () => {
    const { base, ingestor, queue, committed, peak } = await setup(3)
    // 30 requests of 2 events, groups of at most 4: many groups, each merged while the previous
    // one is being written.
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, r) => queue.submit({ items: [local(2 * r), local(2 * r + 1)], origin })),
    )
    assert.ok(results.every((o) => o.every((x) => x.status === 'accepted')))
    assert.ok(queue.groups >= 15, `groups: ${queue.groups}`)
    assert.equal(peak.layers, 2, 'a group was merged while the one before it was being written')
    assert.equal(ingestor.uncommittedGroups, 0)
    assert.deepEqual(
      committed.map((c) => c.seq),
      Array.from({ length: 60 }, (_, i) => i + 1),
    )
    // What is on disk is what the engine thinks is committed.
    assert.equal(await base.getMeta('stateHash'), ingestor.stateHash)
    const p0 = await base.getTarget('persona_update', 'p0')
    assert.equal(p0?.heads.length, 1)
    assert.equal((await base.counts()).events, 60)
    await queue.stop()
  })

  it('fails a group whose write fails and every group merged on top of it, then goes on', async () => {
    const { base, ingestor, queue } = await setup(5, new Set([2]))
    const submit = (r: number) =>
      queue.submit({ items: [local(r, 'same'), local(r + 100, 'same')], origin }).then(
        (o) => ({ ok: true as const, o }),
        (err: Error) => ({ ok: false as const, err }),
      )
    const first = await Promise.all([submit(0), submit(1), submit(2), submit(3), submit(4), submit(5)])
    const failed = first.filter((r) => !r.ok)
    assert.ok(failed.length >= 2, 'the failed group and the one merged on it')
    for (const f of failed) assert.ok(!f.ok && f.err instanceof StorageWriteError, String(!f.ok && f.err))
    assert.ok(first.some((r) => r.ok))
    assert.equal(ingestor.uncommittedGroups, 0)
    // Acknowledged events are stored, refused ones are not, and new writes build on the disk state.
    const acked = first.flatMap((r) => (r.ok ? r.o : []))
    for (const o of acked) assert.equal(o.status, 'accepted')
    assert.equal((await base.counts()).events, acked.length)
    const after = await submit(50)
    assert.ok(after.ok)
    assert.equal((await base.counts()).events, acked.length + 2)
    assert.equal(await base.getMeta('stateHash'), ingestor.stateHash)
    const state = await base.getTarget('persona_update', 'same')
    assert.equal(state?.heads.length, 1, 'no dangling branch from a refused group')
    const stored = await Promise.all(state!.heads.map((h) => base.getEvent(h)))
    assert.ok(
      stored.every((e) => e !== undefined),
      'heads name stored events only',
    )
    await queue.stop()
  })
})

describe('WriteQueue isolation', () => {
  it('a group that fails to merge is retried request by request: only the culprit fails (20 requests, 1 bad)', async () => {
    const { base, ingestor, queue } = await setup(20)
    queue.groups = 0
    // An engine fault that no per-event check foresaw, raised by one request's event.
    const ingest = ingestor.ingest.bind(ingestor)
    let groupsWithPoison = 0
    ingestor.ingest = async (items, nowMs, audit, mode) => {
      if (items.some((it) => it.kind === 'local' && it.targetId === 'poison')) {
        groupsWithPoison++
        throw new TypeError('engine fault')
      }
      return ingest(items, nowMs, audit, mode)
    }
    const submit = (target: string) =>
      queue.submit({ items: [local(0, target)], origin }).then(
        (o) => ({ ok: true as const, o }),
        (err: Error) => ({ ok: false as const, err }),
      )
    // The first request is written (slowly) while the other 20 queue up behind it.
    const first = submit('first')
    const rest = await Promise.all(Array.from({ length: 20 }, (_, i) => submit(i === 7 ? 'poison' : `n${i}`)))
    assert.ok((await first).ok)
    assert.ok(groupsWithPoison >= 2, 'the poison was met in a group with others, then alone')
    for (const [i, r] of rest.entries()) {
      if (i === 7) assert.ok(!r.ok && r.err instanceof TypeError, 'the culprit gets its error')
      else assert.ok(r.ok && r.o[0].status === 'accepted', `request ${i}: ${!r.ok && r.err}`)
    }
    assert.equal((await base.counts()).events, 20)
    assert.equal(queue.queuedEvents, 0)
    await queue.stop()
  })
})
