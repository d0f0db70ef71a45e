/**
 * The node's sinks: one runner each, started and stopped together, their figures for /status
 * and for a metrics module (`counters()`).
 */
import type { JsonValue } from '../core/types.ts'
import { SINKS_MAX } from './constants.ts'
import { SinkConfigError } from './errors.ts'
import type { ChangeFeed, Sink, SinkLogger } from './index.ts'
import { SinkRunner, type SinkRunnerInit, type SinkStatus } from './sink-runner.ts'

export interface SinkManagerComponents {
  readonly feed: ChangeFeed
  readonly logger: SinkLogger
}

/** Per-sink numbers a metrics module exports (gauges: checkpoint, lag, paused; counters: the rest). */
export interface SinkCounters {
  readonly name: string
  readonly kind: string
  readonly checkpoint: number
  readonly lag: number
  readonly paused: boolean
  readonly appliedBatches: number
  readonly appliedChanges: number
  readonly errorsTotal: number
}

export class SinkManager {
  readonly #c: SinkManagerComponents
  readonly #init: SinkRunnerInit
  readonly #runners: SinkRunner[] = []

  constructor(components: SinkManagerComponents, init: SinkRunnerInit = {}) {
    this.#c = components
    this.#init = init
  }

  add(sink: Sink): SinkRunner {
    if (this.#runners.length >= SINKS_MAX) throw new SinkConfigError(`at most ${SINKS_MAX} sinks per node`)
    if (this.#runners.some((r) => r.sink.name === sink.name))
      throw new SinkConfigError(`two sinks are named ${JSON.stringify(sink.name)}; give each its own name`)
    const runner = new SinkRunner(sink, this.#c.feed, this.#c.logger, this.#init)
    this.#runners.push(runner)
    return runner
  }

  get runners(): readonly SinkRunner[] {
    return this.#runners
  }

  start(): void {
    for (const r of this.#runners) r.start()
  }

  async stop(): Promise<void> {
    await Promise.all(this.#runners.map((r) => r.stop()))
  }

  status(): SinkStatus[] {
    return this.#runners.map((r) => r.status())
  }

  counters(): SinkCounters[] {
    return this.status().map((s) => ({
      name: s.name,
      kind: s.kind,
      checkpoint: s.checkpoint,
      lag: s.lag,
      paused: s.state === 'paused',
      appliedBatches: s.appliedBatches,
      appliedChanges: s.appliedChanges,
      errorsTotal: s.errorsTotal,
    }))
  }

  /** The `sinks` entry of /status (snake_case like the rest of it). */
  statusJson(): JsonValue {
    return this.status().map((s) => ({
      name: s.name,
      kind: s.kind,
      types: s.types,
      state: s.state,
      checkpoint: s.checkpoint,
      head: s.head,
      lag: s.lag,
      applied_batches: s.appliedBatches,
      applied_changes: s.appliedChanges,
      errors_total: s.errorsTotal,
      failures: s.failures,
      last_error:
        s.lastError === null
          ? null
          : {
              name: s.lastError.name,
              message: s.lastError.message,
              at: new Date(s.lastError.atMs).toISOString(),
            },
      paused_at: s.pausedAtMs === null ? null : new Date(s.pausedAtMs).toISOString(),
    }))
  }
}
