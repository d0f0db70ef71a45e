/**
 * Opening LevelDB safely. A directory that already holds a store is never opened with
 * create-if-missing: LevelDB would start an empty database over it and delete every table file
 * (a missing `CURRENT` did exactly that). A new store is created only in a directory with no
 * LevelDB data files at all, and then with error-if-exists. Every way an open can fail becomes
 * a named error whose message names the file or directory and says what to do.
 */
import { readFileSync } from 'node:fs'
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { LEVEL_OPTIONS } from './constants.ts'
import { StorageDamagedError, StorageFullError, StorageOpenError, StoreLockedError } from './errors.ts'

/** Files that hold a LevelDB store's data. `LOCK` and the info log `LOG` carry none. */
const DATA_FILE = /^(CURRENT|MANIFEST-\d+|\d+\.(log|ldb|sst))$/

/** The LevelDB data files in `dir` (sorted), or [] when it does not exist. */
export async function storeFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => DATA_FILE.test(f)).sort()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
}

/** What to tell the operator about a damaged store. */
export function repairAdvice(dir: string): string {
  return (
    `Nothing was changed. Run "gkm-sync repair --data-dir ${dir}" (it works on a copy and keeps ` +
    `the original), or restore a backup ("gkm-sync restore BACKUP --data-dir ${dir} --force"), ` +
    'or start a new node in an empty directory and let it catch up from its peers.'
  )
}

/**
 * Opens (or, in a directory without a store, creates) the LevelDB database in `dir`.
 * `create: false` refuses a directory without a store (backup sources, repair copies).
 */
export async function openLevelDatabase(
  dir: string,
  opts: { create?: boolean } = {},
): Promise<Level<string, string>> {
  const files = await storeFiles(dir)
  const isNew = files.length === 0
  if (isNew && opts.create === false) throw new StorageOpenError(`${dir} holds no gkm-sync store`)
  if (!isNew && !files.includes('CURRENT')) {
    const tables = files.filter((f) => /\.(ldb|sst)$/.test(f)).length
    throw new StorageDamagedError(
      `${join(dir, 'CURRENT')} is missing, but ${dir} holds a store (${tables} table files, ` +
        `${files.join(', ').slice(0, 200)}): it was not opened, because LevelDB would start an ` +
        `empty store over it and delete its tables. ${repairAdvice(dir)}`,
    )
  }
  if (isNew) await mkdir(dir, { recursive: true })
  const db = new Level<string, string>(dir, {
    ...LEVEL_OPTIONS,
    createIfMissing: isNew,
    errorIfExists: isNew,
  })
  try {
    await db.open()
  } catch (err) {
    throw openError(err, dir)
  }
  return db
}

/** The named error for a failed open (abstract-level wraps LevelDB's status in `cause`). */
export function openError(err: unknown, dir: string): Error {
  const cause = ((err as { cause?: unknown }).cause ?? err) as { code?: unknown; message?: unknown }
  const code = typeof cause.code === 'string' ? cause.code : ''
  const text = typeof cause.message === 'string' ? cause.message : String(cause)
  if (code === 'LEVEL_LOCKED' || /lock/i.test(text)) {
    return new StoreLockedError(
      `${join(dir, 'LOCK')} is held by another process: a gkm-sync node is already running on ` +
        `${dir}. Stop it first, or give this node another --data-dir.`,
      { cause: err },
    )
  }
  if (isNoSpace(text)) {
    return new StorageFullError(
      `the disk holding ${dir} is full (LevelDB: ${text}). Free some space and start again; nothing was changed.`,
      { cause: err },
    )
  }
  if (code === 'LEVEL_CORRUPTION' || /corruption|does not exist|missing files|No such file/i.test(text)) {
    return new StorageDamagedError(
      `the store in ${dir} is damaged: ${describeDamage(text, currentManifest(dir))}. ${repairAdvice(dir)}`,
      {
        cause: err,
      },
    )
  }
  return new StorageOpenError(`could not open the store in ${dir}: ${text}`, { cause: err })
}

/** LevelDB's status text, with the file it names said first when there is one. */
export function describeDamage(text: string, manifest?: string): string {
  const missing = /(\d+) missing files; e\.g\.: (\S+)/.exec(text)
  if (missing !== null) return `table file ${missing[2]} is missing (${missing[1]} missing in all)`
  const file = /(\S*(?:MANIFEST-\d+|\d+\.(?:ldb|sst|log)|CURRENT))/.exec(text)
  if (file !== null) return `${file[1]} is unreadable (LevelDB says "${text}")`
  // LevelDB calls the MANIFEST "descriptor" and does not name it.
  if (manifest !== undefined && /descriptor|manifest|meta-|comparator/i.test(text))
    return `the MANIFEST ${manifest} is unreadable (LevelDB says "${text}")`
  return `LevelDB says "${text}"`
}

/** The MANIFEST that CURRENT names, when CURRENT can be read. */
function currentManifest(dir: string): string | undefined {
  try {
    const name = readFileSync(join(dir, 'CURRENT'), 'utf8').trim()
    return /^MANIFEST-\d+$/.test(name) ? join(dir, name) : undefined
  } catch {
    return undefined
  }
}

/** True for an error text that says the disk is full. */
export function isNoSpace(text: string): boolean {
  return /No space left on device|ENOSPC|quota exceeded/i.test(text)
}
