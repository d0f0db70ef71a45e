/**
 * Per-author logs in the ingest engine: local writes take consecutive positions of the node's
 * own log and one signed head per group; out-of-order arrivals leave holes that close when the
 * missing positions arrive; two events at one position (a fork) or under one event_id are both
 * kept and recorded, so the state does not depend on which arrived first.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { type IngestItem, Ingestor } from '../../../src/core/ingest.ts'
import { LOG_HOLES_MAX, nextHoles, OWN_HEAD_EVERY } from '../../../src/core/log-book.ts'
import { headSignable, leafHash, peaksOf, rootHash } from '../../../src/core/merkle-log.ts'
import type { Store } from '../../../src/core/ports.ts'
import type { SignedEvent } from '../../../src/core/types.ts'
import { EMPTY_STATE_HASH } from '../../../src/core/view.ts'
import { trustedYjsMerger } from '../../../src/core/yjs-merge.ts'
import { createMemoryStore } from '../../../src/store/index.ts'
import { fromHex, toHex } from '../../../src/util/bytes.ts'
import { verifyEd25519 } from '../../../src/util/crypto.ts'
import { makeEvent, testSigner, testUuid } from '../../helpers/events.ts'

const NOW = 1_764_000_000_000

async function node(
  seedByte: number,
  log = '00000000000000aa',
): Promise<{ store: Store; ingestor: Ingestor }> {
  const store = createMemoryStore()
  await store.open()
  const ingestor = new Ingestor(
    { store, signer: testSigner(seedByte), crdt: trustedYjsMerger },
    { hlc: { wallMs: 0, counter: 0 }, stateHash: EMPTY_STATE_HASH, log, logNext: 0 },
  )
  return { store, ingestor }
}

async function group(n: { store: Store; ingestor: Ingestor }, items: IngestItem[]) {
  const r = await n.ingestor.ingest(items, NOW)
  await n.store.commit(r.batch)
  n.ingestor.committed()
  return r
}

const local = (i: number): IngestItem => ({
  kind: 'local',
  eventId: testUuid(),
  type: 'persona_update',
  targetId: `p${i % 2}`,
  payload: { op: 'set', fields: { n: i } },
})

const signed = (event: SignedEvent): IngestItem => ({ kind: 'signed', event })

describe('per-author logs in the ingest engine', () => {
  it('numbers local writes 0, 1, 2, ... and signs a head over all of them at the first group', async () => {
    const n = await node(41)
    const a = await group(n, [local(0), local(1), local(2)])
    const b = await group(n, [local(3)])
    const events = [...a.accepted, ...b.accepted]
    assert.deepEqual(
      events.map((e) => [e.log, e.seq]),
      [0, 1, 2, 3].map((s) => ['00000000000000aa', s]),
    )
    const author = toHex(testSigner(41).publicKey)
    const [rec] = await n.store.getLogRecords([{ author: author as never, log: '00000000000000aa' }])
    assert.ok(rec !== undefined)
    assert.equal(rec.contiguous, 4)
    assert.equal(rec.end, 4)
    // The first group signs; the second (1 position past the head, < OWN_HEAD_EVERY) does not.
    const root = rootHash(3, peaksOf(events.slice(0, 3).map((e) => leafHash(fromHex(e.digest)!))))
    assert.equal(rec.head?.length, 3)
    assert.equal(rec.head?.root, toHex(root))
    const signable = headSignable(testSigner(41).publicKey, fromHex('00000000000000aa')!, 3, root)
    assert.ok(verifyEd25519(testSigner(41).publicKey, signable, fromHex(rec.head!.signature)!))
    // The first head is kept as a checkpoint a peer can verify a range against.
    const kept = await n.store.getLogHeads(author as never, '00000000000000aa', 0, 10, 10)
    assert.deepEqual(
      kept.map((h) => h.length),
      [3],
    )
  })

  it('one group after another: the record peaks and head are those of the whole log', async () => {
    // Each group appends to the peaks the previous group left decoded (log-book.ts keeps them
    // beside its record): 1..131 events, every merge pattern of the low peaks.
    const n = await node(43)
    const events: SignedEvent[] = []
    const author = toHex(testSigner(43).publicKey)
    // One-event groups: the head is signed at the first and then once the log is OWN_HEAD_EVERY
    // positions past it (1, 65, 129, ...), over the whole log at that length.
    let headAt = 0
    for (let i = 0; i < 2 * OWN_HEAD_EVERY + 3; i++) {
      events.push(...(await group(n, [local(i)])).accepted)
      const [rec] = await n.store.getLogRecords([{ author: author as never, log: '00000000000000aa' }])
      const peaks = peaksOf(events.map((e) => leafHash(fromHex(e.digest)!)))
      assert.deepEqual(
        rec?.peaks,
        peaks.map((p) => ({ height: p.height, hash: toHex(p.hash) })),
      )
      if (headAt === 0 || events.length - headAt >= OWN_HEAD_EVERY) headAt = events.length
      assert.equal(rec?.head?.length, headAt)
      const headPeaks = peaksOf(events.slice(0, headAt).map((e) => leafHash(fromHex(e.digest)!)))
      assert.equal(rec?.head?.root, toHex(rootHash(headAt, headPeaks)))
    }
    assert.equal(headAt, 2 * OWN_HEAD_EVERY + 1)
  })

  it('a log received out of order has holes until the missing positions arrive', async () => {
    const w = testSigner(42)
    const es = [0, 1, 2, 3, 4].map((seq) => makeEvent(w, { target: `t${seq}`, seq }))
    const n = await node(43)
    await group(n, [signed(es[0]), signed(es[3])])
    const key = { author: es[0].author, log: es[0].log }
    let [rec] = await n.store.getLogRecords([key])
    assert.deepEqual([rec?.contiguous, rec?.end, rec?.heldBeyond], [1, 4, 1])
    await group(n, [signed(es[2])])
    await group(n, [signed(es[1]), signed(es[4])])
    ;[rec] = await n.store.getLogRecords([key])
    assert.deepEqual([rec?.contiguous, rec?.end, rec?.heldBeyond], [5, 5, 0])
    const root = rootHash(5, peaksOf(es.map((e) => leafHash(fromHex(e.digest)!))))
    assert.equal(rec?.peaks.length, 2)
    assert.equal(
      toHex(
        rootHash(
          5,
          rec!.peaks.map((p) => ({ height: p.height, hash: fromHex(p.hash)! })),
        ),
      ),
      toHex(root),
    )
  })

  it('the store lists the positions of a log it holds (keys only), in a range and bounded', async () => {
    const w = testSigner(48)
    const es = [0, 2, 3, 7, 9].map((seq) => makeEvent(w, { target: `h${seq}`, seq }))
    const n = await node(49)
    await group(n, es.map(signed))
    const { author, log } = es[0]
    assert.deepEqual(await n.store.readLogHeld(author, log, 0, 100, 100), [0, 2, 3, 7, 9])
    assert.deepEqual(await n.store.readLogHeld(author, log, 1, 9, 100), [2, 3, 7])
    assert.deepEqual(await n.store.readLogHeld(author, log, 0, 100, 2), [0, 2])
    assert.deepEqual(await n.store.readLogHeld(author, '00000000000000ff', 0, 100, 10), [])
    await assert.rejects(n.store.readLogHeld(author, log, 0, 100, 10 ** 9), /limit/)
  })

  it('two events at one position are both kept, recorded as a fork, in either order the same state', async () => {
    const w = testSigner(44)
    const base = makeEvent(w, { target: 'f', seq: 0, payload: { op: 'set', fields: { x: 1 } } })
    const one = makeEvent(w, { target: 'f', seq: 1, payload: { op: 'set', fields: { x: 2 } } })
    const other = makeEvent(w, { target: 'f', seq: 1, payload: { op: 'set', fields: { x: 3 } } })
    assert.notEqual(one.digest, other.digest)
    const results = []
    for (const order of [
      [base, one, other],
      [other, base, one],
      [one, other, base],
    ]) {
      const n = await node(45)
      for (const e of order) await group(n, [signed(e)])
      const eqv = await n.store.listEquivocations(10)
      const [rec] = await n.store.getLogRecords([{ author: base.author, log: base.log }])
      results.push({
        hash: n.ingestor.stateHash,
        eqv: eqv.map((q) => [q.kind, q.events.map((e) => e.digest)]),
        forkAt: rec?.forkAt,
        held: (await n.store.hasEvents([one.digest, other.digest])).every(Boolean),
      })
    }
    assert.deepEqual(results[1], results[0])
    assert.deepEqual(results[2], results[0])
    assert.equal(results[0].forkAt, 1)
    assert.ok(results[0].held, 'both versions are in the event set')
    assert.deepEqual(results[0].eqv, [['position', [one.digest, other.digest].sort()]])
  })

  it('a fork inside one group is found as well', async () => {
    const w = testSigner(46)
    const a = makeEvent(w, { target: 'g', seq: 0 })
    const b = makeEvent(w, { target: 'g', seq: 0, payload: { op: 'set', fields: { y: 1 } } })
    const n = await node(47)
    const r = await group(n, [signed(a), signed(b)])
    assert.equal(r.accepted.length, 2)
    const eqv = await n.store.listEquivocations(10)
    assert.equal(eqv.length, 1)
    assert.equal(eqv[0].kind, 'position')
  })

  it('a group that is not written gives its positions back', async () => {
    const n = await node(48)
    const r = await n.ingestor.ingest([local(0), local(1)], NOW)
    assert.deepEqual(
      r.accepted.map((e) => e.seq),
      [0, 1],
    )
    n.ingestor.discard()
    const again = await group(n, [local(2)])
    assert.deepEqual(
      again.accepted.map((e) => e.seq),
      [0],
    )
  })
})

describe('hole runs of a log record', () => {
  const rec = (contiguous: number, end: number, holes?: Array<[number, number]>) => ({
    author: 'a'.repeat(64) as never,
    log: '0000000000000001',
    contiguous,
    peaks: [],
    end,
    heldBeyond: 0,
    ...(holes === undefined ? {} : { holes }),
  })

  it('opens a run past the end, fills a run from inside, and cuts below the prefix', () => {
    assert.deepEqual(nextHoles(rec(3, 3), [7], 3), { holes: [[3, 7]], unknown: false })
    assert.deepEqual(nextHoles(rec(3, 8, [[3, 7]]), [5], 3), {
      holes: [
        [3, 5],
        [6, 7],
      ],
      unknown: false,
    })
    assert.deepEqual(nextHoles(rec(3, 8, [[3, 5]]), [3, 4], 8), { holes: [], unknown: false })
  })

  it('says unknown beyond LOG_HOLES_MAX runs', () => {
    const seqs = Array.from({ length: LOG_HOLES_MAX + 1 }, (_, i) => 2 * i + 1)
    assert.equal(nextHoles(rec(0, 0), seqs, 0).unknown, true)
  })

  it('a real log with gaps tracks them exactly', async () => {
    const w = testSigner(49)
    const es = Array.from({ length: 10 }, (_, seq) => makeEvent(w, { target: `h${seq}`, seq }))
    const n = await node(50)
    await group(n, [signed(es[0]), signed(es[4]), signed(es[9])])
    const key = { author: es[0].author, log: es[0].log }
    let [r] = await n.store.getLogRecords([key])
    assert.deepEqual(r?.holes, [
      [1, 4],
      [5, 9],
    ])
    await group(n, [signed(es[1]), signed(es[2]), signed(es[3]), signed(es[6])])
    ;[r] = await n.store.getLogRecords([key])
    assert.equal(r?.contiguous, 5)
    assert.deepEqual(r?.holes, [
      [5, 6],
      [7, 9],
    ])
  })
})

describe('forks and event_id reuse in any order (property)', () => {
  const SEED = Number(process.env.FC_SEED ?? 20261205)
  it(`same events, any order and grouping: same state hash, evidence and log positions (seed ${SEED})`, async () => {
    const authors = [testSigner(61), testSigner(62)]
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            a: fc.integer({ min: 0, max: 1 }),
            seq: fc.integer({ min: 0, max: 5 }),
            id: fc.integer({ min: 0, max: 6 }),
            t: fc.integer({ min: 0, max: 2 }),
            v: fc.integer({ min: 0, max: 3 }),
          }),
          { minLength: 1, maxLength: 14 },
        ),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        async (specs, shuffleSeed) => {
          const events = specs.map((x) =>
            makeEvent(authors[x.a], {
              target: `t${x.t}`,
              seq: x.seq,
              eventId: `00000000-0000-4000-8000-${(x.a * 100 + x.id).toString(16).padStart(12, '0')}`,
              payload: { op: 'set', fields: { f: x.v } },
              hlc: { wallMs: 1_764_000_000_000 + x.v, counter: x.seq },
            }),
          )
          const unique = [...new Map(events.map((e) => [e.digest, e])).values()]
          const outcome = async (order: SignedEvent[], groupSize: number) => {
            const n = await node(63)
            for (let i = 0; i < order.length; i += groupSize)
              await group(
                n,
                order.slice(i, i + groupSize).map((e) => signed(e)),
              )
            const eqv = await n.store.listEquivocations(1_000)
            const logs = await n.store.listLogs(undefined, 100)
            return {
              hash: n.ingestor.stateHash,
              held: (await n.store.hasEvents(unique.map((e) => e.digest))).every(Boolean),
              // Which pairs are recorded depends on which version came first (each is checked
              // against the one held); the events shown to be equivocations do not.
              eqv: [...new Set(eqv.flatMap((q) => q.events.map((e) => `${q.kind}:${e.digest}`)))].sort(),
              logs: logs.map((r) => [
                r.author,
                r.contiguous,
                r.end,
                r.forkAt ?? null,
                JSON.stringify(r.holes ?? []),
              ]),
            }
          }
          let r = shuffleSeed
          const rand = () => {
            r = (r * 48271) % 2147483647
            return r / 2147483647
          }
          const shuffled = [...unique, ...unique.slice(0, 2)].sort(() => rand() - 0.5)
          const a = await outcome(unique, unique.length)
          const b = await outcome(shuffled, 1 + Math.floor(rand() * 3))
          assert.ok(a.held && b.held, 'every event is kept, forks included')
          assert.deepEqual(b, a)
        },
      ),
      { seed: SEED, numRuns: 40 },
    )
  })
})
