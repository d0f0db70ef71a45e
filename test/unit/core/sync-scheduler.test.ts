/** The reconciliation scheduler, driven by hand: time and outcomes are inputs, no timers. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type SessionOutcome, SyncScheduler } from '../../../src/core/sync-scheduler.ts'

const init = {
  selfId: 'm',
  intervalMs: 10_000,
  retryMs: 1_000,
  relayDelayMs: 200,
  parallelMax: 2,
  strikesMax: 3,
  banMs: 600_000,
}
const ok: SessionOutcome = { learned: 0, inSync: true, truncated: false, transient: false, misbehaved: false }

describe('SyncScheduler', () => {
  test('a new connection starts a session only from the side whose id sorts first', () => {
    const s = new SyncScheduler(init)
    s.handleConnected('z', 0)
    s.handleConnected('a', 0)
    assert.deepEqual(s.pollStart(0), ['z'])
    assert.deepEqual(s.pollStart(0), [])
  })

  test('one session per peer at a time; a request meanwhile runs after it', () => {
    const s = new SyncScheduler(init)
    s.handleConnected('z', 0)
    assert.deepEqual(s.pollStart(0), ['z'])
    s.request('z', 1)
    assert.deepEqual(s.pollStart(1), [])
    s.handleSessionEnded('z', ok, 2)
    assert.deepEqual(s.pollStart(2), ['z'])
    assert.equal(s.schedule('z')?.inSyncAtMs, 2)
  })

  test('no session of ours while the peer runs one with us (it would move the same events twice)', () => {
    const s = new SyncScheduler(init)
    s.handleConnected('z', 0)
    s.handleServing('z', true)
    assert.deepEqual(s.pollStart(0), [])
    s.handleServing('z', false)
    assert.deepEqual(s.pollStart(1), ['z'])
  })

  test('at most parallelMax sessions at once', () => {
    const s = new SyncScheduler(init)
    for (const id of ['x', 'y', 'z']) s.handleConnected(id, 0)
    assert.equal(s.pollStart(0).length, 2)
    s.handleSessionEnded('x', ok, 1)
    assert.deepEqual(s.pollStart(1), ['z'])
  })

  test('every interval, one session with a random connected peer', () => {
    const s = new SyncScheduler({ ...init, selfId: 'zz' })
    s.handleConnected('a', 0)
    s.handleConnected('b', 0)
    assert.deepEqual(s.pollStart(0), [])
    assert.equal(s.pollTimeoutMs(), 10_000)
    s.handleTimeout(10_000, 0.99)
    assert.deepEqual(s.pollStart(10_000), ['b'])
    assert.equal(s.pollTimeoutMs(), 20_000)
  })

  test("with intervalJitter each anti-entropy interval is drawn from ±J of it, by the caller's draws", () => {
    const s = new SyncScheduler({ ...init, selfId: 'zz', intervalJitter: 0.2 })
    s.handleConnected('a', 0, 0)
    assert.equal(s.pollTimeoutMs(), 8_000, 'draw 0: the shortest interval, 0.8 × 10 s')
    s.handleConnected('b', 100, 0.99)
    assert.equal(s.pollTimeoutMs(), 8_000, 'only the first connection sets the first tick')
    s.handleTimeout(8_000, 0, 0.75)
    assert.deepEqual(s.pollStart(8_000), ['a'])
    assert.equal(s.pollTimeoutMs(), 8_000 + 11_000, 'draw 0.75: 1.1 × 10 s')
    s.handleTimeout(19_000, 0, 0.5)
    assert.equal(s.pollTimeoutMs(), 29_000, 'draw 0.5: exactly the interval')
  })

  test('interval jitter from a seeded source: every interval within ±J, mean the interval, and nodes started together drift apart', () => {
    // A small seeded generator (mulberry32): the draws are fixed, the test is deterministic.
    const seed = 11
    console.log(`seed ${seed}`)
    const rng = (a: number) => () => {
      a = (a + 0x6d2b79f5) | 0
      let t = Math.imul(a ^ (a >>> 15), 1 | a)
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    const nodes = Array.from({ length: 10 }, (_, i) => {
      const r = rng(seed * 100 + i)
      const s = new SyncScheduler({ ...init, selfId: `n${i}`, intervalJitter: 0.2 })
      s.handleConnected('peer', 0, r())
      return { s, r, ticks: [] as number[] }
    })
    for (const n of nodes) {
      for (let k = 0; k < 30; k++) {
        const at = n.s.pollTimeoutMs()!
        n.ticks.push(at)
        n.s.handleTimeout(at, 0, n.r())
      }
      const gaps = n.ticks.map((t, i) => t - (i === 0 ? 0 : n.ticks[i - 1]))
      for (const g of gaps) assert.ok(g >= 8_000 && g < 12_000, `interval ${g} ms outside 8..12 s`)
      const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length
      assert.ok(Math.abs(mean - 10_000) < 1_000, `mean interval ${mean} ms`)
    }
    // Connected in the same instant, the ten first ticks are not all in one second, and by the
    // 30th tick they are spread wider still.
    const spread = (k: number) =>
      Math.max(...nodes.map((n) => n.ticks[k])) - Math.min(...nodes.map((n) => n.ticks[k]))
    assert.ok(spread(0) > 1_000, `first ticks within ${spread(0)} ms`)
    assert.ok(spread(29) > spread(0), `30th ticks spread ${spread(29)} ms, first ${spread(0)} ms`)
  })

  test('without intervalJitter the interval is exact whatever the draws', () => {
    const s = new SyncScheduler({ ...init, selfId: 'zz' })
    s.handleConnected('a', 0, 0)
    assert.equal(s.pollTimeoutMs(), 10_000)
    s.handleTimeout(10_000, 0, 0.99)
    assert.equal(s.pollTimeoutMs(), 20_000)
  })

  test('what a session taught the node is relayed to every other connected peer, coalesced', () => {
    const s = new SyncScheduler({ ...init, selfId: 'zz' })
    for (const id of ['a', 'b', 'c']) s.handleConnected(id, 0)
    s.request('a', 0)
    assert.deepEqual(s.pollStart(0), ['a'])
    s.handleSessionEnded('a', { ...ok, learned: 5, inSync: false }, 100)
    s.handleLearned('b', 150)
    assert.equal(s.pollTimeoutMs(), 300)
    s.handleTimeout(300, 0)
    assert.deepEqual(s.pollStart(300), ['c'])
  })

  test('a transient refusal retries after retryMs; a truncated session continues at once', () => {
    const s = new SyncScheduler(init)
    s.handleConnected('z', 0)
    s.pollStart(0)
    s.handleSessionEnded('z', { ...ok, inSync: false, transient: true }, 10)
    assert.deepEqual(s.pollStart(10), [])
    assert.equal(s.pollTimeoutMs(), 1_010)
    assert.deepEqual(s.pollStart(1_010), ['z'])
    s.handleSessionEnded('z', { ...ok, inSync: false, truncated: true }, 1_020)
    assert.deepEqual(s.pollStart(1_020), ['z'])
  })

  test('three strikes: hung up, refused until the ban ends', () => {
    const s = new SyncScheduler(init)
    s.handleConnected('z', 0)
    for (let i = 0; i < 3; i++) {
      s.request('z', i)
      assert.deepEqual(s.pollStart(i), ['z'])
      if (i === 1) s.handleSessionFailed('z', true, i)
      else s.handleSessionEnded('z', { ...ok, inSync: false, misbehaved: true }, i)
    }
    assert.deepEqual(s.pollHangUps(), ['z'])
    assert.equal(s.banned('z', 1_000), true)
    assert.equal(s.handleConnected('z', 1_000), false)
    s.request('z', 1_000)
    assert.deepEqual(s.pollStart(1_000), [])
    assert.equal(s.banned('z', 600_003), false)
    assert.equal(s.handleConnected('z', 600_003), true)
  })

  test('a failure that is not the peer\u2019s fault is no strike', () => {
    const s = new SyncScheduler(init)
    s.handleConnected('z', 0)
    for (let i = 0; i < 5; i++) {
      s.request('z', i)
      s.pollStart(i)
      s.handleSessionFailed('z', false, i)
    }
    assert.deepEqual(s.pollHangUps(), [])
    assert.equal(s.schedule('z')?.strikes, 0)
  })

  test('a failed session is retried retryMs later, backing off to the interval; success resets it', () => {
    const s = new SyncScheduler(init)
    s.handleConnected('z', 0)
    assert.deepEqual(s.pollStart(0), ['z'])
    // Failures in a row: due 1 s, 2 s, 4 s, 8 s later, then capped at the 10 s interval.
    const gaps: number[] = []
    let now = 0
    for (let i = 0; i < 6; i++) {
      s.handleSessionFailed('z', false, now)
      const due = s.schedule('z')?.dueAtMs as number
      gaps.push(due - now)
      assert.deepEqual(s.pollStart(due - 1), [], 'not before it is due')
      now = due
      assert.deepEqual(s.pollStart(now), ['z'])
    }
    assert.deepEqual(gaps.slice(0, 4), [1_000, 2_000, 4_000, 8_000])
    assert.ok(gaps.slice(4).every((g) => g <= 10_000))
    s.handleSessionEnded('z', ok, now)
    s.request('z', now)
    assert.deepEqual(s.pollStart(now), ['z'])
    s.handleSessionFailed('z', false, now)
    assert.equal((s.schedule('z')?.dueAtMs as number) - now, 1_000, 'a success resets the backoff')
  })

  test('a failure with a peer that is gone schedules nothing; a strike is not retried early', () => {
    const s = new SyncScheduler({ ...init, intervalMs: 0 })
    s.handleConnected('z', 0)
    assert.deepEqual(s.pollStart(0), ['z'])
    s.handleDisconnected('z')
    s.handleSessionFailed('z', false, 5)
    assert.equal(s.schedule('z')?.dueAtMs, undefined)
    s.handleConnected('z', 10)
    assert.deepEqual(s.pollStart(10), ['z'])
    s.handleSessionFailed('z', true, 11)
    assert.equal(s.schedule('z')?.dueAtMs, undefined)
  })
})
