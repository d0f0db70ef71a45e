/**
 * The invariant: state is a pure function of the set of events. Random multi-author histories
 * (authors write on shared targets from their own partial views, then exchange random subsets)
 * are applied in random orders with duplicates; every order must give the same target hash and
 * the same open conflicts. Seeded: a failure prints the seed and path that reproduce it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { signEvent } from '../../../src/core/event.ts'
import { hlcKey, observeHlc, tickHlc } from '../../../src/core/hlc.ts'
import {
  type EventMeta,
  mergeEvent,
  openConflicts,
  type PendingCells,
  settleCellSum,
} from '../../../src/core/merge.ts'
import { parsePayload } from '../../../src/core/payload.ts'
import type { TargetState } from '../../../src/core/target-state.ts'
import type { Digest, Hlc, JsonObject, SignedEvent } from '../../../src/core/types.ts'
import { cellSumOf, targetHash } from '../../../src/core/view.ts'
import { trustedYjsMerger } from '../../../src/core/yjs-merge.ts'
import { testSigner, testUuid } from '../../helpers/events.ts'
import { nextLogPosition } from '../../helpers/log-position.ts'

const SEED = Number(process.env.GKM_SEED ?? 20261126)
const signers = [testSigner(11), testSigner(12), testSigner(13)]

/** Applies events (skipping duplicates) to a fresh state; returns hash and open conflict ids.
 *  With `group`, merges leave the cells' hashes pending and settleCellSum sums them after every
 *  `group` events and at the end, as the ingest engine does once per group. */
async function materialize(
  events: readonly SignedEvent[],
  group?: number,
): Promise<{ hash: string; conflicts: string[]; state: TargetState | undefined }> {
  const metas = new Map<Digest, EventMeta>()
  const ancestry = { meta: async (d: Digest) => metas.get(d) }
  let state: TargetState | undefined
  const pending: PendingCells | undefined = group === undefined ? undefined : new Map()
  let merged = 0
  for (const e of events) {
    if (metas.has(e.digest)) continue
    metas.set(e.digest, { hlcKey: hlcKey(e.hlc), parents: e.parents })
    state = (
      await mergeEvent(
        state,
        e,
        parsePayload(e.type, e.payload),
        ancestry,
        trustedYjsMerger,
        state !== undefined,
        pending,
      )
    ).state
    if (pending !== undefined && ++merged % group! === 0) settleCellSum(state, pending)
  }
  if (pending !== undefined && state !== undefined) settleCellSum(state, pending)
  return {
    hash: state === undefined ? '' : targetHash(state),
    conflicts: state === undefined ? [] : openConflicts(state).map((c) => c.id),
    state,
  }
}

type Step =
  | { kind: 'write'; author: number; field: number; value: number; del: boolean; wallStep: number }
  | { kind: 'sync'; from: number; to: number; mask: number }

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('write' as const),
      author: fc.nat(2),
      field: fc.nat(3),
      value: fc.nat(4),
      del: fc.boolean(),
      wallStep: fc.nat(3),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('sync' as const),
      from: fc.nat(2),
      to: fc.nat(2),
      mask: fc.nat(0xffff),
    }),
  },
)

/** Runs a history: each author keeps its own view (events it holds) and HLC. */
async function history(steps: readonly Step[]): Promise<SignedEvent[]> {
  const views = signers.map(() => [] as SignedEvent[])
  const hlcs: Hlc[] = signers.map(() => ({ wallMs: 1_764_000_000_000, counter: 0 }))
  let wall = 1_764_000_000_000
  const all: SignedEvent[] = []
  for (const s of steps) {
    if (s.kind === 'write') {
      wall += s.wallStep
      const { state } = await materialize(views[s.author])
      hlcs[s.author] = tickHlc(hlcs[s.author], wall)
      const payload: JsonObject = s.del
        ? { op: 'unset', fields: [`f${s.field}`] }
        : { op: 'set', fields: { [`f${s.field}`]: s.value } }
      const e = signEvent(
        {
          eventId: testUuid(),
          type: 'persona_update',
          targetId: 'p',
          payload,
          hlc: hlcs[s.author],
          parents: state?.heads ?? [],
          ...nextLogPosition(signers[s.author]),
        },
        signers[s.author],
      )
      views[s.author].push(e)
      all.push(e)
    } else {
      const have = new Set(views[s.to].map((e) => e.digest))
      views[s.from].forEach((e, i) => {
        if ((s.mask >> (i % 16)) & 1 && !have.has(e.digest)) {
          views[s.to].push(e)
          hlcs[s.to] = observeHlc(hlcs[s.to], e.hlc, wall)
        }
      })
    }
  }
  return all
}

describe('merge: state is a pure function of the event set', () => {
  it('any order, any duplication: same hash and open conflicts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
        async (steps, shuffleSeeds) => {
          const events = await history(steps)
          if (events.length === 0) return
          const reference = await materialize(events)
          for (const seed of shuffleSeeds) {
            const order = shuffled([...events, ...events.slice(0, seed % (events.length + 1))], seed)
            const got = await materialize(order)
            assert.equal(got.hash, reference.hash)
            assert.deepEqual(got.conflicts, reference.conflicts)
            // Cell hashes summed once per group (the ingest engine's way) give the same hash.
            const grouped = await materialize(order, 1 + (seed % 7))
            assert.equal(grouped.hash, reference.hash)
            assert.equal(grouped.state?.cellSum, reference.state?.cellSum)
            // The incrementally kept parts of the hash (state per cell) are those of the cells.
            if (got.state !== undefined) {
              assert.equal(got.state.cellSum, cellSumOf(got.state.cells))
              assert.deepEqual(
                got.state.contested,
                Object.keys(got.state.cells)
                  .filter((c) => got.state!.cells[c].f.length >= 2)
                  .sort(),
              )
              assert.deepEqual(got.state.cells, reference.state?.cells)
            }
          }
        },
      ),
      { seed: SEED, numRuns: 150, verbose: true },
    )
  })

  it('concurrent writes with different values are a conflict; a write that saw both settles it', async () => {
    const [a, b] = signers
    const base = signEvent(
      {
        eventId: testUuid(),
        type: 'persona_update',
        targetId: 'p',
        payload: { op: 'set', fields: { x: 0 } },
        hlc: { wallMs: 1000, counter: 0 },
        parents: [],
        ...nextLogPosition(a),
      },
      a,
    )
    const ea = signEvent(
      {
        eventId: testUuid(),
        type: 'persona_update',
        targetId: 'p',
        payload: { op: 'set', fields: { x: 1 } },
        hlc: { wallMs: 2000, counter: 0 },
        parents: [base.digest],
        ...nextLogPosition(a),
      },
      a,
    )
    const eb = signEvent(
      {
        eventId: testUuid(),
        type: 'persona_update',
        targetId: 'p',
        payload: { op: 'set', fields: { x: 2 } },
        hlc: { wallMs: 2001, counter: 0 },
        parents: [base.digest],
        ...nextLogPosition(b),
      },
      b,
    )
    const open = await materialize([base, ea, eb])
    assert.equal(open.conflicts.length, 1)
    assert.equal(open.state?.cells['field:x'].w.v, 2, 'LWW winner applies while the conflict is open')
    const settle = signEvent(
      {
        eventId: testUuid(),
        type: 'persona_update',
        targetId: 'p',
        payload: { op: 'set', fields: { x: 3 } },
        hlc: { wallMs: 3000, counter: 0 },
        parents: [ea.digest, eb.digest].sort() as Digest[],
        ...nextLogPosition(a),
      },
      a,
    )
    assert.deepEqual((await materialize([base, ea, eb, settle])).conflicts, [])
    // Same value on both sides is no conflict.
    const ec = signEvent(
      {
        eventId: testUuid(),
        type: 'persona_update',
        targetId: 'p',
        payload: { op: 'set', fields: { x: 1 } },
        hlc: { wallMs: 2002, counter: 0 },
        parents: [base.digest],
        ...nextLogPosition(b),
      },
      b,
    )
    assert.deepEqual((await materialize([base, ea, ec])).conflicts, [])
  })
})

/** Deterministic Fisher-Yates with a small LCG. */
function shuffled<T>(list: T[], seed: number): T[] {
  let x = seed >>> 0 || 1
  for (let i = list.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    const j = x % (i + 1)
    ;[list[i], list[j]] = [list[j], list[i]]
  }
  return list
}
