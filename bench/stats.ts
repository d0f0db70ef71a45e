/** Median and range of repeated measurements. */
export function summarize(values: number[]): { median: number; min: number; max: number; runs: number } {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
  return { median, min: s[0], max: s[s.length - 1], runs: s.length }
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

/** Node flags the propagation benchmarks add to every node process they start (both modes):
 *  BENCH_PROF_DIR=dir a V8 CPU profile of each, BENCH_NODE_FLAGS="--flag ..." any Node/V8 flags
 *  (experiments). */
export function benchNodeFlags(): string[] {
  return [
    ...(process.env.BENCH_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF_DIR] : []),
    ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter((f) => f !== '') ?? []),
  ]
}
