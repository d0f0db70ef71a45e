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
import { canonicalJson, isCanonicalText } from '../../../src/core/event-codec.ts'

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

/** JSON text of a value with its object keys in a shuffled order (seeded by the property). */
const shuffledJson = (v: unknown, flip: boolean): string => {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null'
  if (Array.isArray(v)) return `[${v.map((x) => shuffledJson(x, flip)).join(',')}]`
  const keys = Object.keys(v).sort()
  if (flip) keys.reverse()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${shuffledJson((v as Record<string, unknown>)[k], flip)}`).join(',')}}`
}

test('isCanonicalText (the decoder check) answers exactly canonicalJson(value) === text', () => {
  const value = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      primitive,
      fc.array(tie('v'), { maxLength: 4 }),
      // Integer-like keys ("10", "9"): V8 iterates them first, in numeric order.
      fc.dictionary(fc.oneof(fc.string(), fc.integer({ min: 0, max: 20 }).map(String)), tie('v'), {
        maxKeys: 5,
      }),
    ),
  })).v
  fc.assert(
    fc.property(
      value,
      fc.boolean(),
      fc.constantFrom('plain', 'shuffled', 'spaced', 'number'),
      (v, flip, form) => {
        let text: string
        if (form === 'plain') text = JSON.stringify(v) ?? 'null'
        else if (form === 'shuffled') text = shuffledJson(v, flip)
        else if (form === 'spaced') text = JSON.stringify(v, null, 1) ?? 'null'
        else text = (JSON.stringify(v) ?? 'null').replace(/(\d)(?=[,}\]]|$)/, '$1.0')
        let parsed: unknown
        try {
          parsed = JSON.parse(text)
        } catch {
          return
        }
        const want = reference(parsed)
        assert.equal(isCanonicalText(parsed, text), !(want instanceof Error) && want === text, text)
      },
    ),
    { seed: 8786, numRuns: 5000 },
  )
  // Canonical text with integer-like keys (V8 reorders them on parse): still accepted.
  const text = '{"10":1,"9":2,"b":3}'
  assert.equal(isCanonicalText(JSON.parse(text), text), true)
  assert.equal(isCanonicalText(JSON.parse('{"9":2,"10":1}'), '{"9":2,"10":1}'), false)
  // An escaped lone surrogate: JSON.stringify gives the text back, RFC 8785 refuses it.
  assert.equal(isCanonicalText(JSON.parse('"\\ud800"'), '"\\ud800"'), false)
})

test('canonicalJson of nested objects and arrays (keys in any insertion order): the RFC 8785 text', () => {
  const value = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      primitive,
      fc.array(tie('v'), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.string(), fc.integer({ min: 0, max: 20 }).map(String)), tie('v'), {
        maxKeys: 5,
      }),
    ),
  })).v
  fc.assert(
    fc.property(value, (v) => {
      const want = reference(v)
      const got = ours(v)
      if (want instanceof Error) assert.ok(got instanceof Error, 'what RFC 8785 refuses must be refused')
      else assert.equal(got, want)
    }),
    { seed: 8787, numRuns: 5000 },
  )
  // Not plain JSON data: left to the library (a Date's toJSON, an undefined member).
  assert.equal(canonicalJson({ b: new Date(0), a: 1 }), '{"a":1,"b":"1970-01-01T00:00:00.000Z"}')
  assert.equal(canonicalJson({ a: undefined, b: 1 }), reference({ a: undefined, b: 1 }))
})
