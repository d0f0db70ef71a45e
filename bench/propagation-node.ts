/**
 * One node of bench/propagation.ts, in its own process (forked with an IPC channel). Listens on
 * 127.0.0.1 (mDNS off), dials the bootstrap addresses given in argv, and answers the parent:
 *
 *   -> { ready: { peerId, addr } }                 once listening
 *   <- { write: { t0, rate, total, nodes, index } } write events k = index, index + nodes, ...
 *                                                   at wall time t0 + k * 1000 / rate
 *   -> { wrote: n }                                 when its share is written
 *   <- { report: true } -> { report: { stored, samples, stats, cpuMs } }  stored: digest -> wall ms;
 *                                                   cpuMs: CPU used since the write command
 *   <- { stop: true }                               stop and exit
 *
 * Times are wall-clock milliseconds with sub-millisecond precision (timeOrigin + now), the same
 * clock in every process of the machine. Bounded: exits by itself after --max-ms.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { digestOf } from '../src/core/event-codec.ts'
import { EVENT_TYPES } from '../src/core/types.ts'
import { createNetwork, type GkmNetwork } from '../src/net/index.ts'
import { newSeed } from '../src/util/random.ts'
import { FakeApi, TEST_LIMITS } from '../test/unit/net/helpers.ts'

const { values } = parseArgs({
  options: {
    bootstrap: { type: 'string', multiple: true, default: [] },
    'max-ms': { type: 'string', default: '600000' },
    linger: { type: 'string' },
  },
})
const wall = () => performance.timeOrigin + performance.now()
const send = (m: unknown) => process.send?.(m)

const seed = newSeed()
const dir = await mkdtemp(join(tmpdir(), 'gkm-bench-'))
const api = new FakeApi(seed)
// the mesh verified every event it delivers; the real node's second check is not measured here
api.trustPeers = true
const net = createNetwork(
  { api, seed, dataDir: dir },
  {
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: values.bootstrap as string[],
    mdns: { enabled: false },
    dataTypes: [...EVENT_TYPES],
    limits: TEST_LIMITS,
    catchUpIntervalMs: 3_600_000,
    publishLingerMs: values.linger === undefined ? undefined : Number(values.linger),
    // BENCH_DIRECT_PEERS_MAX: the fan-out threshold (0 = gossip only; docs/MESH.md "Direct fan-out")
    directPeersMax:
      process.env.BENCH_DIRECT_PEERS_MAX === undefined
        ? undefined
        : Number(process.env.BENCH_DIRECT_PEERS_MAX),
  },
) as GkmNetwork
const stored: Record<string, number> = {}
api.subscribe(0, (c) => {
  stored[digestOf(c.event.signed)] = wall()
})
// the in-test store keeps events for pull; the benchmark needs only the digests
const trimLog = setInterval(() => {
  if (api.log.length > 1000) api.log.splice(0, api.log.length - 1000)
}, 1000)
const samples: Array<{ at: number; heapMb: number; rssMb: number; ingest: number }> = []
const sampler = setInterval(() => {
  const m = process.memoryUsage()
  samples.push({
    at: wall(),
    heapMb: m.heapUsed / 2 ** 20,
    rssMb: m.rss / 2 ** 20,
    ingest: net.ingestQueueLength,
  })
}, 1000)

let stopping = false
let cpuAtStart = process.cpuUsage()
let eluAtStart = performance.eventLoopUtilization()
async function stop(): Promise<void> {
  if (stopping) return
  stopping = true
  clearInterval(trimLog)
  clearInterval(sampler)
  clearTimeout(deadline)
  await net.stop()
  await rm(dir, { recursive: true, force: true })
  process.exit(0)
}
const deadline = setTimeout(() => void stop(), Number(values['max-ms']))

async function write(t0: number, rate: number, total: number, nodes: number, index: number): Promise<void> {
  let n = 0
  for (let k = index; k < total; k += nodes) {
    const wait = t0 + (k * 1000) / rate - wall()
    if (wait > 1) await new Promise((r) => setTimeout(r, wait))
    await api.write('persona_update', `t${k % 1000}`, { op: 'set', fields: { k } })
    n++
  }
  send({ wrote: n })
}

process.on(
  'message',
  (m: {
    write?: { t0: number; rate: number; total: number; nodes: number; index: number }
    report?: true
    stop?: true
  }) => {
    if (m.write !== undefined) {
      // CPU is counted from the last write command (the measured phase)
      cpuAtStart = process.cpuUsage()
      eluAtStart = performance.eventLoopUtilization()
      void write(m.write.t0, m.write.rate, m.write.total, m.write.nodes, m.write.index)
    }
    if (m.report) {
      const cpu = process.cpuUsage(cpuAtStart)
      const elu = performance.eventLoopUtilization(eluAtStart).utilization
      send({ report: { stored, samples, stats: net.stats, cpuMs: (cpu.user + cpu.system) / 1000, elu } })
    }
    if (m.stop) void stop()
  },
)
process.on('disconnect', () => void stop())

await net.start()
send({ ready: { peerId: net.peerId, addr: net.addresses().find((a) => a.includes('/127.0.0.1/')) } })
