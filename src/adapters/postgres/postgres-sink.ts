/**
 * Postgres sink (pgvector for vectors, JSONB for personas, tables for documents and graph edges),
 * through `pg` over the PostgreSQL wire protocol: the same code serves a production Postgres and
 * PGlite behind its socket server (the tests). Schema: postgres-schema.ts.
 */
import pg from 'pg'
import type { EventType, JsonObject, JsonValue } from '../../core/types.ts'
import { SinkApplyError, SinkCheckpointMismatchError } from '../errors.ts'
import type { EdgeProjection, Sink, SinkBatch, TargetProjection } from '../index.ts'
import {
  batchBeginStatement,
  batchStatements,
  checkpointInitStatement,
  checkpointReadStatement,
  createStatements,
  PG_BULK_LOAD_MIN,
  PG_HNSW_DIMS_MAX,
  PG_INDEXED_DIMS_MAX,
  tableNames,
  vectorDimsStatement,
  vectorIndexStatement,
} from './postgres-schema.ts'

export interface PostgresSinkInit {
  readonly name: string
  readonly types: readonly EventType[]
  readonly prefix: string
  readonly connectionString: string
  /** Connections held (a batch uses one; 2 lets snapshot() and status reads not wait). */
  readonly poolMax?: number
  /** Build an HNSW index per vector dimension (default true). Without it, `<->` queries scan. */
  readonly vectorIndex?: boolean
  /** Defer a new dimension's index while at least this many entries behind (default
   *  PG_BULK_LOAD_MIN; 0: never defer, every insert maintains the index from the first). */
  readonly bulkLoadMin?: number
}

type Rows = Parameters<typeof batchStatements>[1]

/** Splits a batch's projections into the per-table arrays of postgres-schema.ts. */
export function batchRows(changes: SinkBatch['changes']): Rows {
  const rows: Rows = {
    vectorUpserts: { ids: [], dims: [], embeddings: [], metadata: [] },
    personaUpserts: { ids: [], fields: [], crdt: [] },
    documentUpserts: { ids: [], content: [], contentType: [], crdt: [] },
    deletes: { vectors: [], personas: [], documents: [] },
    graphs: [],
    edges: { graph: [], from: [], label: [], to: [] },
    props: { graph: [], from: [], label: [], to: [], key: [], value: [] },
  }
  for (const c of changes) {
    const p = c.projection
    switch (c.type) {
      case 'vector_update':
        if (p?.type !== 'vector_update') rows.deletes.vectors.push(c.id)
        else {
          rows.vectorUpserts.ids.push(c.id)
          rows.vectorUpserts.dims.push(p.values.length)
          rows.vectorUpserts.embeddings.push(p.values)
          rows.vectorUpserts.metadata.push(JSON.stringify(p.metadata))
        }
        break
      case 'persona_update':
        if (p?.type !== 'persona_update') rows.deletes.personas.push(c.id)
        else {
          rows.personaUpserts.ids.push(c.id)
          rows.personaUpserts.fields.push(JSON.stringify(p.fields))
          rows.personaUpserts.crdt.push(p.crdt === null ? null : JSON.stringify(p.crdt))
        }
        break
      case 'document_update':
        if (p?.type !== 'document_update') rows.deletes.documents.push(c.id)
        else {
          rows.documentUpserts.ids.push(c.id)
          rows.documentUpserts.content.push(p.content)
          rows.documentUpserts.contentType.push(p.contentType)
          rows.documentUpserts.crdt.push(p.crdt)
        }
        break
      case 'graph_update':
        rows.graphs.push(c.id)
        if (p?.type === 'graph_update') {
          for (const e of p.edges) {
            rows.edges.graph.push(c.id)
            rows.edges.from.push(e.from)
            rows.edges.label.push(e.label)
            rows.edges.to.push(e.to)
            for (const [key, value] of Object.entries(e.properties)) {
              rows.props.graph.push(c.id)
              rows.props.from.push(e.from)
              rows.props.label.push(e.label)
              rows.props.to.push(e.to)
              rows.props.key.push(key)
              rows.props.value.push(JSON.stringify(value))
            }
          }
        }
        break
    }
  }
  return rows
}

export class PostgresSink implements Sink {
  readonly name: string
  readonly kind = 'postgres'
  readonly types: readonly EventType[]
  readonly #init: PostgresSinkInit
  #pool: pg.Pool | undefined
  readonly #indexedDims = new Set<number>()
  /** Dimensions stored without their index yet (bulk load), built once the sink nears the head. */
  readonly #deferredDims = new Set<number>()
  /** pgvector's type oid (binary parameters name their element type). */
  #vectorOid = 0

  constructor(init: PostgresSinkInit) {
    this.#init = init
    this.name = init.name
    this.types = init.types
  }

  #p(): pg.Pool {
    if (this.#pool === undefined) {
      this.#pool = new pg.Pool({
        connectionString: this.#init.connectionString,
        max: this.#init.poolMax ?? 2,
        // An unreachable server fails the batch (and is retried) instead of hanging it, and
        // with it the node's stop.
        connectionTimeoutMillis: 10_000,
      })
      // A connection that dies (server restart, crash) must not crash the node: idle, the pool
      // reports it here; checked out by a batch, the pool leaves it without a listener and pg
      // would throw its 'error' event, so each connection gets one of its own. The query in
      // flight fails all the same, and the batch's failure is the runner's to count.
      this.#pool.on('error', () => {})
      this.#pool.on('connect', (client) => client.on('error', () => {}))
    }
    return this.#pool
  }

  async open(): Promise<void> {
    const client = await this.#p().connect()
    try {
      for (const sql of createStatements(this.#init.prefix, this.types)) await client.query(sql)
      await client.query(checkpointInitStatement(this.#init.prefix), [this.name])
      if (this.types.includes('vector_update')) {
        const t = tableNames(this.#init.prefix)
        const oid = await client.query<{ oid: number }>("SELECT 'vector'::regtype::oid AS oid")
        this.#vectorOid = Number(oid.rows[0].oid)
        const res = await client.query<{ indexname: string }>(
          'SELECT indexname FROM pg_indexes WHERE tablename = $1',
          [t.vectors],
        )
        for (const r of res.rows) {
          const m = /_hnsw_(\d+)$/.exec(r.indexname)
          if (m !== null) this.#indexedDims.add(Number(m[1]))
        }
        if (this.#init.vectorIndex !== false) {
          // A bulk load interrupted before its index was built leaves rows without one.
          const dims = await client.query<{ dims: number }>(vectorDimsStatement(this.#init.prefix))
          for (const r of dims.rows) if (!this.#indexedDims.has(r.dims)) this.#deferredDims.add(r.dims)
        }
      }
    } finally {
      client.release()
    }
  }

  async checkpoint(): Promise<number> {
    const res = await this.#p().query<{ seq: string }>(
      `SELECT seq FROM ${tableNames(this.#init.prefix).checkpoints} WHERE sink = $1`,
      [this.name],
    )
    return res.rows.length === 0 ? 0 : Number(res.rows[0].seq)
  }

  async apply(batch: SinkBatch): Promise<void> {
    const prefix = this.#init.prefix
    const rows = batchRows(batch.changes)
    let client: pg.PoolClient
    try {
      client = await this.#p().connect()
    } catch (err) {
      throw new SinkApplyError(`sink ${this.name}: cannot connect: ${(err as Error).message}`, { cause: err })
    }
    let broken: Error | undefined
    const newDims: number[] = []
    try {
      // Round trips: this one (begin, no-echo mark, checkpoint compare-and-set), one per table
      // changed (a multi-row statement each), the commit.
      const begun = (await client.query(
        batchBeginStatement(prefix, pg.escapeLiteral(this.name), batch.fromSeq, batch.toSeq),
      )) as unknown as pg.QueryResult[]
      if (begun[2].rowCount !== 1) {
        const cp = await client.query<{ seq: string }>(checkpointReadStatement(prefix), [this.name])
        throw new SinkCheckpointMismatchError(
          this.name,
          batch.fromSeq,
          cp.rows.length === 0 ? 0 : Number(cp.rows[0].seq),
        )
      }
      for (const d of this.#indexDims(rows.vectorUpserts.dims, batch.behind ?? 0)) {
        await client.query(vectorIndexStatement(prefix, d))
        newDims.push(d)
      }
      for (const s of batchStatements(prefix, rows, this.#vectorOid)) await client.query(s.text, s.values)
      await batch.beforeCommit?.()
      await client.query('COMMIT')
      for (const d of newDims) {
        this.#indexedDims.add(d)
        this.#deferredDims.delete(d)
      }
    } catch (err) {
      try {
        await client.query('ROLLBACK')
      } catch (rollbackErr) {
        broken = rollbackErr as Error
      }
      if ((err as Error).name === 'SinkCheckpointMismatchError') throw err
      throw new SinkApplyError(
        `sink ${this.name}: batch (${batch.fromSeq}, ${batch.toSeq}] failed: ${(err as Error).message}`,
        {
          cause: err,
        },
      )
    } finally {
      client.release(broken)
    }
  }

  /** Dimensions whose HNSW index this batch builds: none while bulk loading (far behind; the
   *  new ones are remembered), else every dimension stored or arriving without one. */
  #indexDims(arriving: readonly number[], behind: number): number[] {
    if (this.#init.vectorIndex === false) return []
    const missing = new Set([...this.#deferredDims, ...arriving].filter((d) => !this.#indexedDims.has(d)))
    const min = this.#init.bulkLoadMin ?? PG_BULK_LOAD_MIN
    if (min > 0 && behind >= min) {
      for (const d of missing) this.#deferredDims.add(d)
      return []
    }
    const out: number[] = []
    for (const d of missing) {
      if (d > PG_HNSW_DIMS_MAX || this.#indexedDims.size + out.length >= PG_INDEXED_DIMS_MAX) continue
      out.push(d)
    }
    return out
  }

  /** Whether vectors of `dims` dimensions have their HNSW index (false while bulk loading). */
  indexed(dims: number): boolean {
    return this.#indexedDims.has(dims)
  }

  async snapshot(): Promise<TargetProjection[]> {
    const t = tableNames(this.#init.prefix)
    const db = this.#p()
    const out: TargetProjection[] = []
    if (this.types.includes('vector_update')) {
      const r = await db.query<{ id: string; e: string; metadata: JsonObject }>(
        `SELECT id, embedding::text AS e, metadata FROM ${t.vectors} ORDER BY id`,
      )
      for (const row of r.rows)
        out.push({
          type: 'vector_update',
          id: row.id,
          values: JSON.parse(row.e) as number[],
          metadata: row.metadata,
        })
    }
    if (this.types.includes('persona_update')) {
      const r = await db.query<{ id: string; fields: JsonObject; crdt: JsonValue | null }>(
        `SELECT id, fields, crdt FROM ${t.personas} ORDER BY id`,
      )
      for (const row of r.rows)
        out.push({ type: 'persona_update', id: row.id, fields: row.fields, crdt: row.crdt })
    }
    if (this.types.includes('document_update')) {
      const r = await db.query<{
        id: string
        content: string | null
        content_type: string | null
        crdt: string | null
      }>(`SELECT id, content, content_type, crdt FROM ${t.documents} ORDER BY id`)
      for (const row of r.rows)
        out.push({
          type: 'document_update',
          id: row.id,
          content: row.content,
          contentType: row.content_type,
          crdt: row.crdt,
        })
    }
    if (this.types.includes('graph_update')) {
      const edges = await db.query<{ graph: string; from_id: string; label: string; to_id: string }>(
        `SELECT graph, from_id, label, to_id FROM ${t.edges} ORDER BY graph, from_id, label, to_id`,
      )
      const props = await db.query<{
        graph: string
        from_id: string
        label: string
        to_id: string
        key: string
        value: JsonValue
      }>(`SELECT graph, from_id, label, to_id, key, value FROM ${t.edgeProperties}`)
      const byEdge = new Map<string, JsonObject>()
      for (const p of props.rows) {
        const k = JSON.stringify([p.graph, p.from_id, p.label, p.to_id])
        const o = byEdge.get(k) ?? {}
        o[p.key] = p.value
        byEdge.set(k, o)
      }
      const graphs = new Map<string, EdgeProjection[]>()
      for (const e of edges.rows) {
        const list = graphs.get(e.graph) ?? []
        list.push({
          from: e.from_id,
          label: e.label,
          to: e.to_id,
          properties: byEdge.get(JSON.stringify([e.graph, e.from_id, e.label, e.to_id])) ?? {},
        })
        graphs.set(e.graph, list)
      }
      for (const [id, list] of graphs) out.push({ type: 'graph_update', id, edges: list })
    }
    return out
  }

  async close(): Promise<void> {
    const pool = this.#pool
    this.#pool = undefined
    await pool?.end()
  }
}
