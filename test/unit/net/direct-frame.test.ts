/** Frames of the direct fan-out stream (src/net/direct-frame.ts): round trips, splits at any
 *  byte, and every malformed shape refused with DirectFrameError and its reason. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Uint8ArrayList } from 'uint8arraylist'
import { prng } from '../../../bench/prng.ts'
import {
  DIRECT_COVERED_MAX,
  DIRECT_FRAME_BYTES_MAX,
  EVENT_SIGNED_BYTES_MAX,
} from '../../../src/net/constants.ts'
import { DirectFrameDecoder, encodeDirectFrame, peerTag } from '../../../src/net/direct-frame.ts'
import { DirectFrameError } from '../../../src/net/errors.ts'
import { makeEvent, testSigner } from '../../helpers/events.ts'

const signer = testSigner(7)
const event = (i: number) => makeEvent(signer, { target: `t${i}`, payload: { op: 'set', fields: { i } } })

function reasonOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof DirectFrameError, `a DirectFrameError, got ${(err as Error)?.name}`)
    assert.equal(err.code, 'bad_direct_frame')
    return err.reason
  }
  assert.fail('no error')
}

/** A frame body by hand: kind, covered count, tags, signed length, signed, signature. */
function rawFrame(parts: {
  kind?: number
  count?: number
  tags?: number
  signedLength?: number
  signed?: number
  sig?: number
}): Buffer {
  const tags = parts.tags ?? 0
  const signed = parts.signed ?? 10
  const body = Buffer.alloc(2 + 4 * tags + 4 + signed + (parts.sig ?? 64))
  body.writeUInt8(parts.kind ?? 1, 0)
  body.writeUInt8(parts.count ?? tags, 1)
  body.writeUInt32BE(parts.signedLength ?? signed, 2 + 4 * tags)
  const len = Buffer.alloc(4)
  len.writeUInt32BE(body.byteLength)
  return Buffer.concat([len, body])
}

describe('direct frames', () => {
  it('round-trip events and their covered tags, also split at every byte boundary', () => {
    const seed = 12
    console.log(`# seed ${seed}`)
    const rnd = prng(seed)
    const events = Array.from({ length: 20 }, (_, i) => event(i))
    const frames = events.map((e, i) =>
      encodeDirectFrame({
        covered: Array.from({ length: i % 5 }, () => Math.floor(rnd() * 2 ** 32)),
        signed: e.signed,
        signature: e.signature,
      }),
    )
    const all = Buffer.concat(frames)
    const decoder = new DirectFrameDecoder()
    const out = []
    let at = 0
    while (at < all.byteLength) {
      const step = 1 + Math.floor(rnd() * 300)
      out.push(...decoder.push(all.subarray(at, at + step)))
      at += step
    }
    assert.equal(decoder.buffered, 0)
    assert.equal(out.length, events.length)
    for (const [i, f] of out.entries()) {
      assert.deepEqual(Buffer.from(f.signed), Buffer.from(events[i].signed))
      assert.deepEqual(Buffer.from(f.signature), Buffer.from(events[i].signature))
      assert.equal(f.covered.length, i % 5)
    }
    // a Uint8ArrayList chunk (what a libp2p stream may yield) decodes the same
    const list = new Uint8ArrayList(frames[0], frames[1])
    assert.equal(new DirectFrameDecoder().push(list).length, 2)
  })

  it('cuts a covered list longer than DIRECT_COVERED_MAX (it is a hint)', () => {
    const e = event(1)
    const covered = Array.from({ length: DIRECT_COVERED_MAX + 10 }, (_, i) => i)
    const [f] = new DirectFrameDecoder().push(
      encodeDirectFrame({ covered, signed: e.signed, signature: e.signature }),
    )
    assert.equal(f.covered.length, DIRECT_COVERED_MAX)
  })

  it('peer tags are 32-bit and stable', () => {
    assert.equal(peerTag('12D3KooWabc'), peerTag('12D3KooWabc'))
    assert.notEqual(peerTag('12D3KooWabc'), peerTag('12D3KooWabd'))
    assert.ok(peerTag('x') >= 0 && peerTag('x') < 2 ** 32)
  })

  it('refuses malformed frames with a named reason', () => {
    const push = (b: Uint8Array) => () => new DirectFrameDecoder().push(b)
    const huge = Buffer.alloc(4)
    huge.writeUInt32BE(DIRECT_FRAME_BYTES_MAX + 1)
    assert.equal(reasonOf(push(huge)), 'too_large')
    assert.equal(reasonOf(push(rawFrame({ kind: 9 }))), 'unknown_kind')
    assert.equal(reasonOf(push(rawFrame({ count: DIRECT_COVERED_MAX + 1 }))), 'covered_too_many')
    assert.equal(reasonOf(push(rawFrame({ count: 3, tags: 0, signed: 0, sig: 0 }))), 'truncated')
    assert.equal(reasonOf(push(rawFrame({ signedLength: EVENT_SIGNED_BYTES_MAX + 1 }))), 'event_too_large')
    assert.equal(reasonOf(push(rawFrame({ signedLength: 11 }))), 'length_mismatch')
    assert.equal(reasonOf(push(rawFrame({ sig: 63 }))), 'length_mismatch')
    const one = Buffer.from([0, 0, 0, 1, 1])
    assert.equal(reasonOf(push(one)), 'truncated')
  })

  it('holds an incomplete frame without decoding it', () => {
    const e = event(2)
    const f = encodeDirectFrame({ covered: [1], signed: e.signed, signature: e.signature })
    const d = new DirectFrameDecoder()
    assert.deepEqual(d.push(f.subarray(0, f.byteLength - 1)), [])
    assert.equal(d.buffered, f.byteLength - 1)
    assert.equal(d.push(f.subarray(f.byteLength - 1)).length, 1)
  })

  it('encoding refuses a wrong signature length', () => {
    const e = event(3)
    assert.throws(
      () => encodeDirectFrame({ covered: [], signed: e.signed, signature: e.signature.subarray(1) }),
      RangeError,
    )
  })
})
