/**
 * `node bench/adapters-profile.ts`: where a Postgres sink batch's time goes, batch by batch: the
 * log page, the targets' states, the projection, building the rows and statements, and each
 * statement on PGlite (+ pgvector, over the wire protocol). Env: N vectors of 768 dimensions
 * (default 2,000, seeded), HNSW=1 with the index, BENCH_PGLITE=thread to run PGlite in a worker
 * thread. Figures: docs/ADAPTERS.md.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import {
  batchStatements,
  createStatements,
  vectorIndexStatement,
} from '../src/adapters/postgres/postgres-schema.ts'
import { batchRows } from '../src/adapters/postgres/postgres-sink.ts'
import { projectState } from '../src/adapters/projection.ts'
import { loadConfig } from '../src/config/index.ts'
import { startNode } from '../src/node/index.ts'
import { startPglite } from '../test/helpers/pglite.ts'

const N = Number(process.env.N ?? 2000)
const LOCAL = { kind: 'local' as const, id: 'bench' }
let a = 1
const r = () => {
  a = (a + 0x6d2b79f5) >>> 0
  let t = a
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const dir = await mkdtemp(join(tmpdir(), 'gkm-prof-'))
const node = await startNode(
  loadConfig({ env: {}, flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false } }),
)
for (let i = 0; i < N; i += 500)
  await node.api.push(
    Array.from({ length: 500 }, (_, k) => ({
      event_type: 'vector_update',
      target_id: `v${i + k}`,
      payload: {
        op: 'upsert',
        values: Array.from({ length: 768 }, () => Math.round((r() * 2 - 1) * 1e4) / 1e4),
        metadata: { i },
      },
    })),
    LOCAL,
  )
const s = await startPglite({ thread: process.env.BENCH_PGLITE === 'thread' })
const c = new pg.Client({ connectionString: s.url })
await c.connect()
for (const q of createStatements('gkm_', ['vector_update'])) await c.query(q)
const oid = Number((await c.query("SELECT 'vector'::regtype::oid AS oid")).rows[0].oid)
if (process.env.HNSW) await c.query(vectorIndexStatement('gkm_', 768))
const t = (label: string, t0: number) =>
  console.log(label.padEnd(28), (performance.now() - t0).toFixed(1), 'ms')
for (let from = 0; from < N; from += 500) {
  let t0 = performance.now()
  const rows = await node.feed.read(from, 500, ['vector_update'])
  t('read log page', t0)
  t0 = performance.now()
  const states = await Promise.all(rows.map((x) => node.feed.state(x.type, x.targetId)))
  t('states', t0)
  t0 = performance.now()
  const changes = rows.map((x, i) => ({
    type: x.type,
    id: x.targetId,
    projection: projectState(x.type, x.targetId, states[i]),
  }))
  t('project', t0)
  t0 = performance.now()
  const br = batchRows(changes)
  const st = batchStatements('gkm_', br, oid)
  t('rows+statements', t0)
  t0 = performance.now()
  await c.query('BEGIN')
  for (const q of st) {
    const t1 = performance.now()
    await c.query(q.text, q.values)
    t(`  ${q.text.slice(0, 24)}`, t1)
  }
  await c.query('COMMIT')
  t('pg transaction', t0)
}
await c.end()
await s.stop()
await node.stop()
await rm(dir, { recursive: true, force: true })
