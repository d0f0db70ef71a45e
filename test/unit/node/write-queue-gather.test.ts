/**
 * The write queue and the mesh's gather wait (src/net/ingest-queue.ts) together: events from
 * peers wait a bounded time to share one group commit; a request that starts a group anyway (a
 * local write) is not held by that wait and takes the gathered events into its group.
 * setTimeout is mocked: the gather ends only when the test moves the clock or a group starts.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { PushResult, SyncApi } from '../../../src/core/api.ts'
import { type IngestItem, Ingestor } from '../../../src/core/ingest.ts'
import type { Store } from '../../../src/core/ports.ts'
import type { Origin, SignedEvent } from '../../../src/core/types.ts'
import { EMPTY_STATE_HASH } from '../../../src/core/view.ts'
import { trustedYjsMerger } from '../../../src/core/yjs-merge.ts'
import { IngestQueue } from '../../../src/net/ingest-queue.ts'
import { NetStats, SILENT_LOGGER } from '../../../src/net/stats.ts'
import { type CommittedEvent, WriteQueue } from '../../../src/node/write-queue.ts'
import { createMemoryStore } from '../../../src/store/index.ts'
import { makeEvent, testSigner, testUuid } from '../../helpers/events.ts'

const NOW = 1_764_000_000_000
const GATHER_MS = 10
const peerSigner = testSigner(52)
const peerEvent = (i: number): SignedEvent =>
  makeEvent(peerSigner, { target: `peer${i}`, payload: { op: 'set', fields: { i } } })
const localItem = (i: number): IngestItem => ({
  kind: 'local',
  eventId: testUuid(),
  type: 'persona_update',
  targetId: `local${i}`,
  payload: { op: 'set', fields: { i } },
})
const turn = () => new Promise((r) => setImmediate(r))

/** A node's write queue with the mesh's ingest queue in front of it, wired as src/node/start.ts
 *  wires them (`onIdleArrival` flushes the gather). `wired: false` leaves the hook out. */
async function setup(t: TestContext, wired = true) {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const base = createMemoryStore()
  await base.open()
  let fail = false
  const store = new Proxy(base, {
    get(target, prop) {
      if (prop === 'commit')
        return async (batch: Parameters<Store['commit']>[0]) => {
          if (fail) {
            fail = false
            throw new Error('disk full')
          }
          return target.commit(batch)
        }
      const v = Reflect.get(target, prop, target)
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
  const ingestor = new Ingestor(
    { store, signer: testSigner(53), crdt: trustedYjsMerger },
    { hlc: { wallMs: 0, counter: 0 }, stateHash: EMPTY_STATE_HASH, log: '00000000000000bb', logNext: 0 },
  )
  const committed: CommittedEvent[] = []
  let ingest: IngestQueue | undefined
  const queue = new WriteQueue(ingestor, store, {
    groupEventsMax: 1000,
    queueEventsMax: 10_000,
    queueBytesMax: 1 << 24,
    groupBytesMax: 1 << 24,
    now: () => NOW,
    onCommitted: (events) => committed.push(...events),
    ...(wired ? { onIdleArrival: () => ingest?.flush() } : {}),
  })
  const api = {
    async pushVerified(events: readonly SignedEvent[], origin: Origin): Promise<PushResult> {
      const o = await queue.submit({ items: events.map((event) => ({ kind: 'signed', event })), origin })
      const accepted = o.filter((x) => x.status === 'accepted').length
      return { accepted, duplicates: 0, rejected: [], digests: [] }
    },
  } as unknown as SyncApi
  const stats = new NetStats()
  ingest = new IngestQueue(api, stats, SILENT_LOGGER, 1000, 500, Number.POSITIVE_INFINITY, GATHER_MS)
  const stop = async () => {
    t.mock.timers.tick(GATHER_MS)
    await ingest.stop()
    await queue.stop()
  }
  return { queue, ingest, committed, stats, failNext: () => (fail = true), stop }
}

describe('peer events and the gather wait before a group commit', () => {
  it('events from several peers arriving within the wait share one group commit, after the bound', async (t) => {
    const { queue, ingest, committed, stop } = await setup(t)
    for (let i = 0; i < 5; i++) {
      assert.ok(ingest.offer([peerEvent(i)], `peer-${i % 3}`))
      t.mock.timers.tick(2) // 0, 2, 4, 6, 8 ms: all within 10 ms of the first
      await turn()
    }
    assert.equal(committed.length, 0, 'held while the wait runs')
    t.mock.timers.tick(GATHER_MS)
    for (let i = 0; i < 5 && committed.length < 5; i++) await turn()
    assert.equal(committed.length, 5)
    assert.equal(queue.groups, 1, 'five events from three peers: one synced batch')
    await stop()
  })

  it('a local write during the wait is answered at once and takes the gathered events into its group', async (t) => {
    const { queue, ingest, committed, stop } = await setup(t)
    assert.ok(ingest.offer([peerEvent(10)], 'peer-a'))
    assert.ok(ingest.offer([peerEvent(11)], 'peer-b'))
    await turn()
    // The clock does not move: the write must not wait for the gather.
    const answer = await queue.submit({ items: [localItem(1)], origin: { kind: 'http', id: 'client' } })
    assert.equal(answer[0].status, 'accepted')
    assert.equal(queue.groups, 1, 'one group: the local write and both peer events')
    assert.deepEqual(committed.map((c) => c.request.origin.kind).sort(), ['http', 'peer', 'peer'])
    assert.equal(ingest.length, 0)
    await stop()
  })

  it('without the hook the local write is not delayed either, but the peer events need a group of their own', async (t) => {
    // What the hook changes, shown against the queue without it (the code before it).
    const { queue, ingest, committed, stop } = await setup(t, false)
    assert.ok(ingest.offer([peerEvent(20)], 'peer-a'))
    await turn()
    const answer = await queue.submit({ items: [localItem(2)], origin: { kind: 'http', id: 'client' } })
    assert.equal(answer[0].status, 'accepted')
    assert.equal(committed.length, 1, 'the peer event still waits')
    t.mock.timers.tick(GATHER_MS)
    for (let i = 0; i < 5 && committed.length < 2; i++) await turn()
    assert.equal(committed.length, 2)
    assert.equal(queue.groups, 2)
    await stop()
  })

  it('a failed write fails the local write and the gathered peer events with it; the queue goes on', async (t) => {
    const { queue, ingest, committed, stats, failNext, stop } = await setup(t)
    assert.ok(ingest.offer([peerEvent(30)], 'peer-a'))
    assert.ok(ingest.offer([peerEvent(31)], 'peer-b'))
    await turn()
    failNext()
    await assert.rejects(queue.submit({ items: [localItem(3)], origin: { kind: 'http', id: 'client' } }), {
      name: 'StorageWriteError',
    })
    for (let i = 0; i < 5 && stats.get('ingest.failed') < 2; i++) await turn()
    assert.equal(
      stats.get('ingest.failed'),
      2,
      'both peer events failed with the batch (reconciliation brings them)',
    )
    assert.equal(committed.length, 0)
    const after = await queue.submit({ items: [localItem(4)], origin: { kind: 'http', id: 'client' } })
    assert.equal(after[0].status, 'accepted')
    assert.equal(committed.length, 1)
    await stop()
  })
})
