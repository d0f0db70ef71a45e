/** The per-arrival record of a real-node run and its slow-arrival breakdown (pure parts). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  breakdown,
  delaysOf,
  type ObservedEvent,
  recordArrivals,
  STARTUP_WINDOW_MS,
  slowThresholdMs,
  splitAtStartup,
} from '../../simulations/real/arrivals.ts'
import { hostCpuS, processCpuS } from '../../simulations/real/cpu.ts'
import type { RealRunResult } from '../../simulations/real/result.ts'
import { resultJson } from '../../simulations/real/result.ts'

const ev = (sentMs: number, origin: number, seen: Array<number | undefined>): ObservedEvent => ({
  sentMs,
  origin,
  originSeenMs: seen[origin],
  seenMs: seen,
})

describe('real-node arrivals', () => {
  it('delays run from the origin feed; null for the origin and a node that never showed it', () => {
    assert.deepEqual(delaysOf(ev(0, 1, [15, 10, undefined]), 99), [5, null, null])
    // the origin's feed never showed it: from the write's answer
    assert.deepEqual(delaysOf(ev(0, 1, [15, undefined, 12]), 8), [7, null, 4])
  })

  it('breaks the slow arrivals down by send time, receiving node and origin', () => {
    const events = [
      ev(100, 0, [110, 120, 130]), // fast
      ev(1_000, 0, [1_010, 1_500, 1_020]), // n1 slow
      ev(7_000, 2, [9_000, 8_000, 7_000]), // n0 and n1 slow
    ]
    const delays = events.map((e) => delaysOf(e, e.sentMs))
    const b = breakdown(events, delays, 3, 100)
    assert.equal(b.of, 6)
    assert.equal(b.count, 3)
    assert.equal(b.events, 2)
    assert.deepEqual(
      b.byTime.map((x) => [x.fromMs, x.slow, x.all]),
      [
        [0, 1, 4],
        [5_000, 2, 2],
      ],
    )
    assert.deepEqual(
      b.byNode.map((x) => [x.slow, x.all]),
      [
        [1, 1],
        [2, 3],
        [0, 2],
      ],
    )
    assert.deepEqual(
      b.byOrigin.map((x) => [x.slow, x.all]),
      [
        [1, 4],
        [0, 0],
        [2, 2],
      ],
    )
    assert.deepEqual(b.slowPerEvent, [0, 1, 1])
    assert.deepEqual(
      b.worst.map((w) => [w.delayMs, w.origin, w.node, w.event]),
      [
        [2_000, 2, 0, 2],
        [1_000, 2, 1, 2],
        [490, 0, 1, 1],
      ],
    )
  })

  it('records every event up to the bound, then every k-th; the breakdown still counts all', () => {
    const events = Array.from({ length: 25 }, (_, i) => ev(i * 100, i % 2, [i * 100 + 1, i * 100 + 2]))
    const delays = events.map((e) => delaysOf(e, e.sentMs))
    const whole = recordArrivals(events, delays, 2, 100)
    assert.equal(whole.stride, 1)
    assert.equal(whole.delayMs.length, 25)
    const thin = recordArrivals(events, delays, 2, 100, 10)
    assert.equal(thin.stride, 3)
    assert.equal(thin.delayMs.length, 9)
    assert.deepEqual(thin.sentMs.slice(0, 3), [0, 300, 600])
    assert.equal(thin.slow.of, 25)
    assert.deepEqual(thin.delayMs[1], [0, null]) // event 3: origin 1 showed it at 302, node 0 at 301
    assert.deepEqual(thin.originLagMs[1], 2)
  })

  it('the slow threshold is 100 ms plus four one-way delays', () => {
    assert.equal(slowThresholdMs(0), 100)
    assert.equal(slowThresholdMs(50), 300)
  })

  it('writes the per-arrival arrays one line each, and the JSON reads back the same', () => {
    const events = [ev(0, 0, [1, 5]), ev(100, 1, [150, 101])]
    const arrivals = recordArrivals(
      events,
      events.map((e) => delaysOf(e, 0)),
      2,
      100,
    )
    const r = { kind: 'real', scenario: 'x', arrivals } as unknown as RealRunResult
    const text = resultJson(r)
    assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(r)))
    assert.ok(text.includes('"delayMs": [[null,4],[49,null]]'), text)
  })

  it(`splits the arrivals at STARTUP_WINDOW_MS (${STARTUP_WINDOW_MS} ms) of send time`, () => {
    const events = [
      ev(0, 0, [1, 900]),
      ev(STARTUP_WINDOW_MS - 1, 1, [STARTUP_WINDOW_MS + 40, STARTUP_WINDOW_MS]),
      ev(STARTUP_WINDOW_MS, 0, [STARTUP_WINDOW_MS + 1, STARTUP_WINDOW_MS + 21]),
    ]
    const split = splitAtStartup(
      events,
      events.map((e) => delaysOf(e, e.sentMs)),
    )
    assert.deepEqual(split, { startup: [899, 40], after: [20] })
  })

  it('reads CPU time from /proc: this process, the host; a process that is gone is 0', {
    skip: process.platform !== 'linux' ? 'needs /proc (Linux)' : false,
  }, () => {
    assert.ok(processCpuS(process.pid) > 0, 'this process has run (loading the tests)')
    assert.equal(processCpuS(undefined), 0)
    assert.equal(processCpuS(2 ** 22 + 1), 0, 'above pid_max: no such process')
    const h = hostCpuS()
    assert.ok(h.total > 0 && h.busy > 0 && h.busy <= h.total)
  })
})
