/**
 * A sink that keeps failing is paused with its error in /status and the log, the node keeps
 * taking writes, and the sink catches up once its store works again. The failure is a real one
 * of the store: a CHECK constraint that refuses every new row of the personas table.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { loadConfig } from '../../src/config/index.ts'
import type { JsonValue } from '../../src/core/types.ts'
import { type RunningNode, startNode } from '../../src/node/index.ts'
import { getJson, waitFor } from '../helpers/mesh.ts'
import { type PgliteServer, startPglite } from '../helpers/pglite.ts'

const LOCAL = { kind: 'local' as const, id: 'test' }

describe('a failing sink is paused, the node keeps syncing, the sink catches up when fixed', () => {
  let server: PgliteServer
  let node: RunningNode
  let dir: string
  let client: pg.Client
  const log: Array<{ level: string; message: string; fields?: Record<string, JsonValue> }> = []

  before(async () => {
    server = await startPglite()
    dir = await mkdtemp(join(tmpdir(), 'gkm-sink-pause-'))
    node = await startNode(
      loadConfig({
        env: {},
        flags: {
          dataDir: dir,
          http: '127.0.0.1:0',
          mesh: false,
          mdns: false,
          sinks: [`postgres=${server.url}`],
        },
      }),
      {
        sinkRunner: { retriesMax: 3, backoffBaseMs: 5, pausedRetryMs: 100 },
        sinkLogger: {
          info: (message, fields) => log.push({ level: 'info', message, fields }),
          warn: (message, fields) => log.push({ level: 'warn', message, fields }),
          error: (message, fields) => log.push({ level: 'error', message, fields }),
        },
      },
    )
    client = new pg.Client({ connectionString: server.url })
    await client.connect()
  })
  after(async () => {
    await client?.end().catch(() => {})
    await node?.stop()
    await server?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  const url = () => `http://${node.http.host}:${node.http.port}`
  const sinkStatus = async () => (await getJson(`${url()}/status`)).body.sinks[0]

  it('pauses after bounded retries, reports why, and resumes from its checkpoint', async () => {
    await node.api.push(
      [{ event_type: 'persona_update', target_id: 'ok', payload: { op: 'set', fields: { n: 1 } } }],
      LOCAL,
    )
    await waitFor(
      'the first write in Postgres',
      async () => (await sinkStatus()).lag === 0 && (await sinkStatus()).checkpoint > 0,
    )
    const before = (await sinkStatus()).checkpoint

    await client.query('ALTER TABLE gkm_personas ADD CONSTRAINT gkm_test_block CHECK (false) NOT VALID')
    await node.api.push(
      [{ event_type: 'persona_update', target_id: 'blocked', payload: { op: 'set', fields: { n: 2 } } }],
      LOCAL,
    )
    await waitFor('the sink paused', async () => (await sinkStatus()).state === 'paused')
    const paused = await sinkStatus()
    assert.equal(paused.checkpoint, before, 'nothing of the failing batch was applied')
    assert.ok(paused.lag > 0)
    assert.ok(paused.errors_total >= 3)
    assert.equal(paused.last_error.name, 'SinkApplyError')
    assert.match(paused.last_error.message, /gkm_test_block/)
    assert.ok(
      log.some((l) => l.level === 'error' && /paused/.test(l.message)),
      'the pause is logged as an error',
    )

    // The node keeps syncing: writes are accepted and stored while the sink is paused.
    const r = await node.api.push(
      Array.from({ length: 20 }, (_, i) => ({
        event_type: 'vector_update',
        target_id: `v${i}`,
        payload: { op: 'upsert', values: [i, 1] },
      })),
      LOCAL,
    )
    assert.equal(r.accepted, 20)
    assert.equal((await sinkStatus()).state, 'paused')

    await client.query('ALTER TABLE gkm_personas DROP CONSTRAINT gkm_test_block')
    await waitFor('the sink caught up', async () => {
      const s = await sinkStatus()
      return s.state === 'running' && s.lag === 0
    })
    assert.ok(log.some((l) => l.message === 'sink resumed'))
    const p = await client.query('SELECT id, fields FROM gkm_personas ORDER BY id')
    assert.deepEqual(p.rows, [
      { id: 'blocked', fields: { n: 2 } },
      { id: 'ok', fields: { n: 1 } },
    ])
    const v = await client.query('SELECT count(*)::int AS n FROM gkm_vectors')
    assert.equal(v.rows[0].n, 20)
  })
})
