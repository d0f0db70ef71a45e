/**
 * Log buckets on the wire (docs/PROTOCOL.md "Many logs"): a frame's buckets are bounded in
 * number, prefix length and digits, mode and fingerprint size; a frame past any bound is refused
 * with a named error.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { WIRE_LIMITS } from '../../../src/net/constants.ts'
import { RECONCILE_LIMITS } from '../../../src/net/protocols/reconcile.ts'
import {
  decodeReconcileFrame,
  LOG_BUCKET_PREFIX_MAX,
  LOG_BUCKETS_PER_FRAME,
  type LogBucket,
  ReconcileFrame,
} from '../../../src/wire/index.ts'

const bucket = (b: Partial<LogBucket>): LogBucket => ({
  prefix: Uint8Array.of(1, 15),
  count: 3,
  fingerprint: new Uint8Array(16),
  mode: 0,
  ...b,
})
const decode = (logBuckets: LogBucket[]) =>
  decodeReconcileFrame(ReconcileFrame.encode({ logPhase: true, logBuckets }), WIRE_LIMITS, RECONCILE_LIMITS)

describe('log buckets on the wire', () => {
  it('round-trip within the bounds', () => {
    const f = decode([bucket({}), bucket({ mode: 1, fingerprint: new Uint8Array(0), count: 0 })])
    assert.equal(f.logBuckets.length, 2)
    assert.deepEqual([...f.logBuckets[0].prefix], [1, 15])
    const full = decode([bucket({ prefix: new Uint8Array(LOG_BUCKET_PREFIX_MAX).fill(15) })])
    assert.equal(full.logBuckets[0].prefix.byteLength, LOG_BUCKET_PREFIX_MAX)
  })

  it('refuses a prefix longer than a key, a digit past 15, an unknown mode, a bad fingerprint', () => {
    const refused = { name: 'WireLimitError' }
    assert.throws(() => decode([bucket({ prefix: new Uint8Array(LOG_BUCKET_PREFIX_MAX + 1) })]), refused)
    assert.throws(() => decode([bucket({ prefix: Uint8Array.of(16) })]), refused)
    assert.throws(() => decode([bucket({ mode: 3 })]), refused)
    assert.throws(() => decode([bucket({ fingerprint: new Uint8Array(15) })]), refused)
  })

  it(`refuses more than ${LOG_BUCKETS_PER_FRAME} buckets in one frame`, () => {
    assert.equal(
      decode(Array.from({ length: LOG_BUCKETS_PER_FRAME }, () => bucket({}))).logBuckets.length,
      LOG_BUCKETS_PER_FRAME,
    )
    assert.throws(() => decode(Array.from({ length: LOG_BUCKETS_PER_FRAME + 1 }, () => bucket({}))), {
      name: /Wire(Limit|Decode)Error/,
    })
  })
})
