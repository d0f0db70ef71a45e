/** A bounded least-recently-used map. Every cache in the node is one of these: no unbounded maps. */
export class LruMap<K, V> {
  readonly #max: number
  readonly #map = new Map<K, V>()

  constructor(max: number) {
    if (!(max >= 1)) throw new RangeError('LruMap max must be >= 1')
    this.#max = max
  }

  get size(): number {
    return this.#map.size
  }

  get(key: K): V | undefined {
    const v = this.#map.get(key)
    if (v !== undefined) {
      this.#map.delete(key)
      this.#map.set(key, v)
    }
    return v
  }

  set(key: K, value: V): void {
    this.#map.delete(key)
    this.#map.set(key, value)
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value as K
      this.#map.delete(oldest)
    }
  }

  delete(key: K): void {
    this.#map.delete(key)
  }

  clear(): void {
    this.#map.clear()
  }
}
