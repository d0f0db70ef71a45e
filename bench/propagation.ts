/**
 * Propagation benchmarks of the mesh, on loopback only (127.0.0.1, mDNS off, bootstrap lists).
 *
 *   npm run bench:propagation                           # real nodes, both scenarios (default)
 *   npx node bench/propagation.ts --mode real --scenario latency --nodes 10 --rate 100 --seconds 20 --runs 3
 *   npx node bench/propagation.ts --scenario latency --nodes 8 --writers 8 --rate 100 ...  # writes spread
 *   BENCH_DIRECT_PEERS_MAX=0 npx node bench/propagation.ts ...  # real nodes with gossip only
 *   npx node bench/propagation.ts --mode real --scenario sustained --nodes 5 --rate 1000 --seconds 30
 *   npx node bench/propagation.ts --mode mesh ...       # the mesh alone (in-test SyncApi)
 *   npm run bench -- propagation                        # via bench/run.ts (benchPropagation())
 *
 * --mode real (default, bench/propagation-real.ts): every node is a process running the whole
 * node (startNode: LevelDB, engine, HTTP, libp2p); a client writes over HTTP and times arrivals
 * in every node's change feed (GET /changes). See that file for what is measured.
 *
 * --mode mesh: each node is its own process (bench/propagation-node.ts): a real libp2p host
 * (TCP, Noise, Yamux, gossipsub, the protocols) backed by the in-test SyncApi, which verifies
 * every event with the core's eventFromWire and keeps only digests. It measures the mesh, not
 * the store.
 *
 * mesh latency:   N nodes, node i bootstrapped to up to 3 random earlier nodes (seeded: a
 *            sparse, multi-hop mesh); events written round-robin by all nodes at `rate`/s; for
 *            every (event, other node) the time from the write to the event being stored there.
 *            Prints one-receiver p50/p90/p99/max and "reached all" p50/p99 per run, then the
 *            median and range over runs.
 * mesh sustained: N nodes at `rate`/s for `seconds`; each node samples heap, RSS and its ingest
 *            queue every second; prints first / median / last samples, delivery and p99.
 *
 * BENCH_NODE_FLAGS="--flag ..." adds Node/V8 flags to every node process, BENCH_PROF_DIR=dir a
 * V8 CPU profile of each (both modes).
 *
 * Figures are for comparison on the same machine (median and range), not pass/fail. Every
 * process is stopped by PID at the end, also on failure; the run is bounded in time.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { prng } from './prng.ts'
import {
  type LatencyOptions,
  type LatencyResult,
  realLatency,
  realSustained,
  type SustainedOptions,
  type SustainedResult,
} from './propagation-real.ts'
import { benchNodeFlags } from './stats.ts'

const { values } = parseArgs({
  args: import.meta.main ? process.argv.slice(2) : [],
  options: {
    mode: { type: 'string', default: 'real' },
    batch: { type: 'string' },
    scenario: { type: 'string', default: 'all' },
    nodes: { type: 'string' },
    writers: { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    runs: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    warmup: { type: 'string' },
    linger: { type: 'string' },
  },
})

const NODE_SCRIPT = fileURLToPath(new URL('./propagation-node.ts', import.meta.url))
const wall = () => performance.timeOrigin + performance.now()

interface Child {
  proc: ChildProcess
  peerId: string
  addr: string
  next<T>(key: string, timeoutMs?: number): Promise<T>
}

async function spawnNode(bootstrap: string[], maxMs: number): Promise<Child> {
  const args = ['--max-ms', String(maxMs), ...bootstrap.flatMap((b) => ['--bootstrap', b])]
  if (values.linger !== undefined) args.push('--linger', values.linger)
  const proc = fork(NODE_SCRIPT, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execPath: process.execPath,
    execArgv: benchNodeFlags(),
  })
  const waiting = new Map<string, (v: unknown) => void>()
  proc.on('message', (m: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(m)) waiting.get(k)?.(v)
  })
  const next = <T>(key: string, timeoutMs = 60_000) =>
    new Promise<T>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`node did not answer ${key} within ${timeoutMs} ms`)),
        timeoutMs,
      )
      waiting.set(key, (v) => {
        clearTimeout(t)
        waiting.delete(key)
        resolve(v as T)
      })
      proc.once('exit', (code) => reject(new Error(`node exited (${code}) while waiting for ${key}`)))
    })
  const ready = await next<{ peerId: string; addr: string }>('ready')
  return { proc, peerId: ready.peerId, addr: ready.addr, next }
}

async function startMesh(n: number, seed: number, maxMs: number): Promise<Child[]> {
  const rnd = prng(seed)
  const nodes: Child[] = []
  try {
    for (let i = 0; i < n; i++) {
      const bootstrap: string[] = []
      while (bootstrap.length < Math.min(3, nodes.length)) {
        const pick = nodes[Math.floor(rnd() * nodes.length)].addr
        if (!bootstrap.includes(pick)) bootstrap.push(pick)
      }
      nodes.push(await spawnNode(bootstrap, maxMs))
    }
  } catch (err) {
    stopMesh(nodes)
    throw err
  }
  await new Promise((r) => setTimeout(r, 3_000)) // connections, subscriptions, GRAFTs settle
  return nodes
}

function stopMesh(nodes: Child[]): void {
  for (const c of nodes) {
    if (c.proc.exitCode === null && c.proc.connected) c.proc.send({ stop: true })
  }
  setTimeout(() => {
    for (const c of nodes) if (c.proc.exitCode === null && c.proc.pid !== undefined) c.proc.kill('SIGKILL')
  }, 5_000).unref()
}

interface Report {
  cpuMs: number
  /** Event-loop utilisation of the node's main thread during the measured phase, 0..1. */
  elu: number
  stored: Record<string, number>
  samples: Array<{ at: number; heapMb: number; rssMb: number; ingest: number }>
  stats: Record<string, number>
}

async function writePhase(nodes: Child[], rate: number, seconds: number): Promise<number> {
  const total = Math.round(rate * seconds)
  const t0 = wall() + 500
  const wrote = nodes.map((c) => c.next<number>('wrote', (seconds + 60) * 1000))
  for (const [index, c] of nodes.entries())
    c.proc.send({ write: { t0, rate, total, nodes: nodes.length, index } })
  await Promise.all(wrote)
  return t0
}

/**
 * A warm-up phase at the same rate (fresh processes run cold, interpreted code: the first
 * seconds cost several times the CPU of steady state), then the measured phase; returns the
 * reports and the start of the measured phase (only events written after it count).
 */
async function runLoad(
  nodes: Child[],
  rate: number,
  seconds: number,
): Promise<{ reports: Report[]; t0: number }> {
  const warmup = Number(values.warmup ?? 5)
  if (warmup > 0) {
    await writePhase(nodes, rate, warmup)
    await new Promise((r) => setTimeout(r, 1_000))
  }
  const t0 = await writePhase(nodes, rate, seconds)
  await new Promise((r) => setTimeout(r, 3_000)) // let the last events arrive
  const reports = await Promise.all(
    nodes.map((c) => {
      const r = c.next<Report>('report')
      c.proc.send({ report: true })
      return r
    }),
  )
  return { reports, t0 }
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}
const fmt = (ms: number) => (Number.isFinite(ms) ? `${ms.toFixed(1)} ms` : 'n/a')

/** Delays per (event, receiver) and per event to reach every node. Writer = first to store it. */
function delays(reports: Report[], t0: number) {
  const one: number[] = []
  const all: number[] = []
  let expected = 0
  const all0 = new Set(reports.flatMap((r) => Object.keys(r.stored)))
  const digests = new Set(
    [...all0].filter(
      (d) => Math.min(...reports.map((r) => r.stored[d] ?? Number.POSITIVE_INFINITY)) >= t0 - 1,
    ),
  )
  for (const d of digests) {
    const times = reports.map((r) => r.stored[d])
    const written = Math.min(...times.filter((t) => t !== undefined))
    let worst = 0
    let complete = true
    for (const t of times) {
      if (t === written) continue
      expected++
      if (t === undefined) {
        complete = false
        continue
      }
      one.push(t - written)
      worst = Math.max(worst, t - written)
    }
    if (complete) all.push(worst)
  }
  one.sort((a, b) => a - b)
  all.sort((a, b) => a - b)
  if (process.env.BENCH_DEBUG) {
    const bySecond = new Map<number, number[]>()
    for (const d of digests) {
      const times = reports.map((r) => r.stored[d]).filter((t) => t !== undefined)
      const w = Math.min(...times)
      const sec = Math.floor((w - t0) / 1000)
      bySecond.set(sec, [...(bySecond.get(sec) ?? []), Math.max(...times) - w])
    }
    for (const [sec, xs] of [...bySecond].sort((a, b) => a[0] - b[0])) {
      xs.sort((a, b) => a - b)
      console.log(
        `  second ${sec}: ${xs.length} events, reached-all p50 ${fmt(pct(xs, 50))} max ${fmt(xs[xs.length - 1])}`,
      )
    }
  }
  return { one, all, delivered: one.length / Math.max(1, expected), events: digests.size }
}

function summary(label: string, xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b)
  return `${label}: median ${fmt(pct(s, 50))} (range ${fmt(s[0])} .. ${fmt(s[s.length - 1])})`
}

async function latency(): Promise<void> {
  const n = Number(values.nodes ?? 10)
  const rate = Number(values.rate ?? 100)
  const seconds = Number(values.seconds ?? 10)
  const runs = Number(values.runs)
  console.log(
    `\n## latency: ${n} nodes (processes), ${rate} events/s for ${seconds} s, ${runs} runs, seed ${values.seed}`,
  )
  const p50s: number[] = []
  const p99s: number[] = []
  const allP99s: number[] = []
  for (let r = 0; r < runs; r++) {
    const nodes = await startMesh(n, Number(values.seed) + r, (seconds + 120) * 1000)
    try {
      const { reports, t0 } = await runLoad(nodes, rate, seconds)
      const d = delays(reports, t0)
      p50s.push(pct(d.one, 50))
      p99s.push(pct(d.one, 99))
      allP99s.push(pct(d.all, 99))
      const cpu = reports.reduce((a, x) => a + x.cpuMs, 0)
      console.log(
        `run ${r + 1}: CPU ${(cpu / d.events / n).toFixed(2)} ms per event per node (${(cpu / 1000).toFixed(1)} s total), ` +
          `event loop busy ${reports.map((x) => (x.elu * 100).toFixed(0)).join('/')} %; ` +
          `${d.events} events; one receiver p50 ${fmt(pct(d.one, 50))} p90 ${fmt(pct(d.one, 90))} ` +
          `p99 ${fmt(pct(d.one, 99))} max ${fmt(d.one[d.one.length - 1])}; reached all p50 ${fmt(pct(d.all, 50))} ` +
          `p99 ${fmt(pct(d.all, 99))}; delivered ${(d.delivered * 100).toFixed(2)} %`,
      )
    } finally {
      stopMesh(nodes)
    }
    await new Promise((res) => setTimeout(res, 1_000))
  }
  console.log(summary('p50 (one receiver)', p50s))
  console.log(summary('p99 (one receiver)', p99s))
  console.log(summary('p99 (reached all)', allP99s))
}

async function sustained(): Promise<void> {
  const n = Number(values.nodes ?? 5)
  const rate = Number(values.rate ?? 1000)
  const seconds = Number(values.seconds ?? 30)
  console.log(
    `\n## sustained: ${n} nodes (processes), ${rate} events/s for ${seconds} s, seed ${values.seed}`,
  )
  const nodes = await startMesh(n, Number(values.seed), (seconds + 120) * 1000)
  try {
    const { reports, t0 } = await runLoad(nodes, rate, seconds)
    const d = delays(reports, t0)
    console.log(
      `${d.events} events; delivered ${(d.delivered * 100).toFixed(2)} %; one receiver p50 ${fmt(pct(d.one, 50))} ` +
        `p99 ${fmt(pct(d.one, 99))}; reached all p99 ${fmt(pct(d.all, 99))}`,
    )
    reports.forEach((r, i) => {
      const s = r.samples.filter((x) => x.at >= t0)
      if (s.length === 0) return
      const show = (x: (typeof s)[number]) =>
        `heap ${x.heapMb.toFixed(0)} rss ${x.rssMb.toFixed(0)} MB ingest ${x.ingest}`
      const maxIngest = Math.max(...s.map((x) => x.ingest))
      console.log(
        `node ${i + 1}: first ${show(s[0])} | median ${show(s[Math.floor(s.length / 2)])} | last ${show(s[s.length - 1])} | ` +
          `max ingest queue ${maxIngest}; ingest_full ${r.stats['gossip.ingest_full'] ?? 0}, publish_dropped ${r.stats['gossip.publish_dropped'] ?? 0}`,
      )
    })
  } finally {
    stopMesh(nodes)
  }
}

/** Real-node runs with the figures of docs/BENCHMARKS-MESH.md; JSON-able (bench/run.ts). */
export async function benchPropagation(
  opts: { latency?: Partial<LatencyOptions>; sustained?: Partial<SustainedOptions> } = {},
): Promise<{ machine: string; latency: LatencyResult; sustained: SustainedResult }> {
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, loopback, mDNS off`
  console.log(`# propagation (real nodes) — ${machine}`)
  const latency = await realLatency({
    nodes: 10,
    rate: 100,
    seconds: 20,
    warmup: 5,
    runs: 3,
    seed: 1,
    ...opts.latency,
  })
  const sustained = await realSustained({
    nodes: 5,
    rate: 1000,
    seconds: 30,
    batch: 10,
    warmup: 5,
    seed: 1,
    ...opts.sustained,
  })
  return { machine, latency, sustained }
}

if (import.meta.main) {
  console.log(
    `# bench/propagation.ts --mode ${values.mode} — node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}; loopback only, mDNS off`,
  )
  const all = values.scenario === 'all'
  if (values.mode === 'real') {
    const result: Record<string, unknown> = {}
    const seed = Number(values.seed)
    const warmup = Number(values.warmup ?? 5)
    if (all || values.scenario === 'latency')
      result.latency = await realLatency({
        nodes: Number(values.nodes ?? 10),
        writers: Number(values.writers ?? 1),
        rate: Number(values.rate ?? 100),
        seconds: Number(values.seconds ?? 20),
        warmup,
        runs: Number(values.runs),
        seed,
      })
    if (all || values.scenario === 'sustained')
      result.sustained = await realSustained({
        nodes: Number(values.nodes ?? 5),
        rate: Number(values.rate ?? 1000),
        seconds: Number(values.seconds ?? 30),
        batch: Number(values.batch ?? 10),
        warmup,
        seed,
      })
    if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, `${JSON.stringify(result, null, 2)}\n`)
  } else if (values.mode === 'mesh') {
    if (all || values.scenario === 'latency') await latency()
    if (all || values.scenario === 'sustained') await sustained()
  } else {
    console.error(`--mode must be real or mesh (got ${values.mode})`)
    process.exitCode = 2
  }
}
