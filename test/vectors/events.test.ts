/** Committed byte vectors of the signed event encoding (docs/PROTOCOL.md): a codec change that
 *  breaks compatibility fails here. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { eventFromWire, signEvent } from '../../src/core/event.ts'
import { decodeSigned } from '../../src/core/event-codec.ts'
import { fromHex, toHex } from '../../src/util/bytes.ts'
import { signerFromSeed } from '../../src/util/crypto.ts'
import { VECTOR_CASES } from './event-cases.ts'

const vectors = JSON.parse(readFileSync(new URL('./events.json', import.meta.url), 'utf8')) as Array<{
  name: string
  seed: string
  signed: string
  signature: string
  digest: string
}>

describe('signed event vectors', () => {
  it('has one vector per case', () => assert.equal(vectors.length, VECTOR_CASES.length))
  for (const [i, c] of VECTOR_CASES.entries()) {
    it(c.name, () => {
      const v = vectors[i]
      const e = signEvent(c.fields, signerFromSeed(fromHex(v.seed)!))
      assert.equal(toHex(e.signed), v.signed, 'signed bytes changed')
      assert.equal(toHex(e.signature), v.signature, 'Ed25519 signatures are deterministic')
      assert.equal(e.digest, v.digest)
      const back = eventFromWire(fromHex(v.signed)!, fromHex(v.signature)!, { nowMs: 2 ** 48, driftMaxMs: 0 })
      assert.equal(back.digest, v.digest)
      assert.deepEqual(decodeSigned(fromHex(v.signed)!).payload, c.fields.payload)
    })
  }
  it('the first vector, byte by byte as in docs/PROTOCOL.md', () => {
    const b = fromHex(vectors[0].signed)!
    assert.equal(Buffer.from(b.subarray(0, 4)).toString(), 'GKE1')
    assert.equal(b[4], 2, 'persona_update = 2')
    assert.equal(toHex(b.subarray(5, 21)), '0192d2c45b7e7a108000000000000001')
    assert.equal(toHex(b.subarray(21, 29)), '019abdf1d5eb0000', 'u48 wall ms 1764123334123, u16 counter 0')
    assert.equal(Buffer.from(b).readUInt16BE(61), 10, 'target length')
  })
})
