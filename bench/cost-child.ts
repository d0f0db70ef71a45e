/**
 * One measurement of what an event costs the node that stores it, for the code under ROOT (this
 * checkout, or the code at the start of issue 12 checked out by bench/cost.ts), in a fresh
 * process so the two codes never share a heap:
 *
 *   node bench/cost-child.ts ROOT commit N   CPU per stored gossiped event: a writer node makes
 *                                            N + 1,000 events; each is checked as the gossip
 *                                            validator does (`eventFromWire`, before timing) and
 *                                            a fresh receiver takes them one `pushVerified` each
 *                                            (one group commit, fsync); the first 1,000 warm up
 *   node bench/cost-child.ts ROOT commit-burst N  the same events, each its own `pushVerified` as the
 *                                            mesh hands them over, 64 in flight (a burst of
 *                                            gossip): group commits form, so this is the cost
 *                                            per event with the commit's fixed cost shared
 *   node bench/cost-child.ts ROOT push500 N  local writes through POST /sync/push, batches of
 *                                            500, 4 requests in flight (bench/push-client.ts in
 *                                            its own process), durable: events/s
 *   node bench/cost-child.ts ROOT push1 N    one local write per POST /sync/push, sequential
 *                                            (one request in flight): events/s
 *   node bench/cost-child.ts ROOT push500-floor|push1-floor N PUTS BYTES
 *                                            the floor of the same measurement: the same client
 *                                            and bodies against a bare fastify server that parses
 *                                            each body and writes one synced LevelDB batch of
 *                                            PUTS puts and BYTES bytes per event (the store's
 *                                            LevelDB options), with no engine: what the HTTP
 *                                            round trip and the durable write alone allow here
 *
 * Prints one JSON line. CPU is the process's (`process.cpuUsage`: event loop, LevelDB's threads,
 * workers), so it is the whole cost on this machine.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { gossipWire } from './gossip-wire.ts'

const [root, scenario, nText] = process.argv.slice(2)
const n = Number(nText)
const WARMUP = 1000
const CLIENT = fileURLToPath(new URL('./push-client.ts', import.meta.url))
const nodeMod = await import(pathToFileURL(join(root, 'src/node/index.ts')).href)
const configMod = await import(pathToFileURL(join(root, 'src/config/index.ts')).href)
const eventMod = await import(pathToFileURL(join(root, 'src/core/event.ts')).href)

/** BENCH_PROFILE=file: a V8 CPU profile of the measured window only. BENCH_HEAP_PROFILE=file:
 *  a sampling allocation profile of the window (every allocation, collected or not: where the
 *  garbage comes from). */
const profileFile = process.env.BENCH_PROFILE
const heapFile = process.env.BENCH_HEAP_PROFILE
const inspector =
  profileFile === undefined && heapFile === undefined
    ? undefined
    : new (await import('node:inspector/promises')).Session()
async function profileStart(): Promise<void> {
  if (inspector === undefined) return
  inspector.connect()
  if (profileFile !== undefined) {
    await inspector.post('Profiler.enable')
    await inspector.post('Profiler.start')
  }
  if (heapFile !== undefined)
    await inspector.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    })
}
async function profileStop(): Promise<void> {
  if (inspector === undefined) return
  const { writeFile } = await import('node:fs/promises')
  if (profileFile !== undefined) {
    const { profile } = await inspector.post('Profiler.stop')
    await writeFile(profileFile, JSON.stringify(profile))
  }
  if (heapFile !== undefined) {
    const { profile } = await inspector.post('HeapProfiler.stopSampling')
    await writeFile(heapFile, JSON.stringify(profile))
  }
}

/** Puts and bytes (key + value) the store writes in the measured window: counted on abstract-level's
 *  chained batch, which both codes write through. */
const writes = { puts: 0, bytes: 0, counting: false }
{
  const { AbstractChainedBatch } = await import('abstract-level')
  const proto = AbstractChainedBatch.prototype as unknown as {
    put: (k: unknown, v: unknown, o?: unknown) => unknown
  }
  const put = proto.put
  const size = (x: unknown) =>
    typeof x === 'string' ? Buffer.byteLength(x) : x instanceof Uint8Array ? x.byteLength : 0
  proto.put = function (this: unknown, k: unknown, v: unknown, o?: unknown) {
    if (writes.counting) {
      writes.puts++
      writes.bytes += size(k) + size(v)
    }
    return put.call(this, k, v, o)
  }
}

/** CPU ms per thread name (Linux /proc/self/task): where the process CPU goes besides the event
 *  loop (libuv's pool running LevelDB's writes, the crypto pool's workers, V8's GC helpers). */
async function threadCpu(): Promise<Map<string, number>> {
  const { readdir, readFile } = await import('node:fs/promises')
  const out = new Map<string, number>()
  let tasks: string[] = []
  try {
    tasks = await readdir('/proc/self/task')
  } catch {
    return out
  }
  for (const t of tasks) {
    try {
      const stat = await readFile(`/proc/self/task/${t}/stat`, 'utf8')
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // utime, stime: fields 14 and 15 of stat, in clock ticks (100 per second here).
      const ms = ((Number(f[11]) + Number(f[12])) * 1000) / 100
      const key = t === String(process.pid) ? 'main' : name
      out.set(key, (out.get(key) ?? 0) + ms)
    } catch {}
  }
  return out
}
function threadDelta(a: Map<string, number>, b: Map<string, number>, per: number): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of b) {
    const d = (v - (a.get(k) ?? 0)) / per
    if (d > 0) out[k] = Math.round(d * 1000) / 1000
  }
  return out
}

const dirs: string[] = []
// biome-ignore lint/suspicious/noExplicitAny: either version of RunningNode
async function start(): Promise<any> {
  const dir = await mkdtemp(join(tmpdir(), 'gkm-bench-cost-'))
  dirs.push(dir)
  const config = configMod.loadConfig({
    env: {},
    flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false },
  })
  const quiet = nodeMod.silentLogger?.()
  return nodeMod.startNode(config, quiet === undefined ? {} : { logger: quiet })
}

function client(
  url: string,
  batches: number,
  batch: number,
  concurrency: number,
): Promise<{ events: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const c = spawn(
      process.execPath,
      [CLIENT, url, 'local', String(batches), String(batch), String(concurrency), '0'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let out = ''
    c.stdout.on('data', (d) => {
      out += d
    })
    c.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').pop() as string))
        : reject(new Error(`push client exited with ${code}`)),
    )
  })
}

// biome-ignore lint/suspicious/noExplicitAny: either version of the code's events
async function gossipedEvents(count: number): Promise<any[]> {
  const w = await start()
  try {
    const wire = await gossipWire(w.api, count)
    // What the gossip validator hands over: events checked (and signature-verified) by the core.
    const ctx = { nowMs: Date.now(), driftMaxMs: 60_000 }
    return wire.map((x) => eventMod.eventFromWire(x.signed, x.signature, ctx))
  } finally {
    await w.stop()
  }
}

/** The floor server: fastify (the node's HTTP framework), JSON bodies, and per request one synced
 *  batch of `puts` puts per event holding `bytes` bytes per event (keys 24 B), on a LevelDB opened
 *  with the store's options; answers like the node ({accepted, rejected}). */
async function floorServer(
  puts: number,
  bytes: number,
): Promise<{ url: string; close: () => Promise<void> }> {
  const { default: Fastify } = await import('fastify')
  const { ClassicLevel } = await import('classic-level')
  const { LEVEL_OPTIONS } = await import(pathToFileURL(join(root, 'src/store/constants.ts')).href)
  const dir = await mkdtemp(join(tmpdir(), 'gkm-bench-floor-'))
  dirs.push(dir)
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
    ...LEVEL_OPTIONS,
    keyEncoding: 'view',
    valueEncoding: 'view',
  })
  await db.open()
  const value = Buffer.alloc(Math.max(0, Math.round(bytes / puts) - 24), 7)
  let k = 0
  const app = Fastify({ bodyLimit: 64 * 1024 * 1024 })
  app.post('/sync/push', async (req) => {
    const events = req.body as unknown[]
    const b = db.batch()
    for (let e = 0; e < events.length; e++)
      for (let p = 0; p < puts; p++) {
        const key = Buffer.alloc(24)
        key.writeUInt32BE(p, 0)
        key.writeDoubleBE(k++, 4)
        b.put(key, value)
      }
    await b.write({ sync: true } as never)
    return { accepted: events.length, rejected: [] }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}/sync/push`,
    close: async () => {
      await app.close()
      await db.close()
    },
  }
}

let out: Record<string, number | Record<string, number>>
try {
  if (scenario === 'commit' || scenario === 'commit-burst') {
    const events = await gossipedEvents(n + WARMUP)
    const r = await start()
    const from = { kind: 'peer', id: 'bench' }
    for (const e of events.slice(0, WARMUP)) await r.api.pushVerified([e], from)
    await profileStart()
    writes.counting = true
    const th0 = await threadCpu()
    const c0 = process.cpuUsage()
    const m0 = process.threadCpuUsage()
    const t0 = performance.now()
    // biome-ignore lint/suspicious/noExplicitAny: either version of the code's events
    const one = async (e: any) => {
      const res = await r.api.pushVerified([e], from)
      if (res.accepted !== 1) throw new Error(`event not accepted: ${JSON.stringify(res.rejected)}`)
    }
    const measured = events.slice(WARMUP)
    if (scenario === 'commit') for (const e of measured) await one(e)
    else {
      let next = 0
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (next < measured.length) await one(measured[next++])
        }),
      )
    }
    const c = process.cpuUsage(c0)
    const m = process.threadCpuUsage(m0)
    const wallMs = performance.now() - t0
    const threads = threadDelta(th0, await threadCpu(), n)
    writes.counting = false
    await profileStop()
    out = {
      cpuMs: (c.user + c.system) / 1000 / n,
      // The event loop's thread alone (the merge, the plan, the reads made on it): what the
      // code under test changes; the rest is LevelDB's write and fsync on its own threads.
      mainThreadCpuMs: (m.user + m.system) / 1000 / n,
      wallMs: wallMs / n,
      putsPerEvent: writes.puts / n,
      bytesPerEvent: writes.bytes / n,
      threadCpuMsPerEvent: threads,
    }
    await r.stop()
  } else if (scenario === 'push500' || scenario === 'push1') {
    const node = await start()
    const url = `http://${node.http.host}:${node.http.port}/sync/push`
    await profileStart()
    writes.counting = true
    const t0 = await threadCpu()
    const c0 = process.cpuUsage()
    const m0 = process.threadCpuUsage()
    const r =
      scenario === 'push500' ? await client(url, Math.ceil(n / 500), 500, 4) : await client(url, n, 1, 1)
    const c = process.cpuUsage(c0)
    const m = process.threadCpuUsage(m0)
    const threads = threadDelta(t0, await threadCpu(), r.events)
    writes.counting = false
    await profileStop()
    out = {
      eventsPerS: r.events / r.seconds,
      cpuMsPerEvent: (c.user + c.system) / 1000 / r.events,
      mainThreadCpuMs: (m.user + m.system) / 1000 / r.events,
      putsPerEvent: writes.puts / r.events,
      bytesPerEvent: writes.bytes / r.events,
      threadCpuMsPerEvent: threads,
    }
    await node.stop()
  } else if (scenario === 'push500-floor' || scenario === 'push1-floor') {
    const [putsText, bytesText] = process.argv.slice(5)
    const server = await floorServer(Math.max(1, Math.round(Number(putsText))), Number(bytesText))
    const c0 = process.cpuUsage()
    const r =
      scenario === 'push500-floor'
        ? await client(server.url, Math.ceil(n / 500), 500, 4)
        : await client(server.url, n, 1, 1)
    const c = process.cpuUsage(c0)
    out = { eventsPerS: r.events / r.seconds, cpuMsPerEvent: (c.user + c.system) / 1000 / r.events }
    await server.close()
  } else throw new Error(`unknown scenario ${scenario}`)
} finally {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
}
console.log(JSON.stringify(out))
