import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  KNOWN_PEER_DIAL_ATTEMPTS_MAX,
  REDIAL_BASE_MS,
  REDIAL_CAP_MS,
  STABLE_CONNECTION_MS,
} from '../../../src/net/constants.ts'
import { Redialer } from '../../../src/net/redialer.ts'

function harness(up: Set<string> = new Set()) {
  let now = 0
  const dials: string[] = []
  const connected = new Set<string>()
  const r = new Redialer({
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
})
