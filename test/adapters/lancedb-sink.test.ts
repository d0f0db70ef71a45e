/**
 * The LanceDB sink (embedded vector store, one directory) through the conformance suite, and
 * its nearest-neighbour answers.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { LanceDbSink } from '../../src/adapters/lancedb/lancedb-sink.ts'
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
