/**
 * The conformance suite of the `Store` port (src/core/ports.ts): every implementation runs it
 * (test/compliance/level-store.test.ts, memory-store.test.ts). Events are real signed events.
 *
 * `makeStore` returns a fresh, unopened store and a cleanup. "Reopen" means close() then
 * open() on the same store object: a restart over the same data.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { hlcKey } from '../../src/core/hlc.ts'
import type { Store } from '../../src/core/ports.ts'
import { type Digest, EVENT_TYPES, type EventType, type SignedEvent } from '../../src/core/types.ts'
import { alice, batchOf, bob, makeEvent, stored, uuid } from './event-fixtures.ts'
import { runRecordConformance } from './store-suite-records.ts'

export type MakeStore = () => Promise<{ store: Store; cleanup(): Promise<void> }>

/** Opens a fresh store, runs `body`, and always cleans up. */
export async function withStore(makeStore: MakeStore, body: (store: Store) => Promise<void>): Promise<void> {
  const { store, cleanup } = await makeStore()
  try {
    await store.open()
    await body(store)
  } finally {
    await cleanup()
  }
}

export async function reopen(store: Store): Promise<void> {
  await store.close()
  await store.open()
}

/** (hlc, digest) order: the order of the time and target indexes. */
export function byHlcThenDigest(a: SignedEvent, b: SignedEvent): number {
  const ka = hlcKey(a.hlc)
  const kb = hlcKey(b.hlc)
  return ka !== kb ? (ka < kb ? -1 : 1) : a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0
}

export function assertSameEvents(
  actual: readonly { signed: Uint8Array; signature: Uint8Array }[],
  expected: readonly SignedEvent[],
): void {
  assert.deepEqual(
    actual.map((e) => [Buffer.from(e.signed).toString('hex'), Buffer.from(e.signature).toString('hex')]),
    expected.map((e) => [Buffer.from(e.signed).toString('hex'), Buffer.from(e.signature).toString('hex')]),
  )
}

export function runStoreConformance(name: string, makeStore: MakeStore): void {
  describe(`Store conformance: ${name}`, () => {
    it('commits events and reads them back by digest', () =>
      withStore(makeStore, async (store) => {
        const events = [1, 2, 3].map((n) => makeEvent({ n }))
        const { seqs } = await store.commit(batchOf({ events: events.map(stored) }))
        assert.deepEqual(seqs, [1, 2, 3])
        for (const e of events) {
          const got = await store.getEvent(e.digest)
          assert.ok(got)
          assertSameEvents([got], [e])
        }
        assert.equal(await store.getEvent('f'.repeat(64) as never), undefined)
        assert.equal(await store.getEvent('not a digest' as never), undefined)
      }))

    it('hasEvents answers in input order', () =>
      withStore(makeStore, async (store) => {
        const [a, b, c] = [1, 2, 3].map((n) => makeEvent({ n }))
        await store.commit(batchOf({ events: [stored(a), stored(c)] }))
        assert.deepEqual(await store.hasEvents([c.digest, b.digest, 'xyz' as never, a.digest, c.digest]), [
          true,
          false,
          false,
          true,
          true,
        ])
        assert.deepEqual(await store.hasEvents([]), [])
      }))

    it('numbers events consecutively across commits and after reopen', () =>
      withStore(makeStore, async (store) => {
        assert.equal(await store.lastSeq(), 0)
        assert.deepEqual((await store.commit(batchOf({ events: [stored(makeEvent({ n: 1 }))] }))).seqs, [1])
        assert.deepEqual(
          (await store.commit(batchOf({ events: [2, 3].map((n) => stored(makeEvent({ n }))) }))).seqs,
          [2, 3],
        )
        assert.deepEqual((await store.commit(batchOf({}))).seqs, [])
        await reopen(store)
        assert.equal(await store.lastSeq(), 3)
        assert.deepEqual((await store.commit(batchOf({ events: [stored(makeEvent({ n: 4 }))] }))).seqs, [4])
        const log = await store.readLog(0, 10)
        assert.deepEqual(
          log.map((r) => r.seq),
          [1, 2, 3, 4],
        )
      }))

    it('readLog pages the arrival order and filters by type', () =>
      withStore(makeStore, async (store) => {
        const types = [
          'persona_update',
          'vector_update',
          'graph_update',
          'persona_update',
          'document_update',
          'vector_update',
        ] as const
        // Arrival order deliberately differs from HLC order.
        const events = types.map((type, i) => makeEvent({ n: i + 1, type, wallMs: 1_700_000_000_000 - i }))
        await store.commit(batchOf({ events: events.slice(0, 4).map(stored) }))
        await store.commit(batchOf({ events: events.slice(4).map(stored) }))
        const page1 = await store.readLog(0, 4)
        assert.deepEqual(
          page1.map((r) => r.seq),
          [1, 2, 3, 4],
        )
        assertSameEvents(
          page1.map((r) => r.event),
          events.slice(0, 4),
        )
        const page2 = await store.readLog(4, 4)
        assert.deepEqual(
          page2.map((r) => r.seq),
          [5, 6],
        )
        assert.deepEqual(await store.readLog(6, 4), [])
        const vectors = await store.readLog(0, 10, ['vector_update'])
        assert.deepEqual(
          vectors.map((r) => r.seq),
          [2, 6],
        )
        const mixed = await store.readLog(1, 2, ['persona_update', 'vector_update'])
        assert.deepEqual(
          mixed.map((r) => r.seq),
          [2, 4],
        )
        assertSameEvents(
          mixed.map((r) => r.event),
          [events[1], events[3]],
        )
        assert.deepEqual(
          (await store.readLog(0, 10, ['document_update', 'graph_update'])).map((r) => r.seq),
          [3, 5],
        )
        assert.deepEqual(await store.readLog(0, 10, []), [])
        assert.deepEqual(await store.readLog(0, 0), [])
      }))

    it('readLog merges the per-type ranges by seq across long runs of one type (pages of every size)', () =>
      withStore(makeStore, async (store) => {
        // Runs of one type longer than the merge's read chunk (256), then interleaved types:
        // the whole log and each filtered log must come back in seq order, page by page.
        const types: EventType[] = []
        for (let i = 0; i < 600; i++) types.push('persona_update')
        for (let i = 0; i < 300; i++) types.push(EVENT_TYPES[(i * 7) % 4])
        for (let i = 0; i < 300; i++) types.push('graph_update')
        const events = types.map((type, i) => makeEvent({ n: i + 1, type }))
        for (let i = 0; i < events.length; i += 500)
          await store.commit(batchOf({ events: events.slice(i, i + 500).map(stored) }))
        for (const [filter, pageSize] of [
          [undefined, 1],
          [undefined, 257],
          [undefined, 5000],
          [['graph_update', 'persona_update'], 300],
          [['vector_update', 'document_update'], 7],
        ] as const) {
          const want = types.flatMap((t, i) =>
            filter === undefined || filter.includes(t as never) ? [i + 1] : [],
          )
          const got: number[] = []
          for (let after = 0; ; ) {
            const page = await store.readLog(after, pageSize, filter === undefined ? undefined : [...filter])
            if (page.length === 0) break
            assert.ok(page.length <= pageSize)
            for (const r of page) assert.equal(r.event.digest, events[r.seq - 1].digest)
            got.push(...page.map((r) => r.seq))
            after = page[page.length - 1].seq
          }
          assert.deepEqual(got, want, `filter ${String(filter)}, pages of ${pageSize}`)
        }
      }))

    it('readByTime orders by (hlc, digest), honours sinceMs and pages with after', () =>
      withStore(makeStore, async (store) => {
        const base = 1_700_000_000_000
        const events: SignedEvent[] = []
        // Ties on the HLC (same wall and counter, different authors/ids) are ordered by digest.
        for (let i = 0; i < 12; i++) {
          events.push(
            makeEvent({
              n: i + 1,
              wallMs: base + (i % 4) * 1000,
              counter: i % 2,
              signer: i % 3 === 0 ? bob : alice,
            }),
          )
        }
        const other = makeEvent({ n: 100, type: 'graph_update', wallMs: base })
        await store.commit(batchOf({ events: [...events.slice(6), other].map(stored) }))
        await store.commit(batchOf({ events: events.slice(0, 6).map(stored) }))
        const ordered = [...events].sort(byHlcThenDigest)
        assertSameEvents(await store.readByTime('persona_update', 0, 100), ordered)
        assertSameEvents(await store.readByTime('graph_update', 0, 100), [other])
        assertSameEvents(
          await store.readByTime('persona_update', base + 2000, 100),
          ordered.filter((e) => e.hlc.wallMs >= base + 2000),
        )
        assertSameEvents(
          await store.readByTime('persona_update', base + 1999.5, 100),
          ordered.filter((e) => e.hlc.wallMs >= base + 2000),
        )
        assert.deepEqual(await store.readByTime('persona_update', base + 10_000, 100), [])
        // Page through in 5s with `after` = the last (hlcKey, digest) seen.
        const pages: SignedEvent[] = []
        let after: { hlcKey: string; digest: SignedEvent['digest'] } | undefined
        for (let guard = 0; guard < 10; guard++) {
          const page = await store.readByTime('persona_update', 0, 5, after)
          if (page.length === 0) break
          const expected = ordered.slice(pages.length, pages.length + page.length)
          assertSameEvents(page, expected)
          pages.push(...expected)
          const last = expected[expected.length - 1]
          after = { hlcKey: hlcKey(last.hlc), digest: last.digest }
        }
        assert.equal(pages.length, ordered.length)
        // `after` before sinceMs: sinceMs wins; after past sinceMs: after wins.
        const first = ordered[0]
        const since = await store.readByTime('persona_update', base + 3000, 100, {
          hlcKey: hlcKey(first.hlc),
          digest: first.digest,
        })
        assertSameEvents(
          since,
          ordered.filter((e) => e.hlc.wallMs >= base + 3000),
        )
      }))

    it('readTarget returns one target in (hlc, digest) order, whatever bytes its id holds', () =>
      withStore(makeStore, async (store) => {
        const ids = ['a', 'a/b', 'ab', 'a\u0000', '!a!', 'a\uffff', 'ü→🙂', 'x'.repeat(255)]
        const all: SignedEvent[] = []
        let n = 0
        for (const target of ids) {
          for (let k = 0; k < 3; k++)
            all.push(makeEvent({ n: ++n, target, wallMs: 1_700_000_000_000 + ((k * 7) % 3), counter: k }))
        }
        const sameNameOtherType = makeEvent({ n: ++n, target: 'a', type: 'vector_update' })
        await store.commit(
          batchOf({ events: [...all].reverse().map(stored).concat(stored(sameNameOtherType)) }),
        )
        for (const target of ids) {
          const expected = all.filter((e) => e.targetId === target).sort(byHlcThenDigest)
          assertSameEvents(await store.readTarget('persona_update', target, 10), expected)
          assertSameEvents(await store.readTarget('persona_update', target, 2), expected.slice(0, 2))
        }
        assertSameEvents(await store.readTarget('vector_update', 'a', 10), [sameNameOtherType])
        assert.deepEqual(await store.readTarget('persona_update', 'a/', 10), [])
        assert.deepEqual(await store.readTarget('persona_update', '', 10), [])
      }))

    it('readByTargetOrder returns every event grouped by target in (hlc, digest) order, one page or many', () =>
      withStore(makeStore, async (store) => {
        const all: SignedEvent[] = []
        for (let n = 1; n <= 700; n++)
          all.push(makeEvent({ n, target: `t${n % 37}`, wallMs: 1_700_000_000_000 + ((n * 13) % 101) }))
        await store.commit(batchOf({ events: all.map(stored) }))
        // The index key holds the target length-prefixed: shorter ids first, then by bytes.
        const expected = [...all].sort(
          (a, b) =>
            a.targetId.length - b.targetId.length ||
            (a.targetId < b.targetId ? -1 : a.targetId > b.targetId ? 1 : 0) ||
            byHlcThenDigest(a, b),
        )
        // One page of all 700, then pages of 100 and of 1.
        const whole = await store.readByTargetOrder(undefined, 1000)
        assertSameEvents(whole.events, expected)
        for (const size of [100, 1]) {
          const paged: Array<{ signed: Uint8Array; signature: Uint8Array }> = []
          let after: string | undefined
          for (;;) {
            const page = await store.readByTargetOrder(after, size)
            paged.push(...page.events)
            if (page.events.length < size) break
            after = page.next
          }
          assertSameEvents(paged, expected)
        }
      }))

    it('scanByTarget hands out every event once, each target together in (hlc, digest) order, whatever the buffer and page', () =>
      withStore(makeStore, async (store) => {
        const all: SignedEvent[] = []
        for (let n = 1; n <= 700; n++)
          all.push(
            makeEvent({
              n,
              target: `t${n % 37}`.repeat(1 + (n % 3)),
              type: EVENT_TYPES[n % 2 === 0 ? 1 : 2],
              wallMs: 1_700_000_000_000 + ((n * 13) % 101),
            }),
          )
        await store.commit(batchOf({ events: all.map(stored) }))
        // readByTargetOrder's order, per target.
        const whole = (await store.readByTargetOrder(undefined, 1000)).events
        const perTarget = (events: ReadonlyArray<{ signed: Uint8Array }>) => {
          const out = new Map<string, string[]>()
          let runs = 0
          let prev: string | undefined
          for (const e of events) {
            const key =
              Buffer.from(e.signed.subarray(61, 63 + ((e.signed[61] << 8) | e.signed[62]))).toString('hex') +
              e.signed[4]
            if (key !== prev) runs++
            prev = key
            if (!out.has(key)) out.set(key, [])
            out.get(key)!.push(Buffer.from(e.signed).toString('hex'))
          }
          return { out, runs }
        }
        const want = perTarget(whole).out
        assert.equal(whole.length, 700)
        // ~190 KB of events: 4 KiB buffers need dozens of passes, 1 MiB one or two.
        for (const [bufferBytes, pageEvents] of [
          [4096, 7],
          [16_384, 1],
          [65_536, 100],
          [1 << 20, 1000],
        ]) {
          const stats = { passes: 0, scanned: 0 }
          const got: Array<{ signed: Uint8Array; signature: Uint8Array }> = []
          for await (const page of store.scanByTarget({ bufferBytes, pageEvents, stats })) {
            assert.ok(page.length >= 1 && page.length <= pageEvents)
            got.push(...page)
          }
          // Every event once, with its signature; each target's events together, in order.
          assertSameEvents(
            [...got].sort((a, b) => Buffer.compare(a.signed, b.signed)),
            ([...whole] as unknown as SignedEvent[]).sort((a, b) => Buffer.compare(a.signed, b.signed)),
          )
          const { out, runs } = perTarget(got)
          assert.equal(runs, want.size, 'no target comes back after another one')
          assert.deepEqual(out, want)
          if (bufferBytes < 1 << 20) assert.ok(stats.passes > 2, `${bufferBytes}: ${stats.passes} passes`)
          assert.ok(stats.scanned >= 700)
        }
        // A buffer below the minimum is refused.
        await assert.rejects(async () => {
          for await (const _ of store.scanByTarget({ bufferBytes: 100, pageEvents: 10 })) break
        }, /bufferBytes/)
      }))

    it('scanByTarget of an empty log hands out nothing', () =>
      withStore(makeStore, async (store) => {
        const pages = []
        for await (const page of store.scanByTarget({ bufferBytes: 4096, pageEvents: 10 })) pages.push(page)
        assert.deepEqual(pages, [])
      }))

    it('readTarget pages newest first or oldest first after a position, never leaving the target', () =>
      withStore(makeStore, async (store) => {
        const ids = ['a', 'a\u0000', 'ab']
        const all: SignedEvent[] = []
        let n = 0
        for (const target of ids)
          for (let k = 0; k < 5; k++)
            all.push(makeEvent({ n: ++n, target, wallMs: 1_700_000_000_000 + (k % 2), counter: k }))
        await store.commit(batchOf({ events: all.map(stored) }))
        const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
        const byBytes = new Map(all.map((e) => [hex(e.signed), e]))
        for (const target of ids) {
          const asc = all.filter((e) => e.targetId === target).sort(byHlcThenDigest)
          const desc = [...asc].reverse()
          for (const [order, expected] of [
            [false, asc],
            [true, desc],
          ] as const) {
            const got: SignedEvent[] = []
            let after: { hlcKey: string; digest: Digest } | undefined
            for (let pages = 0; pages < 10; pages++) {
              const page = await store.readTarget('persona_update', target, 2, { newestFirst: order, after })
              if (page.length === 0) break
              const events = page.map((p) => byBytes.get(hex(p.signed))!)
              got.push(...events)
              const last = events.at(-1)!
              after = { hlcKey: hlcKey(last.hlc), digest: last.digest }
            }
            assert.deepEqual(
              got.map((e) => e.digest),
              expected.map((e) => e.digest),
            )
            assertSameEvents(
              await store.readTarget('persona_update', target, 10, { newestFirst: order }),
              expected,
            )
          }
        }
        await assert.rejects(
          store.readTarget('persona_update', 'a', 2, { after: { hlcKey: 'zz', digest: 'ab' as Digest } }),
          { name: 'InvalidStoreArgumentError' },
        )
      }))

    it('readAudit newest first pages back from the latest record', () =>
      withStore(makeStore, async (store) => {
        for (let i = 1; i <= 5; i++)
          await store.appendAudit([{ atMs: i, op: 'push', origin: 'local:test', detail: { i } }])
        const seqs = (r: Array<{ seq: number }>) => r.map((x) => x.seq)
        assert.deepEqual(seqs(await store.readAudit(0, 2, true)), [5, 4])
        assert.deepEqual(seqs(await store.readAudit(4, 2, true)), [3, 2])
        assert.deepEqual(seqs(await store.readAudit(2, 10, true)), [1])
        assert.deepEqual(seqs(await store.readAudit(0, 2)), [1, 2])
      }))

    it('getEventIdOwner maps (author, event_id) to the digest', () =>
      withStore(makeStore, async (store) => {
        const e = makeEvent({ n: 1, eventId: uuid(42) })
        await store.commit(batchOf({ events: [stored(e)] }))
        assert.equal(await store.getEventIdOwner(e.author, uuid(42)), e.digest)
        assert.equal(await store.getEventIdOwner(e.author, uuid(42).toUpperCase()), e.digest)
        const bobKey = Buffer.from(bob.publicKey).toString('hex')
        assert.equal(await store.getEventIdOwner(bobKey as never, uuid(42)), undefined)
        assert.equal(await store.getEventIdOwner(e.author, uuid(43)), undefined)
        assert.equal(await store.getEventIdOwner(e.author, 'nope'), undefined)
      }))

    runRecordConformance(makeStore)
  })
}
