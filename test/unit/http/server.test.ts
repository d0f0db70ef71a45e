import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { PUSH_EVENTS_MAX } from '../../../src/core/constants.ts'
import {
  ConflictNotFoundError,
  InvalidRequestError,
  InvalidResolutionError,
  InvalidRollbackError,
  MalformedEventError,
} from '../../../src/core/errors.ts'
import { createHttpApi, type HttpApi, type HttpApiInit } from '../../../src/http/index.ts'
import { CONFLICT, eventToJson, FakeApi, recordingLog } from './fake-api.ts'

const TOKEN = 'test-token-0123456789abcdef'

interface Server {
  api: FakeApi
  http: HttpApi
  url: string
  log: ReturnType<typeof recordingLog>
}

async function start(init: Partial<HttpApiInit> = {}): Promise<Server> {
  const api = new FakeApi()
  const log = recordingLog()
  const http = createHttpApi(api, { host: '127.0.0.1', port: 0, bodyBytesMax: 64 * 1024, log, ...init })
  const { host, port } = await http.listen()
  return { api, http, url: `http://${host}:${port}`, log }
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

async function expectError(res: Response, status: number, error: string, message?: RegExp): Promise<void> {
  const body = (await res.json()) as { error: string; message: string }
  assert.equal(res.status, status, JSON.stringify(body))
  assert.equal(body.error, error)
  assert.equal(typeof body.message, 'string')
  assert.ok(body.message.length > 0)
  assert.deepEqual(Object.keys(body).sort(), ['error', 'message'])
  if (message !== undefined) assert.match(body.message, message)
}

describe('HTTP API without a token', () => {
  let s: Server
  before(async () => {
    s = await start()
  })
  after(async () => {
    await s.http.close()
  })

  it('GET /health', async () => {
    const res = await fetch(`${s.url}/health`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { ok: true })
  })

  it('unknown route: 404 in the error format', async () => {
    await expectError(await fetch(`${s.url}/nope?x=1`), 404, 'not_found', /no route GET \/nope$/)
  })

  describe('POST /sync/push', () => {
    it('passes an array through with the client address as origin', async () => {
      const events = [
        { event_type: 'persona_update', target_id: 'p', payload: { op: 'set', fields: { a: 1 } } },
      ]
      const res = await post(`${s.url}/sync/push`, events)
      assert.equal(res.status, 200)
      const body = (await res.json()) as { accepted: number; rejected: unknown[] }
      assert.equal(body.accepted, 1)
      assert.deepEqual(body.rejected, [])
      const call = s.api.callsTo('push').at(-1)!
      assert.deepEqual(call.args[0], events)
      assert.deepEqual(call.args[1], { kind: 'http', id: '127.0.0.1' })
    })

    it('accepts { events: [...] }', async () => {
      const res = await post(`${s.url}/sync/push`, { events: [{ a: 1 }, { b: 2 }] })
      assert.equal(res.status, 200)
      assert.equal(((await res.json()) as { accepted: number }).accepted, 2)
    })

    it('refuses a body that is not an array', async () => {
      await expectError(
        await post(`${s.url}/sync/push`, { event: [] }),
        400,
        'invalid_request',
        /JSON array of events/,
      )
      await expectError(
        await post(`${s.url}/sync/push`, 'null'),
        400,
        'invalid_request',
        /JSON array of events/,
      )
      await expectError(
        await post(`${s.url}/sync/push`, '"x"'),
        400,
        'invalid_request',
        /JSON array of events/,
      )
    })

    it('refuses JSON that does not parse, saying so', async () => {
      await expectError(await post(`${s.url}/sync/push`, '[{"a":'), 400, 'invalid_request', /not valid JSON/)
    })

    it('refuses more than PUSH_EVENTS_MAX events with 413', async () => {
      const before = s.api.callsTo('push').length
      const res = await post(
        `${s.url}/sync/push`,
        Array.from({ length: PUSH_EVENTS_MAX + 1 }, () => 0),
      )
      await expectError(
        res,
        413,
        'too_many_events',
        new RegExp(`at most ${PUSH_EVENTS_MAX} events per push, got ${PUSH_EVENTS_MAX + 1}`),
      )
      assert.equal(s.api.callsTo('push').length, before)
    })

    it('refuses a body larger than bodyBytesMax with 413 before calling the API', async () => {
      const before = s.api.callsTo('push').length
      const res = await post(`${s.url}/sync/push`, JSON.stringify(['x'.repeat(70 * 1024)]))
      await expectError(res, 413, 'body_too_large', /larger than 65536 bytes/)
      assert.equal(s.api.callsTo('push').length, before)
    })

    it('refuses a chunked body that grows past bodyBytesMax', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const u = new URL(`${s.url}/sync/push`)
        const req = httpRequest(
          {
            host: u.hostname,
            port: u.port,
            path: u.pathname,
            method: 'POST',
            headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
          },
          (res) => {
            res.resume()
            resolve(res.statusCode ?? 0)
          },
        )
        req.on('error', reject)
        req.write('["')
        for (let i = 0; i < 80; i++) req.write('x'.repeat(1024))
        req.end('"]')
      })
      assert.equal(status, 413)
    })

    it('refuses a body that is not JSON with 415', async () => {
      const res = await fetch(`${s.url}/sync/push`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '[]',
      })
      await expectError(res, 415, 'unsupported_media_type', /application\/json.*text\/plain/)
      const res2 = await fetch(`${s.url}/sync/push`, { method: 'POST', body: new Uint8Array([0x5b, 0x5d]) })
      await expectError(res2, 415, 'unsupported_media_type')
    })

    it('accepts application/json with a charset', async () => {
      const res = await post(`${s.url}/sync/push`, '[]', {
        'content-type': 'application/json; charset=utf-8',
      })
      assert.equal(res.status, 200)
    })

    it('answers a core EventRejectedError escaping push as 400 with its code', async () => {
      s.api.failures.set('push', { error: new MalformedEventError('event must be a JSON object') })
      try {
        await expectError(
          await post(`${s.url}/sync/push`, [1]),
          400,
          'malformed',
          /^event must be a JSON object$/,
        )
      } finally {
        s.api.failures.delete('push')
      }
    })

    it('answers an unexpected error as 500 with a generic message, and logs it', async () => {
      s.api.failures.set('push', { error: new Error('disk on fire at /secret/path') })
      try {
        const res = await post(`${s.url}/sync/push`, [])
        await expectError(res, 500, 'internal', /failed to handle the request/)
        const entry = s.log.entries.at(-1)!
        assert.equal(entry.level, 'error')
        assert.match(entry.message, /POST \/sync\/push failed/)
        assert.match(String((entry.fields?.err as Error | undefined)?.message), /disk on fire/)
      } finally {
        s.api.failures.delete('push')
      }
    })

    it('answers the node being busy as 503 with Retry-After', async () => {
      const busy = Object.assign(new Error('queue full'), { name: 'IngestBusyError', code: 'busy' })
      s.api.failures.set('push', { error: busy })
      try {
        const res = await post(`${s.url}/sync/push`, [])
        assert.equal(res.headers.get('retry-after'), '1')
        await expectError(res, 503, 'busy', /busy/)
      } finally {
        s.api.failures.delete('push')
      }
    })
  })

  describe('POST /sync/resolve-conflict', () => {
    const id = 'c'.repeat(64)

    it('passes a valid request through', async () => {
      const res = await post(`${s.url}/sync/resolve-conflict`, {
        conflictId: id,
        resolutionStrategy: 'manual_merge',
        value: { a: [1] },
      })
      assert.equal(res.status, 200)
      const body = (await res.json()) as {
        conflict_id: string
        strategy: string
        event: { event_id: string }
      }
      assert.equal(body.conflict_id, id)
      assert.equal(body.event.event_id, s.api.events[0].eventId)
      assert.deepEqual(s.api.callsTo('resolveConflict').at(-1)!.args[0], {
        conflictId: id,
        resolutionStrategy: 'manual_merge',
        value: { a: [1] },
      })
    })

    it('keeps value: null and deleted', async () => {
      await post(`${s.url}/sync/resolve-conflict`, {
        conflictId: id,
        resolutionStrategy: 'manual_merge',
        value: null,
        deleted: false,
      })
      assert.deepEqual(s.api.callsTo('resolveConflict').at(-1)!.args[0], {
        conflictId: id,
        resolutionStrategy: 'manual_merge',
        value: null,
        deleted: false,
      })
    })

    it('names the bad field', async () => {
      await expectError(
        await post(`${s.url}/sync/resolve-conflict`, { conflictId: 'x', resolutionStrategy: 'prefer_local' }),
        400,
        'invalid_request',
        /^conflictId must be/,
      )
      await expectError(
        await post(`${s.url}/sync/resolve-conflict`, { conflictId: id, resolutionStrategy: 'newest' }),
        400,
        'invalid_request',
        /^resolutionStrategy must be one of prefer_local, prefer_remote, manual_merge \(got "newest"\)/,
      )
      await expectError(
        await post(`${s.url}/sync/resolve-conflict`, {
          conflictId: id,
          resolutionStrategy: 'prefer_local',
          extra: 1,
        }),
        400,
        'invalid_request',
        /unknown field "extra"/,
      )
      await expectError(
        await post(`${s.url}/sync/resolve-conflict`, [1]),
        400,
        'invalid_request',
        /must be a JSON object/,
      )
    })

    it('maps ConflictNotFoundError to 404 and InvalidResolutionError to 400', async () => {
      s.api.failures.set('resolveConflict', { error: new ConflictNotFoundError(`no conflict ${id}`) })
      await expectError(
        await post(`${s.url}/sync/resolve-conflict`, { conflictId: id, resolutionStrategy: 'prefer_local' }),
        404,
        'conflict_not_found',
        /no conflict/,
      )
      s.api.failures.set('resolveConflict', {
        error: new InvalidResolutionError('manual_merge needs a value'),
      })
      await expectError(
        await post(`${s.url}/sync/resolve-conflict`, { conflictId: id, resolutionStrategy: 'manual_merge' }),
        400,
        'invalid_resolution',
        /needs a value/,
      )
      s.api.failures.delete('resolveConflict')
    })
  })

  describe('POST /sync/rollback', () => {
    it('accepts to_time, and short type names', async () => {
      const res = await post(`${s.url}/sync/rollback`, {
        event_type: 'persona',
        target_id: 'p1',
        to_time: '2026-01-01T00:00:00Z',
      })
      assert.equal(res.status, 200)
      assert.deepEqual(s.api.callsTo('rollback').at(-1)!.args[0], {
        event_type: 'persona_update',
        target_id: 'p1',
        to_time: '2026-01-01T00:00:00Z',
      })
    })

    it('accepts to_event', async () => {
      const res = await post(`${s.url}/sync/rollback`, {
        event_type: 'graph_update',
        target_id: 'g',
        to_event: 'a'.repeat(64),
      })
      assert.equal(res.status, 200)
      assert.deepEqual(((await res.json()) as { cells: number }).cells, 1)
    })

    it('requires exactly one of to_time / to_event, and valid values', async () => {
      await expectError(
        await post(`${s.url}/sync/rollback`, { event_type: 'graph_update', target_id: 'g' }),
        400,
        'invalid_request',
        /exactly one of to_time/,
      )
      await expectError(
        await post(`${s.url}/sync/rollback`, {
          event_type: 'graph_update',
          target_id: 'g',
          to_time: '2026-01-01T00:00:00Z',
          to_event: 'a'.repeat(64),
        }),
        400,
        'invalid_request',
        /exactly one/,
      )
      await expectError(
        await post(`${s.url}/sync/rollback`, {
          event_type: 'graph_update',
          target_id: 'g',
          to_time: '2026-02-30T00:00:00Z',
        }),
        400,
        'invalid_request',
        /^to_time must be an ISO 8601/,
      )
      await expectError(
        await post(`${s.url}/sync/rollback`, { event_type: 'graph_update', target_id: 'g', to_event: 'xyz' }),
        400,
        'invalid_request',
        /^to_event must be an event digest/,
      )
      await expectError(
        await post(`${s.url}/sync/rollback`, {
          event_type: 'edges',
          target_id: 'g',
          to_event: 'a'.repeat(64),
        }),
        400,
        'invalid_request',
        /^event_type must be one of/,
      )
      await expectError(
        await post(`${s.url}/sync/rollback`, {
          event_type: 'graph',
          target_id: 'a\u0007b',
          to_event: 'a'.repeat(64),
        }),
        400,
        'invalid_request',
        /^target_id must not contain control characters/,
      )
    })

    it('maps InvalidRollbackError to 400', async () => {
      s.api.failures.set('rollback', { error: new InvalidRollbackError('no such event') })
      await expectError(
        await post(`${s.url}/sync/rollback`, {
          event_type: 'graph',
          target_id: 'g',
          to_event: 'a'.repeat(64),
        }),
        400,
        'invalid_rollback',
        /no such event/,
      )
      s.api.failures.delete('rollback')
    })
  })

  describe('reads', () => {
    it('GET /sync/conflicts defaults to open, limit 100', async () => {
      s.api.conflictList = [CONFLICT]
      const res = await fetch(`${s.url}/sync/conflicts`)
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), {
        conflicts: [
          {
            // snake_case, like events (docs/API.md) ...
            conflict_id: CONFLICT.id,
            event_type: 'persona_update',
            target_id: 'p1',
            cell: 'field:name',
            sides: [],
            winner: CONFLICT.winner,
            status: 'open',
            resolved_by: null,
            detected_at: '1970-01-01T00:00:00.001Z',
            closed_at: null,
            // ... and the deprecated camelCase fields of 0.1.
            id: CONFLICT.id,
            type: 'persona_update',
            target: 'p1',
            detectedAtMs: 1,
          },
        ],
      })
      assert.deepEqual(s.api.callsTo('conflicts').at(-1)!.args, ['open', 100])
    })

    it('GET /sync/conflicts?status=all&limit=5', async () => {
      await (await fetch(`${s.url}/sync/conflicts?status=all&limit=5`)).json()
      assert.deepEqual(s.api.callsTo('conflicts').at(-1)!.args, ['all', 5])
    })

    it('GET /sync/conflicts refuses a bad status or limit', async () => {
      await expectError(
        await fetch(`${s.url}/sync/conflicts?status=closed`),
        400,
        'invalid_request',
        /^status must be one of open, resolved, superseded, all/,
      )
      await expectError(
        await fetch(`${s.url}/sync/conflicts?limit=0`),
        400,
        'invalid_request',
        /^limit must be an integer 1\.\.1000/,
      )
      await expectError(
        await fetch(`${s.url}/sync/conflicts?limit=abc`),
        400,
        'invalid_request',
        /^limit must be/,
      )
    })

    it('GET /sync/equivocations gives both events in JSON form', async () => {
      const res = await fetch(`${s.url}/sync/equivocations`)
      assert.equal(res.status, 200)
      const body = (await res.json()) as { equivocations: Array<Record<string, unknown>> }
      assert.deepEqual(body.equivocations[0], {
        author: s.api.events[1].author,
        kind: 'event_id',
        events: [eventToJson(s.api.events[0]), eventToJson(s.api.events[1])],
        detected_at: '1970-01-01T00:00:00.005Z',
      })
    })

    it('GET /state/:type/:target decodes the target and answers the view', async () => {
      s.api.stateView = {
        event_type: 'persona_update',
        target_id: 'a/b c',
        value: { x: 1 },
        heads: [],
        events: 1,
        open_conflicts: [],
        hash: 'h',
      }
      const res = await fetch(`${s.url}/state/persona/${encodeURIComponent('a/b c')}`)
      assert.equal(res.status, 200)
      assert.deepEqual(((await res.json()) as { value: unknown }).value, { x: 1 })
      assert.deepEqual(s.api.callsTo('state').at(-1)!.args, ['persona_update', 'a/b c'])
    })

    it('GET /state answers 404 for an unknown target', async () => {
      s.api.stateView = undefined
      await expectError(
        await fetch(`${s.url}/state/vector_update/nothing`),
        404,
        'not_found',
        /no state for vector_update "nothing"/,
      )
    })

    it('GET /state refuses control characters, unknown types and over-long ids', async () => {
      await expectError(
        await fetch(`${s.url}/state/persona_update/a%00b`),
        400,
        'invalid_request',
        /control characters/,
      )
      await expectError(
        await fetch(`${s.url}/state/persona_update/a%0Ab`),
        400,
        'invalid_request',
        /control characters/,
      )
      await expectError(
        await fetch(`${s.url}/state/people/x`),
        400,
        'invalid_request',
        /^event_type must be one of/,
      )
      await expectError(
        await fetch(`${s.url}/state/persona_update/${'x'.repeat(256)}`),
        400,
        'invalid_request',
        /at most 255 UTF-8 bytes/,
      )
      await expectError(
        await fetch(`${s.url}/state/persona_update/${'%C3%A9'.repeat(200)}`),
        400,
        'invalid_request',
        /at most 255 UTF-8 bytes/,
      )
      await expectError(
        await fetch(`${s.url}/state/persona_update/${'x'.repeat(2000)}`),
        400,
        'invalid_request',
      )
    })

    it('GET /status', async () => {
      const res = await fetch(`${s.url}/status`)
      assert.equal(res.status, 200)
      assert.equal(((await res.json()) as { node_id: string }).node_id, 'node-1')
    })

    it('GET /audit?after=&limit=', async () => {
      const res = await fetch(`${s.url}/audit?after=7&limit=2`)
      assert.equal(res.status, 200)
      assert.equal(((await res.json()) as { records: Array<{ seq: number }> }).records[0].seq, 8)
      assert.deepEqual(s.api.callsTo('audit').at(-1)!.args, [7, 2])
      await (await fetch(`${s.url}/audit`)).json()
      assert.deepEqual(s.api.callsTo('audit').at(-1)!.args, [0, 100])
      await expectError(
        await fetch(`${s.url}/audit?after=-1`),
        400,
        'invalid_request',
        /^after must be an integer/,
      )
    })

    it('InvalidRequestError from the API is a 400 with its message', async () => {
      s.api.failures.set('status', { error: new InvalidRequestError('nope') })
      await expectError(await fetch(`${s.url}/status`), 400, 'invalid_request', /^nope$/)
      s.api.failures.delete('status')
    })
  })
})

describe('HTTP API with a token', () => {
  let s: Server
  before(async () => {
    s = await start({ token: TOKEN })
  })
  after(async () => {
    await s.http.close()
  })

  it('refuses a request without a token on every route, with WWW-Authenticate', async () => {
    for (const path of ['/health', '/status', '/sync/conflicts', '/nope', '/changes']) {
      const res = await fetch(`${s.url}${path}`)
      assert.equal(res.headers.get('www-authenticate'), 'Bearer')
      await expectError(res, 401, 'unauthorized', /Authorization: Bearer/)
    }
    await expectError(await post(`${s.url}/sync/push`, []), 401, 'unauthorized')
    assert.equal(s.api.callsTo('push').length, 0)
    assert.equal(s.api.subscribeCalls, 0)
  })

  it('refuses a wrong token', async () => {
    await expectError(
      await fetch(`${s.url}/status`, { headers: { authorization: `Bearer ${TOKEN}x` } }),
      401,
      'unauthorized',
      /not valid/,
    )
    await expectError(
      await fetch(`${s.url}/status`, { headers: { authorization: `Basic ${TOKEN}` } }),
      401,
      'unauthorized',
    )
  })

  it('checks the token before reading a body', async () => {
    const res = await post(`${s.url}/sync/push`, JSON.stringify(['x'.repeat(70 * 1024)]))
    assert.equal(res.status, 401)
  })

  it('accepts the right token', async () => {
    const res = await fetch(`${s.url}/status`, { headers: { authorization: `Bearer ${TOKEN}` } })
    assert.equal(res.status, 200)
    const res2 = await post(`${s.url}/sync/push`, [], { authorization: `bearer ${TOKEN}` })
    assert.equal(res2.status, 200)
  })
})

describe('lifecycle', () => {
  it('listen on port 0 gives the bound port; close frees it', async () => {
    const s = await start()
    const port = Number(new URL(s.url).port)
    assert.ok(port > 0)
    await s.http.close()
    await assert.rejects(fetch(`${s.url}/health`))
  })
})
