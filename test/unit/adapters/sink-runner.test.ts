/** SinkRunner against an in-memory change feed: exact ranges, no lost wake-ups, retries. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ChangeFeed, Sink, SinkBatch } from '../../../src/adapters/index.ts'
import { SinkRunner } from '../../../src/adapters/sink-runner.ts'
import type { EventType } from '../../../src/core/types.ts'

const silent = { info() {}, warn() {}, error() {} }

function memoryFeed() {
  const log: Array<{ seq: number; type: EventType; targetId: string }> = []
  const listeners = new Set<(seq: number) => void>()
  const feed: ChangeFeed = {
    async read(after, limit, types) {
      return log.filter((e) => e.seq > after && types.includes(e.type)).slice(0, limit)
    },
    async lastSeq() {
      return log.length
    },
    async state(type, id) {
      return {
        event_type: type,
        target_id: id,
        value: { name: id },
        heads: [],
        events: 1,
        open_conflicts: [],
        hash: '',
      }
    },
    watch(l) {
      listeners.add(l)
      return () => listeners.delete(l)
    },
  }
  const append = (n: number) => {
    for (let i = 0; i < n; i++)
      log.push({ seq: log.length + 1, type: 'persona_update', targetId: `p${log.length + 1}` })
    for (const l of listeners) l(log.length)
  }
  return { feed, append }
}

function recordingSink(onApply: (b: SinkBatch, n: number) => Promise<void> | void = () => {}) {
  const batches: Array<[number, number, number]> = []
  let seq = 0
  const sink: Sink = {
    name: 'rec',
    kind: 'test',
    types: ['persona_update'],
    async open() {},
    async checkpoint() {
      return seq
    },
    async apply(b) {
      await onApply(b, batches.length + 1)
      assert.equal(b.fromSeq, seq, 'batches follow each other')
      batches.push([b.fromSeq, b.toSeq, b.changes.length])
      seq = b.toSeq
    },
    async snapshot() {
      return []
    },
    async close() {},
  }
  return { sink, batches }
}

describe('SinkRunner', () => {
  it('tells each batch how far behind the head it still is (behind: the bulk-load hint)', async () => {
    const { feed, append } = memoryFeed()
    append(25)
    const behind: number[] = []
    const { sink } = recordingSink((b) => {
      behind.push(b.behind ?? -1)
    })
    const r = new SinkRunner(sink, feed, silent, { batchMax: 10 })
    r.start()
    await r.caughtUp(25, 10_000)
    await r.stop()
    assert.deepEqual(behind, [15, 5, 0])
  })

  it('applies contiguous batches of at most batchMax entries up to the head', async () => {
    const { feed, append } = memoryFeed()
    append(25)
    const { sink, batches } = recordingSink()
    const r = new SinkRunner(sink, feed, silent, { batchMax: 10 })
    r.start()
    await r.caughtUp(25, 10_000)
    await r.stop()
    assert.deepEqual(batches, [
      [0, 10, 10],
      [10, 20, 10],
      [20, 25, 5],
    ])
  })

  it('does not lose a wake-up when writes arrive while a batch is applied and the batch read ahead found nothing', async () => {
    const { feed, append } = memoryFeed()
    append(10)
    let release!: () => void
    const blocked = new Promise<void>((r) => {
      release = r
    })
    let entered!: () => void
    const inFirst = new Promise<void>((r) => {
      entered = r
    })
    const { sink, batches } = recordingSink(async (_b, n) => {
      if (n === 1) {
        entered()
        await blocked
      }
    })
    const r = new SinkRunner(sink, feed, silent, { batchMax: 10 })
    r.start()
    await inFirst
    // The first batch was a full page: the runner read ahead (and found nothing) while it waits.
    await new Promise((res) => setImmediate(res))
    append(3)
    release()
    await r.caughtUp(13, 10_000)
    await r.stop()
    assert.deepEqual(batches.at(-1), [10, 13, 3])
  })

  it('retries a failing batch with backoff, pauses after retriesMax, resumes by itself', async () => {
    const { feed, append } = memoryFeed()
    append(3)
    let failing = true
    const { sink, batches } = recordingSink(() => {
      if (failing) throw new Error('store down')
    })
    const r = new SinkRunner(sink, feed, silent, { retriesMax: 3, backoffBaseMs: 1, pausedRetryMs: 20 })
    r.start()
    const until = Date.now() + 10_000
    while (r.status().state !== 'paused' && Date.now() < until) await new Promise((res) => setTimeout(res, 2))
    const s = r.status()
    assert.equal(s.state, 'paused')
    assert.equal(s.lastError?.message, 'store down')
    assert.ok(s.errorsTotal >= 3)
    assert.equal(s.checkpoint, 0)
    failing = false
    await r.caughtUp(3, 10_000)
    assert.equal(r.status().state, 'running')
    assert.equal(r.status().failures, 0)
    await r.stop()
    assert.deepEqual(batches, [[0, 3, 3]])
  })
})
