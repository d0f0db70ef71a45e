/**
 * The log phase's plan from two summaries: what to fetch, what to push, and when two nodes hold
 * the same logs fully (the session then ends after one round trip). Pure functions.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { readLogPosition } from '../../../src/core/event-codec.ts'
import { rangeFrames, summaryFrames } from '../../../src/core/log-frames.ts'
import { logKey, planLogs, runsOf } from '../../../src/core/log-summary.ts'
import { WIRE_LIMITS } from '../../../src/net/constants.ts'
import { RECONCILE_LIMITS } from '../../../src/net/protocols/reconcile.ts'
import type { LogSummary } from '../../../src/wire/index.ts'
import { decodeReconcileFrame, LOG_RANGE_RUNS_MAX, ReconcileFrame } from '../../../src/wire/index.ts'
import { makeEvent, testSigner } from '../../helpers/events.ts'
import { MemLogs } from '../../helpers/mem-logs.ts'

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

describe('exact holes (more than a summary lists)', () => {
  it('planLogs asks for every exact run, grouped per log in ranges of at most 4,097 runs', () => {
    const runs = Array.from({ length: 5_000 }, (_, i) => [BigInt(10 + 3 * i), BigInt(11 + 3 * i)] as const)
    const mine = s(10, 20_000, { holes: [10n, 11n], holesMore: true })
    const exact = new Map([[logKey(mine), runs]])
    const p = planLogs([mine], [s(20_000, 20_000)], true, exact)
    assert.equal(p.fetch.length, 2)
    assert.equal(p.fetch[0].runs.length, 2 * LOG_RANGE_RUNS_MAX)
    assert.equal(
      p.fetch.reduce((n, r) => n + runsOf(r).length, 0),
      5_000,
    )
    assert.deepEqual(runsOf(p.fetch[1]).at(-1)?.map(Number), [10 + 3 * 4_999, 11 + 3 * 4_999])
    // Without the exact list only the listed run is known.
    assert.deepEqual(ranges(planLogs([mine], [s(20_000, 20_000)], true).fetch), [[10, 11]])
  })

  it('a range with runs is refused on the wire unless its runs are ascending pairs within the bound', () => {
    const frame = (runs: bigint[]) =>
      ReconcileFrame.encode({ logPhase: true, logFetch: [{ author, log, from: 1n, to: 2n, runs }] })
    const decode = (b: Uint8Array) => decodeReconcileFrame(b, WIRE_LIMITS, RECONCILE_LIMITS)
    assert.equal(decode(frame([5n, 7n, 9n, 10n])).logFetch[0].runs.length, 4)
    assert.throws(() => decode(frame([5n])), { name: 'WireLimitError' })
    assert.throws(() => decode(frame([1n, 3n])), { name: 'WireLimitError' }, 'overlaps [from, to)')
    assert.throws(() => decode(frame([5n, 5n])), { name: 'WireLimitError' }, 'empty run')
    const many = Array.from({ length: LOG_RANGE_RUNS_MAX + 1 }, (_, i) => [
      BigInt(10 + 2 * i),
      BigInt(11 + 2 * i),
    ]).flat()
    assert.throws(() => decode(frame(many)), { name: /Wire(Limit|Decode)Error/ })
  })

  it('an answer over runs closes a frame where a head falls between the positions it sends', async () => {
    const signer = testSigner(77)
    const mem = new MemLogs()
    const evs = Array.from({ length: 40 }, (_, seq) => makeEvent(signer, { seq }))
    for (const e of evs) mem.add(e)
    const a = evs[0].author
    const l = evs[0].log
    for (const length of [8, 16, 24, 32, 40])
      mem.addHead({ author: a, log: l, length, root: '00'.repeat(32), signature: '00'.repeat(64) })
    const frames = []
    for await (const f of rangeFrames(
      mem,
      {
        author: a,
        log: l,
        from: 3,
        to: 4,
        runs: [
          [10, 12],
          [30, 40],
        ],
      },
      1 << 20,
      1_000,
    ))
      frames.push({
        seqs: f.events.map((e) => readLogPosition(e.signed).seq),
        head: f.head === undefined ? undefined : Number(f.head.length),
      })
    assert.deepEqual(frames, [
      { seqs: [3], head: 8 },
      { seqs: [10, 11], head: 24 },
      { seqs: [30, 31], head: 32 },
      { seqs: [32, 33, 34, 35, 36, 37, 38, 39], head: 40 },
    ])
  })
})
