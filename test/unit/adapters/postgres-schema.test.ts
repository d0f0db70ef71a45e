/** The Postgres sink's pure builders: the binary vector array pgvector's vector_recv reads. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { vectorArrayBinary } from '../../../src/adapters/postgres/postgres-schema.ts'

/** The format written field by field (big-endian), as PostgreSQL's array_recv documents it. */
function reference(vectors: number[][], oid: number): Buffer {
  const parts: Buffer[] = []
  const head = Buffer.alloc(20)
  head.writeInt32BE(1, 0)
  head.writeInt32BE(0, 4)
  head.writeInt32BE(oid, 8)
  head.writeInt32BE(vectors.length, 12)
  head.writeInt32BE(1, 16)
  parts.push(head)
  for (const v of vectors) {
    const b = Buffer.alloc(8 + 4 * v.length)
    b.writeInt32BE(4 + 4 * v.length, 0)
    b.writeInt16BE(v.length, 4)
    b.writeInt16BE(0, 6)
    for (const [i, x] of v.entries()) b.writeFloatBE(x, 8 + 4 * i)
    parts.push(b)
  }
  return Buffer.concat(parts)
}

describe('vectorArrayBinary', () => {
  it('writes the array header and each vector as int16 dim, int16 0, big-endian float4s', () => {
    const vectors = [[0.5, -1.25, 3e-8, 1e30], [], [-0, 7], Array.from({ length: 768 }, (_, i) => i / 7 - 50)]
    assert.deepEqual(vectorArrayBinary(vectors, 16385), reference(vectors, 16385))
  })
  it('an empty batch is a one-dimensional array of no element', () => {
    assert.deepEqual(vectorArrayBinary([], 1), reference([], 1))
  })
})
