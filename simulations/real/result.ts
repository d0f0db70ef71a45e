/** The JSON result of a real-node run (what report.ts draws and the tests read). */
import type { ArrivalRecord } from './arrivals.ts'
import type { NodeCounters } from './observer.ts'
import type { Action } from './scenarios.ts'

export interface Percentiles {
  count: number
  p50: number
  p90: number
  p99: number
  max: number
}

export interface Check {
  name: string
  ok: boolean
  detail: string
}

export interface FaultSpan {
  kind: string
  label: string
  fromMs: number
  toMs: number
}

export interface Sample {
  /** ms since the writes started */
  t: number
  /** live nodes holding every event some live node holds, as a share of the live nodes */
  complete: number
  /** mean share of the union a live node holds */
  meanShare: number
  live: number
  /** CPUs the run's node processes used since the previous sample (CPU-seconds per second,
   *  summed over the nodes; 2 = both CPUs of a 2-core host) */
  nodesCpu: number
  /** share of the host's CPU time that was busy since the previous sample (any process: the
   *  nodes, the driver, other work on the machine) */
  hostBusy: number
}

export interface RealRunResult {
  kind: 'real'
  scenario: string
  description: string
  seed: number
  command: string
  passed: boolean
  profile: { name: string; delayMs: number; lossPerMille: number; rateMbit: number }
  nodes: number
  rate: number
  writeMs: number
  clock: string
  plan: Action[]
  writes: { planned: number; sent: number; acked: number; failed: number; unanswered: number }
  /** write's arrival on its origin → arrival on each other node (ms) */
  propagation: Percentiles
  /** the same, for the events sent in the first STARTUP_WINDOW_MS of the writes (the mesh still
   *  forming) and for those sent after it (simulations/real/arrivals.ts) */
  propagationStartup: Percentiles
  propagationAfterStartup: Percentiles
  startupWindowMs: number
  /** write's arrival on its origin → on every node alive at the end (ms) */
  everyNode: Percentiles
  propagationHistogram: Array<{ fromMs: number; toMs: number; count: number }>
  /** each (event, node) arrival, and the slow ones broken down (simulations/real/arrivals.ts) */
  arrivals: ArrivalRecord
  healAtMs: number
  convergedAtMs: number | null
  convergedAfterHealMs: number | null
  budgetMs: number
  bytesPerNode: Array<{ node: number; sent: number; received: number }>
  /** per node, from its `/metrics` at the end (over its lives): commits and how events came */
  nodeCounters: Array<{ node: number } & NodeCounters>
  proxyBytes: number
  statesAtEnd: Array<{ node: number; events: number; stateHash: string; conflictsOpen: number }>
  faults: FaultSpan[]
  samples: Sample[]
  checks: Check[]
  restarts: number
  load: { cpus: number; loadavgStart: number[]; loadavgEnd: number[] }
  wallMs: number
  /** from the nodes' start until the writes began: the mesh formed (`gate`) */
  startupMs: number
  /** when every node first had 4 peers (the earlier gate, kept as a measurement); null: never */
  fourPeersMs: number | null
  /** what the writes waited for (simulations/real/readiness.ts) */
  gate: string
  /** Date.now() when the writes started (every `…Ms` time above counts from it): lines the run
   *  up with the nodes' logs (`--node-logs`, pino's `time`) */
  writesStartedAtEpochMs: number
  /** CLOCK_MONOTONIC (µs) when the writes started: lines the run up with the nodes' CPU profiles
   *  (`--cpu-prof`; a `.cpuprofile`'s `startTime` is on the same clock) */
  writesStartedAtMonotonicUs: number
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0 }
  const v = [...values].sort((a, b) => a - b)
  const at = (q: number) => v[Math.min(v.length - 1, Math.ceil(q * v.length) - 1)]
  const r = (x: number) => Math.round(x * 10) / 10
  return { count: v.length, p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), max: r(v[v.length - 1]) }
}

/** Log-spaced buckets from 1 ms. */
export function histogram(values: number[]): Array<{ fromMs: number; toMs: number; count: number }> {
  const edges = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 60_000, Infinity]
  const out = edges.slice(0, -1).map((from, i) => ({ fromMs: from, toMs: edges[i + 1], count: 0 }))
  for (const x of values) {
    const i = out.findIndex((b) => x < b.toMs)
    out[i].count++
  }
  while (out.length > 1 && out[out.length - 1].count === 0) out.pop()
  return out.map((b) => ({ ...b, toMs: Number.isFinite(b.toMs) ? b.toMs : -1 }))
}

/** The result as JSON: indented, except the per-arrival arrays, one line each (a row per event
 *  would make the file tens of thousands of lines). */
export function resultJson(r: RealRunResult): string {
  const { sentMs, origin, originLagMs, delayMs, ...rest } = r.arrivals
  const marks = { sentMs, origin, originLagMs, delayMs }
  const text = JSON.stringify(
    { ...r, arrivals: { ...rest, ...Object.fromEntries(Object.keys(marks).map((k) => [k, `@@${k}@@`])) } },
    null,
    2,
  )
  return `${text.replace(/"@@(\w+)@@"/g, (_, k: keyof typeof marks) => JSON.stringify(marks[k]))}\n`
}
