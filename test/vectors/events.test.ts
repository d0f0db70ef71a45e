/** Committed byte vectors of the signed event encoding (docs/PROTOCOL.md): a codec change that
 *  breaks compatibility fails here. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { eventFromWire, signEvent } from '../../src/core/event.ts'
import { decodeSigned, normalizePayload } from '../../src/core/event-codec.ts'
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
      assert.deepEqual(
        decodeSigned(fromHex(v.signed)!).payload,
        normalizePayload(c.fields.type, c.fields.payload),
        'the payload reads back (vector values as float32)',
      )
    })
  }
  it('the first vector, byte by byte as in docs/PROTOCOL.md', () => {
    const b = fromHex(vectors[0].signed)!
    assert.equal(Buffer.from(b.subarray(0, 4)).toString(), 'GKE3')
    assert.equal(b[4], 2, 'persona_update = 2')
    assert.equal(toHex(b.subarray(5, 21)), '0192d2c45b7e7a108000000000000001')
    assert.equal(toHex(b.subarray(21, 29)), '019abdf1d5eb0000', 'u48 wall ms 1764123334123, u16 counter 0')
    assert.equal(Buffer.from(b).readUInt16BE(61), 10, 'target length')
    assert.equal(Buffer.from(b).readUInt16BE(b.byteLength - 16), 0, 'no packed vector: dims 0')
    assert.equal(toHex(b.subarray(b.byteLength - 14, b.byteLength - 6)), '0102030405060708', 'log id')
    assert.equal(toHex(b.subarray(b.byteLength - 6)), '000000000000', 'u48 seq 0')
  })
  it('the log position trailer: u48 seq big-endian after the 8-byte log id', () => {
    const b = fromHex(vectors[2].signed)!
    assert.equal(toHex(b.subarray(b.byteLength - 14, b.byteLength - 6)), 'ffffffffffffffff')
    assert.equal(toHex(b.subarray(b.byteLength - 6)), 'ffffffffffff', 'seq 2^48 - 1')
  })
  it('the vector vector: JSON part without values, then u16 dims and float32 LE', () => {
    const b = Buffer.from(fromHex(vectors[1].signed)!)
    const dimsAt = b.byteLength - 14 - 2 - 3 * 4
    assert.equal(b.readUInt16BE(dimsAt), 3)
    assert.equal(b.readFloatLE(dimsAt + 2), 0.25)
    assert.equal(b.readFloatLE(dimsAt + 6), -1)
    assert.equal(b.readFloatLE(dimsAt + 10), Math.fround(3.5e-7))
    const json = b.subarray(0, dimsAt).toString('latin1')
    assert.ok(json.endsWith('{"metadata":{"source":"doc-9","z":null},"op":"upsert"}'), json.slice(-80))
  })
})
