/** The one place the store writes: an atomic batch, fsynced before it resolves. */
import type { AbstractBatchOptions } from 'abstract-level'
import type { BatchOp } from './commit-plan.ts'
import { StorageWriteError } from './errors.ts'
import type { LevelDatabase } from './keys.ts'

type Key = Uint8Array | string

/** classic-level's `sync` option; abstract-level's types do not declare it (memory-level ignores it). */
const SYNC_WRITE: AbstractBatchOptions<Key, Key> & { sync: boolean } = { sync: true }

/**
 * Writes `ops` atomically with `sync: true` (write + fdatasync): once this resolves the batch
 * survives a machine crash, which is what an acknowledgement promises. Any failure (disk full,
 * I/O error, database closed) becomes a StorageWriteError with the cause; nothing was written.
 */
export async function writeBatch(db: LevelDatabase, ops: readonly BatchOp[]): Promise<void> {
  if (ops.length === 0) return
  try {
    await db.batch<Key, Key>(ops as BatchOp[], SYNC_WRITE)
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    throw new StorageWriteError(`atomic batch of ${ops.length} operations was not written: ${why}`, {
      cause: err,
    })
  }
}
