/**
 * The conformance suite every sink passes (like automerge-repo's runStorageAdapterTests):
 *
 *   runSinkConformance('postgres (PGlite)', async () => ({ open: () => new PostgresSink(...), destroy }))
 *
 * Against a real node (LevelDB, engine, HTTP off the mesh) it writes a stream with every kind of
 * change the sink's types can see: upserts, deletes, persona unsets, edge removals and property
 * changes, a rollback, a conflict between two authors and its resolution, Yjs updates of a
 * persona and a document. A SinkRunner with small batches applies it while the suite
 *   - aborts a transaction from inside (beforeCommit throws: nothing of that batch may stay),
 *   - kills the sink between batches (stop, then a NEW sink instance over the same store resumes
 *     from the checkpoint it reads back),
 * and at the end compares the store's content (`snapshot()`) with the node's state
 * (SyncApi.state, what GET /state answers) for every target, both ways: nothing missing, nothing
 * extra. It also checks that a batch whose checkpoint does not follow the stored one is refused
 * and that applying the same projections again changes nothing.
 *
 * `harness()` may return a string instead: the reason the store is not reachable here; the
 * tests are then skipped with that message (e.g. "not run: no server").
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import * as Y from 'yjs'
import {
  projectState,
  type Sink,
  type SinkBatch,
  SinkRunner,
  type TargetProjection,
} from '../../src/adapters/index.ts'
import { loadConfig } from '../../src/config/index.ts'
import type { SyncApi } from '../../src/core/api.ts'
import type { EventType, JsonObject } from '../../src/core/types.ts'
import { type RunningNode, startNode } from '../../src/node/index.ts'
import { makeEvent, testSigner } from '../helpers/events.ts'

interface TestNode {
  node: RunningNode
  close(): Promise<void>
}

/** A node with the mesh off; a generous Yjs guard timeout (a loaded CI machine starts workers slowly). */
async function testNode(): Promise<TestNode> {
  const dir = await mkdtemp(join(tmpdir(), 'gkm-sink-suite-'))
  const node = await startNode(
    loadConfig({
      env: {},
      values: { yjs: { workers: 1, timeoutMs: 10_000, memoryMb: 64 } },
      flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false },
    }),
  )
  return {
    node,
    async close() {
      await node.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export interface SinkHarness {
  /** A new sink instance over the same store each call (a restart of the sink's process). */
  open(): Sink | Promise<Sink>
  /** Removes the store (called once, at the end). */
  destroy(): Promise<void>
}

const LOCAL = { kind: 'local' as const, id: 'conformance' }
const silent = { info() {}, warn() {}, error() {} }

function yjsUpdate(kind: 'persona' | 'document', edit: (doc: Y.Doc) => void, clientId: number): string {
  const doc = new Y.Doc()
  doc.clientID = clientId
  edit(doc)
  const update = Y.encodeStateAsUpdate(doc)
  doc.destroy()
  void kind
  return Buffer.from(update).toString('base64')
}

/** Floats as a float32 store keeps them; JSON objects compared whatever their key order. */
function normalise(p: TargetProjection): TargetProjection {
  if (p.type === 'vector_update') return { ...p, values: p.values.map((v) => Math.fround(v)) }
  if (p.type === 'graph_update')
    return {
      ...p,
      edges: [...p.edges].sort((a, b) =>
        JSON.stringify([a.from, a.label, a.to]) < JSON.stringify([b.from, b.label, b.to]) ? -1 : 1,
      ),
    }
  return p
}

async function expected(
  api: SyncApi,
  types: readonly EventType[],
  targets: Map<string, { type: EventType; id: string }>,
) {
  const out = new Map<string, TargetProjection>()
  for (const { type, id } of targets.values()) {
    if (!types.includes(type)) continue
    const p = projectState(type, id, await api.state(type, id))
    if (p !== undefined) out.set(`${type} ${id}`, normalise(p))
  }
  return out
}

async function actual(sink: Sink) {
  const out = new Map<string, TargetProjection>()
  for (const p of await sink.snapshot()) {
    const key = `${p.type} ${p.id}`
    assert.ok(!out.has(key), `the store holds ${key} twice`)
    out.set(key, normalise(p))
  }
  return out
}

async function assertSame(api: SyncApi, sink: Sink, targets: Map<string, { type: EventType; id: string }>) {
  const want = await expected(api, sink.types, targets)
  const got = await actual(sink)
  assert.deepEqual(
    [...got.keys()].sort(),
    [...want.keys()].sort(),
    'the store holds exactly the live targets',
  )
  for (const [k, v] of want) assert.deepEqual(got.get(k), v, `${k} in the store equals GET /state`)
}

/** Wraps a sink: counts batches, aborts one transaction from inside, can stop after n batches. */
function instrumented(sink: Sink, opts: { abortAt?: number; onBatch?: (n: number) => void }) {
  let n = 0
  const wrapped: Sink = {
    name: sink.name,
    kind: sink.kind,
    types: sink.types,
    open: () => sink.open(),
    checkpoint: () => sink.checkpoint(),
    snapshot: () => sink.snapshot(),
    close: () => sink.close(),
    async apply(batch: SinkBatch) {
      const i = ++n
      if (i === opts.abortAt) {
        await sink.apply({
          ...batch,
          beforeCommit: () => {
            throw new Error('conformance: crash inside the transaction')
          },
        })
        return
      }
      await sink.apply(batch)
      opts.onBatch?.(i)
    },
  }
  return wrapped
}

export function runSinkConformance(
  name: string,
  harness: () => Promise<SinkHarness | string>,
  opts: { timeoutMs?: number } = {},
): void {
  const timeoutMs = opts.timeoutMs ?? 60_000
  describe(`sink conformance: ${name}`, () => {
    let h: SinkHarness | string
    let t: TestNode
    const targets = new Map<string, { type: EventType; id: string }>()
    const run = Math.random().toString(36).slice(2, 8)
    console.log(`# sink conformance ${name}: run ${run}`)
    const touch = (type: EventType, id: string) => targets.set(`${type} ${id}`, { type, id })

    before(async () => {
      h = await harness()
      if (typeof h === 'string') return
      t = await testNode()
    })
    after(async () => {
      await t?.close()
      if (typeof h !== 'string') await h?.destroy()
    })

    const push = async (events: Array<{ event_type: EventType; target_id: string; payload: JsonObject }>) => {
      for (const e of events) touch(e.event_type, e.target_id)
      const r = await t.node.api.push(events, LOCAL)
      assert.equal(r.rejected.length, 0, JSON.stringify(r.rejected))
      return r.digests
    }

    it('applies a stream with deletes, rollbacks, conflicts, resolutions and Yjs; survives an aborted transaction and a kill between batches; equals GET /state', async (ctx) => {
      if (typeof h === 'string') return ctx.skip(h)
      const harnessed = h
      const api = t.node.api
      const id = (s: string) => `${run}-${s}`

      // Phase 1: one of everything, enough targets for several small batches.
      const first = await push([
        ...Array.from({ length: 12 }, (_, i) => ({
          event_type: 'vector_update' as const,
          target_id: id(`v${i}`),
          payload: {
            op: 'upsert',
            values: [i, i / 3, -i, 0.1 * i],
            metadata: { i, tag: i % 2 === 0 ? 'even' : 'odd' },
          },
        })),
        {
          event_type: 'persona_update',
          target_id: id('ada'),
          payload: { op: 'set', fields: { name: 'Ada', born: 1815, tags: ['math'] } },
        },
        {
          event_type: 'persona_update',
          target_id: id('bob'),
          payload: { op: 'set', fields: { name: 'Bob' } },
        },
        {
          event_type: 'document_update',
          target_id: id('notes'),
          payload: { op: 'put', content: 'On the Analytical Engine' },
        },
        {
          event_type: 'document_update',
          target_id: id('memo'),
          payload: { op: 'put', content: '{"a":1}', content_type: 'application/json' },
        },
        {
          event_type: 'graph_update',
          target_id: id('g'),
          payload: {
            op: 'add_edge',
            from: 'ada',
            label: 'knows',
            to: 'babbage',
            properties: { since: 1833, via: { who: 'Somerville' } },
          },
        },
        {
          event_type: 'graph_update',
          target_id: id('g'),
          payload: { op: 'add_edge', from: 'babbage', label: 'knows', to: 'ada' },
        },
        {
          event_type: 'graph_update',
          target_id: id('g'),
          payload: { op: 'add_edge', from: 'ada', label: 'wrote about', to: 'engine' },
        },
      ])
      const sink1 = await harnessed.open()
      let stopAfter: (() => void) | undefined
      const killed = new Promise<void>((resolve) => {
        stopAfter = resolve
      })
      // Batches of 3 entries; the 2nd batch's transaction is aborted from inside; the sink is
      // killed (runner stopped, connection closed) after its 3rd successful batch.
      const runner1 = new SinkRunner(
        instrumented(sink1, { abortAt: 2, onBatch: (n) => (n >= 4 ? stopAfter?.() : undefined) }),
        t.node.feed,
        silent,
        { batchMax: 3, backoffBaseMs: 1, retriesMax: 10 },
      )
      runner1.start()
      const whole = runner1.caughtUp(await t.node.feed.lastSeq(), timeoutMs)
      whole.catch(() => {})
      await Promise.race([killed, whole])
      await runner1.stop()
      const s1 = runner1.status()
      assert.ok(s1.errorsTotal >= 1, 'the aborted transaction counted as an error')
      const lastSeq1 = await t.node.feed.lastSeq()
      assert.ok(s1.checkpoint < lastSeq1, `killed mid-stream (checkpoint ${s1.checkpoint} of ${lastSeq1})`)

      // A new sink instance over the same store reads the checkpoint the killed one committed.
      const sink2 = await harnessed.open()
      await sink2.open()
      assert.equal(await sink2.checkpoint(), s1.checkpoint, 'the checkpoint survived the kill')
      await sink2.close()

      // Phase 2: deletes, unsets, removals, a rollback, a conflict and its resolution, Yjs.
      await push([
        { event_type: 'vector_update', target_id: id('v0'), payload: { op: 'delete' } },
        {
          event_type: 'vector_update',
          target_id: id('v1'),
          payload: { op: 'upsert', values: [9, 9, 9, 9], metadata: {} },
        },
        { event_type: 'persona_update', target_id: id('ada'), payload: { op: 'unset', fields: ['tags'] } },
        { event_type: 'persona_update', target_id: id('bob'), payload: { op: 'unset', fields: ['name'] } },
        { event_type: 'document_update', target_id: id('memo'), payload: { op: 'delete' } },
        {
          event_type: 'graph_update',
          target_id: id('g'),
          payload: { op: 'remove_edge', from: 'babbage', label: 'knows', to: 'ada' },
        },
        {
          event_type: 'graph_update',
          target_id: id('g'),
          payload: {
            op: 'set_edge_properties',
            from: 'ada',
            label: 'knows',
            to: 'babbage',
            properties: { weight: 0.5 },
            unset: ['via'],
          },
        },
        {
          event_type: 'vector_update',
          target_id: id('v5'),
          payload: { op: 'upsert', values: [5, 5, 5, 5], metadata: { later: true } },
        },
      ])
      // Rollback of v2 to its first write (it was not changed; then changed, then rolled back).
      await push([
        {
          event_type: 'vector_update',
          target_id: id('v2'),
          payload: { op: 'upsert', values: [7, 7, 7, 7], metadata: { changed: true } },
        },
      ])
      const rolled = await api.rollback(
        { event_type: 'vector_update', target_id: id('v2'), to_event: first[2] },
        LOCAL,
      )
      assert.ok(rolled.cells >= 1)
      const rolledP = await api.rollback(
        { event_type: 'persona_update', target_id: id('ada'), to_event: first[12] },
        LOCAL,
      )
      assert.ok(rolledP.cells >= 1)
      // A conflict: two other authors write the same persona field concurrently (no parents).
      const a = testSigner(201)
      const b = testSigner(202)
      const cid = id('carol')
      touch('persona_update', cid)
      touch('vector_update', id('vx'))
      const hlc = { wallMs: 1_764_000_000_000, counter: 0 }
      const sides = [
        makeEvent(a, {
          type: 'persona_update',
          target: cid,
          payload: { op: 'set', fields: { name: 'Carol A' } },
          hlc,
        }),
        makeEvent(b, {
          type: 'persona_update',
          target: cid,
          payload: { op: 'set', fields: { name: 'Carol B' } },
          hlc,
        }),
        makeEvent(a, {
          type: 'vector_update',
          target: id('vx'),
          payload: { op: 'upsert', values: [1, 0, 0, 0] },
          hlc,
        }),
        makeEvent(b, {
          type: 'vector_update',
          target: id('vx'),
          payload: { op: 'upsert', values: [0, 1, 0, 0] },
          hlc,
        }),
      ]
      const pushed = await api.pushSigned(
        sides.map((e) => ({ signed: e.signed, signature: e.signature })),
        { kind: 'peer', id: 'conformance' },
      )
      assert.equal(pushed.accepted, 4, JSON.stringify(pushed.rejected))
      const open = (await api.conflicts('open', 100)).filter((c) => c.target === cid || c.target === id('vx'))
      assert.equal(open.length, 2, 'two conflicts are open')
      for (const c of open) {
        // manual_merge on the persona, prefer_remote on the vector: both reach the sink as changes.
        if (c.type === 'persona_update')
          await api.resolveConflict(
            { conflictId: c.id, resolutionStrategy: 'manual_merge', value: 'Carol (merged)' },
            LOCAL,
          )
        else await api.resolveConflict({ conflictId: c.id, resolutionStrategy: 'prefer_remote' }, LOCAL)
      }
      // Yjs: a persona edited through its Y.Map, a document through its Y.Text, and a document
      // whose LWW content is deleted but whose Yjs text remains.
      await push([
        {
          event_type: 'persona_update',
          target_id: id('yp'),
          payload: {
            op: 'yjs',
            update: yjsUpdate(
              'persona',
              (d) => {
                d.getMap('persona').set('name', 'Yjs Ada')
                d.getMap('persona').set('langs', ['en', 'fr'])
              },
              11,
            ),
          },
        },
        {
          event_type: 'persona_update',
          target_id: id('yp'),
          payload: {
            op: 'yjs',
            update: yjsUpdate('persona', (d) => d.getMap('persona').set('city', 'London'), 12),
          },
        },
        {
          event_type: 'document_update',
          target_id: id('yd'),
          payload: {
            op: 'yjs',
            update: yjsUpdate('document', (d) => d.getText('content').insert(0, 'hello world'), 13),
          },
        },
        {
          event_type: 'document_update',
          target_id: id('notes'),
          payload: {
            op: 'yjs',
            update: yjsUpdate('document', (d) => d.getText('content').insert(0, 'draft'), 14),
          },
        },
        { event_type: 'document_update', target_id: id('notes'), payload: { op: 'delete' } },
      ])
      const head = await t.node.feed.lastSeq()

      // Restart: a new sink instance, batches of 4, another aborted transaction on its way.
      const sink3 = await harnessed.open()
      const runner3 = new SinkRunner(instrumented(sink3, { abortAt: 3 }), t.node.feed, silent, {
        batchMax: 4,
        backoffBaseMs: 1,
        retriesMax: 10,
      })
      runner3.start()
      try {
        await runner3.caughtUp(head, timeoutMs)
        assert.equal(runner3.status().checkpoint, head)
        await assertSame(api, sink3, targets)

        // Out-of-order batch: refused, store unchanged.
        await assert.rejects(
          sink3.apply({ fromSeq: head - 1, toSeq: head + 1, changes: [] }),
          (err: Error) => err.name === 'SinkCheckpointMismatchError',
        )
        assert.equal(await sink3.checkpoint(), head)
        // Idempotent: the same projections applied again leave the same content.
        const again = [...targets.values()]
          .filter((x) => sink3.types.includes(x.type))
          .map((x) => ({ ...x, projection: undefined as TargetProjection | undefined }))
        for (const c of again) c.projection = projectState(c.type, c.id, await api.state(c.type, c.id))
        await sink3.apply({ fromSeq: head, toSeq: head, changes: again })
        await assertSame(api, sink3, targets)
      } finally {
        await runner3.stop()
      }
    })
  })
}
