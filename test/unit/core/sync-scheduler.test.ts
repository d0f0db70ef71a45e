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
