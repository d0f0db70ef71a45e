/**
 * Events this node published or fetched recently, by digest, to answer announce fetches.
 * Bounded by count and bytes; the oldest go first.
 */
import type { StoredEvent } from '../core/records.ts'

export class RecentEvents {
  readonly #map = new Map<string, StoredEvent>()
  readonly #bytesMax: number
  readonly #countMax: number
  #bytes = 0

  constructor(bytesMax: number, countMax: number) {
    this.#bytesMax = bytesMax
    this.#countMax = countMax
  }

  get size(): number {
    return this.#map.size
  }

  get bytes(): number {
    return this.#bytes
  }

  put(digest: string, event: StoredEvent): void {
    if (this.#map.has(digest)) return
    const size = event.signed.byteLength + event.signature.byteLength
    if (size > this.#bytesMax) return
    this.#map.set(digest, event)
    this.#bytes += size
    while (this.#bytes > this.#bytesMax || this.#map.size > this.#countMax) {
      const [oldest, ev] = this.#map.entries().next().value as [string, StoredEvent]
      this.#map.delete(oldest)
      this.#bytes -= ev.signed.byteLength + ev.signature.byteLength
    }
  }

  get(digest: string): StoredEvent | undefined {
    return this.#map.get(digest)
  }

  clear(): void {
    this.#map.clear()
    this.#bytes = 0
  }
}
