/**
 * The rebuild reads the log by sequential scans (src/store/target-scan.ts), in passes that each
 * hold one range of the target order in a bounded buffer. The state it builds must be the live
 * path's, byte for byte: here a seeded random event set (many targets of every type, several
 * cells each, concurrent writes that open conflicts, resolutions of some of them, Yjs
 * documents edited by two authors) arrives live one group at a time in a shuffled order
 * (parents after children included), and is then rebuilt with buffers that need one pass or
 * dozens, and pages that split targets. And a rebuild that dies half-way (a failed write, the
 * process stopping at a page on LevelDB, or killed with SIGKILL with its spill files on disk)
 * leaves no state hash: the next start rebuilds and reaches the same state.
 *
 * Seeded: GKM_SEED=<n> reproduces a run (the seed is in the suite's name).
 */
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { Store } from '../../../src/core/ports.ts'
import type { Digest, EventType, JsonObject, SignedEvent } from '../../../src/core/types.ts'
import { addHash, EMPTY_STATE_HASH } from '../../../src/core/view.ts'
import { needsRebuild, rebuildState } from '../../../src/node/replay.ts'
import { createLevelStore, createMemoryStore } from '../../../src/store/index.ts'
import { prng } from '../../helpers/crash.ts'
import { makeEvent, testSigner } from '../../helpers/events.ts'
import {
  ingestLive as ingestLiveWith,
  resolutions as resolveSome,
  shuffled,
  testEngine,
} from '../../helpers/rebuild-history.ts'
import { twoAuthorYjsUpdates } from '../../helpers/yjs-edits.ts'

const SEED = Number(process.env.GKM_SEED ?? 20261205)
const NOW = 1_764_000_900_000
const authors = [testSigner(51), testSigner(52), testSigner(53), testSigner(54)]
const SELF = testSigner(50)
const selfKey = Buffer.from(SELF.publicKey).toString('hex')
/** Small compaction interval so the Yjs documents compact live (and differently in the rebuild). */
const YJS_COMPACT = 16

const engine = (store: Store) => testEngine(store, SELF, '00000000000000bb', YJS_COMPACT)
const ingestLive = (store: Store, events: readonly SignedEvent[], seed: number, ingestor = engine(store)) =>
  ingestLiveWith(store, events, seed, ingestor, NOW)
const resolutions = (store: Store, seed: number) => resolveSome(store, seed, authors)

function payloadOf(type: EventType, rnd: () => number, n: number): JsonObject {
  const pick = (k: number) => Math.floor(rnd() * k)
  switch (type) {
    case 'persona_update':
      return rnd() < 0.15
        ? { op: 'unset', fields: [`f${pick(6)}`] }
        : { op: 'set', fields: { [`f${pick(6)}`]: pick(5), ...(rnd() < 0.3 ? { [`f${pick(6)}x`]: n } : {}) } }
    case 'vector_update':
      return { op: 'upsert', values: [pick(7), pick(7) / 2, n % 3] }
    case 'document_update':
      return { op: 'put', content: `doc ${pick(4)}` }
    case 'graph_update':
      return rnd() < 0.2
        ? { op: 'remove_edge', from: 'a', to: `n${pick(5)}`, label: 'knows' }
        : { op: 'add_edge', from: 'a', to: `n${pick(5)}`, label: 'knows' }
  }
}

/**
 * Events of many targets. Each author names the heads it has seen of the target (sometimes all
 * of them, which merges concurrent writes; sometimes only its own last, or none: concurrent
 * writes, hence conflicts). Two documents are Yjs documents edited by two authors.
 */
function history(seed: number): SignedEvent[] {
  const rnd = prng(seed)
  const types: EventType[] = ['persona_update', 'vector_update', 'document_update', 'graph_update']
  const heads = new Map<string, Set<Digest>>()
  const own = new Map<string, Digest>()
  const out: SignedEvent[] = []
  let wall = 1_764_000_000_000
  for (let i = 0; i < 900; i++) {
    const type = types[Math.floor(rnd() * types.length)]
    // Targets of very different sizes: a few hot ones, many with a handful of events.
    const target = rnd() < 0.4 ? `hot-${Math.floor(rnd() * 3)}` : `t${Math.floor(rnd() * 60)}`
    const a = Math.floor(rnd() * authors.length)
    const key = `${type}/${target}`
    const seen = heads.get(key) ?? new Set<Digest>()
    const r = rnd()
    const parents =
      r < 0.5 ? [...seen] : r < 0.8 ? [own.get(`${a}/${key}`)].filter((d) => d !== undefined) : []
    wall += 1 + Math.floor(rnd() * 3)
    const e = makeEvent(authors[a], {
      type,
      target,
      payload: payloadOf(type, rnd, i),
      hlc: { wallMs: wall, counter: 0 },
      parents: [...new Set(parents)].sort() as Digest[],
    })
    for (const p of e.parents) seen.delete(p)
    seen.add(e.digest)
    heads.set(key, seen)
    own.set(`${a}/${key}`, e.digest)
    out.push(e)
  }
  // Two Yjs documents, two authors each, exchanging state now and then.
  for (const target of ['ydoc-1', 'ydoc-2']) {
    const updates = twoAuthorYjsUpdates(rnd, 60, 7, 9)
    for (const { a, u } of updates) {
      wall += 1
      out.push(
        makeEvent(authors[a], {
          type: 'document_update',
          target,
          payload: { op: 'yjs', update: Buffer.from(u).toString('base64') },
          hlc: { wallMs: wall, counter: 0 },
        }),
      )
    }
  }
  return out
}

/** What must be equal: the state hash, every target's hash, and the conflicts the final state
 *  holds (open, resolved). Superseded records are the conflicts an arrival order passed through
 *  on its way (a function of the order, not of the event set: the live path here takes the events
 *  shuffled), so they are left out. */
async function summary(store: Store, stateHash: string) {
  const targets: string[] = []
  let sum = EMPTY_STATE_HASH
  for await (const t of store.iterateTargets()) {
    targets.push(`${t.type}/${t.target} ${t.hash} ${t.events}`)
    sum = addHash(sum, t.hash!)
  }
  // The live engine's running state hash is the sum of its targets' hashes.
  assert.equal(sum, stateHash)
  return {
    stateHash,
    targets,
    conflicts: (await store.listConflicts('all', 10_000))
      .filter((r) => r.status !== 'superseded')
      .map((r) => `${r.id} ${r.status} ${r.winner} ${r.resolvedBy ?? ''}`)
      .sort(),
    open: (await store.counts()).conflictsOpen,
  }
}

describe(`rebuild by sequential scans (seed ${SEED})`, () => {
  it('gives the live path state hash, targets and conflicts, whatever the buffer and page', async () => {
    const base = history(SEED)
    const store = createMemoryStore()
    await store.open()
    const first = await ingestLive(store, shuffled(base, SEED + 1), SEED + 2)
    const extra = await resolutions(store, SEED + 3)
    assert.ok(extra.length > 0, 'some conflicts to resolve')
    const live = await ingestLive(store, extra, SEED + 4, first)
    const want = await summary(store, live.stateHash)
    assert.ok(want.targets.length > 60, `${want.targets.length} targets`)
    assert.ok(
      want.open > 0 && want.conflicts.some((c) => c.includes(' resolved ')),
      'open and resolved conflicts',
    )
    for (const [bufferBytes, pageEvents] of [
      [8 * 1024, 7],
      [64 * 1024, 1],
      [256 * 1024, 333],
      [64 * 1024 * 1024, 1000],
    ]) {
      const fresh = engine(store)
      const report = await rebuildState(store, fresh, {
        selfKey,
        now: () => NOW,
        force: true,
        bufferBytes,
        pageEvents,
      })
      assert.equal(report.events, base.length + extra.length)
      if (bufferBytes <= 64 * 1024)
        assert.ok((report.passes ?? 0) > 3, `${bufferBytes}: ${report.passes} passes`)
      assert.deepEqual(
        await summary(store, fresh.stateHash),
        want,
        `buffer ${bufferBytes}, pages of ${pageEvents}`,
      )
      assert.equal(await store.getMeta('stateHash'), want.stateHash)
    }
    await store.close()
  })

  it('a rebuild whose write fails half-way leaves no state hash; the next one reaches the live state', async () => {
    const store = createMemoryStore()
    await store.open()
    const live = await ingestLive(store, shuffled(history(SEED + 10), SEED + 11), SEED + 12)
    const want = await summary(store, live.stateHash)
    let pages = 0
    const failing = new Proxy(store, {
      get(target, prop) {
        if (prop === 'commit')
          return (batch: Parameters<Store['commit']>[0]) => {
            if (batch.unsynced === true && ++pages === 5)
              return Promise.reject(new Error('injected write failure'))
            return target.commit(batch)
          }
        const v = Reflect.get(target, prop, target)
        return typeof v === 'function' ? v.bind(target) : v
      },
    })
    await assert.rejects(
      rebuildState(failing, engine(store), {
        selfKey,
        now: () => NOW,
        force: true,
        bufferBytes: 16 * 1024,
        pageEvents: 50,
      }),
      /injected write failure/,
    )
    assert.equal(await store.getMeta('stateHash'), undefined)
    assert.equal(await needsRebuild(store), true)
    const again = engine(store)
    const report = await rebuildState(store, again, { selfKey, now: () => NOW, bufferBytes: 16 * 1024 })
    assert.equal(report.rebuilt, true)
    assert.deepEqual(await summary(store, again.stateHash), want)
    await store.close()
  })

  it('on LevelDB, a rebuild stopped at a page (the process ends mid-scan) is redone at the next open', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gkm-replay-scan-'))
    try {
      let store = createLevelStore(dir)
      await store.open()
      const live = await ingestLive(store, shuffled(history(SEED + 20), SEED + 21), SEED + 22)
      const want = await summary(store, live.stateHash)
      // Stop at the third page: the scan's snapshot and iterator are open, pages are written
      // unsynced, the marker is not; the store is then closed as a process exit would leave it.
      const stop = new Error('stopped at a page')
      await assert.rejects(
        rebuildState(store, engine(store), {
          selfKey,
          now: () => NOW,
          force: true,
          bufferBytes: 32 * 1024,
          pageEvents: 40,
          onProgress: (done) => {
            if (done >= 120) throw stop
          },
        }),
        (err) => err === stop,
      )
      await store.close()
      store = createLevelStore(dir)
      await store.open()
      assert.equal(await needsRebuild(store), true)
      const again = engine(store)
      const report = await rebuildState(store, again, { selfKey, now: () => NOW, bufferBytes: 32 * 1024 })
      assert.ok(report.rebuilt && (report.passes ?? 0) > 1)
      assert.deepEqual(await summary(store, again.stateHash), want)
      await store.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a rebuild killed (SIGKILL) mid-way, its spill files on disk, is redone at the next start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gkm-replay-kill-'))
    try {
      let store = createLevelStore(dir)
      await store.open()
      const live = await ingestLive(store, shuffled(history(SEED + 30), SEED + 31), SEED + 32)
      const want = await summary(store, live.stateHash)
      await store.close()
      const child = fork(new URL('../../helpers/rebuild-child.ts', import.meta.url).pathname, [dir, '200'], {
        stdio: 'ignore',
      })
      const exited = once(child, 'exit')
      const [message] = await Promise.race([
        once(child, 'message'),
        exited.then(([code]) => Promise.reject(new Error(`the rebuild child exited first (${code})`))),
      ])
      assert.equal(message, 'held')
      child.kill('SIGKILL')
      await exited
      // The crash left the spill and no state hash.
      assert.ok((await readdir(join(dir, 'rebuild-spill'))).length > 1, 'spill files left by the crash')
      store = createLevelStore(dir)
      await store.open()
      assert.equal(await store.getMeta('stateHash'), undefined)
      assert.equal(await needsRebuild(store), true)
      const again = engine(store)
      const report = await rebuildState(store, again, { selfKey, now: () => NOW, bufferBytes: 32 * 1024 })
      assert.ok(report.rebuilt)
      assert.deepEqual(await summary(store, again.stateHash), want)
      assert.ok(!(await readdir(dir)).includes('rebuild-spill'), 'the spill is removed')
      await store.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
