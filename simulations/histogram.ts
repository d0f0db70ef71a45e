/** Delays (ms) in log-spaced buckets (~4% wide): percentiles of millions of samples in O(1) memory. */
const PER_DOUBLING = 16
const BUCKETS = 40 * PER_DOUBLING

export class Histogram {
  readonly counts = new Float64Array(BUCKETS)
  count = 0
  max = 0

  static bucketOf(ms: number): number {
    if (ms < 1) return 0
    return Math.min(BUCKETS - 1, 1 + Math.floor(Math.log2(ms) * PER_DOUBLING))
  }

  /** The upper bound (ms) of a bucket. */
  static upperOf(b: number): number {
    return b === 0 ? 1 : 2 ** (b / PER_DOUBLING)
  }

  add(ms: number): void {
    this.counts[Histogram.bucketOf(ms)]++
    this.count++
    if (ms > this.max) this.max = ms
  }

  /** The q-quantile (0..1), as the upper bound of its bucket (at most the maximum seen), ms. */
  quantile(q: number): number {
    if (this.count === 0) return 0
    const want = q * this.count
    let seen = 0
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b]
      if (seen >= want) return Math.round(Math.min(this.max, Histogram.upperOf(b)))
    }
    return this.max
  }

  /** Non-empty buckets as [upper bound ms, count]. */
  buckets(): Array<[number, number]> {
    const out: Array<[number, number]> = []
    for (let b = 0; b < BUCKETS; b++) if (this.counts[b] > 0) out.push([Histogram.upperOf(b), this.counts[b]])
    return out
  }
}
