/**
 * Events accepted by gossip validation or a direct stream, on their way into the node. Bounded,
 * so a flood is refused at the validator (ignore) instead of filling memory. Dropped or failed
 * events are not lost to the mesh: reconciliation and the next catch-up bring them.
 *
 * Group commit across arrivals: when the first event arrives at an idle queue, the queue waits
 * `gatherMs` (config `mesh.ingestGatherMs`) for more before handing anything to the node; then
 * everything that waits (up to `batchMax` events) goes as one round: one `pushVerified` per peer
 * (each push keeps its peer as origin, for the change feed and the audit record), all submitted
 * in the same turn of the event loop, which the node's write queue takes as one group (one
 * synced batch). In a federation every event comes straight from its author, so without the
 * wait each event was a group of its own: a group's fixed cost (~0.45 ms of CPU on this
 * machine, docs/BENCHMARKS-MESH.md) paid per event on every node. While rounds are being
 * stored, what arrives waits for the next round anyway: the wait is only paid after idle.
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
  readonly #gatherMs: number
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
    gatherMs = 0,
  ) {
    this.#api = api
    this.#stats = stats
    this.#log = log
    this.#max = max
    this.#batchMax = batchMax
    this.#bytesMax = bytesMax
    this.#gatherMs = gatherMs
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
    // Wait for more arrivals (gatherMs), or at least let the validators of one gossip RPC
    // enqueue, before the first round.
    await new Promise<void>((resolve) =>
      this.#gatherMs > 0 ? setTimeout(resolve, this.#gatherMs) : setImmediate(resolve),
    )
    const inFlight = new Set<Promise<void>>()
    try {
      while (this.#items.length > 0 || inFlight.size > 0) {
        if (this.#items.length === 0 || inFlight.size >= INGEST_PUSHES_IN_FLIGHT) {
          await Promise.race(inFlight)
          continue
        }
        const taken = this.#items.splice(0, this.#batchMax)
        const p = this.#round(taken).finally(() => {
          inFlight.delete(p)
          for (const i of taken) this.#bytes -= bytesOf(i.event)
        })
        inFlight.add(p)
      }
    } finally {
      // In the same step as the last emptiness check: an offer after it starts a new drain.
      this.#running = undefined
    }
  }

  /** One push per peer, in order of first arrival, each peer's events in arrival order; all
   *  started in this turn, so the node's write queue groups them together. */
  async #round(items: readonly Item[]): Promise<void> {
    const byPeer = new Map<string, SignedEvent[]>()
    for (const { event, from } of items) {
      const list = byPeer.get(from)
      if (list === undefined) byPeer.set(from, [event])
      else list.push(event)
    }
    await Promise.all([...byPeer].map(([from, batch]) => this.#push(batch, from)))
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
