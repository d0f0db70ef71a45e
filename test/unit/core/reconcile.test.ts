/**
 * Range index and reconciliation sessions: property tests over random pairs of event sets
 * (empty, identical, disjoint, one apart, sparse differences, large tails) — both sides end up
 * knowing exactly the symmetric difference, within bounded messages.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { ReconcileProtocolError } from '../../../src/core/errors.ts'
import { compareKeys, itemKey, KEY_BYTES, RangeIndex } from '../../../src/core/range-index.ts'
import {
  checkMessage,
  IDLIST_MAX,
  RangeMode,
  ReconcileSession,
  type ReconRange,
} from '../../../src/core/reconcile-session.ts'

const SEED = Number(process.env.FC_SEED ?? 20261205)

/** A deterministic item: HLC from `t`, digest from sha256(`n`). */
function key(n: number, t = n): Uint8Array {
  const hlc = new Uint8Array(8)
  new DataView(hlc.buffer).setBigUint64(0, BigInt(t))
  const digest = createHash('sha256').update(`item-${n}`).digest()
  return itemKey(hlc, digest)
}

function indexOf(items: readonly number[], time: (n: number) => number = (n) => n): RangeIndex {
  const idx = new RangeIndex()
  for (const n of items) idx.insert(key(n, time(n)))
  return idx
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const digestHex = (k: Uint8Array) => hex(k.subarray(8))

interface Run {
  need: Set<string>
  have: Set<string>
  rounds: number
  maxBytes: number
  bytes: number
}

function msgBytes(m: readonly ReconRange[]): number {
  let n = 0
  for (const r of m)
    n += r.upper.length + 4 + (r.fingerprint ? 18 : 0) + ((r.ids?.length ?? 0) + (r.wanted?.length ?? 0)) * 34
  return n
}

function reconcile(a: RangeIndex, b: RangeIndex, messageBytesMax?: number): Run {
  const init = new ReconcileSession(a, 'initiator', { messageBytesMax })
  const resp = new ReconcileSession(b, 'responder', { messageBytesMax })
  let msg: ReconRange[] | null = init.initiate()
  let rounds = 0
  let maxBytes = 0
  let bytes = 0
  while (msg !== null) {
    checkMessage(msg)
    bytes += msgBytes(msg)
    maxBytes = Math.max(maxBytes, msgBytes(msg))
    const answer = resp.handle(msg) as ReconRange[]
    checkMessage(answer)
    bytes += msgBytes(answer)
    maxBytes = Math.max(maxBytes, msgBytes(answer))
    rounds++
    msg = init.handle(answer)
    assert.ok(rounds < 500, 'session does not end')
  }
  return { need: new Set(init.need.map(hex)), have: new Set(init.have.map(hex)), rounds, maxBytes, bytes }
}

function expectDiff(aItems: number[], bItems: number[], run: Run): void {
  const a = new Set(aItems.map((n) => digestHex(key(n))))
  const b = new Set(bItems.map((n) => digestHex(key(n))))
  const need = new Set([...b].filter((d) => !a.has(d)))
  const have = new Set([...a].filter((d) => !b.has(d)))
  assert.deepEqual([...run.need].sort(), [...need].sort())
  assert.deepEqual([...run.have].sort(), [...have].sort())
}

describe('RangeIndex', () => {
  test('keeps keys sorted and unique; fingerprints do not depend on insertion order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 5_000 }), { maxLength: 3_000 }), (items) => {
        const sorted = indexOf([...items].sort((x, y) => x - y))
        const shuffled = indexOf(items)
        assert.equal(shuffled.size, items.length)
        if (items.length > 0) assert.equal(shuffled.insert(key(items[0])), false)
        for (let i = 1; i < shuffled.size; i++)
          assert.ok(compareKeys(shuffled.keyAt(i - 1), shuffled.keyAt(i)) < 0)
        assert.deepEqual(shuffled.fingerprint(0, shuffled.size), sorted.fingerprint(0, sorted.size))
        if (shuffled.size > 2) {
          const mid = shuffled.size >> 1
          assert.deepEqual(shuffled.fingerprint(1, mid), sorted.fingerprint(1, mid))
        }
      }),
      { seed: SEED, numRuns: 30 },
    )
  })

  test('lowerBound and boundAt split exactly between neighbours', () => {
    const idx = indexOf(Array.from({ length: 2_500 }, (_, i) => i * 3))
    for (const pos of [1, 7, 1023, 1024, 1025, 2_499]) {
      const bound = idx.boundAt(pos)
      assert.ok(bound.length <= KEY_BYTES)
      assert.equal(idx.lowerBound(bound), pos)
      assert.equal(idx.lowerBound(idx.keyAt(pos)), pos)
    }
    assert.equal(idx.lowerBound(new Uint8Array([0xff])), idx.size)
  })

  test('an in-order append fills chunks (no half-empty chunk per split)', () => {
    const idx = indexOf(Array.from({ length: 10_000 }, (_, i) => i))
    assert.equal(idx.size, 10_000)
    assert.equal(idx.digests(0, idx.size).length, 10_000)
  })
})

describe('ReconcileSession', () => {
  test('identical sets: one round trip, nothing to do', () => {
    const items = Array.from({ length: 5_000 }, (_, i) => i)
    const run = reconcile(indexOf(items), indexOf(items))
    assert.equal(run.rounds, 1)
    assert.equal(run.need.size + run.have.size, 0)
  })

  test('empty against full, both ways', () => {
    const items = Array.from({ length: 3_000 }, (_, i) => i)
    expectDiff([], items, reconcile(indexOf([]), indexOf(items)))
    expectDiff(items, [], reconcile(indexOf(items), indexOf([])))
    expectDiff([], [], reconcile(indexOf([]), indexOf([])))
  })

  test('one newest event apart: found in one round trip', () => {
    const items = Array.from({ length: 20_000 }, (_, i) => i)
    const run = reconcile(indexOf(items), indexOf([...items, 20_000]))
    expectDiff(items, [...items, 20_000], run)
    assert.equal(run.rounds, 1)
  })

  test('random pairs of sets end with the exact symmetric difference', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 20_000 }), { minLength: 0, maxLength: 2_000, size: 'max' }),
        fc.uniqueArray(fc.integer({ min: 0, max: 20_000 }), { maxLength: 300 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 20_000 }), { maxLength: 300 }),
        (common, onlyA, onlyB) => {
          const a = [...new Set([...common, ...onlyA])]
          const b = [...new Set([...common, ...onlyB])]
          expectDiff(a, b, reconcile(indexOf(a), indexOf(b)))
        },
      ),
      { seed: SEED, numRuns: 60 },
    )
  })

  test('same HLC for many events (ties broken by digest)', () => {
    const a = Array.from({ length: 1_000 }, (_, i) => i)
    const b = [...a.filter((n) => n % 97 !== 0), 5_000, 5_001]
    const time = () => 42
    const run = reconcile(indexOf(a, time), indexOf(b, time))
    expectDiff(a, b, run)
  })

  test('small frames: a large difference still resolves, every message within the bound', () => {
    const a = Array.from({ length: 20_000 }, (_, i) => i * 2)
    const b = Array.from({ length: 20_000 }, (_, i) => i * 2 + (i % 3 === 0 ? 1 : 0))
    const run = reconcile(indexOf(a), indexOf(b), 4_096)
    expectDiff(a, b, run)
    // One range over the budget at most: the last answer before the cut.
    assert.ok(run.maxBytes <= 4_096 + (IDLIST_MAX + 1) * 34 * 2, `largest message ${run.maxBytes} B`)
  })

  test('a long run one side lacks (what one side wrote while apart) moves in few rounds, within the bound', () => {
    const common = Array.from({ length: 5_000 }, (_, i) => i)
    const extra = Array.from({ length: 8_000 }, (_, i) => 10_000 + i)
    const mixed = [...common, ...extra, 3]
    for (const budget of [4_096, 65_536]) {
      const run = reconcile(indexOf(common), indexOf([...common, ...extra]), budget)
      expectDiff(common, [...common, ...extra], run)
      assert.ok(
        run.maxBytes <= budget + (IDLIST_MAX + 1) * 34 * 2,
        `largest message ${run.maxBytes} B > ${budget}`,
      )
      const back = reconcile(indexOf([...common, ...extra]), indexOf(common), budget)
      expectDiff([...common, ...extra], common, back)
    }
    expectDiff(
      [3, ...common.slice(10)],
      mixed,
      reconcile(indexOf([3, ...common.slice(10)]), indexOf(mixed), 4_096),
    )
    const big = reconcile(indexOf(common), indexOf([...common, ...extra]), 1 << 20)
    assert.ok(big.rounds <= 3, `${big.rounds} rounds with room for every id`)
  })

  test('with room for megabytes, every message still keeps to the ranges and ids a peer accepts', () => {
    // Found at 1M vs 1M, 10,000 random apart with 4 MiB frames: 24,747 ranges in one message.
    const a = Array.from({ length: 60_000 }, (_, i) => i)
    const b = a.filter((n) => (n * 2654435761) % 7 !== 0)
    const run = reconcile(indexOf(a), indexOf(b), 4 * 1024 * 1024)
    expectDiff(a, b, run)
  })

  test('malformed messages are refused with a named error', () => {
    const s = new ReconcileSession(indexOf([1, 2, 3]), 'responder')
    const bad: ReconRange[][] = [
      [],
      [{ upper: new Uint8Array([1]), mode: RangeMode.skip }],
      [{ upper: new Uint8Array(0), mode: RangeMode.fingerprint, fingerprint: new Uint8Array(3) }],
      [{ upper: new Uint8Array(0), mode: RangeMode.idList, ids: [new Uint8Array(31)] }],
      [
        { upper: new Uint8Array([5]), mode: RangeMode.skip },
        { upper: new Uint8Array([4]), mode: RangeMode.skip },
        { upper: new Uint8Array(0), mode: RangeMode.skip },
      ],
      [{ upper: new Uint8Array(0), mode: RangeMode.diff, ids: [] }],
      [{ upper: new Uint8Array(0), mode: 9 as never }],
    ]
    for (const m of bad) assert.throws(() => s.handle(m), ReconcileProtocolError)
  })
})
