/**
 * targetHash writes its canonical JSON by hand (for speed); it must stay byte-identical to
 * canonicalJson (RFC 8785) of the documented object, or nodes of different versions would
 * disagree on state hashes. Checked on random states with awkward names (quotes, escapes,
 * non-ASCII, integer-like keys).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { canonicalJson } from '../../../src/core/event-codec.ts'
import type { CellState, TargetState } from '../../../src/core/target-state.ts'
import { type Digest, EVENT_TYPES } from '../../../src/core/types.ts'
import { cellSumOf, targetHash } from '../../../src/core/view.ts'
import { sha256Hex } from '../../../src/util/crypto.ts'

/** The documented definition, computed independently: cells as the sum mod 2^256 of
 *  sha256(canonicalJson([cell, winner, [frontier...]])). */
function reference(state: TargetState): string {
  let sum = 0n
  for (const cell of Object.keys(state.cells)) {
    const c = state.cells[cell]
    sum += BigInt(`0x${sha256Hex(canonicalJson([cell, c.w.d, c.f.map((e) => e.d)]))}`)
  }
  const cells = (sum % (1n << 256n)).toString(16).padStart(64, '0')
  return sha256Hex(
    canonicalJson({
      v: 2,
      type: state.type,
      target: state.target,
      cells,
      heads: state.heads,
      missing: state.missing,
      resolved: Object.fromEntries(Object.entries(state.resolved).map(([k, r]) => [k, r.d])),
      crdt: null,
    }),
  )
}

const digest = fc.stringMatching(/^[0-9a-f]{64}$/) as fc.Arbitrary<Digest>
// Well-formed strings only: events with lone surrogates never validate.
const name = fc
  .oneof(
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.constantFrom('"', '\\', '\n', '\u0000', '\u2028', '10', '2', 'field:1', 'é', '😀', 'a\u0301'),
  )
  .filter((s) => s.isWellFormed())
const cell: fc.Arbitrary<CellState> = fc.record({
  w: fc.record({ d: digest, s: fc.constant('0'.repeat(16)), h: fc.constant('d') }),
  f: fc.array(fc.record({ d: digest, s: fc.constant('0'.repeat(16)), h: fc.constant('d') }), {
    maxLength: 3,
  }),
})
const state: fc.Arbitrary<TargetState> = fc
  .record({
    type: fc.constantFrom(...EVENT_TYPES),
    target: name.filter((s) => s.length > 0),
    cells: fc.dictionary(name, cell, { maxKeys: 6 }),
    heads: fc.array(digest, { maxLength: 3 }),
    missing: fc.array(digest, { maxLength: 2 }),
    resolved: fc.dictionary(fc.oneof(digest, name), fc.record({ d: digest, s: fc.constant('x') }), {
      maxKeys: 3,
    }) as fc.Arbitrary<TargetState['resolved']>,
    events: fc.nat(),
    lastHlc: fc.constant(''),
  })
  .map((s) => ({ ...s, cellSum: cellSumOf(s.cells), contested: [] }))

test('cellSum is the same whatever order the cells were added in', () => {
  fc.assert(
    fc.property(fc.dictionary(name, cell, { maxKeys: 8 }), (cells) => {
      const reversed = Object.fromEntries(Object.entries(cells).reverse())
      assert.equal(cellSumOf(reversed), cellSumOf(cells))
    }),
    { seed: Number(process.env.GKM_SEED ?? 20261126), numRuns: 200 },
  )
})

test('targetHash equals sha256 of canonicalJson of the documented object', () => {
  fc.assert(
    fc.property(state, (s) => {
      assert.equal(targetHash(s), reference(s))
    }),
    { seed: Number(process.env.GKM_SEED ?? 20261126), numRuns: 500 },
  )
})
