/**
 * canonicalJson's fast path for primitives must be byte-identical to RFC 8785 (the canonicalize
 * library) and refuse what the library refuses: lone surrogates, NaN and infinities. Signed
 * bytes, value hashes and conflict ids are built from it, so one differing byte would split the
 * federation. Seeded property test.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import canonicalize from 'canonicalize'
import fc from 'fast-check'
import { canonicalJson } from '../../../src/core/event-codec.ts'

const reference = (v: unknown): string | Error => {
  try {
    const t = canonicalize(v)
    return t === undefined ? new Error('no JSON form') : t
  } catch (err) {
    return err as Error
  }
}
const ours = (v: unknown): string | Error => {
  try {
    return canonicalJson(v)
  } catch (err) {
    return err as Error
  }
}

const primitive = fc.oneof(
  fc.string({ unit: 'binary' }), // lone surrogates included
  fc.string({ unit: 'grapheme' }),
  fc.double(), // NaN, -0, infinities, subnormals
  fc.integer(),
  fc.constantFrom(0, -0, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, 0.1 + 0.2, '\u2028', '\ud800', '\udc00a'),
  fc.boolean(),
  fc.constant(null),
)

test('canonicalJson of a primitive: the same text as RFC 8785, or refused as it refuses', () => {
  fc.assert(
    fc.property(
      fc.oneof(primitive, fc.array(primitive, { maxLength: 3 }), fc.dictionary(fc.string(), primitive)),
      (v) => {
        const want = reference(v)
        const got = ours(v)
        if (want instanceof Error) assert.ok(got instanceof Error, 'what RFC 8785 refuses must be refused')
        else assert.equal(got, want)
      },
    ),
    { seed: 8785, numRuns: 5000 },
  )
})
