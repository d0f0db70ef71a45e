/**
 * Backpressure: a sink that is slow (here: blocked until released) only falls behind; the node
 * goes on taking and storing writes at its own pace, the sink's lag grows, and once released the
 * sink catches up from its checkpoint with every target in its final state. The sink is an
 * in-memory one written against the contract alone (a model for docs/ADAPTERS.md).
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  type Sink,
  type SinkBatch,
  SinkCheckpointMismatchError,
  SinkRunner,
  type TargetProjection,
} from '../../src/adapters/index.ts'
import { loadConfig } from '../../src/config/index.ts'
import { type RunningNode, startNode } from '../../src/node/index.ts'
import { waitFor } from '../helpers/mesh.ts'

class MemorySink implements Sink {
  readonly name = 'memory'
  readonly kind = 'memory'
  readonly types = ['persona_update'] as const
  rows = new Map<string, TargetProjection>()
  seq = 0
  gate: Promise<void> | undefined
  batches = 0
  async open() {}
  async checkpoint() {
    return this.seq
  }
  async apply(batch: SinkBatch) {
    await this.gate
    if (batch.fromSeq !== this.seq) throw new SinkCheckpointMismatchError(this.name, batch.fromSeq, this.seq)
    const next = new Map(this.rows)
    for (const c of batch.changes) {
      if (c.projection === undefined) next.delete(c.id)
      else next.set(c.id, c.projection)
    }
    await batch.beforeCommit?.()
    this.rows = next
    this.seq = batch.toSeq
    this.batches++
  }
  async snapshot() {
    return [...this.rows.values()]
  }
  async close() {}
}

describe('a slow sink slows only itself', () => {
  let node: RunningNode
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gkm-backpressure-'))
    node = await startNode(
      loadConfig({ env: {}, flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false } }),
    )
  })
  after(async () => {
    await node?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('the node takes 2,000 writes while the sink is blocked; the sink then catches up to the final state', async () => {
    const sink = new MemorySink()
    let release!: () => void
    sink.gate = new Promise((r) => {
      release = r
    })
    const runner = new SinkRunner(sink, node.feed, { info() {}, warn() {}, error() {} }, { batchMax: 100 })
    runner.start()
    try {
      for (let round = 0; round < 4; round++) {
        const r = await node.api.push(
          Array.from({ length: 500 }, (_, i) => ({
            event_type: 'persona_update',
            target_id: `p${i % 50}`,
            payload: { op: 'set', fields: { round, i } },
          })),
          { kind: 'local', id: 'test' },
        )
        assert.equal(r.accepted, 500)
      }
      const head = await node.feed.lastSeq()
      await waitFor('the runner sees the head', () => runner.status().head === head)
      assert.equal(runner.status().checkpoint, 0, 'the blocked sink applied nothing')
      assert.equal(runner.status().lag, head)
      release()
      await runner.caughtUp(head, 30_000)
      assert.equal(sink.rows.size, 50)
      for (const [id, p] of sink.rows) {
        assert.deepEqual(p, {
          type: 'persona_update',
          id,
          fields: (await node.api.state('persona_update', id))?.value,
          crdt: null,
        })
      }
      assert.ok(sink.batches >= 20, `batches of at most 100 entries (${sink.batches})`)
    } finally {
      await runner.stop()
    }
  })
})
