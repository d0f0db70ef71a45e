/**
 * The log phase's plan from two summaries: what to fetch, what to push, and when two nodes hold
 * the same logs fully (the session then ends after one round trip). Pure functions.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { summaryFrames } from '../../../src/core/log-frames.ts'
import { planLogs } from '../../../src/core/log-summary.ts'
import type { LogSummary } from '../../../src/wire/index.ts'
import { ReconcileFrame } from '../../../src/wire/index.ts'

const author = new Uint8Array(32).fill(1)
const log = new Uint8Array(8).fill(2)
const root = (b: number) => new Uint8Array(32).fill(b)

function s(contiguous: number, end: number, opts: Partial<LogSummary> = {}): LogSummary {
  return {
    author,
    log,
    contiguous: BigInt(contiguous),
    end: BigInt(end),
    root: root(contiguous % 251),
    forked: false,
    holes: [],
    holesMore: false,
    fetching: false,
    ...opts,
  }
}
const ranges = (rs: readonly { from: bigint; to: bigint }[]) => rs.map((r) => [Number(r.from), Number(r.to)])

describe('planLogs', () => {
  it('identical full logs are consistent: nothing to move', () => {
    const p = planLogs([s(10, 10)], [s(10, 10)], true)
    assert.deepEqual([p.fetch, p.push, p.consistent], [[], [], true])
  })

  it('a shorter log fetches the tail; the longer side pushes it', () => {
    const a = planLogs([s(7, 7)], [s(10, 10)], true)
    assert.deepEqual(ranges(a.fetch), [[7, 10]])
    assert.deepEqual(a.push, [])
    assert.equal(a.consistent, false)
    const b = planLogs([s(10, 10)], [s(7, 7)], true)
    assert.deepEqual(ranges(b.push), [[7, 10]])
  })

  it('asks only for its holes (one random position missing: one position asked)', () => {
    const mine = s(500_000, 1_000_000, { holes: [500_000n, 500_001n] })
    const p = planLogs([mine], [s(1_000_000, 1_000_000)], true)
    assert.deepEqual(ranges(p.fetch), [[500_000, 500_001]])
    assert.deepEqual(ranges(planLogs([s(1_000_000, 1_000_000)], [mine], true).push), [[500_000, 500_001]])
  })

  it('unknown holes are left to the range phase: only the tail past the end moves', () => {
    const p = planLogs([s(5, 50, { holesMore: true })], [s(60, 60)], true)
    assert.deepEqual(ranges(p.fetch), [[50, 60]])
    assert.equal(p.consistent, false)
  })

  it('a log one side lacks altogether is fetched from 0; same roots but a fork are not consistent', () => {
    const other = { ...s(3, 3), log: new Uint8Array(8).fill(9) }
    const p = planLogs([s(3, 3)], [s(3, 3), other], true)
    assert.deepEqual(ranges(p.fetch), [[0, 3]])
    assert.equal(planLogs([s(3, 3, { forked: true })], [s(3, 3)], true).consistent, false)
    assert.equal(planLogs([s(3, 3)], [s(3, 3)], false).consistent, false, 'an incomplete list proves nothing')
    assert.equal(planLogs([s(3, 3)], [s(3, 3, { root: root(99) })], true).consistent, false)
  })
})

describe('summaryFrames', () => {
  it('pages by bytes: every frame within the budget, the last without logs_more', () => {
    const list = Array.from({ length: 2_000 }, (_, i) => ({
      ...s(i, i),
      log: Uint8Array.of(0, 0, 0, 0, 0, 0, i >> 8, i & 255),
    }))
    const frames = summaryFrames(list, 40_000)
    assert.ok(frames.length > 1)
    for (const f of frames) assert.ok(ReconcileFrame.encode(f).byteLength <= 40_000 + 1_000)
    assert.deepEqual(
      frames.map((f) => f.logsMore),
      [...frames.slice(1).map(() => true), false],
    )
    assert.equal(
      frames.reduce((n, f) => n + (f.logs?.length ?? 0), 0),
      2_000,
    )
  })
})

describe('planLogs and a peer fetching elsewhere', () => {
  it('does not push a log the peer says it is fetching from someone else now', () => {
    const p = planLogs([s(10, 10)], [s(0, 0, { fetching: true })], true)
    assert.deepEqual(p.push, [])
    assert.equal(p.consistent, false)
  })
})
