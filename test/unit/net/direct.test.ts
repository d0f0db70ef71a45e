/**
 * Direct fan-out (src/net/direct.ts) between real libp2p hosts on 127.0.0.1/tcp/0, mDNS off,
 * each backed by the in-test SyncApi: delivery through the direct streams, relays in a partial
 * mesh without loops or duplicates, the per-peer queue bound, gossip above the threshold, and a
 * peer sending garbage or forged frames cut off with a named error and counted.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { SignedEvent } from '../../../src/core/types.ts'
import { DIRECT_QUEUE_FRAMES_MAX, DIRECT_REJECTS_MAX, PROTOCOL_DIRECT } from '../../../src/net/constants.ts'
import { encodeDirectFrame } from '../../../src/net/direct-frame.ts'
import { topicOf } from '../../../src/net/index.ts'
import { makeEvent, testSigner } from '../../helpers/events.ts'
import { runCleanup, startNode, type TestNode, waitFor, waitForSubscribers } from './helpers.ts'

const persona = (i: number) => ({ op: 'set', fields: { i } })
const TOPIC = topicOf('persona_update')
const stat = (n: TestNode, name: string) => n.net.stats[name] ?? 0

/** Connects the pairs (by index) and waits until each node sees its peers' subscriptions and
 *  knows they speak the direct protocol (identify). */
async function wire(nodes: TestNode[], edges: Array<[number, number]>): Promise<void> {
  for (const [x, y] of edges) await nodes[x].net.dial(nodes[y].addr())
  for (const [i, n] of nodes.entries()) {
    const degree = edges.filter(([x, y]) => x === i || y === i).length
    await waitForSubscribers([n], TOPIC, degree)
    await waitFor(`node ${i} knows its ${degree} peers speak direct`, async () => {
      let speakers = 0
      for (const p of n.net.libp2p?.getPeers() ?? []) {
        const peer = await n.net.libp2p?.peerStore.get(p)
        if (peer?.protocols.includes(PROTOCOL_DIRECT)) speakers++
      }
      return speakers >= degree
    })
  }
}

async function openRaw(from: TestNode, to: TestNode): Promise<Stream> {
  const conn = from.net.libp2p?.getConnections(peerIdFromString(to.net.peerId))[0]
  assert.ok(conn, 'connected')
  return conn.newStream(PROTOCOL_DIRECT, { signal: AbortSignal.timeout(5_000) })
}

describe('direct fan-out', () => {
  const cleanup: Array<() => Promise<void>> = []
  after(() => runCleanup(cleanup))
  const lone = { targetConnections: 0 }

  it('in a full mesh each node gets each write once, straight from its author, no relays', async () => {
    const nodes = [
      await startNode(lone, cleanup),
      await startNode(lone, cleanup),
      await startNode(lone, cleanup),
    ]
    await wire(nodes, [
      [1, 0],
      [2, 0],
      [2, 1],
    ])
    const [a, b, c] = nodes
    const written: SignedEvent[] = []
    for (let i = 0; i < 30; i++) written.push(await a.api.write('persona_update', `f${i}`, persona(i)))
    await waitFor('b and c hold all 30', () =>
      written.every((e) => b.api.has(e.digest) && c.api.has(e.digest)),
    )
    await waitFor('a published all 30 directly', () => stat(a, 'direct.published_events') >= 30)
    for (const n of [b, c]) {
      assert.equal(stat(n, 'direct.accepted_events'), 30)
      assert.equal(stat(n, 'gossip.accepted_events'), 0, 'nothing came by gossip')
      assert.equal(stat(n, 'direct.relayed_events'), 0, 'the author covered every peer')
      assert.equal(stat(n, 'direct.duplicates'), 0, 'no copy arrived twice')
    }
    assert.equal(stat(a, 'direct.accepted_events'), 0, 'nothing came back to the author')
  })

  it('opens the stream to a peer when it becomes reachable, before any write; /peers says direct once it takes writes', async () => {
    const nodes = [await startNode(lone, cleanup), await startNode(lone, cleanup)]
    const [a, b] = nodes
    const direct = (x: TestNode, y: TestNode) => x.net.peers().find((p) => p.peerId === y.net.peerId)?.direct
    assert.equal(direct(a, b), undefined, 'not connected: no direct flag')
    await wire(nodes, [[1, 0]])
    await waitFor(
      'each opened its stream to the other without a write',
      () => stat(a, 'direct.streams_opened') >= 1 && stat(b, 'direct.streams_opened') >= 1,
    )
    await waitFor('both report the other direct', () => direct(a, b) === true && direct(b, a) === true)
    assert.equal(stat(a, 'direct.sends'), 0, 'nothing sent yet')
    const e = await a.api.write('persona_update', 'warm', persona(1))
    await waitFor('b holds the write', () => b.api.has(e.digest))
    assert.equal(stat(a, 'direct.streams_opened'), 1, 'the write used the stream opened at connect')
    await a.net.libp2p?.hangUp(peerIdFromString(b.net.peerId))
    await waitFor('not direct once disconnected', () => direct(a, b) !== true)
  })

  it('in a partial mesh events are relayed to uncovered peers only, without loops', async () => {
    // a - b, b - c, c - a (a triangle) and c - d: d hears of a's writes only through c.
    const nodes = await Promise.all([0, 1, 2, 3].map(() => startNode(lone, cleanup)))
    await wire(nodes, [
      [1, 0],
      [2, 1],
      [2, 0],
      [3, 2],
    ])
    const [a, b, c, d] = nodes
    const written: SignedEvent[] = []
    for (let i = 0; i < 20; i++) written.push(await a.api.write('persona_update', `p${i}`, persona(i)))
    await waitFor('d holds all 20', () => written.every((e) => d.api.has(e.digest)))
    await waitFor('b and c hold all 20', () =>
      written.every((e) => b.api.has(e.digest) && c.api.has(e.digest)),
    )
    assert.equal(stat(c, 'direct.relayed_events'), 20, 'c relays each to d')
    assert.equal(stat(b, 'direct.relayed_events'), 0, "b's peers were covered by a's copy")
    assert.equal(stat(d, 'direct.relayed_events'), 0, "d's only peer sent it")
    assert.equal(stat(d, 'direct.accepted_events'), 20)
    for (const n of nodes)
      assert.equal(stat(n, 'direct.duplicates'), 0, `${n.net.peerId}: no duplicate copies`)
    assert.equal(stat(a, 'direct.accepted_events'), 0, 'no loop back to the author')
  })

  it('above the threshold the node uses gossip', async () => {
    const gossipy = { targetConnections: 0, directPeersMax: 1 }
    const nodes = [
      await startNode(gossipy, cleanup),
      await startNode(gossipy, cleanup),
      await startNode(gossipy, cleanup),
    ]
    await wire(nodes, [
      [1, 0],
      [2, 0],
      [2, 1],
    ])
    const [a, b, c] = nodes
    assert.equal(a.net.direct?.active, false, 'two peers > directPeersMax 1')
    const written: SignedEvent[] = []
    for (let i = 0; i < 10; i++) written.push(await a.api.write('persona_update', `g${i}`, persona(i)))
    await waitFor('b and c hold all 10', () =>
      written.every((e) => b.api.has(e.digest) && c.api.has(e.digest)),
    )
    assert.equal(stat(a, 'direct.published_events'), 0)
    for (const n of [b, c]) {
      assert.equal(stat(n, 'direct.accepted_events'), 0)
      assert.ok(stat(n, 'gossip.accepted_events') >= 10)
    }
  })

  it(`a peer's queue holds at most DIRECT_QUEUE_FRAMES_MAX (${DIRECT_QUEUE_FRAMES_MAX}) frames; the rest is dropped and counted`, async () => {
    const a = await startNode(lone, cleanup)
    const b = await startNode(lone, cleanup)
    await wire([a, b], [[1, 0]])
    const signer = testSigner(501)
    const extra = 250
    const events = Array.from({ length: DIRECT_QUEUE_FRAMES_MAX + extra }, (_, i) =>
      makeEvent(signer, { target: `q${i}`, payload: persona(i), hlc: { wallMs: Date.now(), counter: i } }),
    )
    // One synchronous publish: every frame is queued before the first send leaves.
    const rest = a.net.direct?.publish(events.map((e) => ({ signed: e.signed, signature: e.signature })))
    assert.deepEqual(rest, [], 'all go directly')
    assert.equal(a.net.direct?.queued(b.net.peerId), DIRECT_QUEUE_FRAMES_MAX)
    assert.equal(stat(a, 'direct.dropped'), extra)
    await waitFor(
      'b accepted the queued ones',
      () => stat(b, 'direct.accepted_events') + stat(b, 'direct.ingest_full') >= DIRECT_QUEUE_FRAMES_MAX,
      30_000,
    )
    assert.equal(stat(b, 'direct.accepted_events') + stat(b, 'direct.ingest_full'), DIRECT_QUEUE_FRAMES_MAX)
  })

  it('a peer sending a garbage frame is cut off with DirectFrameError, counted and refused for a while', async () => {
    const a = await startNode(lone, cleanup)
    const b = await startNode(lone, cleanup)
    await wire([a, b], [[1, 0]])
    const s = await openRaw(a, b)
    s.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]))
    await waitFor('b counted the bad frame', () => stat(b, 'direct.bad_frame') >= 1)
    assert.equal(stat(b, 'direct.bad_frame.too_large'), 1)
    assert.equal(stat(b, 'errors.DirectFrameError'), 1)
    assert.equal(b.net.direct?.banned(a.net.peerId), true)
    await waitFor('the stream was cut', () => s.status !== 'open')
    // a new direct stream from a is refused while the ban lasts
    const again = await openRaw(a, b)
    await waitFor('b refused the next stream', () => stat(b, 'direct.banned_refused') >= 1)
    await waitFor('and reset it', () => again.status !== 'open')
    // the connection itself stays (gossip and reconciliation have their own rules)
    assert.ok(a.net.peers().some((p) => p.peerId === b.net.peerId && p.connected))
  })

  it(`a peer sending ${DIRECT_REJECTS_MAX} forged events is cut off with DirectPeerRejectedError; none is stored or relayed`, async () => {
    const a = await startNode(lone, cleanup)
    const b = await startNode(lone, cleanup)
    const c = await startNode(lone, cleanup)
    await wire(
      [a, b, c],
      [
        [1, 0],
        [2, 1],
      ],
    )
    const signer = testSigner(777)
    const s = await openRaw(a, b)
    const forged: SignedEvent[] = []
    for (let i = 0; i < DIRECT_REJECTS_MAX; i++) {
      const e = makeEvent(signer, {
        target: `x${i}`,
        payload: persona(i),
        hlc: { wallMs: Date.now(), counter: i },
      })
      const signature = Uint8Array.from(e.signature)
      signature[0] ^= 0xff
      forged.push(e)
      s.send(encodeDirectFrame({ covered: [], signed: e.signed, signature }))
    }
    await waitFor('b cut a off', () => stat(b, 'errors.DirectPeerRejectedError') >= 1)
    assert.equal(stat(b, 'direct.rejected'), DIRECT_REJECTS_MAX)
    assert.equal(stat(b, 'direct.reject.bad_signature'), DIRECT_REJECTS_MAX)
    assert.equal(b.net.direct?.banned(a.net.peerId), true)
    assert.ok(forged.every((e) => !b.api.has(e.digest) && !c.api.has(e.digest)))
    assert.equal(stat(b, 'direct.relayed_events'), 0)
  })
})
