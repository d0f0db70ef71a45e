/**
 * `node bench/adapters-pg-insert.ts`: how much of a pgvector batch's time is Postgres itself.
 * PGlite + pgvector (in a worker thread, behind its socket server, as the sink benchmark runs it)
 * gets N 768-dimension vectors (default 5,000, seeded) in batches of 500, three ways, each timed
 * per batch and reported as rows/s (median and range of the batches):
 *
 * - `client`: the sink's own statement (`INSERT ... SELECT FROM unnest($1::text[], ...,
 *   $3::vector[] (binary), ...) ON CONFLICT DO UPDATE`), from this process over the wire;
 * - `server`: the same rows already in a staging table inside Postgres, copied by one
 *   `INSERT ... SELECT ... ON CONFLICT DO UPDATE` per batch: no client, no wire, no parameter
 *   decoding; what is left is Postgres's own cost of storing a row (heap, TOAST, primary key,
 *   WAL) in PGlite's WASM build;
 * - `server, storage X`: the same with the vector column's storage set to X (EXTERNAL: out of
 *   line, never compressed; MAIN/PLAIN: inline).
 *
 * Env: N, RUNS (passes over the N rows per way, default 1). Figures: docs/ADAPTERS.md.
 */
import { loadavg } from 'node:os'
import pg from 'pg'
import { batchStatements, createStatements } from '../src/adapters/postgres/postgres-schema.ts'
import { PostgresSink } from '../src/adapters/postgres/postgres-sink.ts'
import { startPglite } from '../test/helpers/pglite.ts'
import { prng } from './prng.ts'
import { fmt, summarize } from './stats.ts'

const N = Number(process.env.N ?? 5000)
const RUNS = Number(process.env.RUNS ?? 1)
const BATCH = 500
const r = prng(1)
const vectors = Array.from({ length: N }, () =>
  Array.from({ length: 768 }, () => Math.fround(Math.round((r() * 2 - 1) * 1e4) / 1e4)),
)
const rows = (from: number) => {
  const ids: string[] = []
  const dims: number[] = []
  const emb: number[][] = []
  const meta: string[] = []
  for (let i = from; i < Math.min(N, from + BATCH); i++) {
    ids.push(`v${i}`)
    dims.push(768)
    emb.push(vectors[i])
    meta.push(JSON.stringify({ i }))
  }
  return { ids, dims, embeddings: emb, metadata: meta }
}
const empty = {
  personaUpserts: { ids: [], fields: [], crdt: [] },
  documentUpserts: { ids: [], content: [], contentType: [], crdt: [] },
  deletes: { vectors: [], personas: [], documents: [] },
  graphs: [],
  edges: { graph: [], from: [], label: [], to: [] },
  props: { graph: [], from: [], label: [], to: [], key: [], value: [] },
}

const s = await startPglite({ thread: true })
const c = new pg.Client({ connectionString: s.url })
await c.connect()
try {
  for (const q of createStatements('gkm_', ['vector_update'])) await c.query(q)
  const oid = Number((await c.query("SELECT 'vector'::regtype::oid AS oid")).rows[0].oid)
  const rates = new Map<string, number[]>()
  const cpuRates = new Map<string, number[]>()
  const push = (m: Map<string, number[]>, label: string, v: number) =>
    m.set(label, [...(m.get(label) ?? []), v])
  // Wall time and the engine thread's CPU time per batch: the CPU figure holds whatever else
  // the machine runs (rows per CPU-second of Postgres).
  const time = async (label: string, f: () => Promise<unknown>) => {
    const c0 = await s.cpuMs!()
    const t0 = performance.now()
    await f()
    const ms = performance.now() - t0
    const cpu = (await s.cpuMs!()) - c0
    push(rates, label, (BATCH / ms) * 1000)
    push(cpuRates, label, (BATCH / cpu) * 1000)
  }
  const clientPass = async (label: string) => {
    await c.query('TRUNCATE gkm_vectors')
    for (let from = 0; from < N; from += BATCH) {
      const [st] = batchStatements('gkm_', { ...empty, vectorUpserts: rows(from) }, oid)
      await time(label, () => c.query(st.text, st.values))
    }
  }
  // Warm-up (WASM, file growth), then the staging table the server-side passes copy from.
  await clientPass('warm-up')
  await c.query('CREATE TABLE staging AS SELECT row_number() OVER (ORDER BY id) AS n, * FROM gkm_vectors')
  const serverPass = async (label: string) => {
    await c.query('TRUNCATE gkm_vectors')
    for (let from = 0; from < N; from += BATCH)
      await time(label, () =>
        c.query(
          `INSERT INTO gkm_vectors (id, dims, embedding, metadata) SELECT id, dims, embedding, metadata FROM staging WHERE n > ${from} AND n <= ${from + BATCH} ON CONFLICT (id) DO UPDATE SET dims = excluded.dims, embedding = excluded.embedding, metadata = excluded.metadata`,
        ),
      )
  }
  const deleteInsertPass = async (label: string) => {
    await c.query('TRUNCATE gkm_vectors')
    for (let from = 0; from < N; from += BATCH) {
      const [st] = batchStatements('gkm_', { ...empty, vectorUpserts: rows(from) }, oid)
      const plain = st.text.replace(/ ON CONFLICT .*$/, '')
      await time(label, async () => {
        await c.query('DELETE FROM gkm_vectors WHERE id = ANY($1::text[])', [st.values[0]])
        await c.query(plain, st.values)
      })
    }
  }
  // The sink's whole transaction (BEGIN + checkpoint compare-and-set, the INSERT, COMMIT), fed
  // synthetic batches: the sink without the node.
  const sinkPass = async (label: string) => {
    const sink = new PostgresSink({
      name: `b${label.length}${Math.random()}`,
      types: ['vector_update'],
      prefix: 'gkm_',
      connectionString: s.url,
      vectorIndex: false,
    })
    await sink.open()
    await c.query('TRUNCATE gkm_vectors')
    try {
      for (let from = 0; from < N; from += BATCH) {
        const changes = rows(from).ids.map((id, k) => ({
          type: 'vector_update' as const,
          id,
          projection: {
            type: 'vector_update' as const,
            id,
            values: vectors[from + k],
            metadata: { i: from + k },
          },
        }))
        await time(label, () => sink.apply({ fromSeq: from, toSeq: from + changes.length, changes }))
      }
    } finally {
      await sink.close()
    }
  }
  for (let run = 0; run < RUNS; run++) {
    await sinkPass('sink.apply (BEGIN + checkpoint, INSERT, COMMIT)')
    await clientPass('client (the sink statement, over the wire)')
    await deleteInsertPass('client, DELETE = ANY then INSERT without ON CONFLICT')
    await serverPass('server (INSERT ... SELECT from a staging table)')
    for (const storage of ['EXTERNAL', 'MAIN', 'PLAIN']) {
      await c.query(`ALTER TABLE gkm_vectors ALTER COLUMN embedding SET STORAGE ${storage}`)
      await serverPass(`server, storage ${storage}`)
      await clientPass(`client, storage ${storage}`)
    }
    await c.query('ALTER TABLE gkm_vectors ALTER COLUMN embedding SET STORAGE EXTENDED')
  }
  rates.delete('warm-up')
  for (const [label, v] of rates) {
    const x = summarize(v)
    const y = summarize(cpuRates.get(label)!)
    console.log(
      `${label}: ${fmt(x.median)} rows/s wall (${fmt(x.min)}..${fmt(x.max)}); ${fmt(y.median)} rows per CPU-second of the engine thread (${fmt(y.min)}..${fmt(y.max)}); ${x.runs} batches of ${BATCH}; load ${loadavg()[0].toFixed(1)}`,
    )
  }
} finally {
  await c.end()
  await s.stop()
}
