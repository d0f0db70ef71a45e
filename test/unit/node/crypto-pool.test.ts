import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createCryptoPool } from '../../../src/node/crypto-pool.ts'
import { signerFromSeed } from '../../../src/util/crypto.ts'

describe('crypto pool', () => {
  it('signs like the inline signer and verifies in workers, catching a wrong signature', async () => {
    const seed = new Uint8Array(32).fill(5)
    const signer = signerFromSeed(seed)
    const pool = createCryptoPool(seed, signer, { inlineMax: 1 })
    try {
      const messages = Array.from({ length: 100 }, (_, i) => new Uint8Array([i, 1, 2]))
      const sigs = await pool.signMany(messages)
      for (const [i, g] of sigs.entries())
        assert.deepEqual(Buffer.from(g), Buffer.from(signer.sign(messages[i])))
      const valid = await pool.verifyMany(
        messages.map((m, i) => ({
          key: signer.publicKey,
          message: m,
          signature: i === 3 ? sigs[4] : sigs[i],
        })),
      )
      assert.deepEqual(
        valid.map((v, i) => (v ? -1 : i)).filter((i) => i >= 0),
        [3],
      )
      const short = await pool.verifyMany([
        { key: signer.publicKey.subarray(0, 31), message: messages[0], signature: sigs[0] },
      ])
      assert.deepEqual(short, [false])
    } finally {
      await pool.stop()
    }
    await assert.rejects(pool.signMany([new Uint8Array(1), new Uint8Array(2)]), /stopped/)
  })
})
