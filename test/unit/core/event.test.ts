import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PAYLOAD_BYTES_MAX } from '../../../src/core/constants.ts'
import { eventFromJson, eventFromWire, eventToJson, parseLocalWrite } from '../../../src/core/event.ts'
import { decodeSigned, encodeSigned } from '../../../src/core/event-codec.ts'
import { makeEvent, testSigner } from '../../helpers/events.ts'

const NOW = 1_764_000_000_000
const ctx = { nowMs: NOW, driftMaxMs: 60_000 }

describe('events: sign, encode, verify', () => {
  it('round-trips through JSON and wire form with the same digest', () => {
    const e = makeEvent(testSigner(1), {})
    const json = eventToJson(e)
    assert.equal(json.timestamp, new Date(NOW).toISOString())
    const back = eventFromJson(JSON.parse(JSON.stringify(json)), ctx)
    assert.equal(back.digest, e.digest)
    const wire = eventFromWire(e.signed, e.signature, ctx)
    assert.equal(wire.digest, e.digest)
    assert.deepEqual(decodeSigned(e.signed).payload, e.payload)
  })

  it('refuses a changed payload, target or author (bad signature)', () => {
    const json = eventToJson(makeEvent(testSigner(1), {}))
    for (const mutate of [
      (j: typeof json) => ({ ...j, payload: { op: 'set', fields: { name: 'Eve' } } }),
      (j: typeof json) => ({ ...j, target_id: 'p2' }),
      (j: typeof json) => ({ ...j, author: eventToJson(makeEvent(testSigner(2), {})).author }),
    ]) {
      assert.throws(() => eventFromJson(mutate(json), ctx), { name: 'BadSignatureError' })
    }
  })

  it('names each validation failure', () => {
    const json = eventToJson(makeEvent(testSigner(1), {}))
    const { event_type: _t, ...noType } = json
    assert.throws(() => eventFromJson(noType, ctx), {
      name: 'MalformedEventError',
      message: /event_type is missing/,
    })
    assert.throws(() => eventFromJson({ ...json, event_type: 'cat_update' }, ctx), {
      name: 'UnknownEventTypeError',
    })
    assert.throws(() => eventFromJson({ ...json, hlc: 'yesterday' }, ctx), {
      name: 'MalformedEventError',
      message: /hlc/,
    })
    assert.throws(() => eventFromJson({ ...json, signature: 'zz' }, ctx), {
      name: 'MalformedEventError',
      message: /signature/,
    })
    assert.throws(() => eventFromJson({ ...json, payload: { op: 'set', fields: [] } }, ctx), {
      name: 'InvalidPayloadError',
    })
    assert.throws(() => eventFromJson(json, { ...ctx, allowedAuthors: new Set(['00'.repeat(32)]) }), {
      name: 'UnknownAuthorError',
    })
    assert.throws(() => eventFromJson(json, { ...ctx, nowMs: NOW - 61_000 }), { name: 'ClockDriftError' })
    assert.throws(() => eventFromJson({ ...json, timestamp: '2020-01-01T00:00:00.000Z' }, ctx), {
      name: 'MalformedEventError',
      message: /timestamp/,
    })
  })

  it('refuses a payload over the size limit before signing', () => {
    const big = 'x'.repeat(PAYLOAD_BYTES_MAX)
    assert.throws(
      () => makeEvent(testSigner(1), { payload: { op: 'put', content: big }, type: 'document_update' }),
      { name: 'PayloadTooLargeError' },
    )
  })

  it('decodes only canonical bytes: every truncation and a trailing byte are refused', () => {
    const e = makeEvent(testSigner(3), {
      payload: { op: 'upsert', values: [0.5, -1, 2], metadata: { tag: 'a' } },
      type: 'vector_update',
    })
    for (let n = 0; n < e.signed.length; n++) {
      assert.throws(() => decodeSigned(e.signed.subarray(0, n)))
    }
    const longer = new Uint8Array(e.signed.length + 1)
    longer.set(e.signed)
    assert.throws(() => decodeSigned(longer), { name: 'MalformedEventError' })
    assert.deepEqual(encodeSigned(decodeSigned(e.signed)), e.signed)
  })

  it('refuses payload bytes that are not valid UTF-8 or not canonical JSON', () => {
    const e = makeEvent(testSigner(3), { payload: { op: 'set', fields: { name: 'Ann' } } })
    const at = Buffer.from(e.signed).indexOf(Buffer.from('Ann'))
    const bad = new Uint8Array(e.signed)
    bad[at] = 0xff // decodes to U+FFFD, which would re-encode to other bytes
    assert.throws(() => decodeSigned(bad), { name: 'MalformedEventError', message: /not valid UTF-8/ })
    const spaced = new Uint8Array(e.signed)
    spaced[Buffer.from(e.signed).indexOf(Buffer.from('"op"')) - 1] = 0x20 // '{' -> ' '
    assert.throws(() => decodeSigned(spaced), { name: 'MalformedEventError' })
    const swapped = Buffer.from(e.signed)
    const text = '{"fields":{"name":"Ann"},"op":"set"}'
    const from = swapped.indexOf(Buffer.from(text))
    assert.ok(from > 0)
    swapped.write('{"op":"set","fields":{"name":"Ann"}}', from) // same length, keys out of order
    assert.throws(() => decodeSigned(new Uint8Array(swapped)), {
      name: 'MalformedEventError',
      message: /canonical JSON form/,
    })
  })

  it('checks local writes: spec fields only, known type, object payload', () => {
    assert.equal(
      parseLocalWrite({ event_type: 'graph_update', target_id: 'g', payload: {} }).event_type,
      'graph_update',
    )
    assert.throws(() => parseLocalWrite({ event_type: 'x', target_id: 'g', payload: {} }), {
      name: 'UnknownEventTypeError',
    })
    assert.throws(() => parseLocalWrite({ event_type: 'graph_update', payload: {} }), {
      name: 'MalformedEventError',
      message: /target_id/,
    })
    assert.throws(() => parseLocalWrite({ event_type: 'graph_update', target_id: 'g', payload: 'x' }), {
      message: /payload/,
    })
    assert.throws(
      () => parseLocalWrite({ event_type: 'graph_update', target_id: 'g', payload: {}, extra: 1 }),
      { message: /unexpected field/ },
    )
    assert.throws(
      () => parseLocalWrite({ event_id: 'nope', event_type: 'graph_update', target_id: 'g', payload: {} }),
      { message: /UUID/ },
    )
  })
})
