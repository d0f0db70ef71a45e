/**
 * Start-up rebuild: the state rebuilt from the log equals the state built live, whatever the
 * page size, including pages that split a target's events (the rebuild writes one page while it
 * merges the next).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { type IngestItem, Ingestor } from '../../../src/core/ingest.ts'
import type { Digest } from '../../../src/core/types.ts'
import { EMPTY_STATE_HASH } from '../../../src/core/view.ts'
import { trustedYjsMerger } from '../../../src/core/yjs-merge.ts'
import { rebuildState } from '../../../src/node/replay.ts'
import { createMemoryStore } from '../../../src/store/index.ts'
import { makeEvent, testSigner } from '../../helpers/events.ts'

const NOW = 1_764_000_100_000
const [a, b, c] = [testSigner(21), testSigner(22), testSigner(23)]

/** Per target: two concurrent writes (a conflict), then a merge by a third author that names
 *  both (closes it as superseded); odd targets keep their conflict open. */
function history() {
  const events = []
  for (let t = 0; t < 6; t++) {
    const target = `p${t}`
    const wall = 1_764_000_000_000 + t * 10
    const x = makeEvent(a, {
      target,
      payload: { op: 'set', fields: { name: `a${t}` } },
      hlc: { wallMs: wall, counter: 0 },
    })
    const y = makeEvent(b, {
      target,
      payload: { op: 'set', fields: { name: `b${t}` } },
      hlc: { wallMs: wall + 1, counter: 0 },
    })
    events.push(x, y)
    if (t % 2 === 0) {
      const parents = [x.digest, y.digest].sort() as Digest[]
      events.push(
        makeEvent(c, {
          target,
          payload: { op: 'set', fields: { name: `c${t}` } },
          hlc: { wallMs: wall + 2, counter: 0 },
          parents,
        }),
      )
    }
  }
  return events
}

async function live() {
  const store = createMemoryStore()
  await store.open()
  const ingestor = new Ingestor(
    { store, signer: testSigner(20), crdt: trustedYjsMerger },
    { hlc: { wallMs: 0, counter: 0 }, stateHash: EMPTY_STATE_HASH, log: '00000000000000aa', logNext: 0 },
  )
  // One event per group, in log order: the live path.
  for (const e of history()) {
    const items: IngestItem[] = [{ kind: 'signed', event: e }]
    const { batch } = await ingestor.ingest(items, NOW)
    await store.commit(batch)
    ingestor.committed()
  }
  return { store, ingestor }
}

const summary = async (store: Awaited<ReturnType<typeof live>>['store'], stateHash: string) => ({
  stateHash,
  conflicts: (await store.listConflicts('all', 100)).map((r) => [r.id, r.status, r.winner]).sort(),
  open: (await store.counts()).conflictsOpen,
})

describe('rebuildState', () => {
  for (const pageEvents of [1, 2, 3, 4, 5000]) {
    it(`rebuilds the live state with pages of ${pageEvents} event(s)`, async () => {
      const { store, ingestor } = await live()
      const before = await summary(store, ingestor.stateHash)
      assert.ok(before.conflicts.some((c) => c[1] === 'superseded'))
      assert.ok(before.open > 0)
      const fresh = new Ingestor(
        { store, signer: testSigner(20), crdt: trustedYjsMerger },
        { hlc: { wallMs: 0, counter: 0 }, stateHash: EMPTY_STATE_HASH, log: '00000000000000aa', logNext: 0 },
      )
      // Writes that land late: the next page is merged while the previous one is still being written.
      const slow = new Proxy(store, {
        get(target, prop) {
          if (prop === 'commit')
            return async (batch: Parameters<typeof store.commit>[0]) => {
              await delay(5)
              return target.commit(batch)
            }
          const v = Reflect.get(target, prop, target)
          return typeof v === 'function' ? v.bind(target) : v
        },
      })
      const report = await rebuildState(slow, fresh, {
        selfKey: Buffer.from(testSigner(20).publicKey).toString('hex'),
        now: () => NOW,
        force: true,
        pageEvents,
      })
      assert.equal(report.events, history().length)
      assert.deepEqual(await summary(store, fresh.stateHash), before)
      assert.equal(await store.getMeta('stateHash'), before.stateHash)
      await store.close()
    })
  }

  it('writes its pages unsynced and the state hash marker last, synced', async () => {
    const { store } = await live()
    const fresh = new Ingestor(
      { store, signer: testSigner(20), crdt: trustedYjsMerger },
      { hlc: { wallMs: 0, counter: 0 }, stateHash: EMPTY_STATE_HASH, log: '00000000000000aa', logNext: 0 },
    )
    const commits: Array<{ unsynced: boolean; marker: boolean }> = []
    const watched = new Proxy(store, {
      get(target, prop) {
        if (prop === 'commit')
          return (batch: Parameters<typeof store.commit>[0]) => {
            commits.push({ unsynced: batch.unsynced === true, marker: batch.meta.stateHash !== undefined })
            return target.commit(batch)
          }
        const v = Reflect.get(target, prop, target)
        return typeof v === 'function' ? v.bind(target) : v
      },
    })
    await rebuildState(watched, fresh, {
      selfKey: Buffer.from(testSigner(20).publicKey).toString('hex'),
      now: () => NOW,
      force: true,
      pageEvents: 1,
    })
    // The synced marker makes the unsynced pages before it durable; a crash before it leaves no
    // state hash (the next start rebuilds), so no page may carry the marker or skip the order.
    assert.ok(commits.length > 2)
    assert.deepEqual(commits.at(-1), { unsynced: false, marker: true })
    for (const c of commits.slice(0, -1)) assert.deepEqual(c, { unsynced: true, marker: false })
    await store.close()
  })
})
