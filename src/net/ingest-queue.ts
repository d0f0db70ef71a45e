/**
 * Events accepted by gossip validation, on their way into the node. Batches consecutive events
 * from one peer into one `pushSigned` call (one group commit); bounded, so a flood is refused at
 * the validator (ignore) instead of filling memory. Dropped or failed events are not lost to the
 * mesh: the next catch-up pull brings them.
 */
import type { SyncApi } from '../core/api.ts'
import type { SignedEvent } from '../core/types.ts'
import { INGEST_PUSHES_IN_FLIGHT } from './constants.ts'
import type { NetLogger, NetStats } from './stats.ts'

const bytesOf = (e: SignedEvent) => e.signed.byteLength + 64

interface Item {
  /** Verified by the gossip validator (core's eventFromWire). */
  readonly event: SignedEvent
  readonly from: string
}

export class IngestQueue {
  readonly #api: SyncApi
  readonly #stats: NetStats
  readonly #log: NetLogger
  readonly #max: number
  readonly #batchMax: number
  readonly #bytesMax: number
  #items: Item[] = []
  #bytes = 0
  #running: Promise<void> | undefined
  #stopped = false

  constructor(
    api: SyncApi,
    stats: NetStats,
    log: NetLogger,
    max: number,
    batchMax: number,
    bytesMax = Number.POSITIVE_INFINITY,
  ) {
    this.#api = api
    this.#stats = stats
    this.#log = log
    this.#max = max
    this.#batchMax = batchMax
    this.#bytesMax = bytesMax
  }

  /** Bytes of the events waiting (signed bytes + signature). */
  get bytes(): number {
    return this.#bytes
  }

  get length(): number {
    return this.#items.length
  }

  /** Queues events (all or none); false when they do not fit or the queue is stopped (the
   *  caller ignores the message). */
  offer(events: readonly SignedEvent[], from: string): boolean {
    if (this.#stopped || this.#items.length + events.length > this.#max) return false
    let bytes = 0
    for (const event of events) bytes += bytesOf(event)
    if (this.#items.length > 0 && this.#bytes + bytes > this.#bytesMax) return false
    for (const event of events) this.#items.push({ event, from })
    this.#bytes += bytes
    this.#running ??= this.#drain()
    return true
  }

  async #drain(): Promise<void> {
    // Let the validators of one gossip RPC enqueue before the first commit.
    await new Promise<void>((resolve) => setImmediate(resolve))
    const inFlight = new Set<Promise<void>>()
    try {
      while (this.#items.length > 0 || inFlight.size > 0) {
        if (this.#items.length === 0 || inFlight.size >= INGEST_PUSHES_IN_FLIGHT) {
          await Promise.race(inFlight)
          continue
        }
        const from = this.#items[0].from
        let n = 0
        while (n < this.#items.length && n < this.#batchMax && this.#items[n].from === from) n++
        const batch = this.#items.splice(0, n).map((i) => i.event)
        const p = this.#push(batch, from).finally(() => {
          inFlight.delete(p)
          for (const e of batch) this.#bytes -= bytesOf(e)
        })
        inFlight.add(p)
      }
    } finally {
      // In the same step as the last emptiness check: an offer after it starts a new drain.
      this.#running = undefined
    }
  }

  async #push(batch: SignedEvent[], from: string): Promise<void> {
    try {
      // The validator verified each signature: the node checks the rest, not the signature again.
      const r = await this.#api.pushVerified(batch, { kind: 'peer', id: from })
      this.#stats.inc('ingest.accepted', r.accepted)
      this.#stats.inc('ingest.duplicates', r.duplicates)
      this.#stats.inc('ingest.rejected', r.rejected.length)
    } catch (err) {
      this.#stats.inc('ingest.failed', batch.length)
      this.#log.warn(`storing ${batch.length} gossip events from ${from} failed: ${(err as Error).message}`)
    }
  }

  /** Stops accepting and waits until what is queued has been handed to the node. */
  async stop(): Promise<void> {
    this.#stopped = true
    await this.#running
    this.#items = []
    this.#bytes = 0
  }
}
