/** The mesh ingest queue: bounded in events and bytes, two rounds handed to the node at once, a
 *  round of arrivals (one push per peer, in one turn) after the gather wait. */
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

/** A node whose pushes take `ms`; records how many were in flight at most, and each push's
 *  origin, events and the turn it was made in (a counter bumped by setImmediate). */
function slowApi(ms: number) {
  const seen = {
    inFlight: 0,
    peak: 0,
    events: 0,
    pushes: [] as Array<{ from: string; events: SignedEvent[]; turn: number }>,
  }
  let turn = 0
  const tick = () => {
    turn++
    if (turn < 10_000) setImmediate(tick).unref()
  }
  setImmediate(tick).unref()
  const api = {
    async pushVerified(events: readonly SignedEvent[], origin: { id: string }): Promise<PushResult> {
      seen.pushes.push({ from: origin.id, events: [...events], turn })
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
  it('hands rounds to the node two at a time (one push per peer each), and every event arrives', async () => {
    const { api, seen } = slowApi(10)
    const q = new IngestQueue(api, new NetStats(), SILENT_LOGGER, 1000, 5)
    for (let i = 0; i < 30; i++) assert.ok(q.offer([event(i)], `peer-${i % 3}`))
    await q.stop()
    assert.equal(seen.events, 30)
    // rounds of 5 events from 3 peers: 3 pushes a round, two rounds at once
    assert.equal(seen.peak, INGEST_PUSHES_IN_FLIGHT * 3)
    assert.equal(q.bytes, 0)
  })

  it('after the gather wait, what arrived from several peers goes as one round: a push per peer, in one turn, order kept per peer', async () => {
    const { api, seen } = slowApi(1)
    const q = new IngestQueue(api, new NetStats(), SILENT_LOGGER, 1000, 500, Number.POSITIVE_INFINITY, 50)
    const sent = Array.from({ length: 9 }, (_, i) => event(i))
    // arrivals spread over a few turns, all within the 50 ms wait
    for (let i = 0; i < 9; i++) {
      assert.ok(q.offer([sent[i]], `peer-${i % 3}`))
      await new Promise((r) => setImmediate(r))
    }
    assert.equal(seen.pushes.length, 0, 'nothing is handed over before the wait ends')
    await q.stop()
    assert.equal(seen.pushes.length, 3, 'one push per peer')
    assert.equal(new Set(seen.pushes.map((p) => p.turn)).size, 1, 'all in one turn')
    for (const p of seen.pushes) {
      const k = Number(p.from.slice(5))
      assert.deepEqual(
        p.events.map((e) => e.digest),
        [0, 1, 2].map((j) => sent[3 * j + k].digest),
        `${p.from}'s events in arrival order`,
      )
    }
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
