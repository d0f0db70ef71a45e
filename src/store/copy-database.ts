/** A consistent copy of a whole store into a new LevelDB store (backup and restore). */
import { COPY_BATCH_BYTES_MAX } from './constants.ts'
import { StorageOpenError } from './errors.ts'
import type { LevelDatabase } from './keys.ts'
import { openLevelDatabase, storeFiles } from './open-level.ts'

/**
 * Copies every entry of `source` as one LevelDB snapshot (an iterator reads the snapshot taken
 * when it was created, so writes made meanwhile are either all in the copy or not at all) into a
 * new LevelDB store in `dir`, which must not hold a store. The last batch is written with fsync.
 */
export async function copyDatabase(source: LevelDatabase, dir: string): Promise<number> {
  if ((await storeFiles(dir)).length > 0) throw new StorageOpenError(`${dir} already holds a store`)
  const target = await openLevelDatabase(dir)
  let entries = 0
  try {
    const it = source.iterator({ keyEncoding: 'view', valueEncoding: 'view' })
    try {
      let batch = target.batch()
      let bytes = 0
      for (;;) {
        const rows = await it.nextv(1000)
        if (rows.length === 0) break
        for (const [k, v] of rows) {
          batch.put(k as never, v as never, { keyEncoding: 'view', valueEncoding: 'view' })
          bytes += (k as unknown as Uint8Array).byteLength + (v as unknown as Uint8Array).byteLength
          entries++
        }
        if (bytes >= COPY_BATCH_BYTES_MAX) {
          await batch.write()
          batch = target.batch()
          bytes = 0
        }
      }
      await batch.write({ sync: true } as never)
    } finally {
      await it.close()
    }
  } finally {
    await target.close()
  }
  return entries
}
