/**
 * Bad input through HTTP against a real node (LevelDB): each case is a defect a hostile-client
 * probe found (issue 9). Refused input gets a named 400 or a named per-event rejection; what is
 * acknowledged is stored as sent and reads back the same, also after a restart and a rebuild.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { eventToJson } from '../../src/core/event.ts'
import { makeEvent, testSigner } from '../helpers/events.ts'
import { postJson, type TestNode, testNode } from '../helpers/node.ts'

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
type Json = any

async function getJson(url: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(url)
  return { status: res.status, body: await res.json() }
}

async function postRaw(url: string, body: string | Uint8Array): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  return { status: res.status, body: await res.json() }
}

const persona = (target: string, fields: Json) => ({
  event_type: 'persona_update',
  target_id: target,
  payload: { op: 'set', fields },
})

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth)
}

describe('input safety (issue 9)', () => {
  let t: TestNode
  before(async () => {
    t = await testNode()
  })
  after(async () => {
    await t.close()
  })

  it('a lone surrogate is refused by name and fails no other push (20 concurrent, 1 bad)', async () => {
    const bodies = Array.from({ length: 20 }, (_, i) =>
      i === 7
        ? [persona('surrogate', { name: 'ok', bad: 'x\ud800y' })]
        : [persona(`neighbour-${i}`, { n: i })],
    )
    const answers = await Promise.all(bodies.map((b) => postJson(`${t.url}/sync/push`, b)))
    for (const [i, a] of answers.entries()) {
      assert.equal(a.status, 200, `push ${i}: ${JSON.stringify(a.body)}`)
      if (i === 7) {
        assert.equal(a.body.accepted, 0)
        assert.equal(a.body.rejected[0].error, 'invalid_payload')
        assert.match(a.body.rejected[0].message, /fields\.bad holds a lone surrogate/)
      } else assert.equal(a.body.accepted, 1, `push ${i}`)
    }
    // In a field name too, and in a signed event's payload.
    const name = await postJson(`${t.url}/sync/push`, [persona('surrogate', { '\udc00': 1 })])
    assert.equal(name.body.rejected[0].error, 'invalid_payload')
    assert.match(name.body.rejected[0].message, /name of a field in fields/)
    for (let i = 0; i < 20; i++) {
      if (i === 7) continue
      assert.equal((await getJson(`${t.url}/state/persona/neighbour-${i}`)).body.value.n, i)
    }
    assert.equal((await getJson(`${t.url}/state/persona/surrogate`)).status, 404)
  })

  it('an event_id with a lone surrogate is refused and fails no neighbour (its audit record too)', async () => {
    // Found by test/fuzz: the refused id went into the push's audit record, which had no
    // canonical JSON form, so the whole group's durable write failed (500 for every request).
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        postJson(`${t.url}/sync/push`, [
          i === 3
            ? { ...persona(`audit-${i}`, { n: i }), event_id: `${'a'.repeat(63)}\ud83d\ude00` }
            : persona(`audit-${i}`, { n: i }),
        ]),
      ),
    )
    for (const [i, a] of answers.entries()) {
      assert.equal(a.status, 200, `push ${i}: ${JSON.stringify(a.body)}`)
      assert.equal(a.body.accepted, i === 3 ? 0 : 1)
    }
    assert.equal(answers[3].body.rejected[0].error, 'malformed')
    assert.ok(answers[3].body.rejected[0].event_id.isWellFormed())
  })

  it('an empty time-mode pull does not rewind the cursor', async () => {
    await postJson(`${t.url}/sync/push`, [persona('cursor', { a: 1 })])
    const future = await postJson(`${t.url}/sync/pull`, { last_sync_time: '2999-01-01T00:00:00.000Z' })
    assert.equal(future.status, 200)
    assert.deepEqual(future.body.events, [])
    const wall = Number.parseInt(future.body.next_cursor.slice(2, 14), 16)
    assert.equal(wall, Date.parse('2999-01-01T00:00:00.000Z'), future.body.next_cursor)
    // The cursor pulls nothing old, and still finds what is at or after the asked time.
    const again = await postJson(`${t.url}/sync/pull`, { cursor: future.body.next_cursor })
    assert.deepEqual(again.body.events, [])
    const now = await postJson(`${t.url}/sync/pull`, {
      last_sync_time: new Date(Date.now() - 60_000).toISOString(),
    })
    assert.ok(now.body.events.length >= 1)
    const empty = await postJson(`${t.url}/sync/pull`, {
      last_sync_time: new Date(Date.now() + 3_600_000).toISOString(),
    })
    const later = await postJson(`${t.url}/sync/pull`, { cursor: empty.body.next_cursor })
    assert.deepEqual(later.body.events, [], 'no event from before the asked time')
  })

  it('"__proto__" and "constructor" as persona fields and edge properties are stored as acknowledged', async () => {
    const fields = JSON.parse('{"__proto__":{"x":1},"constructor":"c","prototype":[1],"toString":2}')
    const props = JSON.parse('{"__proto__":"p","constructor":{"y":2}}')
    // JSON.parse made "__proto__" an own property, so JSON.stringify sends it.
    const body = JSON.stringify([
      { event_type: 'persona', target_id: 'proto', payload: { op: 'set', fields } },
      {
        event_type: 'graph',
        target_id: 'proto-graph',
        payload: { op: 'add_edge', from: 'a', label: 'knows', to: 'b', properties: props },
      },
    ])
    assert.match(body, /"__proto__":\{"x":1\}/)
    const push = await postRaw(`${t.url}/sync/push`, body)
    assert.equal(push.status, 200)
    assert.equal(push.body.accepted, 2, JSON.stringify(push.body))
    const check = async (when: string) => {
      const p = await fetch(`${t.url}/state/persona/proto`).then((r) => r.text())
      const value = JSON.parse(p).value
      assert.deepEqual(Object.keys(value).sort(), ['__proto__', 'constructor', 'prototype', 'toString'], when)
      assert.deepEqual(Object.getOwnPropertyDescriptor(value, '__proto__')?.value, { x: 1 }, when)
      assert.equal(value.constructor, 'c', when)
      const g = JSON.parse(await fetch(`${t.url}/state/graph/proto-graph`).then((r) => r.text())).value
      const edgeProps = g.edges[0].properties
      assert.deepEqual(Object.keys(edgeProps).sort(), ['__proto__', 'constructor'], when)
      assert.equal(Object.getOwnPropertyDescriptor(edgeProps, '__proto__')?.value, 'p', when)
      assert.deepEqual(edgeProps.constructor, { y: 2 }, when)
    }
    await check('after the push')
    await t.restart()
    await check('after a restart')
    await t.restart({ rebuild: true })
    await check('after a rebuild')
  })

  it('one rule for target ids: control characters refused at push, GET /state and rollback', async () => {
    for (const bad of [
      'a\u0000b',
      'a\nb',
      'a\u001bb',
      'a\u007fb',
      'a\u0085b',
      'a\u202eb',
      'a\u2028b',
      'a\ud800b',
    ]) {
      const push = await postJson(`${t.url}/sync/push`, [persona(bad, { a: 1 })])
      assert.equal(push.status, 200)
      assert.equal(push.body.accepted, 0, JSON.stringify(bad))
      assert.equal(push.body.rejected[0].error, 'malformed')
      assert.match(push.body.rejected[0].message, /^target_id must/)
      const state = await getJson(
        `${t.url}/state/persona/${encodeURIComponent(bad.isWellFormed() ? bad : 'a\ufffdb')}`,
      )
      if (bad.isWellFormed()) {
        assert.equal(state.status, 400)
        assert.match(state.body.message, /^target_id must/)
      }
      const rb = await postJson(`${t.url}/sync/rollback`, {
        event_type: 'persona',
        target_id: bad,
        to_time: '2026-01-01T00:00:00Z',
      })
      assert.equal(rb.status, 400)
      assert.match(rb.body.message, /^target_id must/)
    }
    // A signed event (a peer's) with such an id is refused the same way.
    const signed = eventToJson(
      makeEvent(testSigner(41), { target: 'x\u0085y', hlc: { wallMs: Date.now(), counter: 0 } }),
    )
    const push = await postJson(`${t.url}/sync/push`, [signed])
    assert.equal(push.body.rejected[0].error, 'malformed')
    assert.match(push.body.rejected[0].message, /^target_id must/)
  })

  it('invalid UTF-8 in a JSON body is refused, not turned into U+FFFD', async () => {
    const bytes = Buffer.concat([
      Buffer.from('[{"event_type":"persona_update","target_id":"utf'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('","payload":{"op":"set","fields":{"a":1}}}]'),
    ])
    const res = await postRaw(`${t.url}/sync/push`, bytes)
    assert.equal(res.status, 400)
    assert.equal(res.body.error, 'invalid_request')
    assert.match(res.body.message, /not valid UTF-8 \(at byte 48\)/)
    assert.equal((await getJson(`${t.url}/state/persona/utf\ufffd\ufffd`)).status, 404)
  })

  it('resolve-conflict: deep values are a 400 at any depth; value with deleted is refused', async () => {
    const wallMs = Date.now()
    const sides = [testSigner(51), testSigner(52)].map((s, i) =>
      eventToJson(
        makeEvent(s, {
          target: 'deep',
          payload: { op: 'set', fields: { name: `side${i}` } },
          hlc: { wallMs, counter: i },
        }),
      ),
    )
    assert.equal((await postJson(`${t.url}/sync/push`, sides)).body.accepted, 2)
    const conflicts = await getJson(`${t.url}/sync/conflicts`)
    const id = conflicts.body.conflicts.find((c: Json) => c.target === 'deep').id
    const resolve = (value: string, extra = '') =>
      postRaw(
        `${t.url}/sync/resolve-conflict`,
        `{"conflictId":"${id}","resolutionStrategy":"manual_merge","value":${value}${extra}}`,
      )
    for (const depth of [30, 40, 10_000, 200_000]) {
      const res = await resolve(nested(depth))
      assert.equal(res.status, 400, `depth ${depth}: ${JSON.stringify(res.body)}`)
      assert.equal(res.body.error, 'invalid_request')
      assert.match(res.body.message, /nested deeper than/)
    }
    const both = await resolve('"Ada"', ',"deleted":true')
    assert.equal(both.status, 400)
    assert.match(both.body.message, /either value .* or deleted: true/)
    // The same rules hold for the mesh's resolve protocol, which calls the node directly.
    await assert.rejects(
      t.node.api.resolveConflict(
        { conflictId: id, resolutionStrategy: 'manual_merge', value: JSON.parse(nested(100)) },
        { kind: 'peer', id: 'test' },
      ),
      { name: 'InvalidResolutionError', message: /value: nested deeper than 29/ },
    )
    await assert.rejects(
      t.node.api.resolveConflict(
        { conflictId: id, resolutionStrategy: 'manual_merge', value: 'Ada', deleted: true },
        { kind: 'peer', id: 'test' },
      ),
      { name: 'InvalidResolutionError' },
    )
    const ok = await resolve(nested(29))
    assert.equal(ok.status, 200, JSON.stringify(ok.body))
  })

  it('rollback to before the target existed is 400 invalid_rollback and changes nothing', async () => {
    await postJson(`${t.url}/sync/push`, [persona('young', { a: 1, b: 2 })])
    const res = await postJson(`${t.url}/sync/rollback`, {
      event_type: 'persona',
      target_id: 'young',
      to_time: '2001-01-01T00:00:00Z',
    })
    assert.equal(res.status, 400)
    assert.equal(res.body.error, 'invalid_rollback')
    assert.deepEqual((await getJson(`${t.url}/state/persona/young`)).body.value, { a: 1, b: 2 })
  })

  it('push takes the short type names the docs promise', async () => {
    const events = [
      { event_type: 'vector', target_id: 'v', payload: { op: 'upsert', values: [1, 2] } },
      persona('short', { a: 1 }),
      { event_type: 'document', target_id: 'd', payload: { op: 'put', content: 'hi' } },
      { event_type: 'graph', target_id: 'g', payload: { op: 'add_edge', from: 'a', label: 'l', to: 'b' } },
    ]
    events[1].event_type = 'persona'
    const res = await postJson(`${t.url}/sync/push`, events)
    assert.equal(res.body.accepted, 4, JSON.stringify(res.body))
    assert.equal((await getJson(`${t.url}/state/vector_update/v`)).body.event_type, 'vector_update')
    assert.equal((await getJson(`${t.url}/state/document/d`)).body.value.content, 'hi')
  })
})
