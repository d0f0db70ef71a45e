/**
 * The in-memory twin of the LevelDB store: the same LevelStore code over memory-level, so the
 * unit tests and the deterministic simulator exercise exactly the key layout and commit logic
 * that runs on disk. Nothing touches the file system; `sync` is a no-op in memory.
 *
 * close() keeps the data: open() again on the same store sees it, as a restart would on disk.
 */
import { MemoryLevel } from 'memory-level'
import type { LevelDatabase } from './keys.ts'
import { LevelStore } from './level-store.ts'

export function createMemoryStore(): LevelStore {
  // 'buffer' store encoding: byte-wise key order, the same as LevelDB's default comparator.
  return new LevelStore(new MemoryLevel<string, string>({ storeEncoding: 'buffer' }) as LevelDatabase)
}
