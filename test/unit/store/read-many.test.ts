/**
 * readMany: small reads synchronously, large ones through getMany, with the same answers on
 * LevelDB and memory-level, in key order, undefined where a key is absent.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ClassicLevel } from 'classic-level'
import { MemoryLevel } from 'memory-level'
import { SYNC_READ_KEYS_MAX } from '../../../src/store/constants.ts'
import type { LevelDatabase } from '../../../src/store/keys.ts'
import { readMany, readOne } from '../../../src/store/read-many.ts'

const bytes = (s: string) => new TextEncoder().encode(s)

async function check(db: LevelDatabase): Promise<void> {
  await db.open()
  const sub = db.sublevel<Uint8Array, Uint8Array>('t', { keyEncoding: 'view', valueEncoding: 'view' })
  const batch = db.batch()
  for (let i = 0; i < 100; i += 2) batch.put(bytes(`k${i}`), bytes(`v${i}`), { sublevel: sub as never })
  await batch.write()
  const calls = { sync: 0, many: 0 }
  const getSync = sub.getSync.bind(sub)
  const getMany = sub.getMany.bind(sub)
  Object.assign(sub, {
    getSync: (k: Uint8Array) => {
      calls.sync++
      return getSync(k)
    },
    getMany: (ks: Uint8Array[]) => {
      calls.many++
      return getMany(ks)
    },
  })
  for (const n of [0, 1, SYNC_READ_KEYS_MAX, SYNC_READ_KEYS_MAX + 1, 100]) {
    calls.sync = 0
    calls.many = 0
    // Reversed order and a key outside the data: the answer follows the keys asked.
    const keys = [...Array.from({ length: n - (n > 0 ? 1 : 0) }, (_, i) => n - 2 - i), 1000]
      .slice(0, n)
      .map((i) => bytes(`k${i}`))
    const values = await readMany(sub, keys)
    assert.equal(values.length, n)
    values.forEach((v, j) => {
      const i = Number(new TextDecoder().decode(keys[j]).slice(1))
      assert.deepEqual(
        v === undefined ? undefined : Buffer.from(v).toString(),
        i % 2 === 0 && i < 100 ? `v${i}` : undefined,
      )
    })
    if (n === 0) assert.deepEqual(calls, { sync: 0, many: 0 })
    else if (n <= SYNC_READ_KEYS_MAX)
      assert.deepEqual(calls, { sync: n, many: 0 }, `${n} keys read synchronously`)
    else assert.deepEqual(calls, { sync: 0, many: 1 }, `${n} keys read by one getMany`)
  }
  assert.equal(Buffer.from(readOne(sub, bytes('k4'))!).toString(), 'v4')
  assert.equal(readOne(sub, bytes('k5')), undefined)
  await db.close()
}

describe('readMany', () => {
  it('answers in key order on memory-level, synchronously up to SYNC_READ_KEYS_MAX keys', async () => {
    await check(new MemoryLevel<string, string>({ storeEncoding: 'buffer' }) as LevelDatabase)
  })

  it('answers the same on LevelDB (classic-level)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gkm-read-many-'))
    try {
      await check(new ClassicLevel<string, string>(dir) as unknown as LevelDatabase)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
