/** Each node's connection-ping interval (src/net/host.ts): drawn once from ±20 % of libp2p's
 *  10 s, so nodes started together do not ping all their connections in the same instant. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  CONNECTION_PING_INTERVAL_MS,
  CONNECTION_PING_JITTER,
  connectionPingIntervalMs,
} from '../../../src/net/host.ts'

describe('connection ping interval', () => {
  it('is 10 s ± 20 % by the draw, 10 s at the middle', () => {
    assert.equal(CONNECTION_PING_INTERVAL_MS, 10_000)
    assert.equal(CONNECTION_PING_JITTER, 0.2)
    assert.equal(connectionPingIntervalMs(0), 8_000)
    assert.equal(connectionPingIntervalMs(0.5), 10_000)
    assert.equal(connectionPingIntervalMs(0.75), 11_000)
    assert.ok(connectionPingIntervalMs(0.999_999) <= 12_000)
  })

  it('ten nodes with seeded draws get ten different intervals', () => {
    let a = 7 // seed, printed
    console.log(`seed ${a}`)
    const draw = () => {
      a = (Math.imul(a, 1_103_515_245) + 12_345) >>> 0
      return a / 2 ** 32
    }
    const intervals = Array.from({ length: 10 }, () => connectionPingIntervalMs(draw()))
    assert.equal(new Set(intervals).size, 10)
    for (const x of intervals) assert.ok(x >= 8_000 && x <= 12_000)
  })
})
