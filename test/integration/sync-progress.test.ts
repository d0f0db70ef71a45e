/**
 * Progress of a reconciliation, end to end: two real nodes (libp2p on 127.0.0.1, gossip off, no
 * periodic sessions), node A takes 1,200 writes while connected, then `POST /sync/reconcile`
 * with `Accept: application/x-ndjson` on node B streams progress lines (counts so far) and ends
 * with the sessions' result; `gkm-sync sync` (the CLI, in-process, stderr not a terminal) shows
 * the counts on stderr and prints the result on stdout. Without the Accept header the answer is
 * the plain JSON it always was.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { emptyMesh, type MeshNode, postJson } from '../helpers/mesh.ts'
import { run } from '../unit/cli/run.ts'

const values = { mesh: { enabled: true, reconcileIntervalMs: 0, gossip: false } }

function writes(prefix: string, n: number): unknown[] {
  return Array.from({ length: n }, (_, i) => ({
    event_type: 'persona_update',
    target_id: `${prefix}-${i % 40}`,
    payload: { op: 'set', fields: { [`f${i}`]: i } },
  }))
}

async function pushAll(node: MeshNode, events: unknown[]): Promise<void> {
  for (let i = 0; i < events.length; i += 300) await node.push(events.slice(i, i + 300))
}

describe('reconciliation progress (POST /sync/reconcile as NDJSON, gkm-sync sync)', () => {
  const mesh = emptyMesh()
  after(() => mesh.close())

  it('streams counts so far, then the result; the CLI shows them on stderr', async () => {
    const a = await mesh.create({ values })
    await a.start()
    const b = await mesh.create({ values, bootstrap: [a.addr()] })
    await b.start()
    // Whatever the on-connect session moved, it is over once an on-demand one has run.
    assert.equal((await postJson(`${b.url}/sync/reconcile`, { peer: a.peerId })).status, 200)

    await pushAll(a, writes('p', 1_200))
    const res = await fetch(`${b.url}/sync/reconcile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ peer: a.peerId }),
    })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /application\/x-ndjson/)
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const last = lines.at(-1)
    assert.equal(last.done, true, JSON.stringify(last))
    assert.equal(last.sessions.length, 1)
    assert.equal(last.sessions[0].need, 1_200)
    assert.equal(last.sessions[0].accepted, 1_200)
    const progress = lines.slice(0, -1).map((l) => l.progress)
    assert.ok(progress.length >= 1, 'at least one progress line')
    for (const p of progress) assert.equal(p.peer, a.peerId)
    const fetched = progress.map((p) => p.fetched)
    assert.deepEqual(
      fetched,
      [...fetched].sort((x, y) => x - y),
      'counts only grow',
    )
    assert.ok(fetched.at(-1) <= 1_200)
    const planned = progress.find((p) => p.to_fetch !== undefined)
    assert.deepEqual([planned?.to_fetch, planned?.to_send], [1_200, 0], 'the total is told before the fetch')

    // The CLI: one more batch to fetch, progress on stderr (not a terminal: the final counts),
    // the result on stdout as JSON.
    await pushAll(a, writes('q', 700))
    const cli = await run(['sync', a.peerId, '--node', b.url, '--json'])
    assert.equal(cli.code, 0, cli.stderr)
    const result = JSON.parse(cli.stdout)
    assert.equal(result.sessions[0].accepted, 700)
    // Once the sets are compared the total is known: a bar (a line per 10 % off a terminal).
    assert.match(cli.stderr, /^syncing: 700 of 700 events \(100%\)$/m, cli.stderr)

    // Plain JSON as before without the Accept header.
    const plain = await postJson(`${b.url}/sync/reconcile`, { peer: a.peerId })
    assert.equal(plain.status, 200)
    assert.equal(plain.body.sessions[0].inSync, true)
    assert.equal(plain.body.done, undefined)
  })
})
