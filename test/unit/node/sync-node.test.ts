/**
 * One real node (LevelDB, HTTP on loopback): push, pull, conflicts, resolution, rollback,
 * equivocation, audit chain, change feed, replay.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import * as Y from 'yjs'
import type { ChangeEvent } from '../../../src/core/api.ts'
import { eventToJson } from '../../../src/core/event.ts'
import type { Digest } from '../../../src/core/types.ts'
import { makeEvent, testSigner, testUuid } from '../../helpers/events.ts'
import { postJson, type TestNode, testNode } from '../../helpers/node.ts'

const origin = { kind: 'local' as const, id: 'test' }
const now = Date.now()

describe('sync node', () => {
  let t: TestNode
  before(async () => {
    t = await testNode()
  })
  after(async () => {
    await t?.close()
  })

  it('accepts local writes over HTTP, answers per event, dedupes signed re-pushes', async () => {
    const r = await postJson(`${t.url}/sync/push`, [
      {
        event_type: 'persona_update',
        target_id: 'ada',
        payload: { op: 'set', fields: { name: 'Ada', born: 1815 } },
      },
      { event_type: 'cat_update', target_id: 'x', payload: {} },
      { event_type: 'vector_update', target_id: 'v1', payload: { op: 'upsert', values: [1, 'two'] } },
    ])
    assert.equal(r.status, 200)
    assert.equal(r.body.accepted, 1)
    assert.deepEqual(
      r.body.rejected.map((x: { error: string }) => x.error),
      ['unknown_type', 'invalid_payload'],
    )
    const state = (await (await fetch(`${t.url}/state/persona_update/ada`)).json()) as { value: unknown }
    assert.deepEqual(state.value, { name: 'Ada', born: 1815 })
    const page = await postJson(`${t.url}/sync/pull`, { data_types: ['persona'] })
    assert.equal(page.body.events.length, 1)
    const again = await postJson(`${t.url}/sync/push`, page.body.events)
    assert.deepEqual([again.body.accepted, again.body.duplicates], [0, 1])
  })

  it('answers a retried local write (same event_id, same content) as a duplicate, refuses other content', async () => {
    const write = {
      event_id: testUuid(),
      event_type: 'vector_update',
      target_id: 'retry',
      payload: { op: 'upsert', values: [1] },
    }
    assert.equal((await t.node.api.push([write], origin)).accepted, 1)
    const again = await t.node.api.push([write], origin)
    assert.deepEqual([again.accepted, again.duplicates], [0, 1])
    const other = await t.node.api.push([{ ...write, payload: { op: 'upsert', values: [2] } }], origin)
    assert.equal(other.rejected[0]?.error, 'equivocation')
  })

  it('refuses bad signatures and clock drift, naming the error', async () => {
    const s = testSigner(21)
    const good = eventToJson(makeEvent(s, { target: 'drift', hlc: { wallMs: now, counter: 0 } }))
    const future = eventToJson(
      makeEvent(s, { target: 'drift', hlc: { wallMs: now + 3_600_000, counter: 0 } }),
    )
    const forged = {
      ...eventToJson(makeEvent(s, { target: 'drift', hlc: { wallMs: now, counter: 1 } })),
      target_id: 'other',
    }
    const r = await t.node.api.push([good, future, forged], origin)
    assert.equal(r.accepted, 1)
    assert.deepEqual(
      r.rejected.map((x) => x.error),
      ['clock_drift', 'bad_signature'],
    )
  })

  it('records equivocation: same event_id, same author, other content', async () => {
    const s = testSigner(22)
    const id = testUuid()
    const first = makeEvent(s, { eventId: id, target: 'eq', hlc: { wallMs: now, counter: 0 } })
    const second = makeEvent(s, {
      eventId: id,
      target: 'eq',
      hlc: { wallMs: now, counter: 1 },
      payload: { op: 'set', fields: { name: 'Eve' } },
    })
    assert.equal((await t.node.api.push([eventToJson(first)], origin)).accepted, 1)
    // Both are kept (state must not depend on which arrived first); the pair is the evidence.
    const r = await t.node.api.push([eventToJson(second)], origin)
    assert.equal(r.accepted, 1)
    const evidence = await t.node.api.equivocations(10)
    const digests = [first.digest, second.digest].sort()
    assert.ok(
      evidence.some(
        (q) =>
          q.kind === 'event_id' && q.events[0].digest === digests[0] && q.events[1].digest === digests[1],
      ),
    )
  })

  it('detects a conflict between concurrent writers and settles it with each strategy', async () => {
    const [a, b] = [testSigner(31), testSigner(32)]
    for (const [i, strategy] of (['prefer_local', 'prefer_remote', 'manual_merge'] as const).entries()) {
      const target = `conflict-${strategy}`
      const base = makeEvent(a, {
        target,
        hlc: { wallMs: now + i, counter: 0 },
        payload: { op: 'set', fields: { title: 'base' } },
      })
      const ea = makeEvent(a, {
        target,
        hlc: { wallMs: now + i, counter: 1 },
        parents: [base.digest],
        payload: { op: 'set', fields: { title: 'from a' } },
      })
      const eb = makeEvent(b, {
        target,
        hlc: { wallMs: now + i, counter: 2 },
        parents: [base.digest],
        payload: { op: 'set', fields: { title: 'from b' } },
      })
      await t.node.api.push([base, eb, ea].map(eventToJson), origin)
      const view = await t.node.api.state('persona_update', target)
      assert.equal(view?.open_conflicts.length, 1)
      assert.deepEqual(view?.value, { title: 'from b' }, 'LWW winner applies meanwhile')
      const conflictId = view!.open_conflicts[0]
      const listed = (await t.node.api.conflicts('open', 100)).find((c) => c.id === conflictId)
      assert.deepEqual(listed?.sides.map((s) => s.value).sort(), ['from a', 'from b'])
      // This node authored neither side: prefer_local keeps the value in effect here.
      const res = await postJson(`${t.url}/sync/resolve-conflict`, {
        conflictId,
        resolutionStrategy: strategy,
        value: strategy === 'manual_merge' ? 'merged' : undefined,
      })
      assert.equal(res.status, 200, JSON.stringify(res.body))
      const expected = { prefer_local: 'from b', prefer_remote: 'from b', manual_merge: 'merged' }[strategy]
      const after = await t.node.api.state('persona_update', target)
      assert.deepEqual(after?.value, { title: expected })
      assert.deepEqual(after?.open_conflicts, [])
      const rec = (await t.node.api.conflicts('resolved', 100)).find((c) => c.id === conflictId)
      assert.equal(
        rec?.resolvedBy,
        res.body.event.signature ? (await t.node.api.state('persona_update', target))!.heads[0] : undefined,
      )
      const again = await postJson(`${t.url}/sync/resolve-conflict`, {
        conflictId,
        resolutionStrategy: strategy,
        value: 'x',
      })
      assert.equal(again.status, 400)
    }
    const missing = await postJson(`${t.url}/sync/resolve-conflict`, {
      conflictId: 'f'.repeat(64),
      resolutionStrategy: 'prefer_local',
    })
    assert.equal(missing.status, 404)
  })

  it('rolls a target back to an earlier time as a new event', async () => {
    const s = testSigner(41)
    const e1 = makeEvent(s, {
      target: 'rb',
      hlc: { wallMs: now - 5000, counter: 0 },
      payload: { op: 'set', fields: { v: 1 } },
    })
    const e2 = makeEvent(s, {
      target: 'rb',
      hlc: { wallMs: now - 1000, counter: 0 },
      parents: [e1.digest],
      payload: { op: 'set', fields: { v: 2, extra: true } },
    })
    await t.node.api.push([e1, e2].map(eventToJson), origin)
    const res = await postJson(`${t.url}/sync/rollback`, {
      event_type: 'persona_update',
      target_id: 'rb',
      to_time: new Date(now - 3000).toISOString(),
    })
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.deepEqual((await t.node.api.state('persona_update', 'rb'))?.value, { v: 1 })
    const byEvent = await t.node.api.rollback(
      { event_type: 'persona_update', target_id: 'rb', to_event: e2.digest },
      origin,
    )
    assert.equal(byEvent.cells, 2)
    assert.deepEqual((await t.node.api.state('persona_update', 'rb'))?.value, { v: 2, extra: true })
    await assert.rejects(
      t.node.api.rollback({ event_type: 'persona_update', target_id: 'rb', to_event: e2.digest }, origin),
      { name: 'InvalidRollbackError' },
    )
  })

  it('pages the log by cursor and by time without missing late arrivals', async () => {
    const s = testSigner(51)
    const old = makeEvent(s, {
      target: 'late',
      type: 'document_update',
      hlc: { wallMs: now - 86_400_000, counter: 0 },
      payload: { op: 'put', content: 'old' },
    })
    const first = await t.node.api.pull({ data_types: ['document_update'] }, origin)
    await t.node.api.push([eventToJson(old)], origin)
    const next = await t.node.api.pull({ cursor: first.next_cursor, data_types: ['document_update'] }, origin)
    assert.equal(next.events.length, 1, 'a late arrival with an old timestamp is after the arrival cursor')
    const byTime = await t.node.api.pull(
      { last_sync_time: new Date(now - 60_000).toISOString(), data_types: ['document'] },
      origin,
    )
    assert.equal(byTime.events.length, 0, 'time mode is by HLC time')
    await assert.rejects(t.node.api.pull({ cursor: 'nonsense' }, origin), { name: 'InvalidRequestError' })
  })

  it('keeps a verifiable hash-chained audit log of pushes, pulls and resolutions', async () => {
    const records = await t.node.api.audit(0, 1000)
    const ops = new Set(records.map((r) => r.op))
    for (const op of ['start', 'push', 'pull', 'resolve', 'rollback', 'equivocation'])
      assert.ok(ops.has(op), `audit has ${op}`)
    for (let i = 1; i < records.length; i++) assert.equal(records[i].prevHash, records[i - 1].hash)
  })

  it('audits pulls that serve events, not empty ones (periodic catch-up of an idle peer)', async () => {
    const status = await t.node.api.status()
    const before = (await t.node.api.audit(0, 1000)).length
    const empty = await t.node.api.pull({ cursor: `s.${status.last_seq}` }, origin)
    assert.equal(empty.events.length, 0)
    assert.equal((await t.node.api.audit(0, 1000)).length, before, 'an empty pull adds no record')
    const one = await t.node.api.pull({ cursor: `s.${status.last_seq - 1}` }, origin)
    assert.equal(one.events.length, 1)
    const records = await t.node.api.audit(0, 1000)
    assert.equal(records.length, before + 1)
    assert.equal(records.at(-1)?.op, 'pull')
    assert.equal((records.at(-1)?.detail as { events: number } | undefined)?.events, 1)
  })

  it('feeds every stored event to change subscribers, replaying from a seq', async () => {
    const seen: ChangeEvent[] = []
    const last = (await t.node.api.status()).last_seq
    const unsubscribe = t.node.api.subscribe(last - 2, (c) => seen.push(c))
    await t.node.api.push(
      [
        {
          event_type: 'graph_update',
          target_id: 'kg',
          payload: { op: 'add_edge', from: 'a', label: 'knows', to: 'b' },
        },
      ],
      origin,
    )
    const deadline = Date.now() + 5000
    while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setImmediate(r))
    unsubscribe()
    assert.deepEqual(
      seen.map((c) => c.seq),
      [last - 1, last, last + 1],
    )
    assert.equal(seen[2].origin.kind, 'local')
  })

  it('merges Yjs updates into the CRDT view and refuses hostile Yjs bytes', async () => {
    const docA = new Y.Doc()
    docA.getMap('persona').set('bio', 'from A')
    const docB = new Y.Doc()
    docB.getMap('persona').set('role', 'from B')
    const upd = (d: Y.Doc) => Buffer.from(Y.encodeStateAsUpdate(d)).toString('base64')
    const r = await t.node.api.push(
      [
        { event_type: 'persona_update', target_id: 'crdt', payload: { op: 'yjs', update: upd(docA) } },
        { event_type: 'persona_update', target_id: 'crdt', payload: { op: 'yjs', update: upd(docB) } },
        {
          event_type: 'persona_update',
          target_id: 'crdt',
          payload: { op: 'yjs', update: Buffer.from('garbagedoc').toString('base64') },
        },
      ],
      origin,
    )
    assert.equal(r.accepted, 2)
    assert.equal(r.rejected[0].error, 'unsafe_crdt_update')
    assert.deepEqual((await t.node.api.state('persona_update', 'crdt'))?.crdt, {
      bio: 'from A',
      role: 'from B',
    })
  })

  it('rebuilds the same state from the log after a restart with --rebuild', async () => {
    const before = await t.node.api.status()
    await t.restart({ rebuild: true })
    assert.equal(t.node.replay.rebuilt, true)
    assert.equal(t.node.replay.events, before.events)
    const after = await t.node.api.status()
    assert.equal(after.state_hash, before.state_hash)
    assert.equal(after.conflicts_open, before.conflicts_open)
  })
})

export type { Digest }
