/**
 * Generators of hostile input: strings with the characters that broke things before (lone
 * surrogates, controls, NEL, line separators, bidi overrides, BOM), prototype-ish keys, deep
 * nesting, numbers at the edges, and near-valid events, frames and files mutated a little.
 */
import fc from 'fast-check'
import { signEvent } from '../../src/core/event.ts'
import type { JsonObject, JsonValue, SignedEvent } from '../../src/core/types.ts'
import { signerFromSeed } from '../../src/util/crypto.ts'
import { nextLogPosition } from '../helpers/log-position.ts'

const NASTY_UNITS = [
  0x00, 0x0a, 0x1b, 0x7f, 0x85, 0xa0, 0x200e, 0x2028, 0x2029, 0x202e, 0x2066, 0xd800, 0xdbff, 0xdc00, 0xdfff,
  0xfeff, 0xfffd, 0xffff,
]

/** Any UTF-16 string, lone surrogates and controls included, mostly short. */
export const nastyString: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0x61, max: 0x7a }) },
      { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
      { weight: 2, arbitrary: fc.constantFrom(...NASTY_UNITS) },
    ),
    { maxLength: 24 },
  )
  .map((units) => String.fromCharCode(...units))

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf']

export const nastyKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PROTO_KEYS) },
  { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 8 }) },
  { weight: 2, arbitrary: nastyString },
)

const nastyNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 2 ** 53, -(2 ** 53), 1e308, 5e-324, 2 ** 48, 2 ** 32),
)

/** A JSON value with nasty strings and keys; objects keep "__proto__" as an own property. */
export const nastyJson: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    nastyNumber,
    nastyString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(nastyKey, tie('value')), { maxLength: 4 }).map(objectOf),
  ),
})).value

export function objectOf(entries: ReadonlyArray<readonly [string, JsonValue]>): JsonObject {
  const o: JsonObject = {}
  for (const [k, v] of entries)
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
  return o
}

/** `[[[...]]]` of the given depth (text: too deep to build as a value cheaply). */
export const deepText = fc
  .integer({ min: 20, max: 50_000 })
  .chain((d) => fc.constantFrom(`${'['.repeat(d)}${']'.repeat(d)}`, `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`))

export const TYPE_NAMES = [
  'vector_update',
  'persona_update',
  'document_update',
  'graph_update',
  'vector',
  'persona',
  'document',
  'graph',
]

export const typeName: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...TYPE_NAMES) },
  { weight: 1, arbitrary: fc.constantFrom(...PROTO_KEYS, 'people', '', 'VECTOR') },
  { weight: 1, arbitrary: nastyJson },
)

export const targetId: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('p1', 'p2', 'doc', 'g', 'v', 'a/b', 'ünïcode', 'x'.repeat(255)) },
  { weight: 3, arbitrary: nastyString },
  { weight: 1, arbitrary: nastyJson },
)

/** A payload that is usually close to one of the four schemas. */
export const payload: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.record({
    op: fc.constant('set'),
    fields: fc.array(fc.tuple(nastyKey, nastyJson), { maxLength: 4 }).map(objectOf),
  }),
  fc.record({ op: fc.constant('unset'), fields: fc.array(nastyKey, { maxLength: 3 }) }),
  fc.record({
    op: fc.constantFrom('upsert', 'delete'),
    values: fc.array(nastyNumber, { maxLength: 4 }),
    metadata: nastyJson,
  }),
  fc.record({
    op: fc.constantFrom('put', 'delete'),
    content: nastyString,
    content_type: fc.constantFrom('text/plain', 'x'),
  }),
  fc.record({
    op: fc.constantFrom('add_edge', 'remove_edge', 'set_edge_properties'),
    from: nastyString,
    to: fc.constantFrom('b', 'c'),
    label: fc.constantFrom('knows', ''),
    properties: fc.array(fc.tuple(nastyKey, nastyJson), { maxLength: 3 }).map(objectOf),
  }),
  fc.record({ op: fc.constant('yjs'), update: fc.base64String({ maxLength: 64 }) }),
  fc.record({ op: fc.constantFrom('resolve', 'rollback'), cells: nastyJson }),
  nastyJson,
)

export const localWrite: fc.Arbitrary<JsonValue> = fc
  .record(
    {
      event_type: typeName,
      target_id: targetId,
      payload,
      event_id: fc.oneof(fc.uuid(), nastyString),
      timestamp: fc.oneof(fc.constant('2026-01-01T00:00:00Z'), nastyString),
    },
    { requiredKeys: ['event_type', 'target_id', 'payload'] },
  )
  .map((r) => r as JsonValue)

const signer = signerFromSeed(new Uint8Array(32).fill(99))

/** A real signed event (valid when not mutated), HLC near `nowMs`. */
export function signedEvent(nowMs: number): fc.Arbitrary<SignedEvent> {
  return fc
    .record({
      id: fc.uuid({ version: 4 }),
      target: fc.constantFrom('p1', 'p2', 'sig'),
      n: fc.integer(),
      dt: fc.integer({ min: -10_000, max: 10_000 }),
    })
    .map(({ id, target, n, dt }) =>
      signEvent(
        {
          eventId: id,
          type: 'persona_update',
          targetId: target,
          payload: { op: 'set', fields: { n } },
          hlc: { wallMs: nowMs + dt, counter: 0 },
          parents: [],
          ...nextLogPosition(signer),
        },
        signer,
      ),
    )
}

/** Bytes with a few positions changed, cut or extended. */
export function mutatedBytes(base: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(
      base,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.option(fc.nat(), { nil: undefined }),
      fc.uint8Array({ maxLength: 8 }),
    )
    .map(([bytes, edits, cut, tail]) => {
      const out = new Uint8Array(bytes)
      for (const [at, v] of edits) if (out.length > 0) out[at % out.length] = v
      const kept = cut === undefined || out.length === 0 ? out : out.subarray(0, cut % (out.length + 1))
      return new Uint8Array([...kept, ...tail])
    })
}

/** Random bytes, or a mutation of a valid encoding. */
export function bytesNear(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
    { weight: 2, arbitrary: valid },
    { weight: 4, arbitrary: mutatedBytes(valid) },
  )
}
