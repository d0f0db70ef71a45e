/**
 * `npm run bench:adapters [-- throughput|latency|vectors]`: figures of the application adapters
 * (docs/ADAPTERS.md quotes them; results in bench/results-adapters.json).
 *
 * - throughput: a node (mesh off) holds N changes; a fresh sink (PGlite + pgvector over the wire
 *   protocol, or LanceDB in a temp directory) is started at checkpoint 0 and timed until it has
 *   applied them all, in batches of SINK_BATCH_MAX. Kinds of change: 768-dimension vectors,
 *   persona documents. BENCH_RUNS runs (default 3); median and range. Each Postgres run gets
 *   tables of its own in an engine kept for the case and warmed by one uncounted run
 *   (BENCH_PG_ENGINE=fresh: a new PGlite per run, as before). Also the CPU time per change of
 *   the benchmark's thread (node + runner + driver) and of PGlite's thread: the sink's cost
 *   whatever else the machine runs.
 * - latency: 3 nodes on loopback (mDNS off, bootstrap), each with its own PGlite sink. One
 *   persona write at a time on node 0; the time until its row is in node 1's and node 2's
 *   Postgres (polled over the wire every 2 ms). BENCH_SAMPLES writes (default 100).
 * - vectors: BENCH_VECTORS 768-dimension vectors (default 10,000; the issue's 100,000 with
 *   BENCH_VECTORS=100000) written on node 0 of 3, synced by the mesh into each node's LanceDB;
 *   then 100 random queries (seeded) asked of every node's store: are the 10 nearest ids the
 *   same everywhere? Also the CPU time per vector (main thread; whole process).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import pg from 'pg'
import type { Sink } from '../src/adapters/index.ts'
import { LanceDbSink } from '../src/adapters/lancedb/lancedb-sink.ts'
import { PostgresSink, type PostgresSinkInit } from '../src/adapters/postgres/postgres-sink.ts'
import { SinkRunner } from '../src/adapters/sink-runner.ts'
import { loadConfig } from '../src/config/index.ts'
import { type RunningNode, startNode } from '../src/node/index.ts'
import { emptyMesh, waitFor, waitForPeers } from '../test/helpers/mesh.ts'
import { startPglite } from '../test/helpers/pglite.ts'
import { prng as rng } from './prng.ts'
import { fmt, summarize } from './stats.ts'

const which = process.argv.slice(2)
const want = (name: string) => which.length === 0 || which.includes(name)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const LOCAL = { kind: 'local' as const, id: 'bench' }
const silent = { info() {}, warn() {}, error() {} }

const vec = (r: () => number, dims: number) =>
  Array.from({ length: dims }, () => Math.round((r() * 2 - 1) * 1e4) / 1e4)

async function soloNode(dir: string): Promise<RunningNode> {
  return startNode(
    loadConfig({ env: {}, flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false } }),
  )
}

async function pushAll(node: RunningNode, events: unknown[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const r = await node.api.push(events.slice(i, i + 500), LOCAL)
    if (r.rejected.length > 0) throw new Error(JSON.stringify(r.rejected[0]))
  }
}

/** PGlite in a worker thread (default), as a Postgres server is a process of its own; `inprocess`
 *  puts it on the benchmark's thread, where node, sink and database take turns (the start's way). */
const PGLITE_THREAD = (process.env.BENCH_PGLITE ?? 'thread') !== 'inprocess'
const pglite = (thread = PGLITE_THREAD) => startPglite({ thread })
/** BENCH_PG_ENGINE=warm (default) | fresh: see pgCase in throughput(). */
const PG_WARM = (process.env.BENCH_PG_ENGINE ?? 'warm') !== 'fresh'

/** The sink code a throughput run uses: this checkout's, or the one of another checkout. */
interface Code {
  PostgresSink: typeof PostgresSink
  LanceDbSink: typeof LanceDbSink
  SinkRunner: typeof SinkRunner
}
interface Variant {
  label: string
  code: Code
  thread: boolean
  /** The start's sink has no bulk load. */
  bulk: boolean
}

/**
 * BENCH_BASELINE=dir (a checkout of an earlier commit, e.g. `git worktree add dir 73ef879`, with
 * this checkout's node_modules) runs the throughput cases with that commit's sink and runner too,
 * alternating with this one's in the same process: ratios measured on the same machine at the
 * same load. BENCH_VARIANTS picks among `start:inprocess`, `new:inprocess`, `new:thread`.
 */
async function variants(): Promise<Variant[]> {
  const mine: Code = { PostgresSink, LanceDbSink, SinkRunner }
  const base = process.env.BENCH_BASELINE
  const wanted = (
    process.env.BENCH_VARIANTS ??
    (base === undefined
      ? `new:${PGLITE_THREAD ? 'thread' : 'inprocess'}`
      : 'start:inprocess,new:inprocess,new:thread')
  ).split(',')
  const out: Variant[] = []
  for (const w of wanted) {
    const [who, where] = w.split(':')
    let code = mine
    if (who === 'start') {
      if (base === undefined) throw new Error('start:* needs BENCH_BASELINE=<checkout of the start>')
      const at = (f: string) => import(pathToFileURL(join(base, 'src/adapters', f)).href)
      code = {
        PostgresSink: (await at('postgres/postgres-sink.ts')).PostgresSink,
        LanceDbSink: (await at('lancedb/lancedb-sink.ts')).LanceDbSink,
        SinkRunner: (await at('sink-runner.ts')).SinkRunner,
      }
    }
    out.push({ label: w, code, thread: where === 'thread', bulk: who !== 'start' })
  }
  return out
}

/** Time for a fresh sink to pass log sequence `upTo` (default: the head). `check` runs on the
 *  open sink once it has caught up (inside the timed span it is not). */
async function timeSink(
  node: RunningNode,
  sink: Sink,
  Runner: typeof SinkRunner,
  check?: () => void,
): Promise<number> {
  const head = await node.feed.lastSeq()
  const runner = new Runner(sink, node.feed, silent)
  const t0 = performance.now()
  runner.start()
  await runner.caughtUp(head, 3_600_000)
  const ms = performance.now() - t0
  check?.()
  await runner.stop()
  return ms
}

const vectorEvents = (r: () => number, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    event_type: 'vector_update',
    target_id: `v${i}`,
    payload: { op: 'upsert', values: vec(r, 768), metadata: { i } },
  }))

async function throughput() {
  const N = Number(process.env.BENCH_CHANGES ?? 10_000)
  /** HNSW inserts in PGlite (WASM) cost several ms per 768-d vector: those cases get fewer. */
  const N_HNSW = Number(process.env.BENCH_CHANGES_HNSW ?? 1_000)
  const out: Record<string, Record<string, unknown>> = {}
  const dir = await mkdtemp(join(tmpdir(), 'gkm-bench-adapters-'))
  // `node` holds N vectors then N personas; `hnswNode` just N_HNSW vectors (a bulk-loading sink
  // builds its index when it nears the head, so that head must be the end of the vectors).
  const node = await soloNode(join(dir, 'node'))
  const hnswNode = await soloNode(join(dir, 'hnsw'))
  const vs = await variants()
  try {
    await pushAll(node, vectorEvents(rng(1), N))
    await pushAll(
      node,
      Array.from({ length: N }, (_, i) => ({
        event_type: 'persona_update',
        target_id: `p${i}`,
        payload: { op: 'set', fields: { name: `n${i}`, i, tags: ['a', 'b'] } },
      })),
    )
    await pushAll(hnswNode, vectorEvents(rng(1), N_HNSW))
    interface Case {
      name: string
      make: (
        v: Variant,
      ) => Promise<{ sink: Sink; done: () => Promise<void>; engineCpuMs?: () => Promise<number> }>
      node?: RunningNode
      count?: number
      bulk?: boolean
      check?: (sink: Sink) => void
    }
    const engines = new Map<string, Awaited<ReturnType<typeof pglite>>>()
    let prefixes = 0
    const pgCase = (
      name: string,
      types: PostgresSinkInit['types'],
      extra: Partial<PostgresSinkInit>,
      rest: Partial<Case> = {},
    ): Case => ({
      name,
      make: async (v) => {
        // Warm (default): one engine per case and variant, kept across its runs, each run in
        // tables of its own (a fresh prefix), as a sink meets a long-running Postgres. Fresh: a
        // new engine per run, whose CREATE EXTENSION and first-statement WASM warm-up then fall
        // inside the timed span (the figures before this option).
        const key = `${name}|${v.label}`
        const s = PG_WARM ? (engines.get(key) ?? (await pglite(v.thread))) : await pglite(v.thread)
        if (PG_WARM) engines.set(key, s)
        return {
          sink: new v.code.PostgresSink({
            name: 'b',
            types,
            prefix: PG_WARM ? `r${++prefixes}_` : 'gkm_',
            connectionString: s.url,
            ...extra,
          }),
          done: PG_WARM ? async () => {} : () => s.stop(),
          engineCpuMs: s.cpuMs,
        }
      },
      ...rest,
    })
    const indexed = (sink: Sink) => {
      const s = sink as PostgresSink
      if (typeof s.indexed === 'function' && !s.indexed(768)) throw new Error('the HNSW index was not built')
    }
    const cases: Case[] = [
      pgCase('postgres personas (JSONB)', ['persona_update'], {}),
      pgCase('postgres vectors 768d (pgvector, no index)', ['vector_update'], { vectorIndex: false }),
      pgCase(
        'postgres vectors 768d (pgvector + HNSW, index maintained by every insert)',
        ['vector_update'],
        { bulkLoadMin: 0 },
        { node: hnswNode, count: N_HNSW, check: indexed },
      ),
      pgCase(
        'postgres vectors 768d (pgvector + HNSW, bulk load: index built once near the head)',
        ['vector_update'],
        { bulkLoadMin: 500 },
        { node: hnswNode, count: N_HNSW, check: indexed, bulk: true },
      ),
      {
        name: 'lancedb vectors 768d',
        make: async (v) => {
          const d = await mkdtemp(join(tmpdir(), 'gkm-bench-lance-'))
          return {
            sink: new v.code.LanceDbSink({ name: 'b', types: ['vector_update'], path: d }),
            done: () => rm(d, { recursive: true, force: true }),
          }
        },
      },
    ]
    const only = process.env.BENCH_CASES?.split(',')
    for (const c of cases) {
      if (only !== undefined && !only.some((o) => c.name.includes(o))) continue
      const count = c.count ?? N
      const rates = new Map<string, number[]>()
      // CPU time per change, whatever the load: the benchmark's thread (node + sink + driver)
      // and, PGlite in a thread, the engine's thread.
      const nodeCpu = new Map<string, number[]>()
      const engineCpu = new Map<string, number[]>()
      const add = (m: Map<string, number[]>, k: string, x: number) => m.set(k, [...(m.get(k) ?? []), x])
      // Runs alternate between the variants, so that a change of load hits them alike. With a
      // warm engine, run -1 of each variant is its warm-up (not counted).
      for (let i = PG_WARM ? -1 : 0; i < RUNS; i++) {
        for (const v of vs) {
          if (c.bulk === true && !v.bulk) continue
          const { sink, done, engineCpuMs } = await c.make(v)
          try {
            if (i < 0) {
              await timeSink(c.node ?? node, sink, v.code.SinkRunner)
              continue
            }
            const e0 = v.thread ? await engineCpuMs?.() : undefined
            const u0 = process.threadCpuUsage()
            const ms = await timeSink(c.node ?? node, sink, v.code.SinkRunner, () => c.check?.(sink))
            const u = process.threadCpuUsage(u0)
            add(rates, v.label, (count / ms) * 1000)
            add(nodeCpu, v.label, (u.user + u.system) / 1000 / count)
            if (e0 !== undefined && engineCpuMs !== undefined)
              add(engineCpu, v.label, ((await engineCpuMs()) - e0) / count)
          } finally {
            await done()
          }
        }
      }
      for (const e of engines.values()) await e.stop()
      engines.clear()
      out[c.name] = { changes: count, engine: PG_WARM ? 'warm' : 'fresh' }
      for (const [label, r] of rates) {
        const s = summarize(r)
        const n = summarize(nodeCpu.get(label) ?? [])
        const e = engineCpu.has(label) ? summarize(engineCpu.get(label)!) : undefined
        const cpu = `CPU per change: ${n.median.toFixed(3)} ms on the benchmark's thread${e === undefined ? '' : `, ${e.median.toFixed(3)} ms on the engine's`}`
        console.log(
          `sink throughput, ${c.name} [${label}]: ${fmt(s.median)} changes/s (${fmt(s.min)}..${fmt(s.max)}, ${s.runs} runs of ${fmt(count)}; load ${loadavg()[0].toFixed(1)}); ${cpu}`,
        )
        out[c.name][label] = { ...s, nodeCpuMsPerChange: n.median, engineCpuMsPerChange: e?.median }
      }
    }
  } finally {
    await node.stop()
    await hnswNode.stop()
    await rm(dir, { recursive: true, force: true })
  }
  return out
}

async function latency() {
  const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 100)
  const servers = await Promise.all([0, 1, 2].map(() => pglite()))
  const mesh = emptyMesh()
  const clients: pg.Client[] = []
  try {
    for (let i = 0; i < 3; i++) await mesh.create()
    for (const [i, n] of mesh.nodes.entries()) {
      n.configure({
        bootstrap: i === 0 ? [] : [mesh.nodes[0].addr()],
        values: { sinks: [{ kind: 'postgres', target: servers[i].url, types: ['persona_update'] }] },
      })
      await n.start()
    }
    await waitForPeers(mesh.nodes.slice(1), 1, 30_000)
    for (const s of servers.slice(1)) {
      const c = new pg.Client({ connectionString: s.url })
      await c.connect()
      clients.push(c)
    }
    await waitFor('sink tables', async () => {
      for (const c of clients)
        if ((await c.query("SELECT to_regclass('gkm_personas') AS t")).rows[0].t === null) return false
      return true
    })
    const lat: number[] = []
    for (let i = 0; i < SAMPLES; i++) {
      const id = `lat-${i}`
      const t0 = performance.now()
      await mesh.nodes[0].push([
        { event_type: 'persona_update', target_id: id, payload: { op: 'set', fields: { i } } },
      ])
      await Promise.all(
        clients.map(async (c) => {
          const until = Date.now() + 30_000
          while ((await c.query('SELECT 1 FROM gkm_personas WHERE id = $1', [id])).rows.length === 0) {
            if (Date.now() > until) throw new Error(`row ${id} not there after 30 s`)
            await new Promise((r) => setTimeout(r, 2))
          }
          lat.push(performance.now() - t0)
        }),
      )
    }
    lat.sort((a, b) => a - b)
    const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]
    const res = { samples: lat.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: lat[lat.length - 1] }
    console.log(
      `write on node 0 -> row in node 1/2 Postgres: p50 ${res.p50.toFixed(1)} ms, p90 ${res.p90.toFixed(1)}, p99 ${res.p99.toFixed(1)}, max ${res.max.toFixed(1)} (${res.samples} samples)`,
    )
    return res
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})))
    await mesh.close()
    await Promise.all(servers.map((s) => s.stop()))
  }
}

async function vectors() {
  const N = Number(process.env.BENCH_VECTORS ?? 10_000)
  const DIMS = 768
  const dirs = await Promise.all([0, 1, 2].map(() => mkdtemp(join(tmpdir(), 'gkm-bench-lance-'))))
  const mesh = emptyMesh()
  try {
    for (let i = 0; i < 3; i++) await mesh.create()
    for (const [i, n] of mesh.nodes.entries()) {
      n.configure({
        bootstrap: i === 0 ? [] : [mesh.nodes[0].addr()],
        values: { sinks: [{ kind: 'lancedb', target: dirs[i] }] },
      })
      await n.start()
    }
    await waitForPeers(mesh.nodes.slice(1), 1, 30_000)
    const r = rng(7)
    // CPU time of the whole sync, whatever the machine's load: the main thread (3 nodes and 3
    // sinks share it) and the process (signing and verifying workers, LanceDB's threads, I/O).
    const thread0 = process.threadCpuUsage()
    const proc0 = process.cpuUsage()
    const t0 = performance.now()
    const since = () => (performance.now() - t0) / 1000
    let rssMax = process.memoryUsage().rss
    const milestones: Record<string, number> = {}
    // A line every 30 s: how far each node's log and each node's sink are, and the RSS.
    const progress = setInterval(() => {
      void (async () => {
        const rss = process.memoryUsage().rss
        rssMax = Math.max(rssMax, rss)
        const at = await Promise.all(
          mesh.nodes.map(
            async (n) => `${await n.node.feed.lastSeq()}/${n.node.sinks.status()[0].checkpoint}`,
          ),
        )
        console.log(
          `  ${since().toFixed(0)} s: log/sink per node ${at.join(' ')}; rss ${(rss / 2 ** 20).toFixed(0)} MiB; load ${loadavg()[0].toFixed(1)}`,
        )
      })().catch(() => {})
    }, 30_000)
    progress.unref()
    try {
      // Local writes through the node's API (what POST /sync/push calls), 500 at a time: no
      // HTTP client timeout to trip over on a loaded machine.
      for (let i = 0; i < N; i += 500) {
        const res = await mesh.nodes[0].node.api.push(
          Array.from({ length: Math.min(500, N - i) }, (_, k) => ({
            event_type: 'vector_update',
            target_id: `v${i + k}`,
            payload: { op: 'upsert', values: vec(r, DIMS) },
          })),
          LOCAL,
        )
        if (res.rejected.length > 0) throw new Error(JSON.stringify(res.rejected[0]))
      }
      milestones.writtenOnNode0 = since()
      const head = await mesh.nodes[0].node.feed.lastSeq()
      const timeoutMs = Number(process.env.BENCH_VECTORS_TIMEOUT_S ?? 3600) * 1000
      await waitFor(
        `${N} vectors in every node's log`,
        async () => {
          for (const n of mesh.nodes) if ((await n.node.feed.lastSeq()) < head) return false
          return true
        },
        timeoutMs,
      )
      milestones.inEveryLog = since()
      await waitFor(
        `${N} vectors in every node's LanceDB`,
        async () => mesh.nodes.every((n) => n.node.sinks.status()[0].checkpoint >= head),
        timeoutMs,
      )
      milestones.inEveryStore = since()
    } finally {
      clearInterval(progress)
    }
    const threadCpu = process.threadCpuUsage(thread0)
    const procCpu = process.cpuUsage(proc0)
    const cpuMsPerVector = {
      mainThread: (threadCpu.user + threadCpu.system) / 1000 / N,
      process: (procCpu.user + procCpu.system) / 1000 / N,
    }
    rssMax = Math.max(rssMax, process.memoryUsage().rss)
    const stored = await Promise.all(
      mesh.nodes.map((n) => (n.node.sinks.runners[0].sink as LanceDbSink).size()),
    )
    if (stored.some((c) => c !== N))
      throw new Error(`vectors stored per node: ${stored.join(', ')}, not ${N}`)
    const syncMs = performance.now() - t0
    const q = rng(99)
    const queries = Array.from({ length: 100 }, () => vec(q, DIMS))
    let same = 0
    const qt0 = performance.now()
    for (const query of queries) {
      const answers = await Promise.all(
        mesh.nodes.map((n) =>
          (n.node.sinks.runners[0].sink as LanceDbSink)
            .nearest(query, 10)
            .then((a) => a.map((x) => x.id).join(',')),
        ),
      )
      rssMax = Math.max(rssMax, process.memoryUsage().rss)
      if (answers.every((a) => a === answers[0] && a.split(',').length === 10)) same++
      else if (same === 0) console.log(`  differing answers: ${answers.join(' | ')}`)
    }
    const queryMs = (performance.now() - qt0) / (queries.length * 3)
    const res = {
      vectors: N,
      dims: DIMS,
      nodes: 3,
      syncSeconds: syncMs / 1000,
      milestonesSeconds: milestones,
      storedPerNode: stored,
      rssMaxMiB: Math.round(rssMax / 2 ** 20),
      cpuMsPerVector,
      load: loadavg()[0],
      queries: 100,
      identicalAnswers: same,
      msPerQuery: queryMs,
    }
    console.log(
      `${fmt(N)} vectors of ${DIMS} dims into 3 nodes' LanceDB: ${res.syncSeconds.toFixed(1)} s from first write to the last sink caught up (all written on node 0 at ${milestones.writtenOnNode0.toFixed(1)} s, in every log at ${milestones.inEveryLog.toFixed(1)} s); ${stored.join('/')} vectors per node; max RSS ${res.rssMaxMiB} MiB (3 nodes + 3 stores, one process, queries included); CPU per vector ${cpuMsPerVector.mainThread.toFixed(2)} ms on the main thread, ${cpuMsPerVector.process.toFixed(2)} ms in the process; identical 10-NN answers on every node for ${same}/100 queries (${queryMs.toFixed(1)} ms per exact query)`,
    )
    return res
  } finally {
    await mesh.close()
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  }
}

const file = new URL('./results-adapters.json', import.meta.url)
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  loadAtStart: loadavg()[0],
}
if (want('throughput')) results.throughput = await throughput()
if (want('latency')) results.latency = await latency()
if (want('vectors')) results[`vectors${process.env.BENCH_VECTORS ?? ''}`] = await vectors()
// Read again at the end: another scenario run meanwhile keeps its results.
const before = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {}
writeFileSync(file, `${JSON.stringify({ ...before, ...results }, null, 2)}\n`)
console.log('wrote bench/results-adapters.json')
