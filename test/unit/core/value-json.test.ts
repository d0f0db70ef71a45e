/**
 * valueJson (the text valueHash hashes) must be byte-identical to canonicalJson for every value,
 * and refuse what it refuses: a differing byte would give two nodes different value hashes for
 * the same write (a phantom conflict). Seeded property test over the shapes a cell holds, with
 * vectors (number arrays, float32 values) mixed in.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { canonicalJson } from '../../../src/core/event-codec.ts'
import { valueJson } from '../../../src/core/value-json.ts'

const outcome = (f: (v: unknown) => string, v: unknown): string | Error => {
  try {
    return f(v)
  } catch (err) {
    return err as Error
  }
}

const primitive = fc.oneof(
  fc.string({ unit: 'binary' }), // lone surrogates included
  fc.double(), // NaN, -0, infinities, subnormals
  fc.integer(),
  fc.constantFrom(0, -0, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, '\ud800', undefined),
  fc.boolean(),
  fc.constant(null),
)
const numbers = fc.oneof(
  fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 20 }),
  fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }).map(Math.fround), {
    minLength: 1,
    maxLength: 20,
  }),
  fc.array(fc.double(), { maxLength: 5 }), // NaN / infinities: refused as canonicalJson refuses
  // biome-ignore lint/suspicious/noSparseArray: a hole is what this case tests
  fc.constant([1, , 3]),
)
const member = fc.oneof(primitive, numbers, fc.dictionary(fc.string(), primitive, { maxKeys: 3 }))
const value = fc.oneof(
  primitive,
  numbers,
  fc.dictionary(fc.string({ unit: 'binary' }), member, { maxKeys: 4 }),
  fc.record({ values: numbers, metadata: fc.dictionary(fc.string(), primitive, { maxKeys: 3 }) }),
)

test('valueJson: the same text as canonicalJson, or refused as it refuses (seed 768)', () => {
  fc.assert(
    fc.property(value, (v) => {
      const want = outcome(canonicalJson, v)
      const got = outcome(valueJson, v)
      if (want instanceof Error) assert.ok(got instanceof Error, `refused by canonicalJson: ${String(want)}`)
      else assert.equal(got, want)
    }),
    { seed: 768, numRuns: 5000 },
  )
})

test('valueJson of a 768-d float32 vector cell equals canonicalJson', () => {
  let a = 7
  const values = Array.from({ length: 768 }, () => {
    a = (a * 1103515245 + 12345) % 2 ** 31
    return Math.fround((a / 2 ** 31) * 2 - 1)
  })
  const cell = { values, metadata: { i: 1, tag: 'x', nested: { b: [1, 2], a: null } } }
  assert.equal(valueJson(cell), canonicalJson(cell))
  assert.equal(valueJson({ values, metadata: {} }), canonicalJson({ values, metadata: {} }))
})
