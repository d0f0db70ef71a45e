/**
 * Relay: events a node learns by catch-up reach its other peers by gossip within seconds,
 * without waiting for their own periodic pull (60 s in these tests), and without loops.
 * Line topology on 127.0.0.1 (mDNS off): A - B - C; A and C never connect (peer exchange off:
 * `targetConnections: 0`, so only relay can bring A's events to C).
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { SignedEvent } from '../../../src/core/types.ts'
import { topicOf } from '../../../src/net/index.ts'
import { runCleanup, startNode, waitFor, waitForSubscribers } from './helpers.ts'

describe('relay of events learned by catch-up', () => {
  const cleanup: Array<() => Promise<void>> = []
  after(() => runCleanup(cleanup))

  it('what B pulls from A on connect reaches C (connected to B only) by gossip', async () => {
    const line = { targetConnections: 0 }
    const a = await startNode(line, cleanup)
    const b = await startNode(line, cleanup)
    const c = await startNode(line, cleanup)
    await c.net.dial(b.addr())
    await waitForSubscribers([b, c], topicOf('persona_update'), 1)
    // A writes while it is connected to no one: its gossip reaches nobody.
    const written: SignedEvent[] = []
    for (let i = 0; i < 25; i++)
      written.push(await a.api.write('persona_update', `r${i}`, { op: 'set', fields: { i } }))
    const t0 = performance.now()
    await b.net.dial(a.addr())
    await waitFor('b pulled the 25 from a', () => written.every((e) => b.api.has(e.digest)))
    await waitFor('c got them from b by gossip', () => written.every((e) => c.api.has(e.digest)), 10_000)
    console.log(`# relayed to c ${Math.round(performance.now() - t0)} ms after a connected to b`)
    assert.equal(b.net.stats['catchup.relayed'], 25)
    assert.equal(c.net.stats['catchup.accepted'] ?? 0, 0, 'c did not get them by its own catch-up')
    // by gossip or by the direct fan-out of a small federation (src/net/direct.ts)
    assert.ok(
      (c.net.stats['gossip.accepted_events'] ?? 0) + (c.net.stats['direct.accepted_events'] ?? 0) >= 25,
    )
    // No loop: c (which stored them from gossip) relays nothing, and a ignores them (seen).
    assert.equal(c.net.stats['catchup.relayed'] ?? 0, 0)
    assert.equal(a.api.log.length, 25)
    assert.ok(!c.net.peers().some((p) => p.peerId === a.net.peerId && p.connected), 'a and c never connected')
  })
})
