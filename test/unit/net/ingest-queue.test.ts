/** The gossip ingest queue: bounded in events and bytes, two batches handed to the node at once. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import type { PushResult, SyncApi } from '../../../src/core/api.ts'
import type { SignedEvent } from '../../../src/core/types.ts'
import { INGEST_PUSHES_IN_FLIGHT } from '../../../src/net/constants.ts'
import { IngestQueue } from '../../../src/net/ingest-queue.ts'
import { NetStats, SILENT_LOGGER } from '../../../src/net/stats.ts'
import { makeEvent, testSigner } from '../../helpers/events.ts'

const signer = testSigner(41)
const event = (i: number, bytes = 0): SignedEvent =>
  makeEvent(signer, { target: `t${i}`, payload: { op: 'set', fields: { pad: 'x'.repeat(bytes), i } } })

/** A node whose pushes take `ms`; records how many were in flight at most. */
function slowApi(ms: number) {
  const seen = { inFlight: 0, peak: 0, events: 0 }
  const api = {
    async pushVerified(events: readonly SignedEvent[]): Promise<PushResult> {
      seen.inFlight++
      seen.peak = Math.max(seen.peak, seen.inFlight)
      await delay(ms)
      seen.inFlight--
      seen.events += events.length
      return { accepted: events.length, duplicates: 0, rejected: [], digests: [] }
    },
  } as unknown as SyncApi
  return { api, seen }
}

describe('IngestQueue', () => {
  it('hands batches to the node two at a time, and every event arrives', async () => {
    const { api, seen } = slowApi(10)
    const q = new IngestQueue(api, new NetStats(), SILENT_LOGGER, 1000, 5)
    for (let i = 0; i < 30; i++) assert.ok(q.offer([event(i)], `peer-${i % 3}`))
    await q.stop()
    assert.equal(seen.events, 30)
    assert.equal(seen.peak, INGEST_PUSHES_IN_FLIGHT)
    assert.equal(q.bytes, 0)
  })

  it('refuses events beyond its byte bound until the node has taken what waits', async () => {
    const { api } = slowApi(20)
    const one = event(1, 2000)
    const size = one.signed.byteLength + 64
    const q = new IngestQueue(api, new NetStats(), SILENT_LOGGER, 1000, 500, 2 * size + 400)
    assert.ok(q.offer([one], 'p'))
    assert.ok(q.offer([event(2, 2000)], 'p'))
    assert.equal(q.offer([event(3, 2000)], 'p'), false, 'a third large event does not fit')
    assert.ok(q.offer([event(4, 10)], 'p'), 'a small one still does')
    await q.stop()
    assert.equal(q.bytes, 0)
  })

  it('refuses events beyond its event bound', async () => {
    const { api } = slowApi(20)
    const q = new IngestQueue(api, new NetStats(), SILENT_LOGGER, 3, 500)
    assert.ok(q.offer([event(1), event(2)], 'p'))
    assert.equal(q.offer([event(3), event(4)], 'p'), false)
    await q.stop()
  })
})
