/**
 * One process, two codes: the one-event group commit of ROOT_A and of ROOT_B, measured in
 * alternating chunks so that both meet the same load (bench/cost-interleaved.ts runs it twice,
 * once in each order). Each code gets its own receiver node and its own gossiped events (the
 * same writes, made by a writer of that code and checked by its `eventFromWire`: the event
 * format may differ between the two), one `pushVerified` per event (one group commit, fsync),
 * as in bench/cost-child.ts `commit`.
 *
 *   node bench/cost-interleaved-child.ts ROOT_A ROOT_B N CHUNK [commit|push500]
 *
 * `push500` (issue 12's local-write figure, without HTTP): each code takes local writes through
 * `api.push` in requests of 500 events (JSON text parsed per request, as the HTTP route gets
 * them), 4 requests in flight, the persona writes of bench/push-client.ts; a chunk is CHUNK
 * events (a multiple of 2,000: 4 requests of 500, so every chunk ends with the pipeline empty).
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
const scenario = process.argv[6] ?? 'commit'
const WARMUP = scenario === 'push500' ? 4000 : 500
/** push500: requests of this many events, this many in flight. */
const BATCH = 500
const IN_FLIGHT = 4

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

/** The local writes of bench/push-client.ts (`local` mode): persona fields on 5,000 targets. */
function pushBodies(total: number): string[] {
  const out: string[] = []
  for (let b = 0; b * BATCH < total; b++)
    out.push(
      JSON.stringify(
        Array.from({ length: BATCH }, (_, k) => {
          const i = b * BATCH + k
          return {
            event_type: 'persona_update',
            target_id: `persona-${i % 5000}`,
            payload: { op: 'set', fields: { [`f${i % 7}`]: i, note: 'bench' } },
          }
        }),
      ),
    )
  return out
}

// biome-ignore lint/suspicious/noExplicitAny: either version of the node's api
async function pushRange(api: any, bodies: string[], from: number, to: number): Promise<void> {
  let next = from
  const origin = { kind: 'http', id: 'bench' }
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < to) {
        const res = await api.push(JSON.parse(bodies[next++]), origin)
        if (res.accepted !== BATCH) throw new Error(`push not accepted: ${JSON.stringify(res.rejected[0])}`)
      }
    }),
  )
}

try {
  const codes = { A: await load(rootA), B: await load(rootB) }
  const total = n + WARMUP
  const ctx = { nowMs: Date.now(), driftMaxMs: 600_000 }
  const from = { kind: 'peer', id: 'bench' }
  const bodies = scenario === 'push500' ? pushBodies(total) : []
  // Each code stores events made by a writer of its own code (the event format may differ
  // between the two), with the same writes in the same order.
  type Side = {
    k: 'A' | 'B'
    // biome-ignore lint/suspicious/noExplicitAny: either version of RunningNode
    node: any
    // biome-ignore lint/suspicious/noExplicitAny: either version of the code's events
    events: any[]
    perChunk: number[]
    proc: number
  }
  const sides: Side[] = []
  for (const k of ['A', 'B'] as const) {
    const wire = scenario === 'push500' ? [] : await gossiped(codes[k], total)
    sides.push({
      k,
      node: await start(codes[k]),
      events: wire.map((x) => codes[k].event.eventFromWire(x.signed, x.signature, ctx)),
      perChunk: [] as number[],
      proc: 0,
    })
  }
  const run = async (s: Side, first: number, end: number) => {
    if (scenario === 'push500') return pushRange(s.node.api, bodies, first / BATCH, end / BATCH)
    for (let i = first; i < end; i++) {
      const res = await s.node.api.pushVerified([s.events[i]], from)
      if (res.accepted !== 1) throw new Error(`event not accepted: ${JSON.stringify(res.rejected)}`)
    }
  }
  for (const s of sides) await run(s, 0, WARMUP)
  for (let first = WARMUP, round = 0; first < total; first += chunk, round++) {
    const end = Math.min(first + chunk, total)
    for (const s of round % 2 === 0 ? sides : [...sides].reverse()) {
      const m0 = process.threadCpuUsage()
      const c0 = process.cpuUsage()
      await run(s, first, end)
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
      mainMsMin: at(s.perChunk, 0),
      mainMsMax: at(s.perChunk, 1),
      procMs: s.proc / 1000 / n,
    }
    await s.node.stop()
  }
  console.log(JSON.stringify(out))
} finally {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
}
