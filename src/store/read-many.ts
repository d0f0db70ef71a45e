/**
 * Point reads for the store: small reads synchronously, large ones on the thread pool
 * (SYNC_READ_KEYS_MAX says why). Both ClassicLevel and MemoryLevel support `getSync`.
 */
import type { AbstractSublevel } from 'abstract-level'
import { SYNC_READ_KEYS_MAX } from './constants.ts'
import type { LevelDatabase } from './keys.ts'

type Sub<K, V> = AbstractSublevel<LevelDatabase, string | Buffer | Uint8Array, K, V>

/** Values of `keys` in order (undefined where absent). */
export async function readMany<K, V>(sub: Sub<K, V>, keys: readonly K[]): Promise<Array<V | undefined>> {
  if (keys.length === 0) return []
  if (keys.length <= SYNC_READ_KEYS_MAX) return keys.map((k) => sub.getSync(k))
  return sub.getMany(keys as K[])
}

/** The value of one key (undefined where absent), read synchronously. */
export function readOne<K, V>(sub: Sub<K, V>, key: K): V | undefined {
  return sub.getSync(key)
}
