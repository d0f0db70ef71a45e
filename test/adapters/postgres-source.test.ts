/**
 * The Postgres source: an application writing directly into the sink's tables (insert, update,
 * delete of personas, vectors, documents, edges and their properties) has its writes pushed to
 * the node as events; the node's state then equals the tables, and what the sink writes back is
 * not pushed again (no echo). A row the node refuses stays in the outbox with its error.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { loadConfig } from '../../src/config/index.ts'
import { type RunningNode, startNode } from '../../src/node/index.ts'
import { waitFor } from '../helpers/mesh.ts'
import { type PgliteServer, startPglite } from '../helpers/pglite.ts'

const silent = { info() {}, warn() {}, error() {} }

describe('postgres source: direct writes in the application database become pushes', () => {
  let server: PgliteServer
  let node: RunningNode
  let dir: string
  let db: pg.Client

  before(async () => {
    server = await startPglite()
    dir = await mkdtemp(join(tmpdir(), 'gkm-source-'))
    node = await startNode(
      loadConfig({
        env: {},
        values: { sinks: [{ kind: 'postgres', target: server.url, source: true }] },
        flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false },
      }),
      { sinkLogger: silent },
    )
    db = new pg.Client({ connectionString: server.url })
    await db.connect()
  })
  after(async () => {
    await db?.end().catch(() => {})
    await node?.stop()
    await server?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  const value = async (type: string, id: string) => (await node.api.state(type as never, id))?.value
  const outbox = async () =>
    (await db.query('SELECT event_type, target_id, error FROM gkm_outbox ORDER BY id')).rows

  it('inserts, updates and deletes of every table reach the node; the sink does not echo them', async () => {
    await db.query(`INSERT INTO gkm_personas (id, fields) VALUES ('ada', '{"name":"Ada","born":1815}')`)
    await db.query(
      `INSERT INTO gkm_vectors (id, dims, embedding, metadata) VALUES ('v1', 3, '[1,2,3]', '{"k":1}')`,
    )
    await db.query(
      `INSERT INTO gkm_documents (id, content, content_type) VALUES ('d1', 'hello', 'text/plain')`,
    )
    await db.query(`INSERT INTO gkm_edges VALUES ('g', 'ada', 'knows', 'babbage')`)
    await db.query(`INSERT INTO gkm_edge_properties VALUES ('g', 'ada', 'knows', 'babbage', 'since', '1833')`)
    await waitFor(
      'the inserts in the node',
      async () => (await value('graph_update', 'g')) !== undefined && (await outbox()).length === 0,
    )
    assert.deepEqual(await value('persona_update', 'ada'), { name: 'Ada', born: 1815 })
    assert.deepEqual(await value('vector_update', 'v1'), { values: [1, 2, 3], metadata: { k: 1 } })
    assert.deepEqual(await value('document_update', 'd1'), { content: 'hello', content_type: 'text/plain' })
    assert.deepEqual(await value('graph_update', 'g'), {
      edges: [{ from: 'ada', label: 'knows', to: 'babbage', properties: { since: 1833 } }],
    })

    await db.query(`UPDATE gkm_personas SET fields = '{"name":"Ada L.","city":"London"}' WHERE id = 'ada'`)
    await db.query(`DELETE FROM gkm_vectors WHERE id = 'v1'`)
    await db.query(`DELETE FROM gkm_edges WHERE graph = 'g'`)
    await waitFor(
      'the updates in the node',
      async () =>
        (await value('graph_update', 'g')) !== undefined &&
        JSON.stringify(await value('graph_update', 'g')) === '{"edges":[]}' &&
        (await outbox()).length === 0,
    )
    assert.deepEqual(await value('persona_update', 'ada'), { name: 'Ada L.', city: 'London' })
    assert.equal(await value('vector_update', 'v1'), null)

    // The sink catches up with all of it: its writes carry gkm.origin = 'sink' and add nothing
    // to the outbox, and the node's event count stays put.
    const head = await node.feed.lastSeq()
    await node.sinks.runners[0].caughtUp(head, 30_000)
    assert.deepEqual(await outbox(), [])
    assert.equal(await node.feed.lastSeq(), head, "no echo: the sink's writes were not pushed back")
    const p = await db.query(`SELECT fields FROM gkm_personas WHERE id = 'ada'`)
    assert.deepEqual(p.rows[0].fields, { name: 'Ada L.', city: 'London' })
  })

  it('a row the node refuses stays in the outbox with its error; later rows go on', async () => {
    // 300 fields in one write: above the node's 256 fields per persona write.
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, i]))
    await db.query('INSERT INTO gkm_personas (id, fields) VALUES ($1, $2)', ['big', JSON.stringify(many)])
    await db.query(`INSERT INTO gkm_personas (id, fields) VALUES ('after', '{"ok":true}')`)
    await waitFor('the later row pushed', async () => (await value('persona_update', 'after')) !== undefined)
    const rows = await outbox()
    assert.equal(rows.length, 1)
    assert.equal(rows[0].target_id, 'big')
    assert.match(rows[0].error, /256/)
  })
})
