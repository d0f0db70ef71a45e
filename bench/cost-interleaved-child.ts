/**
 * One process, two codes: the one-event group commit of ROOT_A and of ROOT_B, measured in
 * alternating chunks so that both meet the same load (bench/cost-interleaved.ts runs it twice,
 * once in each order). Each code gets its own receiver node and its own gossiped events (the
 * same writes, made by a writer of that code and checked by its `eventFromWire`: the event
 * format may differ between the two), one `pushVerified` per event (one group commit, fsync),
 * as in bench/cost-child.ts `commit`.
 *
 *   node bench/cost-interleaved-child.ts ROOT_A ROOT_B N CHUNK
 *
 * Prints one JSON line: per code, the event loop's CPU per event (`process.threadCpuUsage`) per
 * chunk, as median and quartiles over the chunks, and the process CPU (all threads) over the
 * whole run. The median of many chunks resists the load spikes that make whole runs swing.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { gossipWire } from './gossip-wire.ts'

const [rootA, rootB, nText, chunkText] = process.argv.slice(2)
const n = Number(nText)
const chunk = Number(chunkText)
const WARMUP = 500

// biome-ignore lint/suspicious/noExplicitAny: either version of the code
type Mod = { node: any; config: any; event: any }
async function load(root: string): Promise<Mod> {
  const url = (p: string) => pathToFileURL(join(root, p)).href
  return {
    node: await import(url('src/node/index.ts')),
    config: await import(url('src/config/index.ts')),
    event: await import(url('src/core/event.ts')),
  }
}

const dirs: string[] = []
// biome-ignore lint/suspicious/noExplicitAny: either version of RunningNode
async function start(m: Mod): Promise<any> {
  const dir = await mkdtemp(join(tmpdir(), 'gkm-bench-il-'))
  dirs.push(dir)
  const config = m.config.loadConfig({
    env: {},
    flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false },
  })
  const quiet = m.node.silentLogger?.()
  return m.node.startNode(config, quiet === undefined ? {} : { logger: quiet })
}

/** `count` events of a writer of this code, as the gossip validator receives them. */
async function gossiped(
  m: Mod,
  count: number,
): Promise<Array<{ signed: Uint8Array; signature: Uint8Array }>> {
  const writer = await start(m)
  try {
    return await gossipWire(writer.api, count)
  } finally {
    await writer.stop()
  }
}

const sorted = (v: number[]) => [...v].sort((a, b) => a - b)
const at = (v: number[], q: number) => sorted(v)[Math.floor(q * (v.length - 1))]

try {
  const codes = { A: await load(rootA), B: await load(rootB) }
  const total = n + WARMUP
  const ctx = { nowMs: Date.now(), driftMaxMs: 600_000 }
  const from = { kind: 'peer', id: 'bench' }
  // Each code stores events made by a writer of its own code (the event format may differ
  // between the two), with the same writes in the same order.
  const sides = []
  for (const k of ['A', 'B'] as const) {
    const wire = await gossiped(codes[k], total)
    sides.push({
      k,
      node: await start(codes[k]),
      events: wire.map((x) => codes[k].event.eventFromWire(x.signed, x.signature, ctx)),
      perChunk: [] as number[],
      proc: 0,
    })
  }
  for (const s of sides) for (let i = 0; i < WARMUP; i++) await s.node.api.pushVerified([s.events[i]], from)
  for (let first = WARMUP, round = 0; first < total; first += chunk, round++) {
    const end = Math.min(first + chunk, total)
    for (const s of round % 2 === 0 ? sides : [...sides].reverse()) {
      const m0 = process.threadCpuUsage()
      const c0 = process.cpuUsage()
      for (let i = first; i < end; i++) {
        const res = await s.node.api.pushVerified([s.events[i]], from)
        if (res.accepted !== 1) throw new Error(`event not accepted: ${JSON.stringify(res.rejected)}`)
      }
      const m = process.threadCpuUsage(m0)
      const c = process.cpuUsage(c0)
      s.perChunk.push((m.user + m.system) / 1000 / (end - first))
      s.proc += c.user + c.system
    }
  }
  const out: Record<string, unknown> = {}
  for (const s of sides) {
    out[s.k] = {
      mainMsMedian: at(s.perChunk, 0.5),
      mainMsP25: at(s.perChunk, 0.25),
      mainMsP75: at(s.perChunk, 0.75),
      procMs: s.proc / 1000 / n,
    }
    await s.node.stop()
  }
  console.log(JSON.stringify(out))
} finally {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
}
