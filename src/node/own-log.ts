/**
 * The node's own log: its id (drawn when the store was created, kept in the store's meta) and
 * the next position to write. A store that was restored from a backup or repaired gets a new log
 * id (`startNewLog`): it may have lost positions it already signed, and signing them again with
 * other content would be a fork of its own log (docs/EVENTS.md "Forks").
 */
import type { Store } from '../core/ports.ts'
import type { AuthorKey } from '../core/types.ts'
import { META_OWN_LOG } from '../store/constants.ts'
import { metaOnlyBatch } from '../store/index.ts'
import { newLogId } from '../util/random.ts'

const META_LOG = META_OWN_LOG

export async function openOwnLog(store: Store, author: AuthorKey): Promise<{ log: string; next: number }> {
  let log = await store.getMeta(META_LOG)
  if (log === undefined || !/^[0-9a-f]{16}$/.test(log)) {
    log = newLogId()
    await startNewLog(store, log)
  }
  const rec = (await store.getLogRecords([{ author, log }]))[0]
  return { log, next: rec?.end ?? 0 }
}

/** Makes `log` (default: a new random one) the node's own log from now on, durably. */
export async function startNewLog(store: Store, log = newLogId()): Promise<string> {
  await store.commit(metaOnlyBatch({ [META_LOG]: log }))
  return log
}
