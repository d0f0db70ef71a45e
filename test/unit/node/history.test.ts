/**
 * A target's history over HTTP (GET /state/:type/:id/history) on a real node: newest first,
 * every entry with its digest, paged with a bounded limit; a digest from it is a rollback's
 * `to_event`. Events' JSON (pull) carries the digest, and a pushed event that carries one is
 * accepted when it matches and refused when it does not. GET /audit?order=newest pages back
 * from the latest record. The console's static files are served without the token, with a
 * strict CSP, and nothing else is.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { HISTORY_LIMIT_MAX, HISTORY_PREVIEW_CHARS } from '../../../src/core/constants.ts'
import { type TestNode, testNode } from '../../helpers/node.ts'

const TOKEN = 'history-test-token'
const target = 'grace/hopper?#%'
const base = `/state/persona_update/${encodeURIComponent(target)}`

describe('target history, digests in JSON, audit newest first, console files', () => {
  let t: TestNode
  let other: TestNode
  const digests: string[] = []

  // biome-ignore lint/suspicious/noExplicitAny: JSON answers, asserted field by field
  async function get(path: string, node = t): Promise<{ status: number; body: any }> {
    const res = await fetch(`${node.url}${path}`, {
      headers: node === t ? { authorization: `Bearer ${TOKEN}` } : {},
    })
    return { status: res.status, body: await res.json() }
  }
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers
  async function post(path: string, body: unknown, node = t): Promise<{ status: number; body: any }> {
    const res = await fetch(`${node.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(node === t ? { authorization: `Bearer ${TOKEN}` } : {}),
      },
      body: JSON.stringify(body),
    })
    return { status: res.status, body: await res.json() }
  }

  before(async () => {
    t = await testNode({ env: { GKM_HTTP_TOKEN: TOKEN } })
    other = await testNode()
    for (const name of ['one', 'two', 'three', 'x'.repeat(500)]) {
      const r = await post('/sync/push', [
        { event_type: 'persona_update', target_id: target, payload: { op: 'set', fields: { name } } },
      ])
      assert.equal(r.status, 200)
      assert.equal(r.body.accepted, 1)
      digests.push(r.body.digests[0])
    }
  })
  after(async () => {
    await t?.close()
    await other?.close()
  })

  it('lists every event of the target newest first, each with its digest and a summary', async () => {
    const r = await get(`${base}/history`)
    assert.equal(r.status, 200)
    assert.equal(r.body.event_type, 'persona_update')
    assert.equal(r.body.target_id, target)
    assert.deepEqual(
      r.body.events.map((e: { digest: string }) => e.digest),
      [...digests].reverse(),
    )
    assert.equal(r.body.has_more, false)
    assert.equal(r.body.next_cursor, null)
    const [newest, , , oldest] = r.body.events
    assert.equal(oldest.op, 'set')
    assert.equal(oldest.payload_preview, '{"fields":{"name":"one"},"op":"set"}')
    assert.equal(oldest.payload_chars, oldest.payload_preview.length)
    assert.match(oldest.event_id, /^[0-9a-f-]{36}$/)
    assert.match(oldest.hlc, /^\d+:\d+$/)
    assert.equal(oldest.timestamp, new Date(Number(oldest.hlc.split(':')[0])).toISOString())
    assert.deepEqual(oldest.parents, [])
    assert.deepEqual(r.body.events[2].parents, [oldest.digest], 'each write names the head it saw')
    // a long payload is cut to the preview length, marked with an ellipsis
    assert.equal(newest.payload_preview.length, HISTORY_PREVIEW_CHARS + 1)
    assert.ok(newest.payload_preview.endsWith('…'))
    assert.ok(newest.payload_chars > 500)
  })

  it('pages with limit and next_cursor; every event comes exactly once', async () => {
    const seen: string[] = []
    let cursor: string | null = null
    for (let pages = 0; pages < 10; pages++) {
      const q: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`
      const r = await get(`${base}/history?limit=3${q}`)
      assert.equal(r.status, 200)
      seen.push(...r.body.events.map((e: { digest: string }) => e.digest))
      assert.equal(r.body.has_more, r.body.next_cursor !== null)
      cursor = r.body.next_cursor
      if (cursor === null) break
    }
    assert.deepEqual(seen, [...digests].reverse())
  })

  it('refuses a bad limit, a bad cursor, an unknown type; an unknown target has no events', async () => {
    const bad = [
      `${base}/history?limit=0`,
      `${base}/history?limit=${HISTORY_LIMIT_MAX + 1}`,
      `${base}/history?cursor=s.5`,
      `${base}/history?cursor=h.1.2`,
      '/state/cat_update/x/history',
    ]
    for (const path of bad) {
      const r = await get(path)
      assert.equal(r.status, 400, path)
      assert.equal(r.body.error, 'invalid_request', path)
    }
    assert.equal((await get(`${base}/history?limit=${HISTORY_LIMIT_MAX}`)).status, 200)
    const none = await get('/state/persona_update/nobody/history')
    assert.equal(none.status, 200)
    assert.deepEqual(none.body.events, [])
    assert.equal((await fetch(`${t.url}${base}/history`)).status, 401, 'the token is required')
  })

  it('a digest from the history is a rollback target', async () => {
    const { body } = await get(`${base}/history`)
    const oldest = body.events.at(-1)
    const r = await post('/sync/rollback', {
      event_type: 'persona_update',
      target_id: target,
      to_event: oldest.digest,
    })
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.match(r.body.event.digest, /^[0-9a-f]{64}$/)
    assert.equal((await get(base)).body.value.name, 'one')
    const after = await get(`${base}/history?limit=1`)
    assert.equal(after.body.events[0].op, 'rollback')
    assert.equal(after.body.events[0].digest, r.body.event.digest)
  })

  it('pulled events carry their digest; pushed with it they are accepted, with a wrong one refused', async () => {
    const pulled = await post('/sync/pull', { limit: 100 })
    assert.equal(pulled.status, 200)
    const events = pulled.body.events as Array<Record<string, unknown>>
    const mine = events.filter((e) => e.target_id === target)
    assert.deepEqual(
      mine.slice(0, 4).map((e) => e.digest),
      digests,
    )
    // Another node takes them as they are, digest and all.
    const copy = await post('/sync/push', mine, other)
    assert.equal(copy.status, 200)
    assert.equal(copy.body.accepted, mine.length, JSON.stringify(copy.body.rejected))
    assert.deepEqual(
      copy.body.digests,
      mine.map((e) => e.digest),
    )
    assert.equal((await post('/sync/push', mine, other)).body.duplicates, mine.length)

    const e = mine[0]
    const wrongDigest = { ...e, digest: 'ab'.repeat(32) }
    const notHex = { ...e, digest: 'nope' }
    const edited = { ...e, target_id: 'someone-else' } // digest and signature of the original
    const r = await post('/sync/push', [wrongDigest, notHex, edited], other)
    assert.equal(r.status, 200)
    assert.equal(r.body.accepted, 0)
    assert.deepEqual(
      r.body.rejected.map((x: { error: string }) => x.error),
      ['malformed', 'malformed', 'bad_signature'],
    )
    assert.match(r.body.rejected[0].message, /digest .* does not match/)
  })

  it('GET /audit?order=newest pages back from the latest record', async () => {
    const all = (await get('/audit?limit=1000')).body.records as Array<{ seq: number }>
    const last = all.at(-1)!.seq
    const newest = await get('/audit?order=newest&limit=2')
    assert.equal(newest.status, 200)
    assert.deepEqual(
      newest.body.records.map((r: { seq: number }) => r.seq),
      [last, last - 1],
    )
    const older = await get(`/audit?order=newest&limit=2&before=${last - 1}`)
    assert.deepEqual(
      older.body.records.map((r: { seq: number }) => r.seq),
      [last - 2, last - 3],
    )
    for (const q of ['order=sideways', 'order=newest&after=3', 'before=3']) {
      const r = await get(`/audit?${q}`)
      assert.equal(r.status, 400, q)
    }
  })

  it('serves the console files without the token, under a strict CSP; data still needs the token', async () => {
    for (const [path, type] of [
      ['/', /^text\/html/],
      ...['app', 'api', 'dom', 'overview', 'conflicts', 'history'].map(
        (m) => [`/console/${m}.js`, /^text\/javascript/] as const,
      ),
      ['/console/app.css', /^text\/css/],
    ] as const) {
      const res = await fetch(`${t.url}${path}`)
      assert.equal(res.status, 200, path)
      assert.match(res.headers.get('content-type') ?? '', type)
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'.*script-src 'self'/)
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
      await res.arrayBuffer()
    }
    for (const path of ['/status', '/console/other.js', '/console/', '/sync/conflicts']) {
      const res = await fetch(`${t.url}${path}`)
      assert.equal(res.status, 401, path)
      await res.arrayBuffer()
    }
    const html = await (await fetch(`${t.url}/`)).text()
    assert.doesNotMatch(html, /<script>|\son\w+=|style=/i, 'no inline script, handler or style')
  })
})
