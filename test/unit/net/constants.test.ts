import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PAYLOAD_BYTES_MAX, VECTOR_DIMENSIONS_MAX } from '../../../src/core/constants.ts'
import { encodeSigned } from '../../../src/core/event-codec.ts'
import type { AuthorKey, Digest } from '../../../src/core/types.ts'
import * as C from '../../../src/net/constants.ts'
import { ALL_TOPICS, topicOf, typeOfTopic } from '../../../src/net/gossip.ts'
import { gossipsubOptions } from '../../../src/net/host.ts'

describe('mesh limits', () => {
  it('gossipsub gets explicit signature policy, decode limits, buffer limits and topics', () => {
    const o = gossipsubOptions()
    assert.equal(o.globalSignaturePolicy, 'StrictNoSign')
    assert.deepEqual(o.decodeRpcLimits, C.GOSSIP_DECODE_LIMITS)
    for (const v of Object.values(o.decodeRpcLimits ?? {})) assert.ok(Number.isFinite(v) && v > 0)
    assert.equal(o.maxInboundDataLength, C.GOSSIP_RPC_BYTES_MAX)
    assert.equal(o.maxOutboundBufferSize, C.GOSSIP_OUTBOUND_BUFFER_BYTES_MAX)
    assert.equal(o.maxInboundStreams, C.GOSSIP_STREAMS_PER_CONNECTION_MAX)
    assert.deepEqual([...(o.allowedTopics as string[])].sort(), [...ALL_TOPICS].sort())
    assert.equal(o.allowPublishToZeroTopicPeers, true)
    assert.equal(o.fallbackToFloodsub, false)
    for (const t of ALL_TOPICS) {
      const p = o.scoreParams?.topics?.[t]
      assert.equal(p?.invalidMessageDeliveriesWeight, C.GOSSIP_SCORE.invalidMessageDeliveriesWeight)
      assert.equal(p?.meshMessageDeliveriesWeight, 0)
    }
    assert.equal(o.scoreThresholds?.graylistThreshold, C.GOSSIP_SCORE.graylistThreshold)
  })

  it("the federation's mesh degree is applied and satisfies gossipsub's own rules", () => {
    const o = gossipsubOptions()
    const m = C.GOSSIP_MESH
    for (const [k, v] of Object.entries(m)) assert.equal(o[k as keyof typeof o], v, k)
    assert.ok(m.Dlo <= m.D && m.D <= m.Dhi, 'Dlo <= D <= Dhi')
    assert.ok(m.Dout < m.Dlo && m.Dout <= m.D / 2, 'Dout < Dlo and Dout <= D/2')
    assert.ok(m.Dscore <= m.Dhi, 'Dscore <= Dhi')
    assert.ok(m.mcacheGossip >= 1 && m.mcacheGossip <= 5, 'gossip about at most the cached windows (5)')
    assert.ok(m.idontwantMinDataSize < 200, 'IDONTWANT covers events of every size')
  })

  it('topics are versioned, one per type', () => {
    assert.deepEqual(ALL_TOPICS, [
      '/gkm/events/vector/1',
      '/gkm/events/persona/1',
      '/gkm/events/document/1',
      '/gkm/events/graph/1',
    ])
    assert.equal(typeOfTopic(topicOf('graph_update')), 'graph_update')
    assert.equal(typeOfTopic('/gkm/events/graph/2'), undefined)
  })

  it('the largest valid event fits the event limit, the frame floor and a gossip RPC', () => {
    // a vector upsert: JSON part at the limit, 4096 packed values, longest target, 16 parents
    const note = 'x'.repeat(PAYLOAD_BYTES_MAX - 50)
    const payload = { op: 'upsert', values: new Array(VECTOR_DIMENSIONS_MAX).fill(0.5), metadata: { note } }
    const signed = encodeSigned({
      eventId: '00000000-0000-4000-8000-000000000000',
      log: 'ffffffffffffffff',
      seq: 2 ** 48 - 1,
      type: 'vector_update',
      targetId: 't'.repeat(255),
      payload,
      author: 'ab'.repeat(32) as AuthorKey,
      hlc: { wallMs: 1, counter: 0 },
      parents: Array.from({ length: 16 }, (_, i) => i.toString(16).padStart(64, '0') as Digest),
    })
    assert.ok(
      signed.byteLength <= C.EVENT_SIGNED_BYTES_MAX,
      `${signed.byteLength} > ${C.EVENT_SIGNED_BYTES_MAX}`,
    )
    assert.ok(C.EVENT_SIGNED_BYTES_MAX - signed.byteLength < 64, 'the limit is tight')
    assert.ok(C.FRAME_BYTES_MIN > C.EVENT_WIRE_BYTES_MAX + 16)
    assert.ok(C.GOSSIP_RPC_BYTES_MAX > C.EVENT_WIRE_BYTES_MAX + 1024)
    assert.ok(C.ANNOUNCE_BYTES_MIN_DEFAULT < C.EVENT_WIRE_BYTES_MAX)
  })
})

describe('pull answer byte budget', () => {
  it('holds one maximal event even at the frame floor, and grows with the frame', async () => {
    const { answerBytesMax } = await import('../../../src/net/protocols/pull.ts')
    const { FRAME_BYTES_MIN, EVENT_SIGNED_BYTES_MAX } = await import('../../../src/net/constants.ts')
    const { encodedEventBytes, SIGNATURE_BYTES } = await import('../../../src/wire/index.ts')
    const maximal = encodedEventBytes(EVENT_SIGNED_BYTES_MAX, SIGNATURE_BYTES)
    assert.ok(answerBytesMax(FRAME_BYTES_MIN) >= maximal)
    assert.ok(answerBytesMax(FRAME_BYTES_MIN) + 4096 <= FRAME_BYTES_MIN, 'one page of it fits one frame')
    assert.ok(answerBytesMax(4 << 20) < 4 << 20)
    assert.ok(answerBytesMax(4 << 20) > (4 << 20) - 64 * 1024)
  })
})
