/**
 * A store copy (backup, restore) reports how far it is: entries after each batch and the share
 * of the store's on-disk size behind the last key copied, growing to 1 with the last report.
 * A LevelDB database of ~12 MB on disk (several write buffers, so LevelDB has flushed tables
 * whose sizes it can estimate), values from a seeded generator.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { ClassicLevel } from 'classic-level'
import { type CopyProgress, copyDatabase } from '../../../src/store/copy-database.ts'
import type { LevelDatabase } from '../../../src/store/keys.ts'

const SEED = 0x5eed
const ENTRIES = 3_000
const VALUE_BYTES = 4_096

test('copyDatabase reports entries and a growing share of the store, ending at all of it', async () => {
  console.log(`seed ${SEED}`)
  const dir = await mkdtemp(join(tmpdir(), 'gkm-copy-progress-'))
  try {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'source'), {
      keyEncoding: 'view',
      valueEncoding: 'view',
    })
    await db.open()
    // xorshift32: values that do not compress, so the on-disk size is the data's.
    let x = SEED
    const next = () => {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      return x >>> 0
    }
    for (let i = 0; i < ENTRIES; i += 100) {
      const batch = db.batch()
      for (let j = i; j < i + 100; j++) {
        const value = new Uint8Array(VALUE_BYTES)
        const view = new DataView(value.buffer)
        for (let k = 0; k < VALUE_BYTES; k += 4) view.setUint32(k, next())
        batch.put(new TextEncoder().encode(`k${String(j).padStart(6, '0')}`), value)
      }
      await batch.write()
    }
    const reports: CopyProgress[] = []
    const copied = await copyDatabase(db as unknown as LevelDatabase, join(dir, 'copy'), (p) =>
      reports.push(p),
    )
    await db.close()
    assert.equal(copied, ENTRIES)
    assert.ok(reports.length >= 3, `a report per batch of a few MB: ${JSON.stringify(reports)}`)
    assert.deepEqual(reports.at(-1), { entries: ENTRIES, fraction: 1 })
    const entries = reports.map((r) => r.entries)
    assert.deepEqual(
      entries,
      [...entries].sort((a, b) => a - b),
      'entries only grow',
    )
    const fractions = reports.map((r) => r.fraction)
    assert.ok(
      fractions.slice(0, -1).some((f) => f !== undefined && f > 0 && f < 1),
      `LevelDB estimates a share between 0 and 1 mid-copy: ${JSON.stringify(reports)}`,
    )
    for (const f of fractions) if (f !== undefined) assert.ok(f >= 0 && f <= 1)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
