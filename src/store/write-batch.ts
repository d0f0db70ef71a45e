/** The one place the store writes: an atomic batch, fsynced before it resolves. */
import type { AbstractBatchOptions, AbstractChainedBatch } from 'abstract-level'
import { StorageDamagedError, StorageFullError, StorageWriteError } from './errors.ts'
import type { LevelDatabase, Sublevels } from './keys.ts'
import { isNoSpace } from './open-level.ts'

type Key = Uint8Array | string
export type AnySublevel = Sublevels[keyof Sublevels]

export type BatchOp =
  | { type: 'put'; sublevel: AnySublevel; key: Key; value: Key }
  | { type: 'del'; sublevel: AnySublevel; key: Key }

/** classic-level's `sync` option; abstract-level's types do not declare it (memory-level ignores it). */
const SYNC_WRITE: AbstractBatchOptions<Key, Key> & { sync: boolean } = { sync: true }
const UNSYNCED_WRITE: AbstractBatchOptions<Key, Key> & { sync: boolean } = { sync: false }

/**
 * A batch being filled: each operation goes into LevelDB's native batch when it is planned
 * (classic-level copies key and value at once), so a commit builds no list of operation
 * objects, and none of its keys and values stay reachable while the write waits for its fsync.
 * Before, a group of ~1,000 events held ~9,000 operations (objects, keys, JSON values) through
 * the fsync, and every scavenge that ran meanwhile copied them (docs/BENCHMARKS.md, "Local
 * writes in batches of 500").
 *
 * Nothing is written until `write()`; `discard()` drops what was put.
 */
export class StoreBatch {
  readonly #batch: AbstractChainedBatch<LevelDatabase, Key, Key>
  /** The `{ sublevel }` option of each sublevel, built once (abstract-level copies it). */
  readonly #options = new Map<AnySublevel, { sublevel: never }>()
  #length = 0

  constructor(db: LevelDatabase) {
    this.#batch = db.batch()
  }

  /** A batch holding `ops` (the writes that build their operations as a list); an operation
   *  LevelDB refuses drops the batch and throws. */
  static async of(db: LevelDatabase, ops: readonly BatchOp[]): Promise<StoreBatch> {
    const batch = new StoreBatch(db)
    try {
      for (const op of ops) {
        if (op.type === 'put') batch.put(op.sublevel, op.key, op.value)
        else batch.del(op.sublevel, op.key)
      }
    } catch (err) {
      await batch.discard()
      throw err
    }
    return batch
  }

  /** Operations put so far. */
  get length(): number {
    return this.#length
  }

  put(sublevel: AnySublevel, key: Key, value: Key): void {
    try {
      this.#batch.put(key, value, this.#optionsOf(sublevel))
    } catch (err) {
      throw this.#refused(err)
    }
    this.#length++
  }

  del(sublevel: AnySublevel, key: Key): void {
    try {
      this.#batch.del(key, this.#optionsOf(sublevel))
    } catch (err) {
      throw this.#refused(err)
    }
    this.#length++
  }

  /** Drops the batch unwritten (after a failed plan). Never throws. */
  async discard(): Promise<void> {
    try {
      await this.#batch.close()
    } catch {
      // Closing releases the native batch; a failure here leaves nothing written either way.
    }
  }

  /**
   * Writes the batch atomically with `sync: true` (write + fdatasync): once this resolves the
   * batch survives a machine crash, which is what an acknowledgement promises. Any failure (disk
   * full, I/O error, database closed) becomes a StorageWriteError with the cause; nothing was
   * written. `sync` is `false` only for rebuild pages (CommitBatch.unsynced): atomic, not yet
   * durable.
   */
  async write(sync = true): Promise<void> {
    const count = this.#length
    if (count === 0) return this.discard()
    try {
      await this.#batch.write((sync ? SYNC_WRITE : UNSYNCED_WRITE) as never)
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      // LevelDB refuses every write after a background compaction met a damaged table (a bad
      // block, or a table cut short: an I/O error naming the table): that is not transient, the
      // store needs a repair.
      const Class = isNoSpace(why)
        ? StorageFullError
        : /corruption/i.test(why) || /IO error: \S+\.(ldb|sst): /.test(why)
          ? StorageDamagedError
          : StorageWriteError
      throw new Class(`atomic batch of ${count} operations was not written: ${why}`, { cause: err })
    }
  }

  #optionsOf(sublevel: AnySublevel): { sublevel: never } {
    let o = this.#options.get(sublevel)
    if (o === undefined) {
      o = { sublevel: sublevel as never }
      this.#options.set(sublevel, o)
    }
    return o
  }

  #refused(err: unknown): StorageWriteError {
    return new StorageWriteError(
      `atomic batch was not written: operation ${this.#length + 1} was refused: ${(err as Error).message}`,
      { cause: err },
    )
  }
}

/**
 * Writes `ops` atomically and durably (see StoreBatch.write), for the writes that build their
 * operations as a list (format check, rebuild clearing).
 *
 * Built as a chained batch (one native call per operation) rather than an array batch: the
 * array form copies every operation object and has the binding read its fields one property
 * lookup at a time, ~2.5x slower per operation (measured: 14,000 operations, ~100 ms vs ~40 ms),
 * and a group commit of 2,000 events is ~14,000 operations.
 */
export async function writeBatch(db: LevelDatabase, ops: readonly BatchOp[], sync = true): Promise<void> {
  if (ops.length === 0) return
  await (await StoreBatch.of(db, ops)).write(sync)
}
