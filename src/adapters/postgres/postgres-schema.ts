/**
 * The tables a Postgres sink keeps (names start with the sink's prefix, `gkm_` by default):
 *
 *   <p>checkpoints      (sink text PK, seq bigint, updated_at)       one row per sink
 *   <p>vectors          (id text PK, dims int, embedding vector, metadata jsonb)
 *                        + one HNSW index per dimension seen: ((embedding::vector(d))) WHERE dims = d
 *   <p>personas         (id text PK, fields jsonb, crdt jsonb)
 *   <p>documents        (id text PK, content text, content_type text, crdt text)
 *   <p>edges            (graph, from_id, label, to_id) PK
 *   <p>edge_properties  (graph, from_id, label, to_id, key) PK, value jsonb; cascades with its edge
 *
 * Pure SQL text builders: unit-tested, and used unchanged against PGlite and a production Postgres.
 */
import type { EventType } from '../../core/types.ts'

/** Most distinct vector dimensions that get an HNSW index (each index is one partial index). */
export const PG_INDEXED_DIMS_MAX = 8
/** pgvector's HNSW limit for the `vector` type. */
export const PG_HNSW_DIMS_MAX = 2000
/**
 * Bulk load: while a batch says the sink is at least this many log entries behind
 * (`SinkBatch.behind`), a vector dimension that has no HNSW index yet gets none; the first batch
 * closer to the head builds it over all the rows at once, and from then on every insert
 * maintains it. pgvector's own advice ("create the index after loading your initial data"):
 * one build cost 3-4x less than inserting the same rows into the index one by one (measured on
 * PGlite, docs/ADAPTERS.md). Queries scan until the index exists. 5,000 is 10 full batches:
 * a node that is merely busy never defers, one catching up from far behind does.
 */
export const PG_BULK_LOAD_MIN = 5_000

export function tableNames(prefix: string) {
  return {
    checkpoints: `${prefix}checkpoints`,
    vectors: `${prefix}vectors`,
    personas: `${prefix}personas`,
    documents: `${prefix}documents`,
    edges: `${prefix}edges`,
    edgeProperties: `${prefix}edge_properties`,
  }
}

/** DDL run by open(): idempotent (IF NOT EXISTS), only the tables of the sink's types. */
export function createStatements(prefix: string, types: readonly EventType[]): string[] {
  const t = tableNames(prefix)
  const out = [
    `CREATE TABLE IF NOT EXISTS ${t.checkpoints} (sink text PRIMARY KEY, seq bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
  ]
  if (types.includes('vector_update')) {
    out.push(
      'CREATE EXTENSION IF NOT EXISTS vector',
      `CREATE TABLE IF NOT EXISTS ${t.vectors} (id text PRIMARY KEY, dims integer NOT NULL, embedding vector NOT NULL, metadata jsonb NOT NULL)`,
    )
  }
  if (types.includes('persona_update'))
    out.push(
      `CREATE TABLE IF NOT EXISTS ${t.personas} (id text PRIMARY KEY, fields jsonb NOT NULL, crdt jsonb)`,
    )
  if (types.includes('document_update'))
    out.push(
      `CREATE TABLE IF NOT EXISTS ${t.documents} (id text PRIMARY KEY, content text, content_type text, crdt text)`,
    )
  if (types.includes('graph_update')) {
    out.push(
      `CREATE TABLE IF NOT EXISTS ${t.edges} (graph text NOT NULL, from_id text NOT NULL, label text NOT NULL, to_id text NOT NULL, PRIMARY KEY (graph, from_id, label, to_id))`,
      `CREATE TABLE IF NOT EXISTS ${t.edgeProperties} (graph text NOT NULL, from_id text NOT NULL, label text NOT NULL, to_id text NOT NULL, key text NOT NULL, value jsonb NOT NULL, PRIMARY KEY (graph, from_id, label, to_id, key), FOREIGN KEY (graph, from_id, label, to_id) REFERENCES ${t.edges} ON DELETE CASCADE)`,
    )
  }
  return out
}

/** The partial HNSW index for vectors of `dims` dimensions (nearest-neighbour queries cast the
 *  same way: `ORDER BY embedding::vector(768) <-> $1 ... WHERE dims = 768`). */
/** The vector dimensions stored (open() looks for dimensions left unindexed by a bulk load). */
export function vectorDimsStatement(prefix: string): string {
  return `SELECT DISTINCT dims FROM ${tableNames(prefix).vectors}`
}

export function vectorIndexStatement(prefix: string, dims: number): string {
  if (!Number.isInteger(dims) || dims < 1 || dims > PG_HNSW_DIMS_MAX) throw new RangeError(`dims ${dims}`)
  const t = tableNames(prefix)
  return `CREATE INDEX IF NOT EXISTS ${t.vectors}_hnsw_${dims} ON ${t.vectors} USING hnsw ((embedding::vector(${dims})) vector_l2_ops) WHERE dims = ${dims}`
}

/**
 * An array of vectors in PostgreSQL's binary array format, elements in pgvector's binary form
 * (vector_recv: int16 dim, int16 unused, float4 each, big-endian). Sent as a binary parameter it
 * spares the server parsing 768 decimal numbers per vector (most of a batch's time on PGlite).
 */
export function vectorArrayBinary(vectors: readonly (readonly number[])[], vectorOid: number): Buffer {
  let size = 20
  for (const v of vectors) size += 8 + 4 * v.length
  const b = Buffer.alloc(size)
  let o = b.writeInt32BE(1, 0) // one dimension
  o = b.writeInt32BE(0, o) // no nulls
  o = b.writeInt32BE(vectorOid, o)
  o = b.writeInt32BE(vectors.length, o)
  o = b.writeInt32BE(1, o) // lower bound
  for (const v of vectors) {
    o = b.writeInt32BE(4 + 4 * v.length, o)
    o = b.writeInt16BE(v.length, o)
    o = b.writeInt16BE(0, o)
    // float4s: written in this machine's order by a typed array, then made big-endian at once
    // (a call per element was ~10 ms of a 500 x 768 batch).
    const floats = b.subarray(o, o + 4 * v.length)
    new Float32Array(floats.buffer, floats.byteOffset, v.length).set(v)
    if (LITTLE_ENDIAN) floats.swap32()
    o += 4 * v.length
  }
  return b
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Statements of one batch, in order, with their parameters (arrays, one element per row). */
export function batchStatements(
  prefix: string,
  rows: {
    vectorUpserts: { ids: string[]; dims: number[]; embeddings: Array<readonly number[]>; metadata: string[] }
    personaUpserts: { ids: string[]; fields: string[]; crdt: Array<string | null> }
    documentUpserts: {
      ids: string[]
      content: Array<string | null>
      contentType: Array<string | null>
      crdt: Array<string | null>
    }
    deletes: { vectors: string[]; personas: string[]; documents: string[] }
    graphs: string[]
    edges: { graph: string[]; from: string[]; label: string[]; to: string[] }
    props: { graph: string[]; from: string[]; label: string[]; to: string[]; key: string[]; value: string[] }
  },
  vectorOid = 0,
): Array<{ text: string; values: unknown[] }> {
  const t = tableNames(prefix)
  const out: Array<{ text: string; values: unknown[] }> = []
  const v = rows.vectorUpserts
  if (rows.deletes.vectors.length > 0)
    out.push({ text: `DELETE FROM ${t.vectors} WHERE id = ANY($1::text[])`, values: [rows.deletes.vectors] })
  if (v.ids.length > 0)
    out.push({
      text: `INSERT INTO ${t.vectors} (id, dims, embedding, metadata) SELECT * FROM unnest($1::text[], $2::integer[], $3::vector[], $4::jsonb[]) ON CONFLICT (id) DO UPDATE SET dims = excluded.dims, embedding = excluded.embedding, metadata = excluded.metadata`,
      values: [v.ids, v.dims, vectorArrayBinary(v.embeddings, vectorOid), v.metadata],
    })
  if (rows.deletes.personas.length > 0)
    out.push({
      text: `DELETE FROM ${t.personas} WHERE id = ANY($1::text[])`,
      values: [rows.deletes.personas],
    })
  const p = rows.personaUpserts
  if (p.ids.length > 0)
    out.push({
      text: `INSERT INTO ${t.personas} (id, fields, crdt) SELECT * FROM unnest($1::text[], $2::jsonb[], $3::jsonb[]) ON CONFLICT (id) DO UPDATE SET fields = excluded.fields, crdt = excluded.crdt`,
      values: [p.ids, p.fields, p.crdt],
    })
  if (rows.deletes.documents.length > 0)
    out.push({
      text: `DELETE FROM ${t.documents} WHERE id = ANY($1::text[])`,
      values: [rows.deletes.documents],
    })
  const d = rows.documentUpserts
  if (d.ids.length > 0)
    out.push({
      text: `INSERT INTO ${t.documents} (id, content, content_type, crdt) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ON CONFLICT (id) DO UPDATE SET content = excluded.content, content_type = excluded.content_type, crdt = excluded.crdt`,
      values: [d.ids, d.content, d.contentType, d.crdt],
    })
  if (rows.graphs.length > 0) {
    // A changed graph is written whole: its edges are deleted (properties cascade) and the
    // current ones inserted, inside the batch's transaction.
    out.push({ text: `DELETE FROM ${t.edges} WHERE graph = ANY($1::text[])`, values: [rows.graphs] })
    const e = rows.edges
    if (e.graph.length > 0)
      out.push({
        text: `INSERT INTO ${t.edges} (graph, from_id, label, to_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`,
        values: [e.graph, e.from, e.label, e.to],
      })
    const q = rows.props
    if (q.graph.length > 0)
      out.push({
        text: `INSERT INTO ${t.edgeProperties} (graph, from_id, label, to_id, key, value) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[])`,
        values: [q.graph, q.from, q.label, q.to, q.key, q.value],
      })
  }
  return out
}

/** Creates the sink's checkpoint row at 0 when missing (open()): every batch then moves it with
 *  one compare-and-set UPDATE. */
export function checkpointInitStatement(prefix: string): string {
  return `INSERT INTO ${tableNames(prefix).checkpoints} (sink, seq) VALUES ($1, 0) ON CONFLICT (sink) DO NOTHING`
}

export function checkpointReadStatement(prefix: string): string {
  return `SELECT seq FROM ${tableNames(prefix).checkpoints} WHERE sink = $1`
}

/**
 * The first round trip of a batch, one simple query of three statements: BEGIN; mark the
 * transaction as the sink's (the source's triggers skip it: no echo); move the checkpoint from
 * `fromSeq` to `toSeq` if and only if it is `fromSeq` (compare-and-set: it answers one row, or
 * none when another writer moved it; the row stays locked until the commit). `quotedName` is
 * the sink's name as a SQL literal (pg's escapeLiteral).
 */
export function batchBeginStatement(
  prefix: string,
  quotedName: string,
  fromSeq: number,
  toSeq: number,
): string {
  for (const n of [fromSeq, toSeq]) if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`seq ${n}`)
  return `BEGIN; SELECT set_config('gkm.origin', 'sink', true); UPDATE ${tableNames(prefix).checkpoints} SET seq = ${toSeq}, updated_at = now() WHERE sink = ${quotedName} AND seq = ${fromSeq} RETURNING seq`
}
