/**
 * SinkRunner: moves one sink along the node's change feed, batch by batch, from the checkpoint
 * its store holds. The sink's own pace sets how fast it reads; the node never waits for it.
 *
 * States (one file owns them):
 *   starting  -> opening the sink and reading its checkpoint
 *   running   -> applying batches, or idle at the head of the log waiting for a wake-up
 *   retrying  -> the last batch failed; the same range is tried again after a backoff
 *   paused    -> SINK_RETRIES_MAX failures in a row: an error in /status and the log; the sink is
 *                probed every pausedRetryMs and goes back to running when a batch succeeds
 *   stopped   -> stop() was called (the batch in flight, if any, finished or failed first)
 */
import type { JsonValue } from '../core/types.ts'
import {
  SINK_BACKOFF_BASE_MS,
  SINK_BACKOFF_MAX_MS,
  SINK_BATCH_MAX,
  SINK_PAUSED_RETRY_MS,
  SINK_RETRIES_MAX,
} from './constants.ts'
import type { ChangeFeed, Sink, SinkBatch, SinkChange, SinkLogger } from './index.ts'
import { projectState } from './projection.ts'

export const SINK_STATES = ['starting', 'running', 'retrying', 'paused', 'stopped'] as const
export type SinkState = (typeof SINK_STATES)[number]

export interface SinkRunnerInit {
  readonly batchMax?: number
  readonly retriesMax?: number
  readonly backoffBaseMs?: number
  readonly backoffMaxMs?: number
  readonly pausedRetryMs?: number
  readonly now?: () => number
}

/** A sink's figures, as /status shows them and a metrics module reads them. */
export interface SinkStatus {
  name: string
  kind: string
  types: string[]
  state: SinkState
  /** The sequence the sink's store holds (every change up to it is applied). */
  checkpoint: number
  /** The node's last sequence as this runner last saw it. */
  head: number
  /** head - checkpoint: log entries (of any type) the sink has not passed yet. */
  lag: number
  appliedBatches: number
  appliedChanges: number
  /** Failed batches since start (retries included). */
  errorsTotal: number
  /** Failures in a row (0 after a success). */
  failures: number
  lastError: { message: string; name: string; atMs: number } | null
  pausedAtMs: number | null
}

interface Prepared {
  readonly batch: SinkBatch
  /** Log entries the batch covers (a target changed twice counts twice). */
  readonly entries: number
  /** The page was full: more entries are likely waiting. */
  readonly full: boolean
}

export class SinkRunner {
  readonly sink: Sink
  readonly #feed: ChangeFeed
  readonly #log: SinkLogger
  readonly #batchMax: number
  readonly #retriesMax: number
  readonly #backoffBaseMs: number
  readonly #backoffMaxMs: number
  readonly #pausedRetryMs: number
  readonly #now: () => number
  #state: SinkState = 'starting'
  #checkpoint = 0
  #head = 0
  #appliedBatches = 0
  #appliedChanges = 0
  #errorsTotal = 0
  #failures = 0
  #lastError: SinkStatus['lastError'] = null
  #pausedAtMs: number | null = null
  #wake: (() => void) | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #unwatch: (() => void) | undefined
  #loop: Promise<void> | undefined
  #stopping = false
  #opened = false
  /** The next batch, read while the current one is applied. */
  #ahead: { from: number; next: Promise<Prepared | undefined> } | undefined
  /** Set by the feed's wake-up; cleared when a step reads the head (no lost wake-ups). */
  #pending = false

  constructor(sink: Sink, feed: ChangeFeed, logger: SinkLogger, init: SinkRunnerInit = {}) {
    this.sink = sink
    this.#feed = feed
    this.#log = logger
    this.#batchMax = init.batchMax ?? SINK_BATCH_MAX
    this.#retriesMax = init.retriesMax ?? SINK_RETRIES_MAX
    this.#backoffBaseMs = init.backoffBaseMs ?? SINK_BACKOFF_BASE_MS
    this.#backoffMaxMs = init.backoffMaxMs ?? SINK_BACKOFF_MAX_MS
    this.#pausedRetryMs = init.pausedRetryMs ?? SINK_PAUSED_RETRY_MS
    this.#now = init.now ?? Date.now
  }

  /** Starts the loop (returns at once; open and checkpoint failures count as batch failures). */
  start(): void {
    if (this.#loop !== undefined) return
    this.#unwatch = this.#feed.watch((seq) => {
      if (seq > this.#head) this.#head = seq
      this.#pending = true
      if (this.#state === 'running') this.#wakeUp()
    })
    this.#loop = this.#run()
  }

  /** Stops after the batch in flight and closes the sink. */
  async stop(): Promise<void> {
    this.#stopping = true
    this.#unwatch?.()
    this.#wakeUp()
    await this.#loop
    this.#state = 'stopped'
    if (this.#opened) await this.sink.close()
    this.#opened = false
  }

  /** Resolves when the sink's checkpoint reaches `seq`; rejects after `timeoutMs` or when the
   *  runner is stopped first (tests and benchmarks). */
  async caughtUp(seq: number, timeoutMs: number): Promise<void> {
    const deadline = this.#now() + timeoutMs
    while (this.#checkpoint < seq) {
      if (this.#stopping)
        throw new Error(`sink ${this.sink.name}: stopped at checkpoint ${this.#checkpoint} < ${seq}`)
      if (this.#now() > deadline)
        throw new Error(
          `sink ${this.sink.name}: checkpoint ${this.#checkpoint} < ${seq} after ${timeoutMs} ms`,
        )
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  status(): SinkStatus {
    return {
      name: this.sink.name,
      kind: this.sink.kind,
      types: [...this.sink.types],
      state: this.#state,
      checkpoint: this.#checkpoint,
      head: this.#head,
      lag: Math.max(0, this.#head - this.#checkpoint),
      appliedBatches: this.#appliedBatches,
      appliedChanges: this.#appliedChanges,
      errorsTotal: this.#errorsTotal,
      failures: this.#failures,
      lastError: this.#lastError,
      pausedAtMs: this.#pausedAtMs,
    }
  }

  #wakeUp(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const w = this.#wake
    this.#wake = undefined
    w?.()
  }

  #sleep(ms: number | undefined): Promise<void> {
    if (this.#stopping) return Promise.resolve()
    return new Promise((resolve) => {
      this.#wake = resolve
      if (ms !== undefined) this.#timer = setTimeout(() => this.#wakeUp(), ms)
    })
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      try {
        if (!this.#opened) {
          await this.sink.open()
          this.#opened = true
          this.#checkpoint = await this.sink.checkpoint()
          this.#head = Math.max(this.#head, await this.#feed.lastSeq())
          this.#log.info('sink started', {
            sink: this.sink.name,
            kind: this.sink.kind,
            checkpoint: this.#checkpoint,
          })
          if (this.#state === 'starting') this.#state = 'running'
        }
        const moved = await this.#step()
        this.#succeeded()
        if (!moved && !this.#pending) await this.#sleep(undefined)
      } catch (err) {
        await this.#failed(err as Error)
      }
    }
  }

  /** Reads the batch that starts at `from`: log entries, then each changed target's state. */
  async #prepare(from: number): Promise<Prepared | undefined> {
    const head = await this.#feed.lastSeq()
    if (head > this.#head) this.#head = head
    if (head <= from) return undefined
    const rows = await this.#feed.read(from, this.#batchMax, this.sink.types)
    const full = rows.length === this.#batchMax
    // Every entry up to `head` of the sink's types is in `rows` unless the page is full.
    const toSeq = full ? rows[rows.length - 1].seq : Math.max(head, rows.at(-1)?.seq ?? 0)
    const seen = new Map<string, { type: SinkChange['type']; id: string }>()
    for (const r of rows) seen.set(`${r.type}\u0000${r.targetId}`, { type: r.type, id: r.targetId })
    const changes: SinkChange[] = await Promise.all(
      [...seen.values()].map(async ({ type, id }) => ({
        type,
        id,
        projection: projectState(type, id, await this.#feed.state(type, id)),
      })),
    )
    return {
      batch: { fromSeq: from, toSeq, changes, behind: Math.max(0, this.#head - toSeq) },
      entries: rows.length,
      full,
    }
  }

  /**
   * Applies one batch; false when the sink was already at the head of the log. While a full
   * batch is being applied the next one is read (the log and the states only grow, so a batch
   * read early is still exact: its states are at least as new as its entries).
   */
  async #step(): Promise<boolean> {
    this.#pending = false
    const from = this.#checkpoint
    const ahead = this.#ahead
    this.#ahead = undefined
    // A batch read ahead that found nothing is stale (writes may have come since): read again.
    const early = ahead !== undefined && ahead.from === from ? await ahead.next : undefined
    const prepared = early ?? (await this.#prepare(from))
    if (prepared === undefined) return false
    if (prepared.full) {
      const next = this.#prepare(prepared.batch.toSeq)
      next.catch(() => {})
      this.#ahead = { from: prepared.batch.toSeq, next }
    }
    try {
      await this.sink.apply(prepared.batch)
    } catch (err) {
      this.#ahead = undefined
      throw err
    }
    this.#checkpoint = prepared.batch.toSeq
    this.#appliedBatches++
    this.#appliedChanges += prepared.entries
    return true
  }

  #succeeded(): void {
    if (this.#state === 'paused' || this.#state === 'retrying') {
      this.#log.info('sink resumed', { sink: this.sink.name, checkpoint: this.#checkpoint })
    }
    if (!this.#stopping) this.#state = 'running'
    this.#failures = 0
    this.#pausedAtMs = null
  }

  async #failed(err: Error): Promise<void> {
    this.#errorsTotal++
    this.#failures++
    this.#lastError = { message: err.message, name: err.name, atMs: this.#now() }
    const fields: Record<string, JsonValue> = {
      sink: this.sink.name,
      error: err.name,
      message: err.message,
      failures: this.#failures,
      checkpoint: this.#checkpoint,
    }
    if (err.name === 'SinkCheckpointMismatchError') {
      // Someone else moved the store's checkpoint: continue from what the store holds.
      try {
        this.#checkpoint = await this.sink.checkpoint()
      } catch {}
    }
    if (this.#stopping) return
    if (this.#failures >= this.#retriesMax) {
      if (this.#state !== 'paused') {
        this.#state = 'paused'
        this.#pausedAtMs = this.#now()
        this.#log.error('sink paused after repeated failures; the node keeps syncing', {
          ...fields,
          retryMs: this.#pausedRetryMs,
        })
      }
      await this.#sleep(this.#pausedRetryMs)
      return
    }
    this.#state = 'retrying'
    this.#log.warn('sink batch failed; retrying', fields)
    await this.#sleep(Math.min(this.#backoffMaxMs, this.#backoffBaseMs * 2 ** (this.#failures - 1)))
  }
}
