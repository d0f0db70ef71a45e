/**
 * Every HTTP route's input, against a real node (LevelDB, mesh off): JSON bodies of push, pull,
 * resolve-conflict, rollback and POST /peers; path parameters of GET /state; query strings of the
 * list routes. Property: no 500, only the statuses the route documents, every refusal named
 * (`{error, message}`), and every event a push acknowledged is in the log at the end.
 */
import fc from 'fast-check'
import { eventToJson } from '../../src/core/event.ts'
import { digestOf } from '../../src/core/event-codec.ts'
import type { TestNode } from '../helpers/node.ts'
import {
  deepText,
  localWrite,
  mutatedBytes,
  nastyJson,
  nastyString,
  PROTO_KEYS,
  signedEvent,
  TYPE_NAMES,
  targetId,
  typeName,
} from './arbitraries.ts'
import { expect, type FuzzTarget } from './runner.ts'

type Body =
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array }

// biome-ignore lint/suspicious/noExplicitAny: answers are arbitrary JSON
type Json = any

/** Acknowledged digests, by whoever acknowledged them (HTTP or a mesh protocol). */
export const acknowledged = new Set<string>()

function bodyOf(value: fc.Arbitrary<unknown>): fc.Arbitrary<Body> {
  const json = value.map((v): Body => ({ kind: 'json', value: v }))
  return fc.oneof(
    { weight: 8, arbitrary: json },
    { weight: 1, arbitrary: deepText.map((text): Body => ({ kind: 'text', text })) },
    {
      weight: 1,
      arbitrary: mutatedBytes(
        json.map(
          (b) => new Uint8Array(Buffer.from(JSON.stringify((b as { value: unknown }).value) ?? 'null')),
        ),
      ).map((bytes): Body => ({ kind: 'bytes', bytes })),
    },
  )
}

async function send(
  url: string,
  method: 'GET' | 'POST',
  body?: Body,
): Promise<{ status: number; body: Json }> {
  let payload: string | Uint8Array | undefined
  if (body?.kind === 'json') payload = JSON.stringify(body.value) ?? ''
  else if (body?.kind === 'text') payload = body.text
  else if (body?.kind === 'bytes') payload = body.bytes
  const res = await fetch(url, {
    method,
    headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
    body: payload,
  })
  const text = await res.text()
  let parsed: Json
  try {
    if (/ndjson/.test(res.headers.get('content-type') ?? ''))
      return {
        status: res.status,
        body: {
          ndjson: text
            .trimEnd()
            .split('\n')
            .map((l) => JSON.parse(l)),
        },
      }
    parsed = text.length > 0 ? JSON.parse(text) : undefined
  } catch {
    throw new Error(`status ${res.status}: answer is not JSON: ${text.slice(0, 100)}`)
  }
  return { status: res.status, body: parsed }
}

function checkAnswer(route: string, res: { status: number; body: Json }, allowed: readonly number[]): void {
  expect(res.status !== 500, `${route}: 500 ${JSON.stringify(res.body)}`)
  expect(
    allowed.includes(res.status),
    `${route}: status ${res.status} not in ${allowed.join(', ')}: ${JSON.stringify(res.body)?.slice(0, 200)}`,
  )
  if (res.status !== 200) {
    const b = res.body
    expect(
      typeof b?.error === 'string' &&
        /^[a-z_]+$/.test(b.error) &&
        typeof b.message === 'string' &&
        b.message.length > 0,
      `${route}: refusal ${res.status} without a named error: ${JSON.stringify(b)}`,
    )
  }
}

/** Nothing acknowledged is lost: every digest a push (HTTP or mesh) answered is in the log. */
export async function nothingLost(t: TestNode): Promise<void> {
  const inLog = new Set<string>()
  for (let cursor = 's.0'; ; ) {
    const page = await t.node.api.pull({ cursor, limit: 5000 }, { kind: 'local', id: 'fuzz' })
    for (const e of page.events) inLog.add(e.digest ?? digestOf(e.signed))
    cursor = page.next_cursor
    if (!page.has_more) break
  }
  const lost = [...acknowledged].filter((d) => !inLog.has(d))
  expect(
    lost.length === 0,
    `${lost.length} of ${acknowledged.size} acknowledged events are not in the log (${lost.slice(0, 3).join(', ')})`,
  )
}

export function httpTargets(t: TestNode, conflictIds: readonly string[]): FuzzTarget[] {
  const now = Date.now()
  const signedJson = signedEvent(now).map((e) => eventToJson(e) as unknown)
  const mutatedSigned = fc
    .tuple(
      signedJson,
      fc.constantFrom(
        'event_id',
        'timestamp',
        'event_type',
        'target_id',
        'payload',
        'author',
        'hlc',
        'parents',
        'signature',
        ...PROTO_KEYS,
      ),
      nastyJson,
    )
    .map(([e, k, v]) => {
      const copy = { ...(e as Record<string, unknown>) }
      Object.defineProperty(copy, k, { value: v, enumerable: true, writable: true, configurable: true })
      return copy as unknown
    })
  const event = fc.oneof(
    { weight: 5, arbitrary: localWrite as fc.Arbitrary<unknown> },
    { weight: 2, arbitrary: signedJson },
    { weight: 2, arbitrary: mutatedSigned },
    { weight: 1, arbitrary: nastyJson },
  )
  const pushBody = bodyOf(
    fc.oneof(
      { weight: 6, arbitrary: fc.array(event, { maxLength: 6 }) },
      { weight: 1, arbitrary: fc.array(event, { maxLength: 3 }).map((events) => ({ events })) },
      { weight: 1, arbitrary: nastyJson },
    ),
  )
  const cursor = fc.oneof(
    fc.constantFrom(
      's.0',
      's.5',
      't.' + '0'.repeat(16) + '.' + '0'.repeat(64),
      's.99999999999999999',
      't.ffffffffffffffff.' + 'f'.repeat(64),
    ),
    nastyString,
  )
  const isoTime = fc.oneof(
    fc
      .date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true })
      .map((d) => d.toISOString()),
    fc.constantFrom(
      '2999-01-01T00:00:00Z',
      '1970-01-01T00:00:00Z',
      '0000-01-01T00:00:00Z',
      '+275760-09-13T00:00:00.000Z',
      '2026-02-30T00:00:00Z',
    ),
    nastyString,
  )
  const pullBody = bodyOf(
    fc.oneof(
      fc.record(
        {
          last_sync_time: isoTime,
          data_types: fc.oneof(fc.array(typeName, { maxLength: 9 }), nastyJson),
          cursor,
          limit: fc.oneof(fc.integer({ min: -1, max: 6000 }), nastyJson),
          stream: fc.oneof(fc.boolean(), nastyJson),
        },
        { requiredKeys: [] },
      ),
      nastyJson,
    ),
  )
  const resolveBody = bodyOf(
    fc.oneof(
      fc.record(
        {
          conflictId: fc.oneof(fc.constantFrom(...conflictIds, 'a'.repeat(64)), nastyString),
          resolutionStrategy: fc.oneof(
            fc.constantFrom('prefer_local', 'prefer_remote', 'manual_merge'),
            nastyString,
          ),
          value: nastyJson,
          deleted: fc.oneof(fc.boolean(), nastyJson),
        },
        { requiredKeys: [] },
      ),
      nastyJson,
    ),
  )
  const rollbackBody = bodyOf(
    fc.oneof(
      fc.record(
        {
          event_type: typeName,
          target_id: targetId,
          to_time: isoTime,
          to_event: fc.oneof(
            fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
            nastyString,
          ),
        },
        { requiredKeys: [] },
      ),
      nastyJson,
    ),
  )
  const peersBody = bodyOf(
    fc.oneof(
      fc.record({
        multiaddr: fc.oneof(fc.constantFrom('/ip4/127.0.0.1/tcp/1', '/dns4/x/tcp/1'), nastyString),
      }),
      nastyJson,
    ),
  )
  const pathPart = fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .oneof(fc.constantFrom(...TYPE_NAMES, 'p1', 'doc', 'v'), nastyString)
        .map((s) => encodeURIComponent(s.toWellFormed())),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '%ZZ',
        '%C0%80',
        '%ED%A0%80',
        '%FF',
        '%00',
        '%',
        '..',
        '%2e%2e',
        'a%2Fb',
        '%E2%80%AE',
      ),
    },
  )

  return [
    {
      name: 'http POST /sync/push',
      arbitrary: pushBody,
      async check(body) {
        const res = await send(`${t.url}/sync/push`, 'POST', body)
        checkAnswer('push', res, [200, 400, 413, 415])
        if (res.status === 200) {
          const b = res.body
          expect(
            Array.isArray(b.digests) && b.digests.length === b.accepted,
            `push: digests do not match accepted: ${JSON.stringify(b)}`,
          )
          for (const r of b.rejected)
            expect(
              typeof r.error === 'string' && typeof r.message === 'string' && r.message.length > 0,
              `push: unnamed rejection ${JSON.stringify(r)}`,
            )
          for (const d of b.digests) acknowledged.add(d)
        }
      },
      finish: () => nothingLost(t),
    } satisfies FuzzTarget<Body>,
    {
      name: 'http POST /sync/pull',
      arbitrary: pullBody,
      async check(body) {
        const res = await send(`${t.url}/sync/pull`, 'POST', body)
        checkAnswer('pull', res, [200, 400])
        if (res.status !== 200) return
        if (res.body.ndjson !== undefined) {
          const last = res.body.ndjson.at(-1)
          expect(
            last?.done === true && typeof last.next_cursor === 'string',
            `pull stream: last line ${JSON.stringify(last)}`,
          )
        } else
          expect(
            typeof res.body.next_cursor === 'string' && Array.isArray(res.body.events),
            `pull: bad page ${JSON.stringify(res.body).slice(0, 200)}`,
          )
      },
    } satisfies FuzzTarget<Body>,
    {
      name: 'http POST /sync/resolve-conflict',
      arbitrary: resolveBody,
      async check(body) {
        checkAnswer('resolve', await send(`${t.url}/sync/resolve-conflict`, 'POST', body), [200, 400, 404])
      },
    } satisfies FuzzTarget<Body>,
    {
      name: 'http POST /sync/rollback',
      arbitrary: rollbackBody,
      async check(body) {
        checkAnswer('rollback', await send(`${t.url}/sync/rollback`, 'POST', body), [200, 400])
      },
    } satisfies FuzzTarget<Body>,
    {
      name: 'http POST /peers',
      arbitrary: peersBody,
      async check(body) {
        checkAnswer('peers', await send(`${t.url}/peers`, 'POST', body), [400, 409])
      },
    } satisfies FuzzTarget<Body>,
    {
      name: 'http GET /state params',
      arbitrary: fc.tuple(pathPart, pathPart),
      async check([type, id]) {
        checkAnswer('state', await send(`${t.url}/state/${type}/${id}`, 'GET'), [200, 400, 404])
      },
    } satisfies FuzzTarget<[string, string]>,
    {
      name: 'http GET list queries',
      arbitrary: fc.tuple(
        fc.constantFrom('/sync/conflicts', '/audit', '/sync/equivocations'),
        fc.array(
          fc.tuple(
            fc.constantFrom('status', 'limit', 'after', 'x', '__proto__'),
            fc.oneof(
              fc.constantFrom('open', 'all', '0', '1', '1000', '1001', '-1', '1e3', '9'.repeat(20)),
              nastyString,
            ),
          ),
          { maxLength: 3 },
        ),
      ),
      async check([route, params]) {
        const q = params
          .map(
            ([k, v]) =>
              `${encodeURIComponent(k)}=${encodeURIComponent(v.isWellFormed() ? v : v.toWellFormed())}`,
          )
          .join('&')
        const res = await send(`${t.url}${route}?${q}`, 'GET')
        checkAnswer(route, res, [200, 400])
      },
    } satisfies FuzzTarget<[string, Array<[string, string]>]>,
  ] as FuzzTarget[]
}
