/**
 * Propagation benchmark with REAL nodes (the default mode of bench/propagation.ts): each node is
 * its own process running `startNode` (LevelDB with group commit, the engine with its crypto
 * workers, HTTP, the libp2p mesh) on loopback, mDNS off, bootstrap lists
 * (bench/propagation-real-node.ts). This process is the client: it writes over HTTP and watches
 * every node's change feed (`GET /changes`, server-sent events).
 *
 * latency:   N nodes (node i bootstrapped to up to 3 random earlier nodes, seeded), one writer
 *            pushing `rate` events/s (one event per POST /sync/push, paced by the clock, not by
 *            answers) to node 0 for `seconds`, after a warm-up at the same rate. Each event
 *            carries its send time in its payload. For every (event, other node): the time from
 *            the send to its arrival in that node's change feed ("send → node"), and from its
 *            arrival in the writer's own feed (the durable local write) to the other node's
 *            ("writer commit → node"); per event, the time until the last node has it ("reached
 *            all"). p50 / p90 / p99 / max per run, then median and range over runs.
 * sustained: N nodes, `rate` events/s to node 0 in pushes of `batch` events for `seconds`. Every
 *            node samples RSS, its write queue (`status().ingest_queue`), the mesh's ingest
 *            queue and its event count every second. The client watches the feeds of the writer
 *            and of the last node only (parsing 5 feeds at 1,000 events/s would make the client
 *            the bottleneck on 2 cores); delivery to every node is checked by event counts.
 *
 * Times are measured in this process (one clock). Every child is stopped by PID at the end, also
 * on failure; every phase has a deadline, so a run always ends.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { NODE_ENV, NODE_FLAGS } from '../src/cli/runtime-flags.ts'
import { prng } from './prng.ts'
import type { RealSample } from './propagation-real-node.ts'
import { benchNodeFlags, summarize } from './stats.ts'

const NODE_SCRIPT = fileURLToPath(new URL('./propagation-real-node.ts', import.meta.url))
const now = () => performance.now()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** Requests the writer keeps in flight at most; beyond it the writer falls behind its schedule.
 *  Below the node's HTTP connection cap (256, src/http/constants.ts CONNECTIONS_MAX) with room
 *  for the change-feed readers: at 256 a slow node refused the extra connections (ECONNRESET). */
const WRITER_IN_FLIGHT_MAX = 128
/** After the last write, how long arrivals are waited for. */
const DRAIN_MS = 15_000

export interface Percentiles {
  n: number
  p50: number
  p90: number
  p99: number
  max: number
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

function percentiles(xs: number[]): Percentiles {
  const s = [...xs].sort((a, b) => a - b)
  const r = (v: number) => Math.round(v * 100) / 100
  return {
    n: s.length,
    p50: r(pct(s, 50)),
    p90: r(pct(s, 90)),
    p99: r(pct(s, 99)),
    max: r(s[s.length - 1] ?? Number.NaN),
  }
}

/** Sent bytes per event summed over the nodes, per protocol, largest first. */
function byProtocol(rep: readonly Report[], events: number): Record<string, number> {
  const sum = new Map<string, number>()
  for (const r of rep)
    for (const [k, v] of Object.entries(r.sentByProtocol ?? {})) sum.set(k, (sum.get(k) ?? 0) + v)
  return Object.fromEntries(
    [...sum]
      .map(([k, v]) => [k, Math.round(v / events)] as const)
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1]),
  )
}

// ---------------------------------------------------------------------------------- children

interface Report {
  samples: RealSample[]
  /** Bytes the node sent on its mesh connections during the measured phase, and per protocol. */
  sentBytes: number
  sentByProtocol: Record<string, number>
  /** Group commits (one synced batch each) the node made during the measured phase. */
  commitGroups?: number
  cpuMs: number
  /** Of which in the kernel (fsync, sockets). */
  cpuSystemMs: number
  /** CPU ms per thread (name) during the measured phase (Linux only). */
  threads?: Record<string, number>
  elu: number
  stats: Record<string, number>
}

interface Child {
  proc: ChildProcess
  dir: string
  peerId: string
  addr: string
  url: string
  next<T>(key: string, timeoutMs?: number): Promise<T>
}

async function spawnNode(bootstrap: string[], maxMs: number): Promise<Child> {
  // The data directory is made and removed here, so it goes also when a child is killed.
  const dir = await mkdtemp(join(tmpdir(), 'gkm-bench-real-'))
  const proc = fork(
    NODE_SCRIPT,
    ['--data-dir', dir, '--max-ms', String(maxMs), ...bootstrap.flatMap((b) => ['--bootstrap', b])],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execPath: process.execPath,
      // The runtime flags and environment of `npm start` (src/cli/runtime-flags.ts), then
      // BENCH_PROF_DIR / BENCH_NODE_FLAGS (benchNodeFlags).
      execArgv: [...NODE_FLAGS, ...benchNodeFlags()],
      env: { ...process.env, ...NODE_ENV },
    },
  )
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
      const onExit = (code: number | null) =>
        reject(new Error(`node exited (${code}) while waiting for ${key}`))
      proc.once('exit', onExit)
      waiting.set(key, (v) => {
        clearTimeout(t)
        proc.off('exit', onExit)
        waiting.delete(key)
        resolve(v as T)
      })
    })
  try {
    const ready = await next<{ peerId: string; addr: string; url: string }>('ready')
    return { proc, dir, ...ready, next }
  } catch (err) {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
      const exited = new Promise((r) => proc.once('exit', r))
      proc.kill('SIGKILL')
      await exited
    }
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}

function stopAll(nodes: Child[]): Promise<void> {
  return Promise.all(
    nodes.map(
      (c) =>
        new Promise<void>((resolve) => {
          const done = () => void rm(c.dir, { recursive: true, force: true }).finally(resolve)
          if (c.proc.exitCode !== null || c.proc.signalCode !== null) return done()
          // a node with a backlog may take a while to stop; then it is killed
          const kill = setTimeout(() => {
            if (c.proc.pid !== undefined) c.proc.kill('SIGKILL')
          }, 15_000)
          c.proc.once('exit', () => {
            clearTimeout(kill)
            done()
          })
          if (c.proc.connected) c.proc.send({ stop: true })
          else if (c.proc.pid !== undefined) c.proc.kill('SIGTERM')
        }),
    ),
  ).then(() => {})
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`)
  return (await res.json()) as T
}

/** Starts `n` nodes; node i dials up to 3 random earlier nodes. Waits until every node is
 *  connected to all it dialled (and node 0 to at least one). */
async function startNodes(n: number, seed: number, maxMs: number): Promise<Child[]> {
  const rnd = prng(seed)
  const nodes: Child[] = []
  const dialled: number[] = []
  try {
    for (let i = 0; i < n; i++) {
      const bootstrap: string[] = []
      while (bootstrap.length < Math.min(3, nodes.length)) {
        const pick = nodes[Math.floor(rnd() * nodes.length)].addr
        if (!bootstrap.includes(pick)) bootstrap.push(pick)
      }
      dialled.push(Math.max(1, bootstrap.length))
      nodes.push(await spawnNode(bootstrap, maxMs))
    }
    const until = now() + 60_000
    for (;;) {
      const counts = await Promise.all(
        nodes.map(
          async (c) =>
            (await getJson<{ peers: Array<{ connected: boolean }> }>(`${c.url}/peers`)).peers.filter(
              (p) => p.connected,
            ).length,
        ),
      )
      if (counts.every((k, i) => k >= dialled[i])) break
      if (now() > until) throw new Error(`mesh did not form within 60 s: connected ${counts.join(',')}`)
      await sleep(200)
    }
  } catch (err) {
    await stopAll(nodes)
    throw err
  }
  return nodes
}

// ---------------------------------------------------------------------------- change feeds

/** Follows one node's `GET /changes` (SSE) and calls `onEvent(payload.fields, arrivalMs)` for
 *  every persona event of this benchmark. Reconnects after an overflow with its last id. */
class Feed {
  #abort = new AbortController()
  #lastId: number
  #done: Promise<void>
  #closed = false
  overflows = 0
  readonly url: string
  readonly onEvent: (fields: Record<string, unknown>, at: number) => void

  constructor(url: string, after: number, onEvent: (fields: Record<string, unknown>, at: number) => void) {
    this.url = url
    this.onEvent = onEvent
    this.#lastId = after
    this.#done = this.#run()
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      try {
        const res = await fetch(`${this.url}/changes?after=${this.#lastId}`, { signal: this.#abort.signal })
        const reader = (res.body as ReadableStream<Uint8Array>)
          .pipeThrough(new TextDecoderStream())
          .getReader()
        let buf = ''
        for (;;) {
          const { value, done } = await reader.read()
          if (done) break
          const at = now()
          buf += value
          let nl = buf.indexOf('\n\n')
          while (nl >= 0) {
            const frame = buf.slice(0, nl)
            buf = buf.slice(nl + 2)
            nl = buf.indexOf('\n\n')
            let id: number | undefined
            let data: string | undefined
            for (const line of frame.split('\n')) {
              if (line.startsWith('id: ')) id = Number(line.slice(4))
              else if (line.startsWith('data: ')) data = line.slice(6)
              else if (line.startsWith('event: overflow')) this.overflows++
            }
            if (id !== undefined) this.#lastId = id
            if (data === undefined || id === undefined) continue
            const ev = JSON.parse(data) as {
              event: { event_type: string; payload: { fields?: Record<string, unknown> } }
            }
            const fields = ev.event.payload.fields
            if (fields !== undefined) this.onEvent(fields, at)
          }
        }
      } catch (err) {
        if (this.#closed) return
        if ((err as Error).name !== 'AbortError') await sleep(100)
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#abort.abort()
    await this.#done.catch(() => {})
  }
}

// -------------------------------------------------------------------------------- the writer

interface WriteResult {
  sent: Float64Array
  acked: Float64Array
  failed: number
  /** Sends that left later than 5 ms after their scheduled time (the client could not keep up). */
  late: number
}

/**
 * Pushes `total` events to `url` at `rate`/s in pushes of `batch`, paced by the clock (a slow
 * answer does not delay the next send, up to WRITER_IN_FLIGHT_MAX requests in flight).
 */
async function write(
  url: string | readonly string[],
  run: string,
  phase: string,
  rate: number,
  total: number,
  batch: number,
): Promise<WriteResult> {
  const sent = new Float64Array(total).fill(Number.NaN)
  const acked = new Float64Array(total).fill(Number.NaN)
  let failed = 0
  let late = 0
  let inFlight = 0
  const pending = new Set<Promise<void>>()
  const t0 = now() + 100
  for (let k = 0; k < total; k += batch) {
    const due = t0 + (k * 1000) / rate
    const wait = due - now()
    if (wait > 1) await sleep(wait)
    while (inFlight >= WRITER_IN_FLIGHT_MAX) await Promise.race(pending)
    if (now() - due > 5) late++
    const ks = Array.from({ length: Math.min(batch, total - k) }, (_, j) => k + j)
    const at = now()
    const body = ks.map((i) => ({
      event_type: 'persona_update',
      target_id: `bench-${i % 256}`,
      payload: { op: 'set', fields: { bench: run, phase, k: i, sent: Math.round(at * 1000) / 1000 } },
    }))
    for (const i of ks) sent[i] = at
    inFlight++
    const p = fetch(`${writerOf(url, k, batch)}/sync/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    })
      .then(async (res) => {
        const r = (await res.json()) as { accepted?: number }
        if (res.status !== 200 || r.accepted !== ks.length) {
          failed += ks.length
          // The first failure says why (the rest are counted).
          if (failed === ks.length)
            console.error(`write failed: ${res.status} ${JSON.stringify(r).slice(0, 300)}`)
        }
        const t = now()
        for (const i of ks) acked[i] = t
      })
      .catch((err) => {
        failed += ks.length
        if (failed === ks.length) console.error(`write failed: ${(err as Error)?.cause ?? err}`)
      })
      .finally(() => {
        inFlight--
        pending.delete(p)
      })
    pending.add(p)
  }
  await Promise.all(pending)
  return { sent, acked, failed, late }
}

/** The node a push of events starting at `k` goes to: round-robin over the writers. */
function writerOf(urls: string | readonly string[], k: number, batch: number): string {
  return typeof urls === 'string' ? urls : urls[Math.floor(k / batch) % urls.length]
}

/** Arrival time per event (index k) per watched node; NaN until it arrives. */
function arrivalTable(nodes: number, total: number): Float64Array[] {
  return Array.from({ length: nodes }, () => new Float64Array(total).fill(Number.NaN))
}

async function watch(urls: string[], run: string, phase: string, table: Float64Array[]): Promise<Feed[]> {
  const feeds: Feed[] = []
  for (const [i, url] of urls.entries()) {
    const { last_seq } = await getJson<{ last_seq: number }>(`${url}/status`)
    feeds.push(
      new Feed(url, last_seq, (f, at) => {
        if (f.bench !== run || f.phase !== phase) return
        const k = f.k as number
        if (k >= 0 && k < table[i].length && Number.isNaN(table[i][k])) table[i][k] = at
      }),
    )
  }
  return feeds
}

async function waitArrivals(table: Float64Array[], deadlineMs: number): Promise<void> {
  const until = now() + deadlineMs
  while (now() < until && table.some((t) => t.some((x) => Number.isNaN(x)))) await sleep(100)
}

async function reports(nodes: Child[]): Promise<Report[]> {
  return Promise.all(
    nodes.map((c) => {
      const r = c.next<Report>('report')
      c.proc.send({ report: true })
      return r
    }),
  )
}

// ---------------------------------------------------------------------------------- latency

export interface LatencyRun {
  events: number
  /** Share of (event, other node) pairs that arrived within DRAIN_MS after the last write. */
  delivered: number
  write_failed: number
  writer_late_sends: number
  /** POST /sync/push answered (durable on the writer), from the send. */
  ack_ms: Percentiles
  /** Send (HTTP request) → the event in another node's change feed. */
  send_to_node_ms: Percentiles
  /** The event in the writer's change feed (committed there) → in another node's feed. */
  commit_to_node_ms: Percentiles
  /** Send → the event in the LAST node's feed (per event). */
  reached_all_ms: Percentiles
  /** CPU of all node processes per event per node (ms), and each node's event-loop busy share. */
  cpu_ms_per_event_per_node: number
  /** Share of that CPU spent in the kernel (fsync, sockets). */
  cpu_system_share: number
  /** That CPU by thread (main, libuv pool, crypto workers, V8 threads), ms per event per node. */
  cpu_ms_per_event_per_node_by_thread: Record<string, number>
  /** Group commits (synced batches) per event written, all nodes together. */
  commits_per_event: number
  /** Bytes sent on the mesh by all nodes together, per event written; and per protocol. */
  wire_bytes_per_event: number
  wire_bytes_per_event_by_protocol: Record<string, number>
  elu: number[]
  feed_overflows: number
  /** Mesh counters summed over the nodes, per event written (direct.*, gossip.accepted_events, reconcile). */
  counters_per_event: Record<string, number>
}

/** CPU per event per node by thread name, largest first (threads under 0.01 ms left out). */
function byThread(rep: readonly Report[], events: number): Record<string, number> {
  const sum = new Map<string, number>()
  for (const r of rep) for (const [k, v] of Object.entries(r.threads ?? {})) sum.set(k, (sum.get(k) ?? 0) + v)
  return Object.fromEntries(
    [...sum]
      .map(([k, v]) => [k, Math.round((v / events / rep.length) * 1000) / 1000] as const)
      .filter(([, v]) => v >= 0.01)
      .sort((a, b) => b[1] - a[1]),
  )
}

/** Counters of every node summed, per event written: how events travelled. */
function countersPerEvent(rep: readonly Report[], events: number): Record<string, number> {
  const sum = new Map<string, number>()
  for (const r of rep)
    for (const [k, v] of Object.entries(r.stats ?? {}))
      if (/^direct\.|^gossip\.(accepted_events|published_events|ignore|accept)$|^reconcile\.accepted/.test(k))
        sum.set(k, (sum.get(k) ?? 0) + v)
  return Object.fromEntries([...sum].sort().map(([k, v]) => [k, Math.round((v / events) * 100) / 100]))
}

export interface LatencyResult {
  nodes: number
  writers: number
  rate: number
  seconds: number
  warmup_seconds: number
  runs: LatencyRun[]
  summary: {
    send_to_node_p50_ms: ReturnType<typeof summarize>
    send_to_node_p99_ms: ReturnType<typeof summarize>
    commit_to_node_p50_ms: ReturnType<typeof summarize>
    commit_to_node_p99_ms: ReturnType<typeof summarize>
    reached_all_p99_ms: ReturnType<typeof summarize>
    delivered: ReturnType<typeof summarize>
    cpu_ms_per_event_per_node: ReturnType<typeof summarize>
    wire_bytes_per_event: ReturnType<typeof summarize>
  }
}

export interface LatencyOptions {
  nodes: number
  /** Writes go round-robin to nodes 0 .. writers-1 (default 1: node 0 only). */
  writers?: number
  rate: number
  seconds: number
  warmup: number
  runs: number
  seed: number
  log?: (line: string) => void
}

export async function realLatency(o: LatencyOptions): Promise<LatencyResult> {
  const log = o.log ?? console.log
  const runs: LatencyRun[] = []
  const writers = Math.max(1, Math.min(o.nodes, o.writers ?? 1))
  log(
    `## latency (real nodes): ${o.nodes} nodes, writer → ${writers === 1 ? 'node 0' : `nodes 0..${writers - 1} in turn`} at ${o.rate} events/s in total for ${o.seconds} s (warm-up ${o.warmup} s), ${o.runs} runs, seed ${o.seed}`,
  )
  for (let r = 0; r < o.runs; r++) {
    const nodes = await startNodes(o.nodes, o.seed + r, (o.seconds + o.warmup + 180) * 1000)
    const urls = nodes.slice(0, writers).map((c) => c.url)
    const feeds: Feed[] = []
    try {
      const run = randomUUID().slice(0, 8)
      if (o.warmup > 0) {
        const w = await write(urls, run, 'warmup', o.rate, Math.round(o.rate * o.warmup), 1)
        if (w.failed > 0) throw new Error(`warm-up: ${w.failed} writes failed`)
        await sleep(1_000)
      }
      const total = Math.round(o.rate * o.seconds)
      const table = arrivalTable(nodes.length, total)
      feeds.push(
        ...(await watch(
          nodes.map((c) => c.url),
          run,
          'm',
          table,
        )),
      )
      for (const c of nodes) c.proc.send({ reset: true })
      const w = await write(urls, run, 'm', o.rate, total, 1)
      await waitArrivals(table, DRAIN_MS)
      const rep = await reports(nodes)
      const ack: number[] = []
      const sendTo: number[] = []
      const commitTo: number[] = []
      const all: number[] = []
      let expected = 0
      let got = 0
      for (let k = 0; k < total; k++) {
        if (!Number.isNaN(w.acked[k])) ack.push(w.acked[k] - w.sent[k])
        const writer = k % writers
        const commit = table[writer][k]
        let last = 0
        let complete = true
        for (let i = 0; i < nodes.length; i++) {
          if (i === writer) continue
          expected++
          const t = table[i][k]
          if (Number.isNaN(t)) {
            complete = false
            continue
          }
          got++
          sendTo.push(t - w.sent[k])
          if (!Number.isNaN(commit)) commitTo.push(t - commit)
          last = Math.max(last, t - w.sent[k])
        }
        if (complete) all.push(last)
      }
      const cpu = rep.reduce((a, x) => a + x.cpuMs, 0)
      const one: LatencyRun = {
        events: total,
        delivered: got / Math.max(1, expected),
        write_failed: w.failed,
        writer_late_sends: w.late,
        ack_ms: percentiles(ack),
        send_to_node_ms: percentiles(sendTo),
        commit_to_node_ms: percentiles(commitTo),
        reached_all_ms: percentiles(all),
        cpu_ms_per_event_per_node: Math.round((cpu / total / nodes.length) * 1000) / 1000,
        cpu_system_share:
          Math.round((rep.reduce((a, x) => a + x.cpuSystemMs, 0) / Math.max(1, cpu)) * 100) / 100,
        cpu_ms_per_event_per_node_by_thread: byThread(rep, total),
        commits_per_event:
          Math.round((rep.reduce((a, x) => a + (x.commitGroups ?? 0), 0) / total) * 100) / 100,
        wire_bytes_per_event: Math.round(rep.reduce((a, x) => a + x.sentBytes, 0) / total),
        wire_bytes_per_event_by_protocol: byProtocol(rep, total),
        elu: rep.map((x) => Math.round(x.elu * 100) / 100),
        feed_overflows: feeds.reduce((a, f) => a + f.overflows, 0),
        counters_per_event: countersPerEvent(rep, total),
      }
      runs.push(one)
      log(
        `run ${r + 1}: ${total} events, delivered ${(one.delivered * 100).toFixed(2)} %; ack p50 ${one.ack_ms.p50} ms; ` +
          `send→node p50 ${one.send_to_node_ms.p50} p90 ${one.send_to_node_ms.p90} p99 ${one.send_to_node_ms.p99} max ${one.send_to_node_ms.max} ms; ` +
          `commit→node p50 ${one.commit_to_node_ms.p50} p99 ${one.commit_to_node_ms.p99} ms; reached all p50 ${one.reached_all_ms.p50} p99 ${one.reached_all_ms.p99} ms; ` +
          `CPU ${one.cpu_ms_per_event_per_node} ms/event/node (${Math.round(one.cpu_system_share * 100)} % kernel; by thread ${Object.entries(
            one.cpu_ms_per_event_per_node_by_thread,
          )
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}), group commits per event (all nodes) ${one.commits_per_event}, ` +
          `wire ${one.wire_bytes_per_event} B/event (all nodes: ${Object.entries(
            one.wire_bytes_per_event_by_protocol,
          )
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}), event loops busy ${one.elu.map((x) => Math.round(x * 100)).join('/')} %` +
          (w.failed > 0 || w.late > 0 ? `; writer: ${w.failed} failed, ${w.late} late sends` : '') +
          `; per event, all nodes: ${Object.entries(one.counters_per_event)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
      )
    } finally {
      await Promise.all(feeds.map((f) => f.close()))
      await stopAll(nodes)
    }
  }
  const s = (f: (x: LatencyRun) => number) => summarize(runs.map(f))
  const summary = {
    send_to_node_p50_ms: s((x) => x.send_to_node_ms.p50),
    send_to_node_p99_ms: s((x) => x.send_to_node_ms.p99),
    commit_to_node_p50_ms: s((x) => x.commit_to_node_ms.p50),
    commit_to_node_p99_ms: s((x) => x.commit_to_node_ms.p99),
    reached_all_p99_ms: s((x) => x.reached_all_ms.p99),
    delivered: s((x) => x.delivered),
    cpu_ms_per_event_per_node: s((x) => x.cpu_ms_per_event_per_node),
    wire_bytes_per_event: s((x) => x.wire_bytes_per_event),
  }
  const show = (label: string, v: ReturnType<typeof summarize>) =>
    log(
      `${label}: median ${v.median.toFixed(1)} ms (range ${v.min.toFixed(1)} .. ${v.max.toFixed(1)}, ${v.runs} runs)`,
    )
  show('send → other node p50', summary.send_to_node_p50_ms)
  show('send → other node p99', summary.send_to_node_p99_ms)
  show('writer commit → other node p50', summary.commit_to_node_p50_ms)
  show('writer commit → other node p99', summary.commit_to_node_p99_ms)
  show('reached all p99', summary.reached_all_p99_ms)
  const plain = (label: string, v: ReturnType<typeof summarize>, unit: string) =>
    log(`${label}: median ${v.median} ${unit} (range ${v.min} .. ${v.max}, ${v.runs} runs)`)
  plain('CPU per event per node', summary.cpu_ms_per_event_per_node, 'ms')
  plain('wire bytes per event, all nodes', summary.wire_bytes_per_event, 'B')
  return {
    nodes: o.nodes,
    writers,
    rate: o.rate,
    seconds: o.seconds,
    warmup_seconds: o.warmup,
    runs,
    summary,
  }
}

// -------------------------------------------------------------------------------- sustained

export interface NodeSeries {
  /** RSS at the start of the measured phase, at its quarters, at the end, and the largest. */
  rss_mb: { start: number; q1: number; q2: number; q3: number; end: number; max: number }
  heap_mb: { start: number; end: number; max: number }
  ingest_queue: { start: number; end: number; max: number }
  mesh_ingest_max: number
  /** Events behind the writer (writer's count − this node's) at each sample: max and last. */
  behind_max: number
  behind_end: number
  events_end: number
}

export interface SustainedResult {
  nodes: number
  rate: number
  batch: number
  seconds: number
  written: number
  write_failed: number
  writer_late_sends: number
  /** Time after the last write until every node held every event (ms), or null if not within DRAIN_MS. */
  all_nodes_complete_after_ms: number | null
  /** Send → the last node's change feed. */
  send_to_last_node_ms: Percentiles
  ack_ms: Percentiles
  per_node: NodeSeries[]
}

export interface SustainedOptions {
  nodes: number
  rate: number
  seconds: number
  batch: number
  warmup: number
  seed: number
  log?: (line: string) => void
}

export async function realSustained(o: SustainedOptions): Promise<SustainedResult> {
  const log = o.log ?? console.log
  log(
    `## sustained (real nodes): ${o.nodes} nodes, writer → node 0 at ${o.rate} events/s in pushes of ${o.batch} for ${o.seconds} s (warm-up ${o.warmup} s), seed ${o.seed}`,
  )
  const nodes = await startNodes(o.nodes, o.seed, (o.seconds + o.warmup + 180) * 1000)
  const feeds: Feed[] = []
  try {
    const run = randomUUID().slice(0, 8)
    if (o.warmup > 0) {
      await write(nodes[0].url, run, 'warmup', o.rate, Math.round(o.rate * o.warmup), o.batch)
      await sleep(2_000)
    }
    const total = Math.round(o.rate * o.seconds)
    const table = arrivalTable(2, total)
    feeds.push(...(await watch([nodes[0].url, nodes[nodes.length - 1].url], run, 'm', table)))
    const base = await Promise.all(nodes.map((c) => getJson<{ events: number }>(`${c.url}/status`)))
    const target = base[0].events + total
    for (const c of nodes) c.proc.send({ reset: true })
    const w = await write(nodes[0].url, run, 'm', o.rate, total, o.batch)
    const tEnd = now()
    let completeAfter: number | null = null
    const until = tEnd + DRAIN_MS
    while (now() < until) {
      const st = await Promise.all(nodes.map((c) => getJson<{ events: number }>(`${c.url}/status`)))
      if (st.every((x) => x.events >= target)) {
        completeAfter = Math.round(now() - tEnd)
        break
      }
      await sleep(100)
    }
    await sleep(1_500) // one more sample of every node after the end
    const rep = await reports(nodes)
    const writerSamples = rep[0].samples
    const behindAt = (at: number) => {
      // the writer's count at the sample closest in time
      let best = writerSamples[0]
      for (const s of writerSamples) if (Math.abs(s.at - at) < Math.abs(best.at - at)) best = s
      return best?.events ?? 0
    }
    const perNode: NodeSeries[] = rep.map((r) => {
      const s = r.samples
      const behind = s.map((x) => Math.max(0, behindAt(x.at) - x.events))
      return {
        rss_mb: {
          start: Math.round(s[0]?.rssMb ?? 0),
          q1: Math.round(s[Math.floor(s.length / 4)]?.rssMb ?? 0),
          q2: Math.round(s[Math.floor(s.length / 2)]?.rssMb ?? 0),
          q3: Math.round(s[Math.floor((3 * s.length) / 4)]?.rssMb ?? 0),
          end: Math.round(s[s.length - 1]?.rssMb ?? 0),
          max: Math.round(Math.max(...s.map((x) => x.rssMb))),
        },
        heap_mb: {
          start: Math.round(s[0]?.heapMb ?? 0),
          end: Math.round(s[s.length - 1]?.heapMb ?? 0),
          max: Math.round(Math.max(...s.map((x) => x.heapMb))),
        },
        ingest_queue: {
          start: s[0]?.ingestQueue ?? 0,
          end: s[s.length - 1]?.ingestQueue ?? 0,
          max: Math.max(...s.map((x) => x.ingestQueue)),
        },
        mesh_ingest_max: Math.max(...s.map((x) => x.meshIngest)),
        behind_max: Math.max(...behind),
        behind_end: behind[behind.length - 1] ?? 0,
        events_end: s[s.length - 1]?.events ?? 0,
      }
    })
    const ack: number[] = []
    const toLast: number[] = []
    for (let k = 0; k < total; k++) {
      if (!Number.isNaN(w.acked[k])) ack.push(w.acked[k] - w.sent[k])
      if (!Number.isNaN(table[1][k])) toLast.push(table[1][k] - w.sent[k])
    }
    const result: SustainedResult = {
      nodes: o.nodes,
      rate: o.rate,
      batch: o.batch,
      seconds: o.seconds,
      written: total,
      write_failed: w.failed,
      writer_late_sends: w.late,
      all_nodes_complete_after_ms: completeAfter,
      send_to_last_node_ms: percentiles(toLast),
      ack_ms: percentiles(ack),
      per_node: perNode,
    }
    log(
      `${total} events written (${w.failed} failed, ${w.late} late sends); every node complete ${completeAfter === null ? `NOT within ${DRAIN_MS} ms` : `${completeAfter} ms`} after the last write; ` +
        `ack p50 ${result.ack_ms.p50} p99 ${result.ack_ms.p99} ms; send → last node p50 ${result.send_to_last_node_ms.p50} p99 ${result.send_to_last_node_ms.p99} max ${result.send_to_last_node_ms.max} ms (${toLast.length} seen)`,
    )
    for (const [i, x] of perNode.entries())
      log(
        `node ${i}: RSS ${x.rss_mb.start} → ${x.rss_mb.q1} → ${x.rss_mb.q2} → ${x.rss_mb.q3} → ${x.rss_mb.end} MB (max ${x.rss_mb.max}), heap ${x.heap_mb.start} → ${x.heap_mb.end} MB; ingest_queue ${x.ingest_queue.start} → ${x.ingest_queue.end} (max ${x.ingest_queue.max}); ` +
          `mesh ingest max ${x.mesh_ingest_max}; behind the writer max ${x.behind_max}, at end ${x.behind_end}`,
      )
    return result
  } finally {
    await Promise.all(feeds.map((f) => f.close()))
    await stopAll(nodes)
  }
}
