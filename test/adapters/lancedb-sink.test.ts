/**
 * The LanceDB sink (embedded vector store, one directory) through the conformance suite, and
 * its nearest-neighbour answers.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import * as lancedb from '@lancedb/lancedb'
import {
  CHECKPOINT_PREFIX,
  LANCEDB_TABLE,
  LanceDbSink,
  lanceSchema,
  rowsTable,
} from '../../src/adapters/lancedb/lancedb-sink.ts'
import { runSinkConformance } from '../compliance/sink-suite.ts'

runSinkConformance('lancedb (embedded, one directory)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gkm-lancedb-'))
  return {
    open: () => new LanceDbSink({ name: 'conformance', types: ['vector_update'], path: dir }),
    destroy: () => rm(dir, { recursive: true, force: true }),
  }
})

describe('lancedb sink: vectors of another dimension, nearest neighbours, tombstones', () => {
  it('skips and counts a vector whose dimension differs from the table; nearest() is exact and ignores deleted vectors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gkm-lancedb-'))
    const sink = new LanceDbSink({ name: 't', types: ['vector_update'], path: dir, dims: 2 })
    try {
      await sink.open()
      const skipped: string[] = []
      sink.onSkip = (id) => skipped.push(id)
      const v = (id: string, values: number[]) => ({
        type: 'vector_update' as const,
        id,
        projection: { type: 'vector_update' as const, id, values, metadata: { id } },
      })
      await sink.apply({
        fromSeq: 0,
        toSeq: 4,
        changes: [v('a', [0, 0]), v('b', [1, 0]), v('c', [5, 5]), v('odd', [1, 2, 3])],
      })
      assert.deepEqual(skipped, ['odd'])
      assert.equal(sink.skipped, 1)
      assert.deepEqual(
        (await sink.nearest([0.9, 0], 2)).map((r) => r.id),
        ['b', 'a'],
      )
      await sink.apply({
        fromSeq: 4,
        toSeq: 5,
        changes: [{ type: 'vector_update', id: 'b', projection: undefined }],
      })
      assert.deepEqual(
        (await sink.nearest([0.9, 0], 2)).map((r) => r.id),
        ['a', 'c'],
      )
      await sink.sweep()
      assert.deepEqual(
        (await sink.snapshot()).map((p) => p.id),
        ['a', 'c'],
      )
      assert.equal(await sink.checkpoint(), 5, 'the sweep keeps the checkpoint row')
    } finally {
      await sink.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('lancedb sink: batches as Arrow tables (one Float32Array per batch)', () => {
  it('has the schema LanceDB infers from plain rows, so a table written by plain rows takes the batches', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gkm-lancedb-'))
    try {
      const db = await lancedb.connect(dir)
      // A table as the sink wrote it before (LanceDB's own inference from plain rows).
      const old = await db.createTable(LANCEDB_TABLE, [
        { id: 'old', vector: [0.5, -1.25, 3], metadata: '{"k":1}', deleted: false },
        { id: `${CHECKPOINT_PREFIX}t`, vector: [0, 0, 0], metadata: '{"seq":7}', deleted: true },
      ])
      assert.equal(String(await old.schema()), String(lanceSchema(3)))
      old.close()
      db.close()
      const sink = new LanceDbSink({ name: 't', types: ['vector_update'], path: dir })
      await sink.open()
      try {
        assert.equal(await sink.checkpoint(), 7)
        // Seeded values, including float32 edge cases: what goes in reads back exactly.
        let a = 14
        const r = () => {
          a = (a * 1103515245 + 12345) % 2 ** 31
          return (a / 2 ** 31) * 2 - 1
        }
        const values = new Map<string, number[]>()
        for (let i = 0; i < 20; i++) values.set(`v${i}`, [r(), r() * 1e30, r() * 1e-30].map(Math.fround))
        values.set('edges', [-0, 3.4028234663852886e38, 1.401298464324817e-45].map(Math.fround))
        await sink.apply({
          fromSeq: 7,
          toSeq: 30,
          changes: [
            ...[...values].map(([id, v]) => ({
              type: 'vector_update' as const,
              id,
              projection: { type: 'vector_update' as const, id, values: v, metadata: { id } },
            })),
            { type: 'vector_update' as const, id: 'old', projection: undefined },
          ],
        })
        assert.equal(await sink.checkpoint(), 30)
        const snap = await sink.snapshot()
        assert.deepEqual(
          snap.map((p) => p.id),
          [...values.keys()].sort(),
          'the deleted vector is gone, every new one is there',
        )
        for (const p of snap) {
          assert.ok(p.type === 'vector_update')
          assert.deepEqual(p.values, values.get(p.id), p.id)
          assert.deepEqual(p.metadata, { id: p.id })
        }
      } finally {
        await sink.close()
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('rowsTable: zeros for rows without a vector, one row per entry, in order', () => {
    const t = rowsTable(
      [
        { id: 'a', vector: [1, 2], metadata: '{}', deleted: false },
        { id: 'b', vector: undefined, metadata: '{}', deleted: true },
      ],
      2,
    )
    assert.equal(t.numRows, 2)
    assert.deepEqual(
      t.toArray().map((row) => [row.id, Array.from(row.vector as ArrayLike<number>), row.deleted]),
      [
        ['a', [1, 2], false],
        ['b', [0, 0], true],
      ],
    )
  })
})
