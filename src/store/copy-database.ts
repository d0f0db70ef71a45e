/** A consistent copy of a whole store into a new LevelDB store (backup and restore). */
import { COPY_BATCH_BYTES_MAX } from './constants.ts'
import { StorageOpenError } from './errors.ts'
import type { LevelDatabase } from './keys.ts'
import { openLevelDatabase, storeFiles } from './open-level.ts'

/** How far a copy is: entries copied, and the share of the store's key space behind them. */
export interface CopyProgress {
  readonly entries: number
  /** 0..1: LevelDB's on-disk size of the keys copied over that of all keys (an estimate; absent
   *  when the store cannot tell, e.g. all of it is still in the write-ahead log). */
  readonly fraction?: number
}

/**
 * Copies every entry of `source` as one LevelDB snapshot (an iterator reads the snapshot taken
 * when it was created, so writes made meanwhile are either all in the copy or not at all) into a
 * new LevelDB store in `dir`, which must not hold a store. The last batch is written with fsync.
 * `onProgress` hears after each batch written how far the copy is.
 */
export async function copyDatabase(
  source: LevelDatabase,
  dir: string,
  onProgress?: (progress: CopyProgress) => void,
): Promise<number> {
  if ((await storeFiles(dir)).length > 0) throw new StorageOpenError(`${dir} already holds a store`)
  const target = await openLevelDatabase(dir)
  let entries = 0
  try {
    const share = onProgress === undefined ? undefined : await keySpaceShare(source)
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
          if (onProgress !== undefined) {
            const fraction = await share?.(rows[rows.length - 1][0] as unknown as Uint8Array)
            onProgress(fraction === undefined ? { entries } : { entries, fraction })
          }
        }
      }
      await batch.write({ sync: true } as never)
    } finally {
      await it.close()
    }
  } finally {
    await target.close()
  }
  onProgress?.({ entries, fraction: 1 })
  return entries
}

/** For a key, the share of the store's on-disk size (LevelDB's approximateSize) that lies up to
 *  it; undefined when the database cannot say (memory-level) or holds nothing on disk yet. */
async function keySpaceShare(db: LevelDatabase): Promise<((key: Uint8Array) => Promise<number>) | undefined> {
  const sized = db as unknown as {
    approximateSize?: (start: Uint8Array, end: Uint8Array, opts: { keyEncoding: 'view' }) => Promise<number>
  }
  if (typeof sized.approximateSize !== 'function') return undefined
  const size = sized.approximateSize.bind(db)
  const [first] = await db.keys({ keyEncoding: 'view', limit: 1 }).all()
  const [last] = await db.keys({ keyEncoding: 'view', limit: 1, reverse: true }).all()
  if (first === undefined || last === undefined) return undefined
  const total = await size(first as never, last as never, { keyEncoding: 'view' })
  if (!(total > 0)) return undefined
  return async (key) => Math.min(1, (await size(first as never, key, { keyEncoding: 'view' })) / total)
}
