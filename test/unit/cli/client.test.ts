import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, beforeEach, describe, it } from 'node:test'
import { run } from './run.ts'

interface Seen {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: unknown
}

type Handler = (req: Seen) => { status?: number; body?: unknown; raw?: string; type?: string }

let server: Server
let node: string
let seen: Seen[] = []
let handler: Handler = () => ({ body: {} })
const dir = mkdtempSync(join(tmpdir(), 'gkm-cli-'))

before(async () => {
  server = createServer((req, res) => {
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (c) => (text += c))
    req.on('end', () => {
      const s: Seen = {
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: text === '' ? undefined : JSON.parse(text),
      }
      seen.push(s)
      const answer = handler(s)
      res.writeHead(answer.status ?? 200, { 'content-type': answer.type ?? 'application/json' })
      res.end(answer.raw ?? JSON.stringify(answer.body ?? {}))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  node = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
after(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  rmSync(dir, { recursive: true, force: true })
})
beforeEach(() => {
  seen = []
  handler = () => ({ body: {} })
})

const cli = (argv: string[], io: Parameters<typeof run>[1] = {}) => run([...argv, '--node', node], io)

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

describe('reads', () => {
  it('status: GET /status, pretty JSON by default', async () => {
    handler = () => ({ body: { node_id: 'n1', events: 3 } })
    const r = await cli(['status'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '{\n  "node_id": "n1",\n  "events": 3\n}\n')
    assert.equal(seen[0].method, 'GET')
    assert.equal(seen[0].url, '/status')
    assert.equal(seen[0].headers.authorization, undefined)
  })

  it('--json prints one compact line', async () => {
    handler = () => ({ body: { node_id: 'n1', events: 3 } })
    const r = await cli(['status', '--json'])
    assert.equal(r.stdout, '{"node_id":"n1","events":3}\n')
  })

  it('--token and GKM_HTTP_TOKEN send a bearer token (the flag wins)', async () => {
    await cli(['status'], { env: { GKM_HTTP_TOKEN: 'from-env' } })
    assert.equal(seen[0].headers.authorization, 'Bearer from-env')
    await cli(['status', '--token', 'from-flag'], { env: { GKM_HTTP_TOKEN: 'from-env' } })
    assert.equal(seen[1].headers.authorization, 'Bearer from-flag')
  })

  it('GKM_NODE names the node when --node is absent', async () => {
    const r = await run(['status'], { env: { GKM_NODE: node.replace('http://', '') } })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(seen.length, 1)
  })

  it('state: URL-encodes type and target', async () => {
    await cli(['state', 'persona', 'a/b c?d'])
    assert.equal(seen[0].url, '/state/persona/a%2Fb%20c%3Fd')
  })

  it('conflicts: status and limit in the query', async () => {
    await cli(['conflicts'])
    await cli(['conflicts', '--status', 'all', '--limit', '5'])
    assert.deepEqual(
      seen.map((s) => s.url),
      ['/sync/conflicts?status=open', '/sync/conflicts?status=all&limit=5'],
    )
  })

  it('audit and equivocations', async () => {
    await cli(['audit'])
    await cli(['audit', '--after', '10', '--limit', '2'])
    await cli(['equivocations', '--limit', '3'])
    assert.deepEqual(
      seen.map((s) => s.url),
      ['/audit', '/audit?after=10&limit=2', '/sync/equivocations?limit=3'],
    )
  })

  it('peers and peers add', async () => {
    handler = (s) => ({ body: s.method === 'GET' ? { peers: [] } : { added: true } })
    const a = await cli(['peers'])
    const b = await cli(['peers', 'add', '/ip4/127.0.0.1/tcp/7421/p2p/12D3KooWabc'])
    assert.equal(a.code, 0, a.stderr)
    assert.equal(b.code, 0, b.stderr)
    assert.deepEqual(
      seen.map((s) => [s.method, s.url, s.body]),
      [
        ['GET', '/peers', undefined],
        ['POST', '/peers', { multiaddr: '/ip4/127.0.0.1/tcp/7421/p2p/12D3KooWabc' }],
      ],
    )
  })
})

describe('writes', () => {
  it('resolve: body with the parsed value', async () => {
    handler = () => ({ body: { conflict_id: 'c' } })
    const r = await cli([
      'resolve',
      'c'.repeat(64),
      '--strategy',
      'manual_merge',
      '--value',
      '{"name":"Ada"}',
    ])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(seen[0].body, {
      conflictId: 'c'.repeat(64),
      resolutionStrategy: 'manual_merge',
      value: { name: 'Ada' },
    })
    assert.equal(seen[0].headers['content-type'], 'application/json')
    await cli(['resolve', 'x', '--strategy', 'manual_merge', '--deleted'])
    assert.deepEqual(seen[1].body, { conflictId: 'x', resolutionStrategy: 'manual_merge', deleted: true })
  })

  it('rollback: to_time or to_event', async () => {
    await cli(['rollback', 'persona', 'p1', '--to-time', '2026-01-01T00:00:00Z'])
    await cli(['rollback', 'graph_update', 'g', '--to-event', 'a'.repeat(64)])
    assert.deepEqual(
      seen.map((s) => [s.url, s.body]),
      [
        ['/sync/rollback', { event_type: 'persona', target_id: 'p1', to_time: '2026-01-01T00:00:00Z' }],
        ['/sync/rollback', { event_type: 'graph_update', target_id: 'g', to_event: 'a'.repeat(64) }],
      ],
    )
  })
})

describe('push', () => {
  const ok: Handler = (s) => {
    const events = s.body as unknown[]
    return {
      body: { accepted: events.length, duplicates: 0, rejected: [], digests: events.map((_, i) => `d${i}`) },
    }
  }

  it('a JSON array file', async () => {
    handler = ok
    const r = await cli(['push', file('a.json', JSON.stringify([{ a: 1 }, { b: 2 }]))])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(seen[0].body, [{ a: 1 }, { b: 2 }])
    assert.deepEqual(JSON.parse(r.stdout), {
      accepted: 2,
      duplicates: 0,
      rejected: [],
      digests: ['d0', 'd1'],
    })
  })

  it('an NDJSON file, and { "events": [...] }', async () => {
    handler = ok
    await cli(['push', file('b.ndjson', '{"a":1}\n\n{"b":2}\n')])
    await cli(['push', file('c.json', '{"events":[{"c":3}]}')])
    assert.deepEqual(
      seen.map((s) => s.body),
      [[{ a: 1 }, { b: 2 }], [{ c: 3 }]],
    )
  })

  it('standard input with -', async () => {
    handler = ok
    const stdin = (async function* () {
      yield Buffer.from('{"a":')
      yield Buffer.from('1}\n{"b":2}\n')
    })()
    const r = await cli(['push', '-'], { stdin })
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(seen[0].body, [{ a: 1 }, { b: 2 }])
  })

  it('splits large inputs into pushes of at most 1000 events and sums the results', async () => {
    handler = ok
    const events = Array.from({ length: 2500 }, (_, i) => ({ i }))
    const r = await cli(['push', file('big.json', JSON.stringify(events)), '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(
      seen.map((s) => (s.body as unknown[]).length),
      [1000, 1000, 500],
    )
    const result = JSON.parse(r.stdout) as { accepted: number; digests: string[] }
    assert.equal(result.accepted, 2500)
    assert.equal(result.digests.length, 2500)
  })

  it('exits 2 when an event was rejected, printing the result', async () => {
    handler = () => ({
      body: {
        accepted: 1,
        duplicates: 0,
        rejected: [{ event_id: null, error: 'malformed', message: 'x' }],
        digests: ['d'],
      },
    })
    const r = await cli(['push', file('d.json', '[{},{}]')])
    assert.equal(r.code, 2)
    assert.equal((JSON.parse(r.stdout) as { rejected: unknown[] }).rejected.length, 1)
    assert.match(r.stderr, /^gkm-sync: 1 of 2 events were rejected/)
  })

  it('bad input is a usage error naming the line', async () => {
    const r = await cli(['push', file('e.ndjson', '{"a":1}\n{oops}\n')])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /e\.ndjson:2: not valid JSON/)
    assert.equal(seen.length, 0)
    const r2 = await cli(['push', file('f.json', '[{"a":1},')])
    assert.equal(r2.code, 1)
    assert.match(r2.stderr, /f\.json is not valid JSON/)
    const r3 = await cli(['push', file('g.json', '  ')])
    assert.match(r3.stderr, /g\.json is empty/)
  })
})

describe('pull', () => {
  it('one page: body from the flags', async () => {
    handler = () => ({ body: { events: [], next_cursor: 's.0', has_more: false } })
    const r = await cli([
      'pull',
      '--since',
      '2026-01-01T00:00:00Z',
      '--types',
      'persona, graph',
      '--cursor',
      's.5',
      '--limit',
      '10',
    ])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(seen[0].body, {
      last_sync_time: '2026-01-01T00:00:00Z',
      data_types: ['persona', 'graph'],
      cursor: 's.5',
      limit: 10,
    })
    assert.equal(seen[0].url, '/sync/pull')
    assert.deepEqual(JSON.parse(r.stdout), { events: [], next_cursor: 's.0', has_more: false })
  })

  it('--stream: asks for NDJSON and prints each line', async () => {
    handler = () => ({
      raw: '{"event_id":"1"}\n{"event_id":"2"}\n{"next_cursor":"s.2","done":true}\n',
      type: 'application/x-ndjson',
    })
    const r = await cli(['pull', '--stream'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(seen[0].headers.accept, 'application/x-ndjson')
    assert.deepEqual(seen[0].body, { stream: true })
    assert.equal(r.stdout, '{"event_id":"1"}\n{"event_id":"2"}\n{"next_cursor":"s.2","done":true}\n')
  })

  it('--stream that ends with an error line exits 2 with the cursor to resume from', async () => {
    handler = () => ({
      raw: '{"event_id":"1"}\n{"error":"internal","message":"the node failed","next_cursor":"s.1","done":false}\n',
      type: 'application/x-ndjson',
    })
    const r = await cli(['pull', '--stream'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^gkm-sync: the node failed; resume with --cursor s\.1/)
  })

  it('--stream cut short exits 2', async () => {
    handler = () => ({ raw: '{"event_id":"1"}\n', type: 'application/x-ndjson' })
    const r = await cli(['pull', '--stream'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /ended before its last line/)
  })
})

describe("failed requests exit 2 with the node's message", () => {
  it('an error answer', async () => {
    handler = () => ({
      status: 400,
      body: { error: 'invalid_request', message: 'last_sync_time must be an ISO 8601 date-time' },
    })
    const r = await cli(['pull', '--since', '2026-01-01T00:00:00Z'])
    assert.equal(r.code, 2)
    assert.equal(
      r.stderr,
      'gkm-sync: last_sync_time must be an ISO 8601 date-time (HTTP 400 invalid_request)\n',
    )
    assert.equal(r.stdout, '')
  })

  it('401 hints at the token', async () => {
    handler = () => ({ status: 401, body: { error: 'unauthorized', message: 'this node requires a token' } })
    const r = await cli(['status'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /\(HTTP 401 unauthorized\); pass --token or set GKM_HTTP_TOKEN/)
  })

  it('an answer that is not JSON', async () => {
    handler = () => ({ status: 502, raw: '<html>Bad Gateway</html>', type: 'text/html' })
    const r = await cli(['status'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /"<html>Bad Gateway<\/html>" \(HTTP 502\)/)
  })

  it('a node that is not running', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const r = await run(['status', '--node', `127.0.0.1:${port}`])
    assert.equal(r.code, 2)
    assert.match(
      r.stderr,
      new RegExp(
        `^gkm-sync: cannot reach the node at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); is \`gkm-sync start\` running there\\?`,
      ),
    )
    assert.doesNotMatch(r.stderr, /\n\s+at /)
  })
})
