/**
 * Group commit: requests wait while the previous group is being written, then everything that
 * queued up meanwhile is ingested and written in ONE durable batch. A request is answered only
 * after its batch is on disk, so an acknowledgement means durable; durability costs one fsync per
 * group instead of one per event (LevelDB here: ~2,400 synced puts/s vs ~28,000 records/s in
 * synced batches).
 */
import type { IngestItem, IngestOutcome, Ingestor } from '../core/ingest.ts'
import type { AuditDraft, Store } from '../core/ports.ts'
import type { Origin, SignedEvent } from '../core/types.ts'
import { IngestBusyError, NodeStoppedError, StorageWriteError } from './errors.ts'

export interface WriteRequest {
  readonly items: readonly IngestItem[]
  /** Who sent it: carried to the change feed (the mesh gossips local writes only). */
  readonly origin: Origin
  /** Builds the request's audit record from its outcomes (written in the same batch). */
  readonly audit?: (outcomes: readonly IngestOutcome[]) => AuditDraft | undefined
}

export interface CommittedEvent {
  readonly seq: number
  readonly event: SignedEvent
  readonly request: WriteRequest
}

export interface WriteQueueInit {
  /** Events per group: bounds one batch's size and latency. */
  readonly groupEventsMax: number
  /** Events waiting, all requests together; beyond it new requests are refused (busy). */
  readonly queueEventsMax: number
  readonly now: () => number
  /** Called after each durable group, in seq order. */
  readonly onCommitted: (events: readonly CommittedEvent[]) => void
}

interface Waiting {
  readonly request: WriteRequest
  readonly resolve: (outcomes: IngestOutcome[]) => void
  readonly reject: (err: Error) => void
}

export class WriteQueue {
  readonly #ingestor: Ingestor
  readonly #store: Store
  readonly #init: WriteQueueInit
  readonly #waiting: Waiting[] = []
  #queuedEvents = 0
  #running?: Promise<void>
  #stopped = false
  groups = 0

  constructor(ingestor: Ingestor, store: Store, init: WriteQueueInit) {
    this.#ingestor = ingestor
    this.#store = store
    this.#init = init
  }

  get queuedEvents(): number {
    return this.#queuedEvents
  }

  submit(request: WriteRequest): Promise<IngestOutcome[]> {
    if (this.#stopped) return Promise.reject(new NodeStoppedError('the node is stopping'))
    if (this.#queuedEvents + request.items.length > this.#init.queueEventsMax) {
      return Promise.reject(
        new IngestBusyError(
          `ingest queue is full (${this.#queuedEvents} events waiting, max ${this.#init.queueEventsMax}); retry later`,
        ),
      )
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ request, resolve, reject })
      this.#queuedEvents += request.items.length
      this.#running ??= this.#drain()
    })
  }

  async #drain(): Promise<void> {
    try {
      while (this.#waiting.length > 0) {
        const group: Waiting[] = []
        let n = 0
        while (
          this.#waiting.length > 0 &&
          (group.length === 0 || n + this.#waiting[0].request.items.length <= this.#init.groupEventsMax)
        ) {
          const w = this.#waiting.shift()!
          n += w.request.items.length
          group.push(w)
        }
        await this.#runGroup(group)
        this.#queuedEvents -= n
      }
    } finally {
      this.#running = undefined
    }
  }

  async #runGroup(group: Waiting[]): Promise<void> {
    const items = group.flatMap((w) => w.request.items)
    const nowMs = this.#init.now()
    let result: Awaited<ReturnType<Ingestor['ingest']>>
    try {
      result = await this.#ingestor.ingest(items, nowMs)
    } catch (err) {
      this.#ingestor.discard()
      for (const w of group) w.reject(err as Error)
      return
    }
    const perRequest: IngestOutcome[][] = []
    let at = 0
    for (const w of group) {
      perRequest.push(result.outcomes.slice(at, at + w.request.items.length))
      at += w.request.items.length
    }
    const audit = [...result.batch.audit]
    group.forEach((w, i) => {
      const a = w.request.audit?.(perRequest[i])
      if (a !== undefined) audit.push(a)
    })
    let seqs: readonly number[]
    try {
      ;({ seqs } = await this.#store.commit({ ...result.batch, audit }))
    } catch (err) {
      this.#ingestor.discard()
      const e = new StorageWriteError(
        `durable write failed; nothing of this batch was acknowledged: ${(err as Error).message}`,
        { cause: err },
      )
      for (const w of group) w.reject(e)
      return
    }
    this.#ingestor.committed()
    this.groups++
    const committed: CommittedEvent[] = []
    const byDigest = new Map(result.accepted.map((e, i) => [e.digest, seqs[i]]))
    group.forEach((w, i) => {
      for (const o of perRequest[i]) {
        if (o.status === 'accepted')
          committed.push({ seq: byDigest.get(o.event.digest)!, event: o.event, request: w.request })
      }
    })
    committed.sort((a, b) => a.seq - b.seq)
    for (let i = 0; i < group.length; i++) group[i].resolve(perRequest[i])
    this.#init.onCommitted(committed)
  }

  /** Refuses new requests and waits for the queued ones to finish. */
  async stop(): Promise<void> {
    this.#stopped = true
    await this.#running
  }
}
