/**
 * A reconciliation answer's `accepted` count on the wire: a log-phase answer counts what the peer
 * stored since its previous answer, which under load is several frames' worth. Bounding it by a
 * frame's `eventsMax` made honest peers fail to decode (a strike each), and three of them cut the
 * peer off for 10 minutes in the middle of a catch-up (docs/BENCHMARKS-MESH.md).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { WIRE_LIMITS } from '../../../src/net/constants.ts'
import { RECONCILE_LIMITS } from '../../../src/net/protocols/reconcile.ts'
import { decodeReconcileFrame, RECONCILE_ACCEPTED_MAX, ReconcileFrame } from '../../../src/wire/index.ts'

const decode = (accepted: number) =>
  decodeReconcileFrame(ReconcileFrame.encode({ logPhase: true, accepted }), WIRE_LIMITS, RECONCILE_LIMITS)

describe('ReconcileFrame.accepted', () => {
  it('counts past one frame of events decode (the session checks them against what it pushed)', () => {
    assert.ok(WIRE_LIMITS.eventsMax < 8_000)
    assert.equal(decode(8_000).accepted, 8_000)
    assert.equal(decode(RECONCILE_ACCEPTED_MAX).accepted, RECONCILE_ACCEPTED_MAX)
  })
})
