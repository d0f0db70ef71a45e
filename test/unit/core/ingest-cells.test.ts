/**
 * State per cell through the ingest engine: a write to a big target reads the target's small
 * parts and the cells it writes (a targeted read), never the whole target, and the batch it
 * commits carries only those cells. The state it leads to equals a merge of every event from
 * scratch.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as Y from 'yjs'
import { type IngestItem, Ingestor, YJS_COMPACT_UPDATES } from '../../../src/core/ingest.ts'
import { mergeEvent } from '../../../src/core/merge.ts'
import { parsePayload } from '../../../src/core/payload.ts'
import type { Store } from '../../../src/core/ports.ts'
import type { TargetState } from '../../../src/core/target-state.ts'
import type { Digest, SignedEvent } from '../../../src/core/types.ts'
import { crdtView, EMPTY_STATE_HASH, targetHash, YJS_DOCUMENT_TEXT } from '../../../src/core/view.ts'
import { trustedYjsMerger } from '../../../src/core/yjs-merge.ts'
import { createMemoryStore } from '../../../src/store/index.ts'
import { makeEvent, testSigner } from '../../helpers/events.ts'

const NOW = 1_764_000_100_000
const alice = testSigner(41)

/** The store, counting the reads the engine makes of target state. */
function counted(store: Store) {
  const reads = { whole: 0, headers: 0, cells: [] as string[], yjs: 0 }
  const own: Partial<Store> = {
    getTarget: (type, target) => {
      reads.whole++
      return store.getTarget(type, target)
    },
    getTargets: (refs) => {
      reads.whole += refs.length
      return store.getTargets(refs)
    },
    getTargetHeaders: (refs) => {
      reads.headers += refs.length
      return store.getTargetHeaders(refs)
    },
    getYjs: (type, target) => {
      reads.yjs++
      return store.getYjs(type, target)
    },
    getCells: (type, target, cells) => {
      reads.cells.push(...cells)
      return store.getCells(type, target, cells)
    },
  }
  const spy = new Proxy(store, {
    get: (t, k) =>
      Object.hasOwn(own, k)
        ? own[k as keyof Store]
        : (t[k as keyof Store] as (...a: unknown[]) => unknown).bind(t),
  })
  return { spy, reads }
}

function edge(
  signer = alice,
  n: number,
  parents: Digest[] = [],
  props?: Record<string, number>,
): SignedEvent {
  return makeEvent(signer, {
    type: 'graph_update',
    target: 'g',
    payload: {
      op: 'add_edge',
      from: 'a',
      to: `n${n}`,
      label: 'knows',
      ...(props ? { properties: props } : {}),
    },
    hlc: { wallMs: 1_764_000_000_000 + n, counter: 0 },
    parents,
  })
}

async function ingestGroups(ingestor: Ingestor, store: Store, groups: SignedEvent[][]): Promise<void> {
  for (const g of groups) {
    const items: IngestItem[] = g.map((event) => ({ kind: 'signed', event }))
    const { batch } = await ingestor.ingest(items, NOW)
    await store.commit(batch)
    ingestor.committed()
  }
}

const whole0 = (records: ReadonlyArray<{ cell: string }>) => records.map((r) => r.cell)

async function fromScratch(events: readonly SignedEvent[]): Promise<TargetState> {
  const metas = new Map(events.map((e) => [e.digest, { hlcKey: '', parents: e.parents }]))
  for (const e of events)
    metas.set(e.digest, {
      hlcKey: e.hlc.wallMs.toString(16).padStart(12, '0') + e.hlc.counter.toString(16).padStart(4, '0'),
      parents: e.parents,
    })
  const ancestry = { meta: async (d: Digest) => metas.get(d) }
  let s: TargetState | undefined
  for (const e of events)
    s = (await mergeEvent(s, e, parsePayload(e.type, e.payload), ancestry, trustedYjsMerger, s !== undefined))
      .state
  return s!
}

describe('state per cell in the ingest engine', () => {
  it('a write to a target of 2,000 edges reads and writes only its own cells', async () => {
    const store = createMemoryStore()
    await store.open()
    const events: SignedEvent[] = []
    let head: Digest[] = []
    for (let i = 0; i < 2000; i++) {
      const e = edge(alice, i, head)
      head = [e.digest]
      events.push(e)
    }
    const first = new Ingestor(
      { store, signer: testSigner(40), crdt: trustedYjsMerger },
      { hlc: { wallMs: 0, counter: 0 }, stateHash: EMPTY_STATE_HASH, log: '00000000000000aa', logNext: 0 },
    )
    const groups: SignedEvent[][] = []
    for (let i = 0; i < events.length; i += 250) groups.push(events.slice(i, i + 250))
    await ingestGroups(first, store, groups)

    // A new engine (as after a restart: nothing cached) adds one edge with a property.
    const { spy, reads } = counted(store)
    const engine = new Ingestor(
      { store: spy, signer: testSigner(40), crdt: trustedYjsMerger },
      { hlc: { wallMs: 0, counter: 0 }, stateHash: first.stateHash, log: '00000000000000aa', logNext: 0 },
    )
    const next = edge(alice, 5000, head, { since: 2024 })
    const { batch } = await engine.ingest([{ kind: 'signed', event: next }], NOW)
    assert.equal(reads.whole, 0, 'no whole target read')
    assert.equal(reads.headers, 1)
    assert.deepEqual(reads.cells.sort(), ['edge:["a","knows","n5000"]', 'prop:["a","knows","n5000","since"]'])
    assert.equal(batch.targets.length, 1)
    assert.deepEqual(Object.keys(batch.targets[0].cells).sort(), reads.cells)
    await store.commit(batch)
    engine.committed()

    // The stored target, read whole, is the merge of every event from scratch, and its hash
    // is the engine's state hash (the only target).
    const whole = await store.getTarget('graph_update', 'g')
    const scratch = await fromScratch([...events, next])
    assert.equal(Object.keys(whole!.cells).length, 2002)
    assert.deepEqual(whole!.cells, scratch.cells)
    assert.equal(whole!.cellSum, scratch.cellSum)
    assert.equal(targetHash(whole!), targetHash(scratch))
    assert.equal(engine.stateHash, targetHash(scratch))
    await store.close()
  })

  it('a late intermediate event re-checks the contested cells, read back from the store', async () => {
    const store = createMemoryStore()
    await store.open()
    // base (x=0) -> mid (y only) -> late (x=2). Before `mid` arrives, `late` names a parent
    // this node does not hold, so nothing shows that it saw `base`: x is contested (an open
    // conflict). `mid` writes only y; its arrival must re-check x (read back from the store,
    // the cache holds one other target) and settle it.
    const persona = (n: number, fields: Record<string, number>, parents: Digest[]) =>
      makeEvent(alice, {
        type: 'persona_update',
        target: 'p',
        payload: { op: 'set', fields },
        hlc: { wallMs: 1_764_000_000_000 + n, counter: 0 },
        parents,
      })
    const base = persona(1, { x: 0 }, [])
    const mid = persona(2, { y: 1 }, [base.digest])
    const late = persona(3, { x: 2 }, [mid.digest])
    const all = [base, mid, late]
    const { spy, reads } = counted(store)
    const engine = new Ingestor(
      { store: spy, signer: testSigner(40), crdt: trustedYjsMerger },
      {
        hlc: { wallMs: 0, counter: 0 },
        stateHash: EMPTY_STATE_HASH,
        log: '00000000000000aa',
        logNext: 0,
        targetCacheMax: 1,
      },
    )
    for (const e of [base, late, mid]) {
      // Another target in between evicts "p" from the one-entry cache.
      const filler = makeEvent(alice, { type: 'persona_update', target: `f${e.digest.slice(0, 4)}` })
      await ingestGroups(engine, store, [[e], [filler]])
    }
    assert.equal(reads.whole, 0)
    assert.ok(reads.cells.includes('field:x'), 'the contested cell was read back')
    assert.deepEqual(whole0(await store.listConflicts('superseded', 10)), ['field:x'])
    const whole = await store.getTarget('persona_update', 'p')
    const scratch = await fromScratch(all)
    assert.deepEqual(whole!.cells, scratch.cells)
    assert.deepEqual(whole!.contested, scratch.contested)
    assert.equal(targetHash(whole!), targetHash(scratch))
    await store.close()
  })

  it('Yjs updates are appended and compacted every yjsCompactUpdates; view and hash as if merged whole', async () => {
    // YJS_COMPACT_UPDATES in production; fewer here so that ~330 updates compact several times.
    const COMPACT = 64
    assert.ok(YJS_COMPACT_UPDATES >= COMPACT)
    // Two authors edit one document; their updates are events on the same target.
    const docs = [new Y.Doc(), new Y.Doc()]
    const updates: Array<{ author: number; update: Uint8Array }> = []
    docs.forEach((d, author) => {
      d.on('update', (u: Uint8Array) => {
        updates.push({ author, update: u })
      })
    })
    for (let i = 0; i < 300; i++) {
      const d = docs[i % 2]
      const text = d.getText(YJS_DOCUMENT_TEXT)
      if (i % 7 === 6 && text.length > 3) text.delete(1, 2)
      else text.insert(Math.min(i % 5, text.length), `w${i} `)
      // Exchange now and then, so the authors see each other's edits.
      if (i % 10 === 9) {
        Y.applyUpdate(docs[1 - (i % 2)], Y.encodeStateAsUpdate(d))
      }
    }
    const signers = [alice, testSigner(43)]
    const events = updates.map(({ author, update }, i) =>
      makeEvent(signers[author], {
        type: 'document_update',
        target: 'doc',
        payload: { op: 'yjs', update: Buffer.from(update).toString('base64') },
        hlc: { wallMs: 1_764_000_000_000 + i, counter: 0 },
      }),
    )
    const want = new Y.Doc()
    for (const { update } of updates) Y.applyUpdate(want, update)
    const expected = want.getText(YJS_DOCUMENT_TEXT).toString()

    const run = async (order: SignedEvent[], group: number) => {
      const store = createMemoryStore()
      await store.open()
      const { spy, reads } = counted(store)
      const engine = new Ingestor(
        { store: spy, signer: testSigner(40), crdt: trustedYjsMerger },
        {
          hlc: { wallMs: 0, counter: 0 },
          stateHash: EMPTY_STATE_HASH,
          log: '00000000000000aa',
          logNext: 0,
          yjsCompactUpdates: COMPACT,
        },
      )
      const groups: SignedEvent[][] = []
      for (let i = 0; i < order.length; i += group) groups.push(order.slice(i, i + group))
      await ingestGroups(engine, store, groups)
      const whole = (await store.getTarget('document_update', 'doc'))!
      return { store, engine, whole, reads }
    }
    const a = await run(events, 1)
    const reversed = [...events].reverse()
    const b = await run(reversed, 37)
    try {
      // Compacted: a snapshot and fewer than COMPACT updates left in the log.
      for (const { whole, reads } of [a, b]) {
        assert.ok(whole.yjs !== undefined, 'a snapshot was written')
        const pending = Object.keys(whole.yjsLog ?? {}).length
        assert.ok(pending < COMPACT, `${pending} updates left in the log`)
        assert.equal(whole.yjsPending, pending)
        assert.equal(crdtView(whole), expected)
        // One read of the document per compaction, none per update.
        assert.ok(reads.yjs >= 2 && reads.yjs <= Math.ceil(events.length / COMPACT), `${reads.yjs}`)
        assert.equal(reads.whole, 0)
      }
      // The same set in another order and grouping (compacted at other points): same hash, and
      // the hash of a merge of every event from scratch (never compacted).
      assert.equal(a.engine.stateHash, b.engine.stateHash)
      const scratch = await fromScratch(events)
      assert.equal(targetHash(a.whole), targetHash(scratch))
      assert.equal(crdtView(scratch), expected)
      assert.equal(a.whole.yjsSum, scratch.yjsSum)
    } finally {
      await a.store.close()
      await b.store.close()
    }
  })
})
