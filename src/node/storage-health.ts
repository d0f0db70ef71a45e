/**
 * Storage health: whether the node's store can take writes, and why not.
 *
 * - A failed write (a full disk, an I/O error) stops the store's writes (LevelStore.writeFault):
 *   the node refuses writes at once with that error (HTTP 507 for a full disk), keeps serving
 *   reads and pulls, and probes with a bounded backoff. For a full disk a probe first asks the
 *   file system for free space (RESUME_FREE_BYTES_MIN) so the store is not closed while it
 *   could not reopen; then it reopens the store (LevelDB forgets its sticky error and drops a
 *   torn log tail) and writes resume by themselves.
 * - A write LevelDB refused because a table is damaged (StorageDamagedError) does not heal by
 *   itself: writes stay refused, with the file and `gkm-sync repair` in the message.
 * - A read that met damaged data (StorageCorruptionError) fails that read only; the node
 *   says degraded until it restarts, because the damage is still on disk.
 *
 * `degraded()` is what /health and /status report.
 */
import type { Store } from '../core/ports.ts'
import { StorageCorruptionError, type StorageError } from '../store/index.ts'

/** Probe delays: the first after PROBE_MS_MIN, doubling to PROBE_MS_MAX. A disk freed by an
 *  operator is noticed within half a minute; a disk that stays full costs one statfs every
 *  30 s. */
export const PROBE_MS_MIN = 250
export const PROBE_MS_MAX = 30_000

/** Free bytes a full disk must show before the store is reopened: reopening LevelDB writes
 *  its recovered log as a level-0 table, a new log and a new MANIFEST (up to two memtables of
 *  LEVEL_OPTIONS.writeBufferSize, 8 MiB each), plus room for the first writes. Below it the
 *  open could fail and leave reads without a store. */
export const RESUME_FREE_BYTES_MIN = 24 * 1024 * 1024

/** A store whose writes can be stopped by a failure and resumed by a reopen (LevelStore). */
export interface RecoverableStore extends Store {
  writeFault(): StorageError | undefined
  reopen(): Promise<void>
}

export interface StorageHealthComponents {
  readonly store: RecoverableStore
  /** Free bytes on the store's file system (statfs). */
  readonly freeBytes: () => Promise<number>
  /** Runs `fn` while no group is being merged or written (the write queue is idle). */
  readonly quiesce: <T>(fn: () => Promise<T>) => Promise<T>
  /** After a successful reopen: the engine drops its caches (a failed batch may be on disk). */
  readonly afterReopen: () => Promise<void>
  readonly log?: (line: string) => void
}

export interface StorageHealthInit {
  readonly probeMsMin?: number
  readonly probeMsMax?: number
  readonly resumeFreeBytesMin?: number
}

export class StorageHealth {
  readonly #c: StorageHealthComponents
  readonly #probeMsMin: number
  readonly #probeMsMax: number
  readonly #resumeFreeBytesMin: number
  #corruption: string | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #delayMs: number
  #stopped = false
  /** Pull audit records not written while writes were stopped (best effort, see SyncNode.pull). */
  skippedAudits = 0
  recoveries = 0

  constructor(components: StorageHealthComponents, init: StorageHealthInit = {}) {
    this.#c = components
    this.#probeMsMin = init.probeMsMin ?? PROBE_MS_MIN
    this.#probeMsMax = init.probeMsMax ?? PROBE_MS_MAX
    this.#resumeFreeBytesMin = init.resumeFreeBytesMin ?? RESUME_FREE_BYTES_MIN
    this.#delayMs = this.#probeMsMin
  }

  /** Why the store is degraded, or undefined when it is healthy. */
  degraded(): string | undefined {
    const fault = this.#c.store.writeFault()
    const reasons: string[] = []
    if (fault !== undefined) {
      if (fault.name === 'StorageFullError')
        reasons.push('disk full: writes are refused until space is freed (reads and pulls work)')
      else if (fault.name === 'StorageDamagedError')
        reasons.push(`store damaged, writes refused until "gkm-sync repair": ${fault.message}`)
      else reasons.push(`storage write failed, retrying: ${fault.message}`)
    }
    if (this.#corruption !== undefined) reasons.push(`a read met damaged data: ${this.#corruption}`)
    return reasons.length === 0 ? undefined : reasons.join('; ')
  }

  /** True while writes are stopped. */
  writesStopped(): boolean {
    return this.#c.store.writeFault() !== undefined
  }

  /** Throws the standing write fault (a named error) so a write is refused before it queues. */
  checkWritable(): void {
    const fault = this.#c.store.writeFault()
    if (fault === undefined) return
    this.#startProbing()
    const Class = fault.constructor as new (message: string, opts: { cause: unknown }) => Error
    throw new Class(`writes are stopped: ${fault.message}`, { cause: fault })
  }

  /** Looks at an error a store call raised; returns the error to throw (LevelDB's own
   *  corruption errors become StorageCorruptionError). */
  note(err: unknown): unknown {
    if (this.#c.store.writeFault() !== undefined) this.#startProbing()
    const code = (err as { code?: unknown; cause?: { code?: unknown } })?.code
    const causeCode = (err as { cause?: { code?: unknown } })?.cause?.code
    if (err instanceof StorageCorruptionError) {
      this.#corruption = err.message
      return err
    }
    // Write failures arrive named (StorageWriteError); what LevelDB raises here comes from a
    // read: a damaged block (Corruption), or a table cut short (an I/O error reading past its end).
    const text = String((err as Error)?.message ?? '')
    if (
      code === 'LEVEL_CORRUPTION' ||
      causeCode === 'LEVEL_CORRUPTION' ||
      /^(Corruption|IO error): /.test(text)
    ) {
      const e = new StorageCorruptionError(`LevelDB could not read the store: ${text}`, { cause: err })
      this.#corruption = e.message
      return e
    }
    return err
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #startProbing(): void {
    if (this.#timer !== undefined || this.#stopped) return
    const fault = this.#c.store.writeFault()
    // A damaged table does not heal by itself: it needs `gkm-sync repair`.
    if (fault === undefined || fault.name === 'StorageDamagedError') return
    this.#timer = setTimeout(() => void this.#probe(), this.#delayMs)
    this.#timer.unref?.()
  }

  async #probe(): Promise<void> {
    const fault = this.#c.store.writeFault()
    if (fault === undefined || this.#stopped) {
      this.#timer = undefined
      this.#delayMs = this.#probeMsMin
      return
    }
    let ok = false
    try {
      const enough =
        fault.name !== 'StorageFullError' || (await this.#c.freeBytes()) >= this.#resumeFreeBytesMin
      if (enough) {
        await this.#c.quiesce(async () => {
          await this.#c.store.reopen()
          await this.#c.afterReopen()
        })
        ok = true
      }
    } catch (err) {
      this.#c.log?.(`storage: reopen failed, retrying: ${(err as Error).message}`)
    }
    this.#timer = undefined
    if (ok) {
      this.recoveries++
      this.#delayMs = this.#probeMsMin
      this.#c.log?.(`storage: writes resumed after: ${fault.message}`)
      return
    }
    this.#delayMs = Math.min(this.#delayMs * 2, this.#probeMsMax)
    this.#startProbing()
  }
}

/** The methods of the Store port that can fail on a damaged or full disk. */
const STORE_METHODS = [
  'getEvent',
  'hasEvents',
  'getTarget',
  'getEventIdOwner',
  'getConflict',
  'getEvents',
  'getTargets',
  'getTargetHeaders',
  'getCells',
  'getYjs',
  'getEventIdOwners',
  'commit',
  'lastSeq',
  'readLog',
  'readByTime',
  'readByTargetOrder',
  'readTarget',
  'scanEventKeys',
  'clearMaterialized',
  'listConflicts',
  'listEquivocations',
  'getLogPositions',
  'readLogRun',
  'getLogRecords',
  'getLogHeads',
  'listLogs',
  'readLogRange',
  'readLogHeld',
  'appendAudit',
  'readAudit',
  'getMeta',
  'counts',
  'open',
  'close',
] as const

// Every method of the Store port must be wrapped (a new one forgotten here would escape the
// health checks, or be missing altogether): a compile-time check names any left out.
type Unwrapped = Exclude<keyof Store, (typeof STORE_METHODS)[number] | 'iterateTargets' | 'scanByTarget'>
const _everyMethodWrapped: [Unwrapped] extends [never] ? true : Unwrapped = true
void _everyMethodWrapped

/**
 * The store as the node's components see it: every call's error passes through
 * `health.note` (which names LevelDB's corruption errors and records what degrades the node).
 */
export function watchedStore(store: RecoverableStore, health: StorageHealth): RecoverableStore {
  const out: Record<string, unknown> = {
    writeFault: () => store.writeFault(),
    reopen: () => store.reopen(),
    iterateTargets: () => store.iterateTargets(),
    scanByTarget: (opts: Parameters<Store['scanByTarget']>[0]) => noted(store.scanByTarget(opts), health),
  }
  for (const name of STORE_METHODS) {
    const method = (store[name] as (...a: unknown[]) => Promise<unknown>).bind(store)
    out[name] = async (...args: unknown[]) => {
      try {
        return await method(...args)
      } catch (err) {
        throw health.note(err)
      }
    }
  }
  return out as unknown as RecoverableStore
}

/** An async iterable whose errors pass through `health.note`, like the wrapped methods'. */
async function* noted<T>(source: AsyncIterable<T>, health: StorageHealth): AsyncGenerator<T> {
  try {
    yield* source
  } catch (err) {
    throw health.note(err)
  }
}
