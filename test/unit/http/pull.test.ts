import assert from 'node:assert/strict'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { InvalidRequestError } from '../../../src/core/errors.ts'
import { createHttpApi, type HttpApi } from '../../../src/http/index.ts'
import { eventToJson, FakeApi, makeEvents, recordingLog } from './fake-api.ts'

let api: FakeApi
let http: HttpApi
let url: string
const log = recordingLog()

before(async () => {
  api = new FakeApi()
  http = createHttpApi(api, { host: '127.0.0.1', port: 0, bodyBytesMax: 1024 * 1024, log })
  const a = await http.listen()
  url = `http://${a.host}:${a.port}/sync/pull`
})
after(async () => {
  await http.close()
})

function pull(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
}

function lines(text: string): unknown[] {
  assert.ok(text.endsWith('\n'), 'NDJSON ends with a newline')
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l))
}

describe('batch mode', () => {
  it('answers a page of events in JSON form', async () => {
    api.events = makeEvents(5)
    const res = await pull({ limit: 2 })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /application\/json/)
    const body = (await res.json()) as { events: unknown[]; next_cursor: string; has_more: boolean }
    assert.deepEqual(body, {
      events: api.events.slice(0, 2).map(eventToJson),
      next_cursor: 's.2',
      has_more: true,
    })
    assert.deepEqual(api.callsTo('pull').at(-1)!.args, [{ limit: 2 }, { kind: 'http', id: '127.0.0.1' }])
  })

  it('passes every field through, normalising short type names', async () => {
    await (
      await pull({
        last_sync_time: '2026-01-01T00:00:00.000+02:00',
        data_types: ['vector', 'graph_update'],
        cursor: 's.1',
        limit: 10,
      })
    ).json()
    assert.deepEqual(api.callsTo('pull').at(-1)!.args[0], {
      last_sync_time: '2026-01-01T00:00:00.000+02:00',
      data_types: ['vector_update', 'graph_update'],
      cursor: 's.1',
      limit: 10,
    })
  })

  it('an empty body (no Content-Type) pulls from the start', async () => {
    const res = await fetch(url, { method: 'POST' })
    assert.equal(res.status, 200)
    assert.deepEqual(api.callsTo('pull').at(-1)!.args[0], {})
  })

  const invalid: Array<[string, unknown, RegExp]> = [
    [
      'last_sync_time not ISO',
      { last_sync_time: 'yesterday' },
      /^last_sync_time must be an ISO 8601 date-time/,
    ],
    [
      'last_sync_time without zone',
      { last_sync_time: '2026-01-01T00:00:00' },
      /^last_sync_time must be an ISO 8601/,
    ],
    [
      'last_sync_time impossible date',
      { last_sync_time: '2026-02-30T00:00:00Z' },
      /^last_sync_time must be an ISO 8601/,
    ],
    ['data_types not an array', { data_types: 'vector' }, /^data_types must be a non-empty array/],
    ['data_types empty', { data_types: [] }, /^data_types must be a non-empty array/],
    [
      'data_types unknown',
      { data_types: ['vector', 'edges'] },
      /^data_types\[1\] must be one of .*\(got "edges"\)/,
    ],
    ['limit zero', { limit: 0 }, /^limit must be an integer 1\.\.5000 \(got 0\)/],
    ['limit too large', { limit: 5001 }, /^limit must be an integer 1\.\.5000/],
    ['limit fractional', { limit: 1.5 }, /^limit must be an integer/],
    ['limit as text', { limit: '10' }, /^limit must be an integer .*\(got "10"\)/],
    ['cursor not text', { cursor: 5 }, /^cursor must be the next_cursor string/],
    ['stream not boolean', { stream: 'yes' }, /^stream must be true or false/],
    ['unknown field', { last_sync_tme: '2026-01-01T00:00:00Z' }, /unknown field "last_sync_tme"/],
    ['not an object', [1], /pull body must be a JSON object/],
  ]
  for (const [name, body, re] of invalid) {
    it(`400 for ${name}`, async () => {
      const before = api.callsTo('pull').length
      const res = await pull(body)
      const answer = (await res.json()) as { error: string; message: string }
      assert.equal(res.status, 400)
      assert.equal(answer.error, 'invalid_request')
      assert.match(answer.message, re)
      assert.equal(api.callsTo('pull').length, before, 'the API is not called')
    })
  }

  it('an InvalidRequestError from the API (a foreign cursor) is a 400', async () => {
    api.failures.set('pull', { error: new InvalidRequestError('cursor is not a cursor this node issued') })
    try {
      const res = await pull({ cursor: 'zzz' })
      assert.equal(res.status, 400)
      assert.deepEqual(await res.json(), {
        error: 'invalid_request',
        message: 'cursor is not a cursor this node issued',
      })
    } finally {
      api.failures.delete('pull')
    }
  })
})

describe('streaming mode (NDJSON)', () => {
  it('with Accept: application/x-ndjson, pages until has_more is false and ends with done', async () => {
    api.events = makeEvents(7)
    const before = api.callsTo('pull').length
    const res = await pull({ limit: 3 }, { accept: 'application/x-ndjson' })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/)
    const got = lines(await res.text())
    assert.deepEqual(got, [...api.events.map(eventToJson), { next_cursor: 's.7', done: true }])
    const cursors = api
      .callsTo('pull')
      .slice(before)
      .map((c) => (c.args[0] as { cursor?: string }).cursor)
    assert.deepEqual(cursors, [undefined, 's.3', 's.6'])
  })

  it('with "stream": true', async () => {
    api.events = makeEvents(2)
    const res = await pull({ stream: true })
    assert.deepEqual(lines(await res.text()), [
      ...api.events.map(eventToJson),
      { next_cursor: 's.2', done: true },
    ])
  })

  it('an empty log gives only the done line', async () => {
    api.events = []
    const res = await pull({ stream: true })
    assert.deepEqual(lines(await res.text()), [{ next_cursor: 's.0', done: true }])
  })

  it('a bad request is still a 400 before streaming starts', async () => {
    const res = await pull({ stream: true, limit: -1 })
    assert.equal(res.status, 400)
    await res.body?.cancel()
    api.failures.set('pull', { error: new InvalidRequestError('cursor is not a cursor this node issued') })
    try {
      const res2 = await pull({ stream: true, cursor: 'x' })
      assert.equal(res2.status, 400)
      await res2.body?.cancel()
    } finally {
      api.failures.delete('pull')
    }
  })

  it('an error after the first page ends the stream with an error line and the cursor to resume from', async () => {
    api.events = makeEvents(5)
    api.failures.set('pull', { error: new Error('store exploded'), cursor: 's.4' })
    try {
      const res = await pull({ stream: true, limit: 2 })
      assert.equal(res.status, 200)
      const got = lines(await res.text())
      assert.deepEqual(got.slice(0, 4), api.events.slice(0, 4).map(eventToJson))
      assert.deepEqual(got[4], {
        error: 'internal',
        message: 'the node failed to handle the request; see its log',
        next_cursor: 's.4',
        done: false,
      })
      assert.equal(got.length, 5)
      assert.match(log.entries.at(-1)!.message, /pull stream failed/)
    } finally {
      api.failures.delete('pull')
    }
  })

  it('waits for a slow client (back-pressure) and stops paging when it disconnects', async () => {
    api.events = makeEvents(1)
    api.endless = true
    try {
      const before = api.callsTo('pull').length
      // A client of its own (no connection pool), that reads one chunk and then stops reading.
      const u = new URL(url)
      const req = httpRequest({
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json' },
      })
      req.end(JSON.stringify({ stream: true, limit: 100 }))
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        req.on('response', resolve)
        req.on('error', reject)
      })
      assert.equal(res.statusCode, 200)
      res.on('error', () => {})
      await new Promise((resolve) => res.once('data', resolve))
      res.pause()
      // The client reads nothing more: the server fills the socket and then waits.
      await waitFor(() => stable(api.callsTo('pull').length))
      const paused = api.callsTo('pull').length - before
      assert.ok(paused < 2000, `paging paused while the client did not read (${paused} pages)`)
      req.destroy()
      await waitFor(() => stable(api.callsTo('pull').length))
      const settled = api.callsTo('pull').length
      await new Promise((r) => setTimeout(r, 100))
      assert.equal(api.callsTo('pull').length, settled, 'no pulls after the client went away')
    } finally {
      api.endless = false
    }
  })
})

let last = -1
let lastChange = 0
/** True once a counter has not moved for 200 ms. */
function stable(n: number): boolean {
  const now = Date.now()
  if (n !== last) {
    last = n
    lastChange = now
    return false
  }
  return now - lastChange >= 200
}

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}
