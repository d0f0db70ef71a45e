/**
 * Store maintenance: a consistent copy of a store (backup, restore) and LevelDB's repair, run
 * on a copy. None of them deletes anything: a store that is replaced is moved aside into a
 * sub-directory of the data directory, and the damaged original of a repair is kept the same
 * way. docs/STORAGE.md ("Backup, restore and repair") says when to use which.
 */
import { cp, mkdir, readdir, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { newLogId } from '../util/random.ts'
import { metaOnlyBatch } from './commit-plan.ts'
import { META_OWN_LOG } from './constants.ts'
import { copyDatabase } from './copy-database.ts'
import { StorageOpenError } from './errors.ts'
import type { LevelDatabase } from './keys.ts'
import { LevelStore } from './level-store.ts'
import { openLevelDatabase, storeFiles } from './open-level.ts'

/** What a copied or checked store holds. */
export interface StoreSummary {
  /** Key-value entries copied (every family: events, indexes, states, audit, meta). */
  readonly entries?: number
  readonly events: number
  readonly lastSeq: number
  readonly stateHash: string | undefined
}

/** Opens the store in `dir` with every check of LevelStore.open and summarises it. */
export async function checkStore(dir: string): Promise<StoreSummary> {
  const store = new LevelStore(dir, { create: false })
  await store.open()
  try {
    const counts = await store.counts()
    return {
      events: counts.events,
      lastSeq: await store.lastSeq(),
      stateHash: await store.getMeta('stateHash'),
    }
  } finally {
    await store.close()
  }
}

/** Moves the LevelDB files of `dir` into a new sub-directory `<dir>/<name>-<time>` (kept, never
 *  deleted) and returns its path. */
export async function moveStoreAside(dir: string, name: string, nowMs: number): Promise<string> {
  const files = await storeFiles(dir)
  const aside = join(dir, `${name}-${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}`)
  await mkdir(aside)
  for (const f of [...files, ...(await infoLogs(dir))]) await rename(join(dir, f), join(aside, f))
  return aside
}

async function infoLogs(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f === 'LOG' || f === 'LOG.old')
}

/** A restored or repaired store starts a new own log (META_OWN_LOG says why). */
async function startNewOwnLog(dataDir: string): Promise<void> {
  const store = new LevelStore(dataDir)
  await store.open()
  try {
    await store.commit(metaOnlyBatch({ [META_OWN_LOG]: newLogId() }))
  } finally {
    await store.close()
  }
}

/**
 * Restores the store in `backupDir` into `dataDir` (a stopped node's data directory). A data
 * directory that holds a store is refused unless `force`; then its store is moved aside into
 * `<dataDir>/replaced-<time>`. A running node's store is refused (its LOCK is held). The
 * identity key and other files of the data directory are kept.
 */
export async function restoreStore(
  backupDir: string,
  dataDir: string,
  opts: { force?: boolean; nowMs: number },
): Promise<StoreSummary & { movedAside?: string }> {
  // Refuses a backup that is not a (sound) gkm-sync store before anything is touched.
  const summary = await checkStore(backupDir)
  let movedAside: string | undefined
  if ((await storeFiles(dataDir)).length > 0) {
    if (opts.force !== true) {
      throw new StorageOpenError(
        `${dataDir} already holds a store: restoring over it needs --force (its store is then moved aside into ${dataDir}/replaced-<time>, not deleted)`,
      )
    }
    // Fails with StoreLockedError while a node runs on it.
    const live = await openLevelDatabase(dataDir, { create: false }).catch((err: Error) => {
      if (err.name === 'StoreLockedError') throw err
      return undefined // a damaged store may still be replaced
    })
    await live?.close()
    movedAside = await moveStoreAside(dataDir, 'replaced', opts.nowMs)
  }
  await mkdir(dataDir, { recursive: true })
  const db = await openLevelDatabase(backupDir, { create: false })
  let entries: number
  try {
    entries = await copyDatabase(db as LevelDatabase, dataDir)
  } finally {
    await db.close()
  }
  await startNewOwnLog(dataDir)
  const restored = await checkStore(dataDir)
  return {
    ...restored,
    entries,
    ...(movedAside === undefined ? {} : { movedAside }),
    stateHash: summary.stateHash,
  }
}

export interface RepairReport {
  /** The repaired copy (kept; with `apply` its files were moved into the data directory). */
  readonly copy: string
  /** LevelDB files of the original. */
  readonly filesBefore: readonly string[]
  /** What the repaired copy holds, or why it still fails the store's checks. */
  readonly check: StoreSummary | { error: string; message: string }
  /** Where the damaged original was moved (only with `apply`). */
  readonly originalMovedTo?: string
}

/**
 * LevelDB's repair (ClassicLevel.repair: rebuilds the MANIFEST from the table and log files it
 * can read, dropping what it cannot) run on a COPY of the store in `dataDir`, never on the
 * original. Then the copy is opened with every check of the store. With `apply`, and only when
 * the copy passes those checks, the original's files are moved aside into
 * `<dataDir>/damaged-<time>` and the repaired files take their place.
 */
export async function repairStore(
  dataDir: string,
  opts: { apply?: boolean; nowMs: number },
): Promise<RepairReport> {
  const filesBefore = await storeFiles(dataDir)
  if (filesBefore.length === 0) throw new StorageOpenError(`${dataDir} holds no LevelDB store to repair`)
  const copy = `${dataDir.replace(/\/+$/, '')}.repair-${new Date(opts.nowMs).toISOString().replace(/[:.]/g, '-')}`
  await mkdir(copy)
  for (const f of filesBefore) await cp(join(dataDir, f), join(copy, f))
  await ClassicLevel.repair(copy)
  let check: RepairReport['check']
  try {
    check = await checkStore(copy)
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string }
    check = { error: e.code ?? e.name ?? 'error', message: e.message ?? String(err) }
  }
  if (opts.apply !== true || 'error' in check) return { copy, filesBefore, check }
  // The original must not be in use: open it only to take its LOCK (a damaged one cannot open:
  // that is fine, its LOCK is then free).
  const live = await openLevelDatabase(dataDir, { create: false }).catch((err: Error) => {
    if (err.name === 'StoreLockedError') throw err
    return undefined
  })
  await live?.close()
  const originalMovedTo = await moveStoreAside(dataDir, 'damaged', opts.nowMs)
  for (const f of await storeFiles(copy)) await cp(join(copy, f), join(dataDir, f))
  await startNewOwnLog(dataDir)
  return { copy, filesBefore, check: await checkStore(dataDir), originalMovedTo }
}
