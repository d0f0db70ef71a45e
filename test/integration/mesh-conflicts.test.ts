/**
 * Conflicts across real nodes (127.0.0.1, mDNS off): two nodes that are not connected write
 * the same persona field with different values (a partition); when one dials the other
 * (HTTP POST /peers) the pull-on-connect catch-up brings each the other's write, both record
 * the same open conflict (same id, same sides) and converge on the last-write-wins value. The
 * conflict is resolved on one node (`prefer_remote`, which there picks the other node's side);
 * the resolution reaches the other node by gossip, which shows it resolved, the chosen value
 * and the same state hash. A third node joining afterwards sees the same resolved conflict.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import {
  converged,
  emptyMesh,
  getJson,
  type Mesh,
  type MeshNode,
  postJson,
  summaries,
  waitFor,
  waitForPeers,
} from '../helpers/mesh.ts'

const DEADLINE_MS = 30_000
const target = `ada-${randomUUID().slice(0, 8)}`

interface Side {
  digest: string
  author: string
  value?: unknown
}
interface Conflict {
  id: string
  cell: string
  target: string
  status: string
  winner: string
  resolvedBy?: string
  sides: Side[]
}

async function conflicts(n: MeshNode, status: string): Promise<Conflict[]> {
  const r = await getJson(`${n.url}/sync/conflicts?status=${status}`)
  assert.equal(r.status, 200)
  return (r.body.conflicts as Conflict[]).filter((c) => c.target === target)
}

async function nameOn(n: MeshNode): Promise<unknown> {
  const r = await getJson(`${n.url}/state/persona_update/${target}`)
  assert.equal(r.status, 200)
  return r.body.value.name
}

describe('a conflict written across a partition is seen and settled the same on every node', () => {
  let mesh: Mesh
  let a: MeshNode
  let b: MeshNode

  before(async () => {
    mesh = emptyMesh()
    // two nodes with the mesh on and nobody to dial: partitioned until the test connects them
    a = await mesh.create()
    b = await mesh.create()
    await a.start()
    await b.start()
  })
  after(() => mesh?.close())

  it('concurrent writes while partitioned: after connecting both show the same open conflict', async () => {
    const write = (n: MeshNode, name: string) =>
      n.push([{ event_type: 'persona_update', target_id: target, payload: { op: 'set', fields: { name } } }])
    assert.equal((await write(a, 'Ada Lovelace')).accepted, 1)
    assert.equal((await write(b, 'Augusta Ada King')).accepted, 1)
    assert.equal((await a.status()).events, 1)
    assert.equal((await b.status()).events, 1)

    const dial = await postJson(`${b.url}/peers`, { multiaddr: a.addr() })
    assert.equal(dial.status, 200, JSON.stringify(dial.body))
    await waitFor(
      'both nodes hold both writes with one state hash',
      () => converged([a, b], 2),
      DEADLINE_MS,
      () => summaries([a, b]),
    )

    const onA = await conflicts(a, 'open')
    const onB = await conflicts(b, 'open')
    assert.equal(onA.length, 1, JSON.stringify(onA))
    assert.equal(onB.length, 1, JSON.stringify(onB))
    assert.equal(onA[0].id, onB[0].id)
    assert.equal(onA[0].cell, 'field:name')
    assert.equal(onA[0].winner, onB[0].winner)
    assert.deepEqual(onA[0].sides.map((s) => s.digest).sort(), onB[0].sides.map((s) => s.digest).sort())
    assert.deepEqual(onA[0].sides.map((s) => s.author).sort(), [a.publicKey, b.publicKey].sort())
    // last-write-wins applies meanwhile: both show the winner's value
    assert.equal(await nameOn(a), await nameOn(b))
    assert.equal((await a.status()).conflicts_open, 1)
  })

  it('resolved on one node: the other sees it resolved, the chosen value and the same state hash', async () => {
    const [open] = await conflicts(b, 'open')
    // prefer_remote on b picks a's side, whichever side last-write-wins chose
    const chosen = open.sides.find((s) => s.author === a.publicKey)?.value
    assert.equal(chosen, 'Ada Lovelace')
    await waitForPeers([a, b], 1, DEADLINE_MS)
    const r = await postJson(`${b.url}/sync/resolve-conflict`, {
      conflictId: open.id,
      resolutionStrategy: 'prefer_remote',
    })
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.equal(r.body.conflict_id, open.id)

    await waitFor(
      'the resolution reaches node 0',
      () => converged([a, b], 3),
      DEADLINE_MS,
      () => summaries([a, b]),
    )
    for (const n of [a, b]) {
      assert.deepEqual(await conflicts(n, 'open'), [], `node ${n.index} has no open conflict`)
      const [done] = await conflicts(n, 'resolved')
      assert.equal(done?.id, open.id)
      assert.equal(await nameOn(n), 'Ada Lovelace')
      assert.equal((await n.status()).conflicts_open, 0)
    }
    const [ra] = await conflicts(a, 'resolved')
    const [rb] = await conflicts(b, 'resolved')
    assert.equal(ra.resolvedBy, rb.resolvedBy)
  })

  it('a node joining later sees the same resolved conflict and state', async () => {
    const c = await mesh.create({ bootstrap: [a.addr()] })
    await c.start()
    await waitFor(
      'the late node converges',
      () => converged([a, b, c], 3),
      DEADLINE_MS,
      () => summaries([a, b, c]),
    )
    const [onA] = await conflicts(a, 'resolved')
    const [onC] = await conflicts(c, 'resolved')
    assert.equal(onC?.id, onA.id)
    assert.equal(onC.resolvedBy, onA.resolvedBy)
    assert.deepEqual(await conflicts(c, 'open'), [])
    assert.equal(await nameOn(c), 'Ada Lovelace')
  })
})
