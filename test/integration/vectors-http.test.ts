/**
 * Vectors through HTTP against a real node (LevelDB): pushed as numbers or as base64 float32,
 * stored as float32, read back as short decimals or base64, also after a restart; 4,096
 * dimensions are accepted (issue 12: binary vectors).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { float32ToBase64 } from '../../src/core/event-codec.ts'
import { prng } from '../helpers/crash.ts'
import { postJson, type TestNode, testNode } from '../helpers/node.ts'

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
type Json = any

async function getJson(url: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(url)
  return { status: res.status, body: await res.json() }
}

const upsert = (target: string, values: unknown) => ({
  event_type: 'vector_update',
  target_id: target,
  payload: { op: 'upsert', values, metadata: { source: 'test' } },
})

describe('vectors over HTTP', () => {
  let t: TestNode
  before(async () => {
    t = await testNode()
  })
  after(async () => {
    await t.close()
  })

  it('numbers read back as the shortest decimals of their float32, base64 on request', async () => {
    const pushed = await postJson(`${t.url}/sync/push`, [upsert('v-short', [0.1, -2.5, 1 / 3])])
    assert.equal(pushed.body.accepted, 1, JSON.stringify(pushed.body))
    const state = await getJson(`${t.url}/state/vector/v-short`)
    assert.equal(state.status, 200)
    assert.deepEqual(state.body.value.values, [0.1, -2.5, 0.33333334])
    assert.deepEqual(state.body.value.metadata, { source: 'test' })
    const b64 = await getJson(`${t.url}/state/vector/v-short?vectors=base64`)
    assert.equal(b64.body.value.values, float32ToBase64([0.1, -2.5, 1 / 3].map(Math.fround)))
    assert.equal(b64.body.hash, state.body.hash, 'the form of the answer does not change the state')
    const bad = await getJson(`${t.url}/state/vector/v-short?vectors=hex`)
    assert.equal(bad.status, 400)
    assert.match(bad.body.message, /vectors must be numbers .* or base64/)
  })

  it('base64 float32 in, the same state as the numbers; 4,096 dimensions accepted', async () => {
    const rnd = prng(12)
    const values = Array.from({ length: 4096 }, () => Math.fround(rnd() * 2 - 1))
    const a = await postJson(`${t.url}/sync/push`, [upsert('v-b64', float32ToBase64(values))])
    assert.equal(a.body.accepted, 1, JSON.stringify(a.body).slice(0, 300))
    const back = await getJson(`${t.url}/state/vector/v-b64?vectors=base64`)
    assert.equal(back.body.value.values, float32ToBase64(values))
    const numbers = await getJson(`${t.url}/state/vector/v-b64`)
    assert.deepEqual(numbers.body.value.values.map(Math.fround), values)

    const tooMany = await postJson(`${t.url}/sync/push`, [upsert('v-big', new Array(4097).fill(0.5))])
    assert.equal(tooMany.body.accepted, 0, JSON.stringify(tooMany.body).slice(0, 300))
    assert.match(tooMany.body.rejected[0].message, /1\.\.4096/)
    const notF32 = await postJson(`${t.url}/sync/push`, [upsert('v-big', 'AAAAAAA=')])
    assert.equal(notF32.body.accepted, 0)
    assert.match(notF32.body.rejected[0].message, /base64 of little-endian float32/)
  })

  it('the pulled event carries the float32 values and the state survives a restart', async () => {
    const pulled = await postJson(`${t.url}/sync/pull`, { data_types: ['vector'], limit: 100 })
    assert.equal(pulled.status, 200)
    const ev = pulled.body.events.find((e: Json) => e.target_id === 'v-short')
    assert.deepEqual(ev.payload.values, [0.1, -2.5, 1 / 3].map(Math.fround))
    const before = await getJson(`${t.url}/state/vector/v-b64?vectors=base64`)
    await t.restart()
    const afterRestart = await getJson(`${t.url}/state/vector/v-b64?vectors=base64`)
    assert.deepEqual(afterRestart.body, before.body)
  })
})
