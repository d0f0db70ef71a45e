/**
 * The README's three-node star (real nodes on 127.0.0.1, mDNS off): nodes 2 and 3 bootstrap
 * from node 1 only. By peer exchange (`/gkm/peers/1.0.0`) and the connection target, 2 and 3
 * end up connected to each other; a write on 3 made while 3 was cut off from the mesh reaches 2
 * within seconds after 3 reconnects (by 2's catch-up from 3 on connect, or by 1's relay of what
 * it pulled from 3), not at the next 30 s catch-up timer. The measured time is printed; the
 * deadline is generous (10 s) for flake safety: speed is docs/BENCHMARKS-MESH.md's business.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { connectedPeers, type Mesh, startMesh, waitFor } from '../helpers/mesh.ts'

describe('three-node star (README): peer exchange and relay', () => {
  let mesh: Mesh | undefined
  after(() => mesh?.close())

  it('2 and 3 connect to each other, and a write 3 made while cut off reaches 2 soon after it reconnects', {
    timeout: 90_000,
  }, async () => {
    mesh = await startMesh(3)
    const [n1, n2, n3] = mesh.nodes
    await waitFor('2 and 3 connected to 1', () =>
      [n2, n3].every((n) => connectedPeers(n).includes(n1.peerId)),
    )
    await waitFor(
      '2 and 3 connected to each other',
      () => connectedPeers(n2).includes(n3.peerId) && connectedPeers(n3).includes(n2.peerId),
      20_000,
      () =>
        mesh?.nodes.map((n) => ({ node: n.index, peers: connectedPeers(n), stats: n.node.network?.stats })),
    )

    // 3 is cut off (restarted with its mesh off), and writes.
    await n3.stop()
    n3.configure({ bootstrap: [n1.addr()], mesh: false })
    await n3.start()
    const write = await n3.push([
      { event_type: 'persona_update', target_id: 'star', payload: { op: 'set', fields: { from: 3 } } },
    ])
    assert.equal(write.accepted, 1)
    const before = (await n2.status()).events
    await n3.stop()

    // 3 reconnects: the write reaches 2.
    n3.configure({ bootstrap: [n1.addr()] })
    const t0 = performance.now()
    await n3.start()
    await waitFor(
      '2 holds the write 3 made while cut off',
      async () => (await n2.status()).events === before + 1,
      10_000,
    )
    const ms = Math.round(performance.now() - t0)
    console.log(`# reconnect of 3 -> write on 2: ${ms} ms`)
    const state = await n2.node.api.state('persona_update', 'star')
    assert.equal((state as { value?: { from?: number } } | undefined)?.value?.from, 3)
    await waitFor(
      '2 and 3 connected again',
      () => connectedPeers(n2).includes(n3.peerId) && connectedPeers(n3).includes(n2.peerId),
      20_000,
    )
  })
})
