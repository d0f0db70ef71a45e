/**
 * Real nodes (LevelDB, engine, HTTP, libp2p mesh) on 127.0.0.1, mDNS off, joined by bootstrap
 * lists (test/helpers/mesh.ts):
 *
 * - events of all four types pushed over HTTP to different nodes reach every node, through a
 *   relay (node 2 knows only node 0) and by gossip; the state hashes converge;
 * - a node started late (bootstrapped to a node other than the first) gets everything written
 *   before it started, then follows live writes;
 * - a node stopped and started again with its data directory (same mesh port) rejoins and gets
 *   what was written while it was down; it loses nothing it had.
 *
 * The tests of this file share one mesh and run in order.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import {
  connectedPeers,
  converged,
  getJson,
  type Mesh,
  type MeshNode,
  startMesh,
  summaries,
  waitFor,
  waitForPeers,
} from '../helpers/mesh.ts'

const DEADLINE_MS = 30_000
const run = randomUUID().slice(0, 8)

const persona = (id: string, fields: Record<string, unknown>) => ({
  event_type: 'persona_update',
  target_id: `${run}-${id}`,
  payload: { op: 'set', fields },
})
const vector = (id: string, values: number[]) => ({
  event_type: 'vector_update',
  target_id: `${run}-${id}`,
  payload: { op: 'upsert', values, metadata: { run } },
})
const graph = (name: string, from: string, to: string) => ({
  event_type: 'graph_update',
  target_id: `${run}-${name}`,
  payload: { op: 'add_edge', from, label: 'knows', to, properties: { since: 1843 } },
})
const doc = (id: string, content: string) => ({
  event_type: 'document_update',
  target_id: `${run}-${id}`,
  payload: { op: 'put', content },
})

async function stateOf(n: MeshNode, type: string, id: string): Promise<unknown> {
  const r = await getJson(`${n.url}/state/${type}/${run}-${id}`)
  return r.status === 200 ? r.body.value : r.status
}

describe('mesh of real nodes on loopback: propagation, late join, restart', () => {
  let mesh: Mesh
  let total = 0

  before(async () => {
    // node 0 first; nodes 1 and 2 bootstrap to node 0 only: node 1 and 2 are not connected to
    // each other, so their events reach each other through node 0 (gossip relay). No
    // connection target: peer exchange would connect them (the redialer dials a learned peer
    // at once), and the star is what this test is about.
    mesh = await startMesh(3, {
      bootstrap: 'first',
      values: { mesh: { enabled: true, targetConnections: 0 } },
    })
  })
  after(() => mesh?.close())

  it('events of all four types written on different nodes reach every node; state hashes converge', async () => {
    const [a, b, c] = mesh.nodes
    await waitForPeers([b, c], 1, DEADLINE_MS)
    await waitForPeers([a], 2, DEADLINE_MS)
    assert.deepEqual(connectedPeers(b), [a.peerId], 'node 1 knows only node 0')

    const writes: Array<[MeshNode, unknown[]]> = [
      [a, [persona('ada', { name: 'Ada', born: 1815 })]],
      [b, [vector('v1', [0.1, 0.2, 0.3]), vector('v2', [1, 2])]],
      [c, [graph('social', 'ada', 'babbage'), doc('notes', 'On the Analytical Engine')]],
      [a, [doc('letter', 'Dear Charles'), graph('social', 'babbage', 'ada')]],
      [c, [persona('grace', { name: 'Grace' }), vector('v3', [3])]],
    ]
    for (const [node, events] of writes) {
      const r = await node.push(events)
      assert.equal(r.accepted, events.length, JSON.stringify(r.rejected))
      total += events.length
    }
    await waitFor(
      `${total} events on every node with one state hash`,
      () => converged(mesh.nodes, total),
      DEADLINE_MS,
      () => summaries(mesh.nodes),
    )

    // the merged state is the same everywhere, including the node two hops from the writer
    for (const n of mesh.nodes) {
      assert.deepEqual(await stateOf(n, 'persona_update', 'ada'), { name: 'Ada', born: 1815 })
      assert.deepEqual((await stateOf(n, 'vector_update', 'v1')) as unknown, {
        values: [0.1, 0.2, 0.3],
        metadata: { run },
      })
      assert.equal(
        ((await stateOf(n, 'document_update', 'notes')) as { content: string }).content,
        'On the Analytical Engine',
      )
    }
    const edges = await getJson(`${c.url}/state/graph_update/${run}-social`)
    assert.equal(edges.status, 200)
    assert.equal(JSON.stringify(edges.body.value).includes('babbage'), true)
    const s = await summaries(mesh.nodes)
    for (const x of s) assert.equal(x.state_hash, s[0].state_hash)
    // the receivers got events live, not only by reconciliation on connect: by the direct
    // fan-out of a small federation (src/net/direct.ts), with no duplicate copies
    for (const n of [b, c]) {
      const st = n.node.network!.stats
      assert.ok((st['direct.accepted_events'] ?? 0) >= 1, `node ${n.index} accepted events on direct streams`)
      assert.equal(st['direct.bad_frame'] ?? 0, 0)
    }
  })

  it('a node started late gets everything written before it started, then live writes', async () => {
    const late = await mesh.create({ bootstrap: [mesh.nodes[1].addr()] })
    await late.start()
    await waitFor(
      `the late node holds the ${total} earlier events`,
      () => converged(mesh.nodes, total),
      DEADLINE_MS,
      () => summaries(mesh.nodes),
    )
    assert.deepEqual(await stateOf(late, 'persona_update', 'ada'), { name: 'Ada', born: 1815 })
    // By the reconciliation on connect (the late node fetched them, or the peer that started
    // the session pushed them to it), or by its peer's direct stream: a peer that becomes
    // reachable is sent what was fanned out in the last 10 s (src/net/direct.ts, the replay),
    // which here is everything, written a moment ago; gossip may replay the most recent ones
    // from its message cache too. Each event is stored once, by whichever came first. A
    // session's counts are added when it ends, which may be just after the events are stored.
    const moved = () => {
      const st = late.node.network!.stats
      const byReconciliation = (st['reconcile.events_fetched'] ?? 0) + (st['reconcile.events_received'] ?? 0)
      const live = (st['gossip.accepted_events'] ?? 0) + (st['direct.accepted_events'] ?? 0)
      return { byReconciliation, total: byReconciliation + live, st }
    }
    await waitFor(
      'the late node counts every event it got (reconciliation, replay, gossip)',
      () => moved().total >= total,
      DEADLINE_MS,
      () => moved().st,
    )

    await waitForPeers([late], 1, DEADLINE_MS)
    const r = await mesh.nodes[2].push([persona('ada', { title: 'Countess of Lovelace' })])
    assert.equal(r.accepted, 1)
    total += 1
    await waitFor(
      'the live write reaches the late node',
      () => converged(mesh.nodes, total),
      DEADLINE_MS,
      () => summaries(mesh.nodes),
    )
    assert.deepEqual(await stateOf(late, 'persona_update', 'ada'), {
      name: 'Ada',
      born: 1815,
      title: 'Countess of Lovelace',
    })
  })

  it('a node restarted with its data directory rejoins and catches up on what it missed', async () => {
    const [a, b, c] = mesh.nodes
    const hashBefore = (await c.status()).state_hash
    await c.stop()
    const others = mesh.nodes.filter((n) => n !== c)

    // written while node 2 is down, on two different nodes
    const missed = [
      [a, [persona('ada', { died: 1852 }), vector('v4', [4, 4])]],
      [b, [graph('social', 'ada', 'somerville'), doc('notes', 'Note G')]],
    ] as const
    for (const [node, events] of missed) {
      const r = await node.push([...events])
      assert.equal(r.accepted, events.length)
      total += events.length
    }
    await waitFor(
      'the running nodes converge',
      () => converged(others, total),
      DEADLINE_MS,
      () => summaries(others),
    )

    await c.start()
    assert.equal(c.node.replay.rebuilt, false, 'a clean restart does not rebuild the state')
    // what it had is still there right after start (nothing lost), before any catch-up
    const atStart = await c.status()
    assert.ok(atStart.events >= total - 4, `node 2 kept its events (${atStart.events})`)
    if (atStart.events === total - 4) assert.equal(atStart.state_hash, hashBefore)

    await waitFor(
      'the restarted node catches up',
      () => converged(mesh.nodes, total),
      DEADLINE_MS,
      () => summaries(mesh.nodes),
    )
    assert.deepEqual(await stateOf(c, 'persona_update', 'ada'), {
      name: 'Ada',
      born: 1815,
      title: 'Countess of Lovelace',
      died: 1852,
    })
    assert.equal(((await stateOf(c, 'document_update', 'notes')) as { content: string }).content, 'Note G')
  })
})
