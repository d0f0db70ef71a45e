/** A binary min-heap of (key, value), ties broken by insertion order (so runs are deterministic). */
export class MinHeap<T> {
  #keys: number[] = []
  #seqs: number[] = []
  #vals: T[] = []
  #seq = 0

  get size(): number {
    return this.#keys.length
  }

  peekKey(): number | undefined {
    return this.#keys[0]
  }

  #less(i: number, j: number): boolean {
    const a = this.#keys[i]
    const b = this.#keys[j]
    return a < b || (a === b && this.#seqs[i] < this.#seqs[j])
  }

  #swap(i: number, j: number): void {
    const k = this.#keys[i]
    this.#keys[i] = this.#keys[j]
    this.#keys[j] = k
    const s = this.#seqs[i]
    this.#seqs[i] = this.#seqs[j]
    this.#seqs[j] = s
    const v = this.#vals[i]
    this.#vals[i] = this.#vals[j]
    this.#vals[j] = v
  }

  push(key: number, value: T): void {
    this.#keys.push(key)
    this.#seqs.push(this.#seq++)
    this.#vals.push(value)
    let i = this.#keys.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.#less(i, p)) break
      this.#swap(i, p)
      i = p
    }
  }

  pop(): T | undefined {
    const n = this.#keys.length
    if (n === 0) return undefined
    const top = this.#vals[0]
    this.#swap(0, n - 1)
    this.#keys.pop()
    this.#seqs.pop()
    this.#vals.pop()
    const m = n - 1
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let s = i
      if (l < m && this.#less(l, s)) s = l
      if (r < m && this.#less(r, s)) s = r
      if (s === i) break
      this.#swap(i, s)
      i = s
    }
    return top
  }
}
