/**
 * Embedded vector store sink: LanceDB (one directory, one table `vectors`, no server).
 *
 * Rows: `id`, `vector` (float32, the table's fixed dimension), `metadata` (JSON text),
 * `deleted` (bool). LanceDB commits one table version per write and has no multi-statement
 * transactions, so a batch is ONE `mergeInsert` (one atomic commit) that carries:
 *   - an upsert per changed vector,
 *   - a tombstone (`deleted = true`) per deleted vector, and
 *   - the checkpoint row (`id` = CHECKPOINT_PREFIX + sink name, its `metadata` = {"seq": n}).
 * Tombstones are removed later by a separate delete; a crash between the two leaves a tombstone,
 * which reads as "absent" all the same. Queries filter `deleted = false`.
 *
 * Dimension: the `dims` given, else the first vector's. Vectors of another dimension cannot go in
 * the table; they are skipped and counted (`skipped` in /status) and a warning names them.
 * Nearest-neighbour queries are exact (flat scan, L2): every node holding the same vectors
 * answers the same ids (an approximate index trained per node could differ).
 */

import { createRequire } from 'node:module'
import * as lancedb from '@lancedb/lancedb'
import type { Table as ArrowTable, FixedSizeList, Float32, Schema } from 'apache-arrow'
import type { EventType, JsonObject } from '../../core/types.ts'
import { SinkApplyError, SinkCheckpointMismatchError } from '../errors.ts'
import type { Sink, SinkBatch, TargetProjection } from '../index.ts'

/** apache-arrow as LanceDB loads it (CommonJS). A table built with the ES-module build is of
 *  other classes to LanceDB, which then copies it field by field and loses its nested columns
 *  (an empty batch): the same instance makes it pass through as it is. */
const arrow = createRequire(import.meta.url)('apache-arrow') as typeof import('apache-arrow')
const {
  Bool,
  Field,
  FixedSizeList: FixedSizeListType,
  Float32: Float32Type,
  makeData,
  makeVector,
  Utf8,
  vectorFromArray,
} = arrow

export const LANCEDB_TABLE = 'vectors'
/** Ids of checkpoint rows start with a character no target id can hold (targets are UTF-8 text
 *  of 1..255 bytes; NUL is refused by the node), so they never meet a vector id. */
export const CHECKPOINT_PREFIX = '\u0000gkm-checkpoint:'
/** Batches between two tombstone clean-ups (each clean-up is one more table version). */
const TOMBSTONE_SWEEP_EVERY = 50

export interface LanceDbSinkInit {
  readonly name: string
  readonly types: readonly EventType[]
  readonly path: string
  readonly dims?: number
}

interface Row {
  id: string
  /** Absent: zeros (tombstones and the checkpoint row). */
  vector: readonly number[] | undefined
  metadata: string
  deleted: boolean
}

/** The table's schema, as LanceDB infers it from rows of this shape (every field nullable; the
 *  vector a fixed-size list of float32 named `item`): tables written before this function
 *  existed have it too. */
export function lanceSchema(dims: number): Schema {
  return new arrow.Schema([
    new Field('id', new Utf8(), true),
    new Field('vector', new FixedSizeListType(dims, new Field('item', new Float32Type(), true)), true),
    new Field('metadata', new Utf8(), true),
    new Field('deleted', new Bool(), true),
  ])
}

/**
 * A batch's rows as one Arrow table, the vectors in ONE Float32Array: LanceDB's own conversion
 * of plain rows appends each float through Arrow's generic builder, one JS call per value
 * (~0.1 ms per 768-d vector on this machine, a tenth of a node's CPU per synced vector).
 */
export function rowsTable(rows: readonly Row[], dims: number): ArrowTable {
  const flat = new Float32Array(rows.length * dims)
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i].vector
    if (v !== undefined) flat.set(v, i * dims)
  }
  const schema = lanceSchema(dims)
  const listType = schema.fields[1].type as FixedSizeList<Float32>
  const values = makeData({ type: new Float32Type(), length: flat.length, nullCount: 0, data: flat })
  return new arrow.Table(schema, {
    id: vectorFromArray(
      rows.map((r) => r.id),
      new Utf8(),
    ),
    vector: makeVector(makeData({ type: listType, length: rows.length, nullCount: 0, child: values })),
    metadata: vectorFromArray(
      rows.map((r) => r.metadata),
      new Utf8(),
    ),
    deleted: vectorFromArray(
      rows.map((r) => r.deleted),
      new Bool(),
    ),
  })
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`

export class LanceDbSink implements Sink {
  readonly name: string
  readonly kind = 'lancedb'
  readonly types: readonly EventType[]
  readonly #init: LanceDbSinkInit
  #db: lancedb.Connection | undefined
  #table: lancedb.Table | undefined
  #dims: number | undefined
  /** Checkpoint of batches applied before the table existed (nothing of them was stored). */
  #early = 0
  #batches = 0
  /** The checkpoint this process last read or wrote (one writer per directory). */
  #cached: number | undefined
  skipped = 0
  onSkip: ((id: string, dims: number) => void) | undefined

  constructor(init: LanceDbSinkInit) {
    this.#init = init
    this.name = init.name
    this.types = init.types
    this.#dims = init.dims
  }

  get #checkpointId(): string {
    return CHECKPOINT_PREFIX + this.name
  }

  async open(): Promise<void> {
    this.#db ??= await lancedb.connect(this.#init.path)
    if (this.#table === undefined && (await this.#db.tableNames()).includes(LANCEDB_TABLE)) {
      this.#table = await this.#db.openTable(LANCEDB_TABLE)
      const schema = await this.#table.schema()
      const field = schema.fields.find((f) => f.name === 'vector')
      const size = (field?.type as { listSize?: number } | undefined)?.listSize
      if (typeof size === 'number') this.#dims = size
    }
  }

  async checkpoint(): Promise<number> {
    this.#cached = await this.#readCheckpoint()
    return this.#cached
  }

  async #readCheckpoint(): Promise<number> {
    if (this.#table === undefined) return this.#early
    const rows = await this.#table
      .query()
      .where(`id = ${quote(this.#checkpointId)}`)
      .select(['metadata'])
      .toArray()
    if (rows.length === 0) return this.#early
    return Number((JSON.parse(String(rows[0].metadata)) as { seq: number }).seq)
  }

  async apply(batch: SinkBatch): Promise<void> {
    const stored = this.#cached ?? (await this.checkpoint())
    if (stored !== batch.fromSeq) throw new SinkCheckpointMismatchError(this.name, batch.fromSeq, stored)
    const rows: Row[] = []
    for (const c of batch.changes) {
      if (c.type !== 'vector_update') continue
      const p = c.projection
      if (p?.type === 'vector_update') {
        this.#dims ??= p.values.length
        if (p.values.length !== this.#dims) {
          this.skipped++
          this.onSkip?.(c.id, p.values.length)
          continue
        }
        rows.push({ id: c.id, vector: p.values, metadata: JSON.stringify(p.metadata), deleted: false })
      } else if (this.#dims !== undefined) {
        rows.push({ id: c.id, vector: undefined, metadata: '{}', deleted: true })
      }
    }
    if (this.#dims === undefined) {
      // No table and nothing to put in one: remember how far we are (re-reading after a restart
      // finds only deletes of vectors this store never held).
      await batch.beforeCommit?.()
      this.#early = batch.toSeq
      this.#cached = batch.toSeq
      return
    }
    rows.push({
      id: this.#checkpointId,
      vector: undefined,
      metadata: JSON.stringify({ seq: batch.toSeq }),
      deleted: true,
    })
    await batch.beforeCommit?.()
    try {
      const data = rowsTable(rows, this.#dims)
      if (this.#table === undefined) {
        this.#table = await this.#db!.createTable(LANCEDB_TABLE, data)
      } else {
        await this.#table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data)
      }
      this.#cached = batch.toSeq
    } catch (err) {
      this.#cached = undefined
      throw new SinkApplyError(
        `sink ${this.name}: batch (${batch.fromSeq}, ${batch.toSeq}] failed: ${(err as Error).message}`,
        {
          cause: err,
        },
      )
    }
    if (++this.#batches % TOMBSTONE_SWEEP_EVERY === 0) await this.sweep()
  }

  /** Removes tombstones (not the checkpoint row), then compacts the table: each batch's commit
   *  adds a fragment (and deletion files), and an exact query opens every one of them (at 40
   *  fragments, ~79 files, compaction took 135 ms and left one). Old versions are kept
   *  (LanceDB's default: removed after 7 days). */
  async sweep(): Promise<void> {
    await this.#table?.delete(
      `deleted = true AND id <> ${quote(this.#checkpointId)} AND NOT starts_with(id, ${quote(CHECKPOINT_PREFIX)})`,
    )
    await this.#table?.optimize()
  }

  /** The `k` nearest live vectors to `query` (exact L2 scan; ties broken by id). */
  async nearest(query: readonly number[], k: number): Promise<Array<{ id: string; distance: number }>> {
    if (this.#table === undefined) return []
    const rows = await this.#table
      .vectorSearch([...query])
      .distanceType('l2')
      .where('deleted = false')
      .bypassVectorIndex()
      .limit(k)
      .toArray()
    return rows
      .map((r) => ({ id: String(r.id), distance: Number(r._distance) }))
      .sort((a, b) => a.distance - b.distance || (a.id < b.id ? -1 : 1))
  }

  /** Live vectors stored. */
  async size(): Promise<number> {
    return this.#table === undefined ? 0 : this.#table.countRows('deleted = false')
  }

  async snapshot(): Promise<TargetProjection[]> {
    if (this.#table === undefined) return []
    const rows = await this.#table.query().where('deleted = false').toArray()
    return rows
      .map(
        (r): TargetProjection => ({
          type: 'vector_update',
          id: String(r.id),
          values: Array.from(r.vector as ArrayLike<number>),
          metadata: JSON.parse(String(r.metadata)) as JsonObject,
        }),
      )
      .sort((a, b) => (a.id < b.id ? -1 : 1))
  }

  async close(): Promise<void> {
    this.#table?.close()
    this.#db?.close()
    this.#table = undefined
    this.#db = undefined
    this.#cached = undefined
  }
}
