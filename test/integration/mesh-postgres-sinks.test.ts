/**
 * Three real nodes on loopback (mDNS off, bootstrap to node 0), each keeping its OWN Postgres
 * (PGlite + pgvector over the wire protocol) in sync through `sinks: [{kind: 'postgres'}]`:
 * writes on node 0 appear as rows in nodes 1's and 2's databases; a conflict written on two
 * nodes and its resolution reach every database the same; /status shows each sink's state.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { emptyMesh, getJson, type Mesh, waitFor, waitForPeers } from '../helpers/mesh.ts'
import { type PgliteServer, startPglite } from '../helpers/pglite.ts'

const DEADLINE_MS = 30_000
const run = randomUUID().slice(0, 8)

describe('3 nodes on loopback, each with its own Postgres kept in sync', () => {
  let mesh: Mesh
  const servers: PgliteServer[] = []
  const clients: pg.Client[] = []

  before(async () => {
    for (let i = 0; i < 3; i++) servers.push(await startPglite())
    mesh = emptyMesh()
    for (let i = 0; i < 3; i++) await mesh.create()
    for (const [i, n] of mesh.nodes.entries()) {
      n.configure({
        bootstrap: i === 0 ? [] : [mesh.nodes[0].addr()],
        values: { sinks: [{ kind: 'postgres', target: servers[i].url }] },
      })
      await n.start()
    }
    for (const s of servers) {
      const c = new pg.Client({ connectionString: s.url })
      await c.connect()
      clients.push(c)
    }
  })
  after(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => {})))
    await mesh?.close()
    await Promise.all(servers.map((s) => s.stop()))
  })

  const rows = async (i: number, sql: string, params: unknown[] = []) => {
    try {
      return (await clients[i].query(sql, params)).rows
    } catch (err) {
      // The sink creates its tables on start; until then the table does not exist.
      if ((err as { code?: string }).code === '42P01') return []
      throw err
    }
  }

  it('a write on node 0 appears as rows in the Postgres databases of nodes 1 and 2', async () => {
    const [a] = mesh.nodes
    await waitForPeers(mesh.nodes.slice(1), 1, DEADLINE_MS)
    await a.push([
      {
        event_type: 'persona_update',
        target_id: `${run}-ada`,
        payload: { op: 'set', fields: { name: 'Ada', born: 1815 } },
      },
      {
        event_type: 'vector_update',
        target_id: `${run}-v1`,
        payload: { op: 'upsert', values: [0.5, 0.25, 1], metadata: { run } },
      },
      {
        event_type: 'graph_update',
        target_id: `${run}-g`,
        payload: { op: 'add_edge', from: 'ada', label: 'knows', to: 'babbage', properties: { since: 1833 } },
      },
    ])
    for (const i of [0, 1, 2]) {
      await waitFor(
        `node ${i}'s database has the persona, the vector and the edge`,
        async () => {
          const p = await rows(i, 'SELECT fields FROM gkm_personas WHERE id = $1', [`${run}-ada`])
          const v = await rows(i, 'SELECT embedding::text AS e FROM gkm_vectors WHERE id = $1', [`${run}-v1`])
          const e = await rows(i, 'SELECT value FROM gkm_edge_properties WHERE graph = $1 AND key = $2', [
            `${run}-g`,
            'since',
          ])
          return p.length === 1 && v.length === 1 && e.length === 1
        },
        DEADLINE_MS,
      )
      const [p] = await rows(i, 'SELECT fields FROM gkm_personas WHERE id = $1', [`${run}-ada`])
      assert.deepEqual(p.fields, { name: 'Ada', born: 1815 })
      const [v] = await rows(i, 'SELECT embedding::text AS e FROM gkm_vectors WHERE id = $1', [`${run}-v1`])
      assert.equal(v.e, '[0.5,0.25,1]')
    }
  })

  it('an update and a delete on node 2 reach every database; every database holds the same rows', async () => {
    const c = mesh.nodes[2]
    await c.push([
      { event_type: 'persona_update', target_id: `${run}-ada`, payload: { op: 'unset', fields: ['born'] } },
      { event_type: 'vector_update', target_id: `${run}-v1`, payload: { op: 'delete' } },
    ])
    const dump = async (i: number) => ({
      personas: await rows(i, 'SELECT id, fields FROM gkm_personas WHERE id LIKE $1 ORDER BY id', [
        `${run}-%`,
      ]),
      vectors: await rows(i, 'SELECT id FROM gkm_vectors WHERE id LIKE $1 ORDER BY id', [`${run}-%`]),
      edges: await rows(
        i,
        'SELECT graph, from_id, label, to_id FROM gkm_edges WHERE graph LIKE $1 ORDER BY 1, 2, 3, 4',
        [`${run}-%`],
      ),
    })
    for (const i of [0, 1, 2]) {
      await waitFor(
        `node ${i}'s database has the unset and the delete`,
        async () => {
          const d = await dump(i)
          return d.vectors.length === 0 && d.personas.length === 1 && !('born' in d.personas[0].fields)
        },
        DEADLINE_MS,
      )
    }
    const all = await Promise.all([0, 1, 2].map(dump))
    assert.deepEqual(all[1], all[0])
    assert.deepEqual(all[2], all[0])
  })

  it("/status shows each node's sink running, its checkpoint at the head and no lag", async () => {
    for (const n of mesh.nodes) {
      await waitFor(
        `node ${n.index}'s sink at the head`,
        async () => {
          const s = (await getJson(`${n.url}/status`)).body
          return s.sinks?.[0]?.checkpoint === s.last_seq && s.sinks[0].lag === 0
        },
        DEADLINE_MS,
      )
      const s = (await getJson(`${n.url}/status`)).body
      assert.equal(s.sinks.length, 1)
      assert.equal(s.sinks[0].name, 'postgres')
      assert.equal(s.sinks[0].kind, 'postgres')
      assert.equal(s.sinks[0].state, 'running')
      assert.ok(s.sinks[0].applied_changes >= 5)
      // the same figures in /metrics
      const metrics = await (await fetch(`${n.url}/metrics`)).text()
      const value = (name: string) =>
        Number(new RegExp(`^${name}\\{sink="postgres",kind="postgres"\\} (\\S+)$`, 'm').exec(metrics)?.[1])
      assert.equal(value('gkm_sink_lag_events'), 0, metrics.slice(0, 200))
      assert.equal(value('gkm_sink_checkpoint'), s.last_seq)
      assert.equal(value('gkm_sink_paused'), 0)
      assert.ok(value('gkm_sink_applied_changes_total') >= 5)
    }
  })
})
