import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodeFrame, readFrames } from '../../../src/wire/index.ts'

describe('frames', () => {
  it('round trip, split at every byte boundary', () => {
    const bodies = [new Uint8Array(0), new Uint8Array(5).fill(1), new Uint8Array(200).fill(2)]
    const all = new Uint8Array(Buffer.concat(bodies.map(encodeFrame)))
    for (let cut = 0; cut <= all.byteLength; cut++) {
      const first = readFrames(all.subarray(0, cut), 1000)
      const rest = new Uint8Array([...first.rest, ...all.subarray(cut)])
      const second = readFrames(rest, 1000)
      const got = [...first.frames, ...second.frames].map((f) => f.byteLength)
      assert.deepEqual(got, [0, 5, 200], `cut ${cut}`)
      assert.equal(second.rest.byteLength, 0)
    }
  })

  it('a length above the limit is refused from its prefix alone', () => {
    const prefixOnly = encodeFrame(new Uint8Array(2000)).subarray(0, 2)
    assert.throws(() => readFrames(prefixOnly, 1000), { name: 'WireLimitError' })
  })

  it('a prefix longer than 5 bytes is malformed; a partial prefix waits for more', () => {
    assert.throws(() => readFrames(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 2 ** 40), {
      name: 'WireDecodeError',
    })
    assert.deepEqual(readFrames(new Uint8Array([0x80, 0x80]), 1000).frames, [])
  })
})
