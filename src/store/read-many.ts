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

/** Values of keys that may be missing (an input that names no key): one batched read of the
 *  present ones, each decoded with its key; undefined where there is no key or no value. */
export async function readManyKeyed<K, V, T>(
  sub: Sub<K, V>,
  keys: ReadonlyArray<K | undefined>,
  decode: (key: K, value: V) => T,
): Promise<Array<T | undefined>> {
  const values = await readMany(
    sub,
    keys.filter((k): k is K => k !== undefined),
  )
  let i = 0
  return keys.map((key) => {
    if (key === undefined) return undefined
    const value = values[i++]
    return value === undefined ? undefined : decode(key, value)
  })
}
