/**
 * The Postgres sink against a real Postgres engine (PGlite + pgvector over the wire protocol):
 * the conformance suite, then what only Postgres shows (the HNSW index and a `<->` query).
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import pg from 'pg'
import { SINK_DEFAULT_TYPES } from '../../src/adapters/constants.ts'
import { PostgresSink } from '../../src/adapters/postgres/postgres-sink.ts'
import { runSinkConformance } from '../compliance/sink-suite.ts'
import { type PgliteServer, startPglite } from '../helpers/pglite.ts'

let server: PgliteServer | undefined

runSinkConformance('postgres (PGlite + pgvector over the wire protocol)', async () => {
  server = await startPglite()
  const url = server.url
  return {
    open: () =>
      new PostgresSink({
        name: 'conformance',
        types: SINK_DEFAULT_TYPES.postgres,
        prefix: 'gkm_',
        connectionString: url,
      }),
    destroy: async () => {},
  }
})

describe('postgres sink: what the store holds', () => {
  after(() => server?.stop())
  it('vectors sit in a vector column with an HNSW index per dimension; a <-> query uses the tables', async () => {
    assert.ok(server, 'the conformance run started the server')
    const client = new pg.Client({ connectionString: server.url })
    await client.connect()
    try {
      const idx = await client.query(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'gkm_vectors' AND indexname LIKE '%hnsw%'",
      )
      assert.equal(idx.rows.length, 1)
      assert.match(idx.rows[0].indexdef, /USING hnsw .*vector\(4\).*vector_l2_ops.*WHERE \(dims = 4\)/)
      const nn = await client.query(
        "SELECT id FROM gkm_vectors WHERE dims = 4 ORDER BY embedding::vector(4) <-> '[9,9,9,9]' LIMIT 1",
      )
      assert.match(nn.rows[0].id, /-v1$/)
      const types = await client.query(
        "SELECT table_name, column_name, data_type, udt_name FROM information_schema.columns WHERE table_name IN ('gkm_vectors','gkm_personas') AND column_name IN ('embedding','fields')",
      )
      const byCol = Object.fromEntries(types.rows.map((r) => [r.column_name, r.udt_name]))
      assert.deepEqual(byCol, { embedding: 'vector', fields: 'jsonb' })
    } finally {
      await client.end()
    }
  })

  it('bulk load: far behind, a new dimension gets no index; the first batch near the head builds it, also after a restart', async () => {
    assert.ok(server, 'the conformance run started the server')
    const sink = () =>
      new PostgresSink({
        name: 'bulk',
        types: ['vector_update'],
        prefix: 'bulk_',
        connectionString: server!.url,
        bulkLoadMin: 10,
      })
    const vec = (id: string, values: number[]) => ({
      type: 'vector_update' as const,
      id,
      projection: { type: 'vector_update' as const, id, values, metadata: {} },
    })
    const client = new pg.Client({ connectionString: server.url })
    await client.connect()
    const indexes = async () =>
      (
        await client.query(
          "SELECT indexname FROM pg_indexes WHERE tablename = 'bulk_vectors' AND indexname LIKE '%hnsw%'",
        )
      ).rows.map((r) => r.indexname)
    try {
      const first = sink()
      await first.open()
      await first.apply({
        fromSeq: 0,
        toSeq: 2,
        behind: 10,
        changes: [vec('a', [0, 0, 0]), vec('b', [5, 5, 5])],
      })
      assert.equal(first.indexed(3), false)
      assert.deepEqual(await indexes(), [], 'no index while 10 entries behind')
      await first.close()
      // Restarted: the rows without an index are found at open, and the next batch near the head
      // (even one without vectors) builds it.
      const second = sink()
      await second.open()
      await second.apply({ fromSeq: 2, toSeq: 3, behind: 9, changes: [] })
      assert.deepEqual(await indexes(), ['bulk_vectors_hnsw_3'])
      assert.equal(second.indexed(3), true)
      await second.apply({ fromSeq: 3, toSeq: 4, behind: 50, changes: [vec('c', [9, 9, 9])] })
      const nn = await client.query(
        "SELECT id FROM bulk_vectors WHERE dims = 3 ORDER BY embedding::vector(3) <-> '[8,8,8]' LIMIT 1",
      )
      assert.equal(nn.rows[0].id, 'c', 'a row inserted after the build is in the index')
      await second.close()
    } finally {
      await client.end()
    }
  })

  it('a server that dies in the middle of a batch fails the batch, not the process', async () => {
    const doomed = await startPglite()
    const sink = new PostgresSink({
      name: 'doomed',
      types: ['persona_update'],
      prefix: 'gkm_',
      connectionString: doomed.url,
    })
    await sink.open()
    const persona = { type: 'persona_update' as const, id: 'x', fields: { a: 1 }, crdt: null }
    // Without a listener on the checked-out connection, pg throws "Connection terminated
    // unexpectedly" as an uncaught 'error' event and this test process dies.
    await assert.rejects(
      sink.apply({
        fromSeq: 0,
        toSeq: 1,
        changes: [{ type: 'persona_update', id: 'x', projection: persona }],
        beforeCommit: () => doomed.stop(),
      }),
      { name: 'SinkApplyError' },
    )
    await sink.close()
  })
})
