/** The push answer says which HLC each accepted event got and returns the client's `timestamp`
 *  as sent (the node's HLC, not the client's time, orders local writes: README "Which write wins"). */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { parseHlc } from '../../../src/core/hlc.ts'
import { postJson, type TestNode, testNode } from '../../helpers/node.ts'

describe('push answer', () => {
  let t: TestNode
  before(async () => {
    t = await testNode()
  })
  after(async () => {
    await t?.close()
  })

  it('lists each accepted event with its index, HLC, timestamp and the client timestamp as sent', async () => {
    const sent = '2020-02-02T10:00:00+01:00'
    const before = Date.now()
    const r = await postJson(`${t.url}/sync/push`, [
      {
        event_type: 'persona_update',
        target_id: 'a',
        timestamp: sent,
        payload: { op: 'set', fields: { x: 1 } },
      },
      { event_type: 'cat_update', target_id: 'x', payload: {} },
      { event_type: 'persona_update', target_id: 'b', payload: { op: 'set', fields: { x: 2 } } },
    ])
    assert.equal(r.status, 200)
    assert.equal(r.body.accepted, 2)
    const events = r.body.events as Array<Record<string, unknown>>
    assert.deepEqual(
      events.map((e) => [e.index, e.client_timestamp]),
      [
        [0, sent],
        [2, null],
      ],
    )
    assert.deepEqual(
      events.map((e) => e.digest),
      r.body.digests,
    )
    for (const e of events) {
      const hlc = parseHlc(e.hlc as string)
      assert.ok(hlc !== undefined && hlc.wallMs >= before, `the node's clock stamped ${e.hlc}`)
      assert.equal(e.timestamp, new Date(hlc.wallMs).toISOString())
      assert.match(e.event_id as string, /^[0-9a-f-]{36}$/)
    }
    // The stored event carries the node's HLC time.
    const page = await postJson(`${t.url}/sync/pull`, { data_types: ['persona'] })
    const stored = page.body.events.find((e: { target_id: string }) => e.target_id === 'a')
    assert.equal(stored.timestamp, events[0].timestamp)
  })
})
