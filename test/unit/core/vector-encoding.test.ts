/** Vectors travel and are stored as packed float32 (docs/PROTOCOL.md "Signed event bytes"). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { VECTOR_DIMENSIONS_MAX } from '../../../src/core/constants.ts'
import { eventFromJson, eventFromWire, eventToJson } from '../../../src/core/event.ts'
import { decodeSigned, float32ToBase64 } from '../../../src/core/event-codec.ts'
import { parsePayload } from '../../../src/core/payload.ts'
import { prng as mulberry32 } from '../../helpers/crash.ts'
import { makeEvent, testSigner } from '../../helpers/events.ts'

const ctx = { nowMs: 1_764_000_000_000, driftMaxMs: 60_000 }

function randomVector(dims: number, seed: number): number[] {
  const rnd = mulberry32(seed)
  return Array.from({ length: dims }, () => rnd() * 2 - 1)
}

describe('vectors as packed float32', () => {
  it('a 768-dimension vector event is at most 3.5 KB of signed bytes', () => {
    const e = makeEvent(testSigner(1), {
      type: 'vector_update',
      target: 'doc-1',
      payload: { op: 'upsert', values: randomVector(768, 1), metadata: { source: 'a' } },
    })
    // 768 x 4 bytes of values, the header and the small JSON part (was ~15.7 KB as JSON digits).
    assert.ok(e.signed.byteLength <= 3500, `${e.signed.byteLength} bytes`)
    assert.ok(e.signed.byteLength >= 768 * 4)
  })

  it('values read back as float32 through the wire and the JSON form, with the same digest', () => {
    const values = [0.1, -2.5, 1e-3, 123456.789]
    const e = makeEvent(testSigner(1), { type: 'vector_update', payload: { op: 'upsert', values } })
    assert.deepEqual(e.payload.values, values.map(Math.fround), 'the stamped payload is what reads back')
    const wire = eventFromWire(e.signed, e.signature, ctx)
    assert.deepEqual(wire.payload, e.payload)
    const json = eventFromJson(JSON.parse(JSON.stringify(eventToJson(e))), ctx)
    assert.equal(json.digest, e.digest)
  })

  it('takes base64 of little-endian float32 as well as numbers: the same event bytes', () => {
    const values = randomVector(16, 2).map(Math.fround)
    const id = '0192d2c4-5b7e-7a10-8000-0000000000aa'
    const a = makeEvent(testSigner(1), {
      type: 'vector_update',
      eventId: id,
      seq: 7,
      payload: { op: 'upsert', values },
    })
    const b = makeEvent(testSigner(1), {
      type: 'vector_update',
      eventId: id,
      seq: 7,
      payload: { op: 'upsert', values: float32ToBase64(values) },
    })
    assert.equal(b.digest, a.digest)
    assert.deepEqual(b.payload.values, values)
  })

  it(`accepts ${VECTOR_DIMENSIONS_MAX} dimensions and refuses one more`, () => {
    const e = makeEvent(testSigner(1), {
      type: 'vector_update',
      payload: { op: 'upsert', values: randomVector(VECTOR_DIMENSIONS_MAX, 3) },
    })
    assert.equal(decodeSigned(e.signed).payload.values?.toString().split(',').length, VECTOR_DIMENSIONS_MAX)
    assert.throws(
      () =>
        parsePayload('vector_update', { op: 'upsert', values: randomVector(VECTOR_DIMENSIONS_MAX + 1, 3) }),
      { name: 'InvalidPayloadError', message: /1\.\.4096/ },
    )
  })

  it('refuses values outside the float32 range and bad base64, naming them', () => {
    assert.throws(() => parsePayload('vector_update', { op: 'upsert', values: [1, 1e39] }), {
      name: 'InvalidPayloadError',
      message: /values\[1\].*float32 range/,
    })
    assert.throws(() => parsePayload('vector_update', { op: 'upsert', values: 'AAAA=' }), {
      name: 'InvalidPayloadError',
      message: /base64 of little-endian float32/,
    })
    assert.throws(() => parsePayload('vector_update', { op: 'upsert', values: 'AAA=' }), {
      name: 'InvalidPayloadError',
      message: /base64/,
    })
  })

  it('the decoder refuses a packed vector where none belongs, NaN values, values in the JSON part', () => {
    const v = makeEvent(testSigner(1), { type: 'vector_update', payload: { op: 'upsert', values: [1, 2] } })
    const nan = Buffer.from(v.signed)
    nan.writeFloatLE(Number.NaN, nan.byteLength - 14 - 4) // the last value, before the log position
    assert.throws(() => decodeSigned(nan), { name: 'MalformedEventError', message: /not finite/ })

    const p = makeEvent(testSigner(1), {})
    const trailer = p.signed.byteLength - 14
    const extra = Buffer.concat([
      Buffer.from(p.signed.subarray(0, trailer - 2)),
      Buffer.from([0, 1, 0, 0, 0, 0]),
      Buffer.from(p.signed.subarray(trailer)),
    ])
    assert.throws(() => decodeSigned(extra), { name: 'MalformedEventError', message: /only a vector upsert/ })

    const short = Buffer.from(v.signed.subarray(0, v.signed.byteLength - 1))
    assert.throws(() => decodeSigned(short), { name: 'MalformedEventError', message: /do not match/ })
  })
})

describe('a signed vector upsert in JSON form', () => {
  it('with values as base64 text is refused: its bytes would not decode', () => {
    const e = makeEvent(testSigner(1), { type: 'vector_update', payload: { op: 'upsert', values: [1, 2] } })
    const json = eventToJson(e)
    const edited = { ...json, payload: { ...json.payload, values: float32ToBase64([1, 2]) } }
    assert.throws(() => eventFromJson(edited, ctx), {
      name: 'MalformedEventError',
      message: /values as an array of numbers/,
    })
  })
})
