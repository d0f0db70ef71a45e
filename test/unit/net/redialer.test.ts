import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  DIAL_TIMEOUT_MS,
  KNOWN_PEER_DIAL_ATTEMPTS_MAX,
  KNOWN_PEER_DIAL_YIELD_MS,
  REDIAL_BASE_MS,
  REDIAL_CAP_MS,
  REDIAL_PROBE_TIMEOUT_MS,
  REDIAL_RENEW_AFTER_MS,
  STABLE_CONNECTION_MS,
} from '../../../src/net/constants.ts'
import { Redialer } from '../../../src/net/redialer.ts'

function harness(up: Set<string> = new Set(), selfId?: string) {
  let now = 0
  const dials: string[] = []
  const connected = new Set<string>()
  const r = new Redialer({
    selfId,
    now: () => now,
    random: () => 0.5, // no jitter
    isConnected: (p) => connected.has(p),
    dial: async (p) => {
      dials.push(p)
      if (!up.has(p)) throw new Error('refused')
      connected.add(p)
    },
  })
  const advance = async (ms: number) => {
    now += ms
    await Promise.all(r.tick())
  }
  return { r, dials, connected, up, advance, at: () => now }
}

describe('redialer', () => {
  it('backs off exponentially to the cap', () => {
    const { r } = harness()
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((f) => r.backoffMs(f)),
      [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000],
    )
    assert.equal(REDIAL_BASE_MS, 1000)
    assert.equal(REDIAL_CAP_MS, 60_000)
  })

  it('retries a bootstrap peer on schedule until it is up, then stops dialling it', async () => {
    const h = harness()
    h.r.want('boot', ['/ip4/127.0.0.1/tcp/1'], 'bootstrap')
    await h.advance(0) // t=0: first dial fails
    await h.advance(999) // t=999: not due
    assert.equal(h.dials.length, 1)
    await h.advance(1) // t=1000: second dial
    assert.equal(h.dials.length, 2)
    await h.advance(2000) // t=3000: third
    assert.equal(h.dials.length, 3)
    h.up.add('boot')
    await h.advance(4000) // t=7000: fourth succeeds
    assert.equal(h.dials.length, 4)
    await h.advance(100_000)
    assert.equal(h.dials.length, 4, 'no dials while connected')
  })

  it('gives up on a known peer after the attempt limit, but never on a bootstrap peer; seeing it again resets', async () => {
    const h = harness()
    h.r.want('known', [], 'known')
    h.r.want('boot', [], 'bootstrap')
    for (let i = 0; i < KNOWN_PEER_DIAL_ATTEMPTS_MAX + 5; i++) await h.advance(REDIAL_CAP_MS)
    const known = h.dials.filter((d) => d === 'known').length
    const boot = h.dials.filter((d) => d === 'boot').length
    assert.equal(known, KNOWN_PEER_DIAL_ATTEMPTS_MAX)
    assert.ok(boot > KNOWN_PEER_DIAL_ATTEMPTS_MAX)
    h.r.want('known', ['/ip4/127.0.0.1/tcp/2'], 'known')
    await h.advance(0)
    assert.equal(h.dials.filter((d) => d === 'known').length, known + 1)
  })

  it('backs off from a peer that accepts the dial and drops the connection at once (its gater refuses us)', async () => {
    const h = harness()
    h.up.add('picky')
    h.r.want('picky', ['/ip4/127.0.0.1/tcp/3'], 'bootstrap')
    const gaps: number[] = []
    let last = -1
    for (let i = 0; i < 60; i++) {
      const before = h.dials.length
      await h.advance(500)
      if (h.dials.length > before) {
        // Connected, then refused right away.
        h.r.connected('picky')
        h.connected.delete('picky')
        h.r.disconnected('picky')
        if (last >= 0) gaps.push(h.at() - last)
        last = h.at()
      }
    }
    assert.ok(h.dials.length <= 6, `dialled ${h.dials.length} times in 30 s; backoff must apply`)
    assert.ok(
      gaps.every((g, i) => i === 0 || g >= gaps[i - 1]),
      `gaps grow: ${gaps}`,
    )
  })

  it('redials promptly after a stable connection closes', async () => {
    const h = harness()
    h.up.add('good')
    h.r.want('good', [], 'bootstrap')
    await h.advance(0)
    h.r.connected('good')
    await h.advance(STABLE_CONNECTION_MS + 1)
    h.connected.delete('good')
    h.r.disconnected('good')
    assert.equal(h.r.failures('good'), 0)
    await h.advance(500)
    assert.equal(h.dials.length, 2)
  })

  it('a peer it could not reach connecting (a healed path) retries the others in a failure streak at once, abandoning a pending dial without counting it', async () => {
    let now = 0
    const dials: string[] = []
    const connected = new Set<string>()
    /** Partitioned: dials hang until abandoned (a SYN into a black hole). */
    let partitioned = true
    const pending: Array<{ peer: string; signal: AbortSignal }> = []
    const r = new Redialer({
      now: () => now,
      random: () => 0.5,
      isConnected: (p) => connected.has(p),
      dial: (p, _addrs, signal) => {
        dials.push(p)
        if (p === 'far-b' && partitioned)
          return new Promise<void>((_, reject) => {
            pending.push({ peer: p, signal })
            signal.addEventListener('abort', () => reject(new Error('aborted')))
          })
        if (partitioned) return Promise.reject(new Error('unreachable'))
        connected.add(p)
        return Promise.resolve()
      },
    })
    const tick = async (ms: number) => {
      now += ms
      // Dials that hang are not awaited; the others settle.
      await Promise.race([Promise.all(r.tick()), new Promise((res) => setImmediate(res))])
      await new Promise((res) => setImmediate(res))
    }
    r.want('far-a', [], 'known')
    r.want('far-b', [], 'known')
    r.want('near', [], 'known')
    connected.add('near')
    r.connected('near')
    // 70 s of partition: far-a backs off towards the cap; far-b's dial hangs.
    for (let i = 0; i < 140; i++) await tick(500)
    const failuresA = r.failures('far-a')
    assert.ok(failuresA >= 5, `far-a failed ${failuresA} times`)
    assert.equal(pending.length, 1, 'far-b has one dial pending')
    assert.equal(r.failures('far-b'), 0)
    const dialsA = dials.filter((d) => d === 'far-a').length
    // The partition heals; far-b's pending dial does not notice, and far-a is ~30 s from its
    // next attempt. far-b's side dials us first: far-b was not in a failure streak, so nothing
    // changes yet.
    partitioned = false
    await tick(500)
    assert.equal(dials.filter((d) => d === 'far-a').length, dialsA, 'far-a waits for its backoff')
    // A peer we had failed to reach connects (far-a dials in): the path is healed.
    connected.add('far-a')
    r.connected('far-a')
    assert.ok(pending[0].signal.aborted, "far-b's pending dial is abandoned")
    await tick(0)
    await tick(500)
    assert.ok(connected.has('far-b'), 'far-b dialled again at once and connected')
    assert.equal(r.failures('far-b'), 0, 'the abandoned dial did not count as a failure')
    assert.equal(dials.filter((d) => d === 'near').length, 0, 'a connected peer is not dialled')
  })

  it('in a failure streak dials are short probes (a fresh SYN every few seconds), every 4th the full timeout', async () => {
    let now = 0
    const timeouts: number[] = []
    const r = new Redialer({
      now: () => now,
      random: () => 0.5,
      isConnected: () => false,
      dial: async (_p, _a, _s, timeoutMs) => {
        timeouts.push(timeoutMs)
        throw new Error('unreachable')
      },
    })
    r.want('far', [], 'bootstrap')
    for (let i = 0; i < 400; i++) {
      now += 500
      await Promise.all(r.tick())
    }
    assert.deepEqual(timeouts.slice(0, 6), [
      DIAL_TIMEOUT_MS,
      REDIAL_PROBE_TIMEOUT_MS,
      REDIAL_PROBE_TIMEOUT_MS,
      REDIAL_PROBE_TIMEOUT_MS,
      DIAL_TIMEOUT_MS,
      REDIAL_PROBE_TIMEOUT_MS,
    ])
    assert.ok(REDIAL_PROBE_TIMEOUT_MS < DIAL_TIMEOUT_MS)
  })

  it('dial tie-break: a known peer with a smaller id is given the first dial; a larger one is dialled at once', async () => {
    const h = harness(new Set(['A', 'C']), 'B')
    h.r.want('A', ['/ip4/10.0.0.1/tcp/1'], 'known') // A < B: A dials us; we wait
    h.r.want('C', ['/ip4/10.0.0.3/tcp/1'], 'known') // C > B: we dial C now
    await h.advance(0)
    assert.deepEqual(h.dials, ['C'])
    // mDNS answers again and again during the wait: they do not cut it short
    h.r.want('A', ['/ip4/10.0.0.1/tcp/1'], 'known')
    await h.advance(KNOWN_PEER_DIAL_YIELD_MS - 1)
    assert.deepEqual(h.dials, ['C'])
    // A never dialled (it cannot reach us, or has no tie-break): we dial after the wait
    await h.advance(1)
    assert.deepEqual(h.dials, ['C', 'A'])
  })

  it('dial tie-break: the dial in during the wait is the one connection; after it closes the wait applies again', async () => {
    const h = harness(new Set(['A']), 'B')
    h.r.want('A', [], 'known')
    await h.advance(500)
    h.connected.add('A') // A's dial arrived
    h.r.connected('A')
    await h.advance(KNOWN_PEER_DIAL_YIELD_MS)
    assert.deepEqual(h.dials, [], 'no second connection')
    await h.advance(STABLE_CONNECTION_MS)
    h.connected.delete('A')
    h.r.disconnected('A') // a stable connection closed: both ends see it
    await h.advance(KNOWN_PEER_DIAL_YIELD_MS - 1)
    assert.deepEqual(h.dials, [])
    await h.advance(1)
    assert.deepEqual(h.dials, ['A'])
  })

  it('dial tie-break: bootstrap and manual peers, and a node without its own id, dial at once', async () => {
    const h = harness(new Set(), 'Z')
    h.r.want('A', [], 'bootstrap')
    h.r.want('B', [], 'manual')
    await h.advance(0)
    assert.deepEqual(h.dials, ['A', 'B'])
    const n = harness()
    n.r.want('A', [], 'known')
    await n.advance(0)
    assert.deepEqual(n.dials, ['A'])
    // a known peer later named as bootstrap is dialled at once
    const k = harness(new Set(), 'Z')
    k.r.want('A', [], 'known')
    k.r.want('A', [], 'bootstrap')
    await k.advance(0)
    assert.deepEqual(k.dials, ['A'])
  })

  it('after a heal a pending dial younger than REDIAL_RENEW_AFTER_MS is left to finish (it may be mid-handshake); an older one is renewed', async () => {
    let now = 0
    const connected = new Set<string>()
    const pending = new Map<string, AbortSignal>()
    const r = new Redialer({
      now: () => now,
      random: () => 0.5,
      isConnected: (p) => connected.has(p),
      dial: (p, _addrs, signal) => {
        if (p === 'streak') return Promise.reject(new Error('unreachable'))
        return new Promise<void>((_, reject) => {
          pending.set(p, signal)
          signal.addEventListener('abort', () => reject(new Error('aborted')))
        })
      },
    })
    r.want('streak', [], 'known')
    r.want('old', [], 'known')
    await Promise.race([Promise.all(r.tick()), new Promise((res) => setImmediate(res))]) // t=0
    assert.equal(r.failures('streak'), 1)
    now = REDIAL_RENEW_AFTER_MS
    r.want('young', [], 'known')
    void r.tick() // 'young' dials at t=1000
    now = REDIAL_RENEW_AFTER_MS + REDIAL_RENEW_AFTER_MS / 2 // t=1500: the path heals
    connected.add('streak')
    r.connected('streak') // a peer we failed to reach connects
    assert.equal(pending.get('old')?.aborted, true, 'a dial pending 1.5 s is renewed')
    assert.equal(pending.get('young')?.aborted, false, 'a dial pending 0.5 s is left to finish')
  })

  it('after a heal the dial tie-break applies again: a peer in a failure streak seen again is dialled at once by the smaller id, after the wait by the larger', async () => {
    // B is between A and C: A < B < C. All three unreachable at first (a partition).
    const h = harness(new Set(), 'B')
    h.r.want('A', [], 'known')
    h.r.want('C', [], 'known')
    for (let i = 0; i < 20; i++) await h.advance(REDIAL_CAP_MS / 4) // 5 min of failed dials
    assert.ok(h.r.failures('A') > 0 && h.r.failures('C') > 0)
    h.dials.length = 0
    // The path heals; mDNS answers from both arrive at once.
    h.up.add('A')
    h.up.add('C')
    h.r.want('A', [], 'known')
    h.r.want('C', [], 'known')
    await h.advance(0)
    assert.deepEqual(h.dials, ['C'], 'C > B: dialled at once; A < B: A dials us')
    h.r.want('A', [], 'known') // answers again and again: the wait stands
    await h.advance(KNOWN_PEER_DIAL_YIELD_MS - 1)
    assert.deepEqual(h.dials, ['C'])
    await h.advance(1) // A did not dial in: we do
    assert.deepEqual(h.dials, ['C', 'A'])
  })

  it('after a heal a connection of a peer in a streak pulls the others forward, with the tie-break', async () => {
    const h = harness(new Set(), 'M')
    for (const p of ['A', 'B', 'X', 'Y']) h.r.want(p, [], 'known')
    for (let i = 0; i < 20; i++) await h.advance(REDIAL_CAP_MS / 4)
    h.dials.length = 0
    for (const p of ['A', 'B', 'X', 'Y']) h.up.add(p)
    h.connected.add('X') // X dialled in: the path is healed
    h.r.connected('X')
    await h.advance(0)
    assert.deepEqual(h.dials, ['Y'], 'Y > M: at once; A, B < M: they dial us first')
    h.connected.add('A') // A's dial arrives during the wait
    h.r.connected('A')
    await h.advance(KNOWN_PEER_DIAL_YIELD_MS)
    assert.deepEqual(h.dials, ['Y', 'B'], 'one connection per pair: B did not dial, so we do')
  })

  it('a peer in a failure streak seen again renews a dial pending REDIAL_RENEW_AFTER_MS or longer (not counted), and leaves a younger one', async () => {
    let now = 0
    const pending = new Map<string, AbortSignal>()
    let reachable = false
    const failuresSeen: string[] = []
    const r = new Redialer({
      now: () => now,
      random: () => 0.5,
      isConnected: () => false,
      onFailure: (p) => failuresSeen.push(p),
      dial: (p, _addrs, signal) => {
        if (!reachable) {
          if (pending.has(p) && !pending.get(p)?.aborted) throw new Error('two dials at once')
          // the first dial of each fails at once; later ones hang (a SYN into the partition)
          if (!pending.has(p) && failuresSeen.filter((x) => x === p).length === 0)
            return Promise.reject(new Error('unreachable'))
          return new Promise<void>((_, reject) => {
            pending.set(p, signal)
            signal.addEventListener('abort', () => reject(new Error('aborted')))
          })
        }
        return Promise.resolve()
      },
    })
    const settle = () => new Promise((res) => setImmediate(res))
    r.want('old', [], 'known')
    await Promise.all(r.tick()) // t=0: fails once
    assert.equal(r.failures('old'), 1)
    now = 1_000
    void r.tick() // t=1000: 'old' dials again (backoff 1 s), hangs
    now = 1_500
    r.want('young', [], 'known')
    await Promise.all(r.tick()) // t=1500: 'young' fails once
    assert.equal(r.failures('young'), 1)
    now = 2_500
    void r.tick() // t=2500: 'young' dials again, hangs
    now = 2_900 // the path heals; mDNS answers from both
    reachable = true
    r.want('old', [], 'known')
    r.want('young', [], 'known')
    assert.equal(pending.get('old')?.aborted, true, 'pending 1.9 s: renewed')
    assert.equal(pending.get('young')?.aborted, false, 'pending 0.4 s: left to finish')
    await settle()
    assert.equal(r.failures('old'), 1, 'the renewed dial is not counted')
    assert.deepEqual(failuresSeen, ['old', 'young'])
    // 'old' is dialled again over the open path; on a loaded host the handshake takes over 1 s.
    reachable = false // (the stub: dials hang)
    void r.tick()
    const again = pending.get('old')
    assert.equal(again?.aborted, false)
    now = 4_500 // 2 s later: mDNS answers again, another peer connects
    r.want('old', [], 'known')
    r.connected('young')
    assert.equal(again?.aborted, false, 'a dial started after the path was seen open is left to finish')
  })

  it('a dial that becomes due between ticks starts at once once started (no wait for the next tick)', async () => {
    let now = 0
    const dials: string[] = []
    const deferred: Array<() => void> = []
    const r = new Redialer({
      now: () => now,
      random: () => 0.5,
      isConnected: () => false,
      defer: (fn) => deferred.push(fn),
      dial: async (p) => {
        dials.push(p)
        throw new Error('unreachable')
      },
    })
    r.want('far', [], 'known')
    assert.equal(deferred.length, 1, 'a new peer due now: a tick is deferred')
    r.want('far', [], 'known')
    assert.equal(deferred.length, 1, 'coalesced')
    deferred.shift()?.()
    await new Promise((res) => setImmediate(res))
    assert.deepEqual(dials, ['far'])
    now = 500
    await Promise.all(r.tick()) // not due (backoff 1 s)
    assert.deepEqual(dials, ['far'])
    now = 600
    r.want('far', [], 'known') // seen again: due now, dialled without waiting for a tick
    assert.equal(deferred.length, 1)
    deferred.shift()?.()
    await new Promise((res) => setImmediate(res))
    assert.deepEqual(dials, ['far', 'far'])
  })
})
