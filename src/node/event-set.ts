/**
 * EventSet: the node's stored events per type as range indexes (src/core/range-index.ts), the
 * set reconciliation compares with a peer's. Built from the store's time index after start-up,
 * in pages that yield to the event loop (a million keys take ~1-2 s and ~40 MB), and kept exact
 * by adding every committed event (`add`, called before the change feed hears of it). Adding is
 * idempotent, so an event committed while the load runs may be seen twice.
 */

import type { Store } from '../core/ports.ts'
import { HLC_BYTES, itemKey, RangeIndex } from '../core/range-index.ts'
import type { StoredEvent } from '../core/records.ts'
import { type Digest, EVENT_TYPES, type EventType } from '../core/types.ts'

/** Keys read per store page while loading: 10,000 keys are 410 KB and a few ms of work. */
const LOAD_PAGE_KEYS = 10_000
/** Offset of the 8 HLC bytes in an event's signed bytes (docs/PROTOCOL.md). */
const SIGNED_HLC_OFFSET = 21

export class EventSet {
  readonly #store: Store
  readonly #indexes = new Map<EventType, RangeIndex>()
  #loaded = false
  #loading: Promise<void> | undefined
  #closed = false

  /** The per-author logs reconciliation compares first (the store answers it directly);
   *  undefined turns the log phase off (sessions then compare ranges only). */
  logs: Store | undefined

  constructor(store: Store) {
    this.#store = store
    this.logs = store
    for (const t of EVENT_TYPES) this.#indexes.set(t, new RangeIndex())
  }

  /** Loads the indexes from the store (once); resolves when they are complete. */
  load(): Promise<void> {
    this.#loading ??= this.#load()
    return this.#loading
  }

  async #load(): Promise<void> {
    for (const type of EVENT_TYPES) {
      const idx = this.#indexes.get(type) as RangeIndex
      let after: Uint8Array | undefined
      for (;;) {
        if (this.#closed) return
        const keys = await this.#store.scanEventKeys(type, after, LOAD_PAGE_KEYS)
        for (const k of keys) idx.insert(k)
        if (keys.length < LOAD_PAGE_KEYS) break
        after = keys[keys.length - 1]
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
    }
    this.#loaded = true
  }

  get loaded(): boolean {
    return this.#loaded
  }

  /** Stops a load in progress (the node is stopping). */
  close(): void {
    this.#closed = true
  }

  /** Records a committed event. */
  add(type: EventType, signed: Uint8Array, digest: Digest): void {
    this.#indexes
      .get(type)
      ?.insert(
        itemKey(
          signed.subarray(SIGNED_HLC_OFFSET, SIGNED_HLC_OFFSET + HLC_BYTES),
          Buffer.from(digest, 'hex'),
        ),
      )
  }

  /** The index of one type, or undefined while the load runs (a session then waits or is refused). */
  index(type: EventType): RangeIndex | undefined {
    return this.#loaded ? this.#indexes.get(type) : undefined
  }

  /** Events held, all types. */
  get size(): number {
    let n = 0
    for (const idx of this.#indexes.values()) n += idx.size
    return n
  }

  /** Which of these events (32-byte digests) the store holds now. */
  async hasEvents(digests: readonly Uint8Array[]): Promise<boolean[]> {
    return this.#store.hasEvents(digests.map((d) => Buffer.from(d).toString('hex') as Digest))
  }

  /** Stored events by digest (32 bytes each), in order; undefined where not held. */
  async getEvents(digests: readonly Uint8Array[]): Promise<Array<StoredEvent | undefined>> {
    return this.#store.getEvents(digests.map((d) => Buffer.from(d).toString('hex') as Digest))
  }
}
