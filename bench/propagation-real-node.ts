/**
 * One REAL node of bench/propagation-real.ts, in its own process (forked with an IPC channel):
 * `startNode` with LevelDB, the engine, HTTP on 127.0.0.1:0 and the libp2p mesh on
 * /ip4/127.0.0.1/tcp/0, mDNS OFF, dialling the bootstrap addresses given in argv.
 *
 *   -> { ready: { peerId, addr, url } }            once serving
 *   <- { reset: true }                             start of the measured phase: samples and CPU
 *                                                  are counted from here
 *   <- { report: true } -> { report: { samples, sentBytes, sentByProtocol, cpuMs, elu, stats } }
 *   <- { stop: true }                              stop, remove the data directory, exit
 *
 * Every second it samples RSS, heap, the node's write queue (`status().ingest_queue`), the
 * mesh's gossip ingest queue and its event count. Bounded: exits by itself after --max-ms, and
 * when the parent goes away.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { loadConfig } from '../src/config/index.ts'
import type { GkmNetwork } from '../src/net/index.ts'
import { startNode } from '../src/node/index.ts'

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    bootstrap: { type: 'string', multiple: true, default: [] },
    'max-ms': { type: 'string', default: '600000' },
  },
})
const wall = () => performance.timeOrigin + performance.now()
const send = (m: unknown) => process.send?.(m)

export interface RealSample {
  at: number
  rssMb: number
  heapMb: number
  /** The node's write queue: events accepted for the next group commits (status().ingest_queue). */
  ingestQueue: number
  /** Validated gossip events waiting for the node (the mesh's ingest queue). */
  meshIngest: number
  events: number
}

// The parent makes the directory (and removes it, also after a kill); alone, a temp dir.
const dir = values['data-dir'] ?? (await mkdtemp(join(tmpdir(), 'gkm-bench-real-')))
const config = loadConfig({
  env: {},
  flags: {
    dataDir: dir,
    http: '127.0.0.1:0',
    mesh: true,
    mdns: false,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: values.bootstrap as string[],
  },
})
const env = process.env
const node = await startNode(
  // BENCH_DIRECT_PEERS_MAX: the fan-out threshold (0 = gossip only; docs/MESH.md "Direct fan-out");
  // BENCH_INGEST_GATHER_MS: mesh.ingestGatherMs (0 = each arrival stored at once)
  {
    ...config,
    mesh: {
      ...config.mesh,
      ...(env.BENCH_DIRECT_PEERS_MAX === undefined
        ? {}
        : { directPeersMax: Number(env.BENCH_DIRECT_PEERS_MAX) }),
      ...(env.BENCH_INGEST_GATHER_MS === undefined
        ? {}
        : { ingestGatherMs: Number(env.BENCH_INGEST_GATHER_MS) }),
    },
  },
  // libp2p's own byte counters in /metrics, as `gkm-sync start` has them (one node a process).
  { libp2pMetrics: true },
)
const network = node.network as GkmNetwork

let samples: RealSample[] = []
let sampling = false
const sampler = setInterval(() => {
  if (sampling) return
  sampling = true
  const m = process.memoryUsage()
  const at = wall()
  void node.api
    .status()
    .then((s) => {
      samples.push({
        at,
        rssMb: m.rss / 2 ** 20,
        heapMb: m.heapUsed / 2 ** 20,
        ingestQueue: Number(s.ingest_queue ?? 0),
        meshIngest: network.ingestQueueLength,
        events: s.events,
      })
    })
    .finally(() => {
      sampling = false
    })
}, 1000)

/** Bytes this node sent on its mesh connections, in all ("global") and per protocol (libp2p's
 *  own counters, from /metrics). */
async function sentBytes(): Promise<Record<string, number>> {
  const text = await (await fetch(`http://${node.http.host}:${node.http.port}/metrics`)).text()
  const out: Record<string, number> = {}
  for (const m of text.matchAll(/^libp2p_data_transfer_bytes_total\{protocol="(.+) sent"\} (\S+)$/gm))
    out[m[1]] = Number(m[2])
  // group commits and the events in them (gkm_commit_events_total), under keys of their own
  for (const m of text.matchAll(/^gkm_commit_events_total\{kind="(\w+)"\} (\S+)$/gm))
    out[`commit.${m[1]}`] = Number(m[2])
  return out
}

/** CPU ms per thread name of this process (Linux /proc; empty elsewhere): where the process's
 *  CPU goes (main thread, libuv pool with LevelDB and fsync, crypto workers, V8's GC threads). */
function threadCpu(): Record<string, number> {
  const out: Record<string, number> = {}
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // fields 14 and 15 (utime, stime) in clock ticks (100 per second on Linux)
      const ms = ((Number(f[11]) + Number(f[12])) * 1000) / 100
      const key = tid === String(process.pid) ? 'main' : name.replace(/[0-9]+$/, '')
      out[key] = (out[key] ?? 0) + ms
    }
  } catch {}
  return out
}

let threadsAtStart: Record<string, number> = {}
let sentAtStart: Record<string, number> = {}
let cpuAtStart = process.cpuUsage()
let eluAtStart = performance.eventLoopUtilization()
let stopping = false
async function stop(): Promise<void> {
  if (stopping) return
  stopping = true
  clearInterval(sampler)
  clearTimeout(deadline)
  await node.stop().catch(() => {})
  await rm(dir, { recursive: true, force: true })
  process.exit(0)
}
const deadline = setTimeout(() => void stop(), Number(values['max-ms']))

process.on('message', (m: { reset?: true; report?: true; stop?: true }) => {
  if (m.reset) {
    samples = []
    void sentBytes().then((b) => {
      sentAtStart = b
    })
    cpuAtStart = process.cpuUsage()
    threadsAtStart = threadCpu()
    eluAtStart = performance.eventLoopUtilization()
  }
  if (m.report) {
    const cpu = process.cpuUsage(cpuAtStart)
    const elu = performance.eventLoopUtilization(eluAtStart).utilization
    const threads = Object.fromEntries(
      Object.entries(threadCpu()).map(([k, v]) => [k, v - (threadsAtStart[k] ?? 0)]),
    )
    void sentBytes().then((sent) =>
      send({
        report: {
          samples,
          sentBytes: (sent.global ?? Number.NaN) - (sentAtStart.global ?? 0),
          commitGroups: (sent['commit.groups'] ?? 0) - (sentAtStart['commit.groups'] ?? 0),
          sentByProtocol: Object.fromEntries(
            Object.entries(sent)
              .filter(([k]) => k !== 'global' && !k.startsWith('commit.'))
              .map(([k, v]) => [k, v - (sentAtStart[k] ?? 0)]),
          ),
          cpuMs: (cpu.user + cpu.system) / 1000,
          cpuSystemMs: cpu.system / 1000,
          threads,
          elu,
          stats: network.stats,
        },
      }),
    )
  }
  if (m.stop) void stop()
})
process.on('disconnect', () => void stop())
process.on('SIGTERM', () => void stop())

send({
  ready: {
    peerId: node.peerId,
    addr: node.listenAddrs.find((a) => a.startsWith('/ip4/127.0.0.1/')),
    url: `http://${node.http.host}:${node.http.port}`,
  },
})
