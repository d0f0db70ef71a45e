/**
 * A bounded guard for untrusted Yjs updates.
 *
 * Remote Yjs update bytes are untrusted: crafted updates of a few dozen bytes hang yjs or eat
 * gigabytes (yjs/yjs#687, #498, #479). The guard first bounds the work an update can cause by
 * its size and structure (yjs-update-shape.ts: structs, clock span, delete-set ranges, clients,
 * nesting), a verdict on the bytes alone that every node reaches, idle or loaded; then applies
 * it in a pool of long-lived worker threads. The workers' timer and V8 heap limit stay as a
 * safety net, and what they stop is a transient refusal (retried later), never a verdict. Only
 * bytes it accepted should reach a Y.Doc (or `Y.mergeUpdates`) on the main thread. See
 * docs/YJS-GUARD.md for the bounds and the measurements behind them.
 *
 * @example
 * ```ts
 * const guard = createYjsGuard()
 * await guard.check(update)                        // throws UnsafeCrdtUpdateError if unsafe
 * const state = await guard.merge(current, update) // the merged state, one v1 update
 * await guard.stop()
 * ```
 *
 * Every rejection of an update is an `UnsafeCrdtUpdateError`; its message gives the reason.
 * Two kinds, told apart by `cause`:
 * - deterministic (`invalid`, `shape`, `empty update`, `too large`): a verdict on the bytes alone, the
 *   same on every node (for `too large`: as long as nodes keep the default `updateBytesMax`);
 *   the event can be refused for good.
 * - transient (`timeout`, `memory`, `crashed`, `guard queue full`, `guard stopped`): `err.cause`
 *   is an error named `YjsGuardTransientError`. The verdict depends on this node's load, bounds
 *   and lifecycle, so another node may accept the same update. Recording it as a permanent
 *   refusal would let event sets (and so states) diverge; leave the event to be offered again
 *   by reconciliation (with a backoff: a hostile update costs a worker each time).
 * A worker that cannot even start (a deployment fault, not the peer's) rejects the waiting work
 * with an error named `YjsGuardUnavailableError` instead.
 */
import { Worker } from 'node:worker_threads'
import { UnsafeCrdtUpdateError } from '../core/errors.ts'
import type { GuardReply, GuardRequest } from './yjs-guard-worker.ts'
import { measureYjsUpdate, YjsUpdateShapeError } from './yjs-update-shape.ts'

export interface YjsGuardInit {
  /** Worker threads. Default 2: this runs on 2-core machines, next to the node's own thread. */
  workers?: number
  /** Per update, from the moment a ready worker receives it; a safety net (the shape bounds
   *  the work), and what it stops is a transient refusal. Default 1000. */
  timeoutMs?: number
  /** `resourceLimits.maxOldGenerationSizeMb` of each worker (the young generation adds
   *  YOUNG_GENERATION_MB). Default 64, at least MEMORY_MB_MIN (16). */
  memoryMb?: number
  /** Checks accepted and not yet answered (running + waiting). Default 1024. */
  queueMax?: number
  /** Bytes of one update (the `base` of a merge is our own state and is not limited). Default 65536. */
  updateBytesMax?: number
}

export interface YjsGuard {
  /** Resolves when `update` is a valid Yjs (v1) update that applies to a fresh Y.Doc within the
   *  bounds; rejects with UnsafeCrdtUpdateError (message says why) otherwise. An update whose
   *  dependencies are missing is valid. The bytes are copied before this returns. */
  check(update: Uint8Array): Promise<void>
  /** Same, applied on top of `base` (the target's current merged state as one update; undefined
   *  or empty when there is none), so combined hangs are caught too. Returns the merged state
   *  (Y.encodeStateAsUpdate of the resulting doc). */
  merge(base: Uint8Array | undefined, update: Uint8Array): Promise<Uint8Array>
  /** Terminates every worker and rejects all pending work. Final: later calls reject. */
  stop(): Promise<void>
  /** `checked`: calls answered (accepted or rejected); `rejected`: of those, rejected;
   *  `workerRestarts`: workers replaced after a timeout, memory kill or crash. A snapshot. */
  readonly stats: { checked: number; rejected: number; workerRestarts: number }
}

/** 2 cores: one worker per core; the node's main thread is mostly waiting on I/O. */
const WORKERS_DEFAULT = 2
/** Measured (docs/YJS-GUARD.md): a small update ~0.3 ms, the largest valid one 13-130 ms on a
 *  loaded 2-core machine. The shape check bounds the work before a worker sees it, so this is a
 *  safety net against a bug, not a verdict: ~8x headroom, so load alone rarely makes a valid
 *  update wait for a retry, and short enough that a worker is not held for long. */
const TIMEOUT_MS_DEFAULT = 1_000
/** A 64 KiB update decodes to a few MB of structs; 64 MB stops the 880 MB-and-growing payloads
 *  long before they hurt the host (research 1.10: the main thread stayed at 68 MB RSS). */
const MEMORY_MB_DEFAULT = 64
/** Measured on Node 24: with 10 MB or less a worker dies loading yjs (ERR_WORKER_OUT_OF_MEMORY
 *  before it is ready); with 2 MB V8 aborts the whole process while creating the isolate. 12
 *  starts; 16 leaves a margin. Smaller values are refused at construction. */
const MEMORY_MB_MIN = 16
/** Young generation of a worker: small, so that the heap bound is ~memoryMb + this. */
const YOUNG_GENERATION_MB = 8
/** ~1,000 events of one push, each with one update, can wait without being refused. */
const QUEUE_MAX_DEFAULT = 1024
/** The event payload limit (src/core/constants.ts PAYLOAD_BYTES_MAX is 64 KiB). */
const UPDATE_BYTES_MAX_DEFAULT = 65_536

// `.ts` in a checkout (Node strips the types), `.js` in the compiled package (dist/).
const WORKER_URL = new URL(
  `./yjs-guard-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`,
  import.meta.url,
)

/** The `cause` of a rejection that another node, or this one later, may not repeat. */
class YjsGuardTransientError extends Error {
  override readonly name = 'YjsGuardTransientError'
}

/** The pool could not start a worker (broken install): our fault, not the peer's, so it is not
 *  an UnsafeCrdtUpdateError. */
class YjsGuardUnavailableError extends Error {
  override readonly name = 'YjsGuardUnavailableError'
  readonly code = 'yjs_guard_unavailable'
}

interface Job {
  readonly kind: 'check' | 'merge'
  readonly update: ArrayBuffer
  readonly base: ArrayBuffer | undefined
  readonly resolve: (state: Uint8Array | undefined) => void
  readonly reject: (err: Error) => void
}

interface Slot {
  readonly worker: Worker
  ready: boolean
  job: Job | undefined
  jobId: number
  timer: NodeJS.Timeout | undefined
  error: Error | undefined
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isSafeInteger(v) || v < 1)
    throw new RangeError(`YjsGuardInit.${name} must be a positive integer, got ${v}`)
  return v
}

function ownCopy(bytes: Uint8Array): ArrayBuffer {
  // slice() copies into a fresh ArrayBuffer of exactly this length: transferable, and the
  // caller's buffer (often a slice of a larger Buffer pool) is neither detached nor shared.
  return bytes.slice().buffer as ArrayBuffer
}

class YjsGuardPool implements YjsGuard {
  readonly #workers: number
  readonly #timeoutMs: number
  readonly #memoryMb: number
  readonly #queueMax: number
  readonly #updateBytesMax: number
  readonly #queue: Job[] = []
  readonly #slots = new Set<Slot>()
  readonly #exiting = new Set<Promise<unknown>>()
  #pending = 0
  #nextId = 0
  #stopped = false
  readonly #stats = { checked: 0, rejected: 0, workerRestarts: 0 }

  constructor(init: YjsGuardInit) {
    this.#workers = positiveInteger('workers', init.workers, WORKERS_DEFAULT)
    this.#timeoutMs = positiveInteger('timeoutMs', init.timeoutMs, TIMEOUT_MS_DEFAULT)
    this.#memoryMb = positiveInteger('memoryMb', init.memoryMb, MEMORY_MB_DEFAULT)
    if (this.#memoryMb < MEMORY_MB_MIN) {
      throw new RangeError(`YjsGuardInit.memoryMb must be at least ${MEMORY_MB_MIN}, got ${this.#memoryMb}`)
    }
    this.#queueMax = positiveInteger('queueMax', init.queueMax, QUEUE_MAX_DEFAULT)
    this.#updateBytesMax = positiveInteger('updateBytesMax', init.updateBytesMax, UPDATE_BYTES_MAX_DEFAULT)
  }

  get stats(): { checked: number; rejected: number; workerRestarts: number } {
    return { ...this.#stats }
  }

  async check(update: Uint8Array): Promise<void> {
    await this.#submit('check', undefined, update)
  }

  async merge(base: Uint8Array | undefined, update: Uint8Array): Promise<Uint8Array> {
    const state = await this.#submit('merge', base, update)
    if (state === undefined) throw new Error('yjs guard: merge answered without a state')
    return state
  }

  async stop(): Promise<void> {
    this.#stopped = true
    for (const job of this.#queue.splice(0)) this.#settle(job, transient('guard stopped'))
    for (const slot of [...this.#slots]) {
      const job = slot.job
      this.#retire(slot)
      if (job !== undefined) this.#settle(job, transient('guard stopped'))
    }
    await Promise.all(this.#exiting)
  }

  #submit(
    kind: Job['kind'],
    base: Uint8Array | undefined,
    update: Uint8Array,
  ): Promise<Uint8Array | undefined> {
    const refusal = this.#refusal(update)
    if (refusal !== undefined) {
      this.#stats.checked++
      this.#stats.rejected++
      return Promise.reject(refusal)
    }
    const { promise, resolve, reject } = Promise.withResolvers<Uint8Array | undefined>()
    const job: Job = {
      kind,
      update: ownCopy(update),
      // An empty base is no state yet (yjs would refuse zero bytes as an update).
      base: base === undefined || base.byteLength === 0 ? undefined : ownCopy(base),
      resolve,
      reject,
    }
    this.#pending++
    this.#queue.push(job)
    while (this.#slots.size < this.#workers) this.#spawn()
    this.#pump()
    return promise
  }

  /** Refusals that need no worker. */
  #refusal(update: Uint8Array): UnsafeCrdtUpdateError | undefined {
    if (this.#stopped) return transient('guard stopped')
    if (update.byteLength === 0) return unsafe('empty update')
    if (update.byteLength > this.#updateBytesMax) {
      return unsafe(`too large: ${update.byteLength} bytes > ${this.#updateBytesMax}`)
    }
    // Bounded by size and structure before any worker: the same verdict on every node.
    try {
      measureYjsUpdate(update)
    } catch (err) {
      if (err instanceof YjsUpdateShapeError) return unsafe(`shape: ${err.message}`)
      throw err
    }
    if (this.#pending >= this.#queueMax)
      return transient(`guard queue full (${this.#pending} checks pending)`)
    return undefined
  }

  #settle(job: Job, outcome: Error | { state: Uint8Array | undefined }): void {
    this.#pending--
    this.#stats.checked++
    if (outcome instanceof Error) {
      this.#stats.rejected++
      job.reject(outcome)
    } else {
      job.resolve(outcome.state)
    }
  }

  #spawn(): void {
    const worker = new Worker(WORKER_URL, {
      name: 'yjs-guard',
      resourceLimits: {
        maxOldGenerationSizeMb: this.#memoryMb,
        maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
      },
    })
    const slot: Slot = { worker, ready: false, job: undefined, jobId: 0, timer: undefined, error: undefined }
    this.#slots.add(slot)
    worker.on('message', (msg: GuardReply) => this.#onMessage(slot, msg))
    worker.on('error', (err: Error) => {
      slot.error = err
    })
    worker.on('exit', () => this.#onExit(slot))
  }

  /** Hands waiting jobs, oldest first, to ready idle workers. */
  #pump(): void {
    for (const slot of this.#slots) {
      if (!slot.ready || slot.job !== undefined) continue
      const job = this.#queue.shift()
      if (job === undefined) break
      this.#dispatch(slot, job)
    }
    // Idle workers must not keep the process alive; busy ones and starting ones do.
    for (const slot of this.#slots) if (slot.ready && slot.job === undefined) slot.worker.unref()
  }

  #dispatch(slot: Slot, job: Job): void {
    const id = ++this.#nextId
    slot.job = job
    slot.jobId = id
    slot.worker.ref()
    const req: GuardRequest = { id, kind: job.kind, update: job.update, base: job.base }
    slot.worker.postMessage(req, job.base === undefined ? [job.update] : [job.update, job.base])
    slot.timer = setTimeout(() => this.#onTimeout(slot), this.#timeoutMs)
  }

  #onMessage(slot: Slot, msg: GuardReply): void {
    if (!this.#slots.has(slot)) return
    if (msg.type === 'ready') {
      slot.ready = true
    } else if (slot.job !== undefined && msg.id === slot.jobId) {
      const job = slot.job
      clearTimeout(slot.timer)
      slot.job = undefined
      this.#settle(
        job,
        msg.ok ? { state: msg.state && new Uint8Array(msg.state) } : unsafe(`invalid: ${msg.detail}`),
      )
    }
    this.#pump()
  }

  #onTimeout(slot: Slot): void {
    const job = slot.job
    if (!this.#slots.has(slot) || job === undefined) return
    this.#replace(slot)
    this.#settle(job, transient(`timeout: no verdict within ${this.#timeoutMs} ms`))
  }

  /** The worker died by itself: V8's heap limit, or a crash. Its job is what killed it. */
  #onExit(slot: Slot): void {
    if (!this.#slots.has(slot)) return
    const job = slot.job
    if (!slot.ready) {
      // Never started: respawning would spin. Fail what waits; the next call tries again.
      this.#retire(slot)
      if (this.#slots.size === 0) {
        const err = new YjsGuardUnavailableError('yjs guard: worker failed to start', { cause: slot.error })
        for (const waiting of this.#queue.splice(0)) this.#settle(waiting, err)
      }
      return
    }
    this.#replace(slot)
    if (job === undefined) return
    const oom = (slot.error as { code?: unknown } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY'
    const reason = oom
      ? `memory: worker exceeded its ${this.#memoryMb} MB heap limit`
      : `crashed: ${slot.error?.message ?? 'worker exited'}`
    this.#settle(job, transient(reason, slot.error))
  }

  #replace(slot: Slot): void {
    this.#retire(slot)
    this.#stats.workerRestarts++
    if (!this.#stopped) this.#spawn()
    this.#pump()
  }

  /** Forgets a slot and terminates its worker; later events from it are ignored. */
  #retire(slot: Slot): void {
    clearTimeout(slot.timer)
    slot.job = undefined
    this.#slots.delete(slot)
    const exiting = slot.worker.terminate().finally(() => this.#exiting.delete(exiting))
    this.#exiting.add(exiting)
  }
}

/** A verdict on the bytes alone: every node reaches it for the same update. */
function unsafe(reason: string): UnsafeCrdtUpdateError {
  return new UnsafeCrdtUpdateError(`yjs update rejected: ${reason}`)
}

/** A verdict that depends on this node's load, bounds or lifecycle (see the module doc). */
function transient(reason: string, cause?: unknown): UnsafeCrdtUpdateError {
  return new UnsafeCrdtUpdateError(`yjs update rejected: ${reason}`, {
    cause: new YjsGuardTransientError(reason, cause === undefined ? undefined : { cause }),
  })
}

export function createYjsGuard(init: YjsGuardInit = {}): YjsGuard {
  return new YjsGuardPool(init)
}
