/**
 * One measurement of what adding one edge to a graph costs, for the code under ROOT (this
 * checkout, or an older one checked out by bench/cell-cost.ts), in a fresh process:
 *
 *   node bench/cell-cost-child.ts ROOT EDGES WRITES
 *
 * starts a node (LevelDB in a temp dir, no mesh), builds one graph of EDGES edges with local
 * writes (POST /sync/push's path, `api.push`, 1,000 edges per push: each push is one durable
 * group), then adds edges one local write at a time, sequentially (each its own durable group,
 * fsync), alternately to the big graph and to a second graph that starts empty, so both see the
 * same store, heap and machine drift: after a warm-up of WARMUP pairs, WRITES pairs, or fewer
 * when they take longer than BENCH_CELL_BUDGET_S seconds of wall time (at least MIN_WRITES).
 * Prints one JSON line: CPU per write to each graph (`process.cpuUsage` around each write: the
 * whole process, LevelDB's threads included), wall per write, the build time and the RSS.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [root, edgesText, writesText] = process.argv.slice(2)
const EDGES = Number(edgesText)
const WRITES = Number(writesText)
const WARMUP = 20
const MIN_WRITES = 10
const BUDGET_MS = Number(process.env.BENCH_CELL_BUDGET_S ?? 60) * 1000
const PUSH = 1000
const BIG = 'bench-graph'
const SMALL = 'bench-graph-small'

const nodeMod = await import(pathToFileURL(join(root, 'src/node/index.ts')).href)
const configMod = await import(pathToFileURL(join(root, 'src/config/index.ts')).href)

const edge = (i: number, target = BIG) => ({
  event_type: 'graph_update',
  target_id: target,
  payload: { op: 'add_edge', from: 'a', to: `n${i}`, label: 'knows' },
})

const dir = await mkdtemp(join(tmpdir(), 'gkm-bench-cell-'))
let out: Record<string, number>
try {
  const config = configMod.loadConfig({
    env: {},
    flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false },
  })
  const quiet = nodeMod.silentLogger?.()
  const node = await nodeMod.startNode(config, quiet === undefined ? {} : { logger: quiet })
  const from = { kind: 'local', id: 'bench' }
  const push = async (items: unknown[]) => {
    const r = await node.api.push(items, from)
    if (r.accepted !== items.length) throw new Error(`push not accepted: ${JSON.stringify(r.rejected)}`)
  }
  try {
    const b0 = performance.now()
    for (let i = 0; i < EDGES; i += PUSH)
      await push(Array.from({ length: Math.min(PUSH, EDGES - i) }, (_, j) => edge(i + j)))
    const buildS = (performance.now() - b0) / 1000
    let next = EDGES
    for (let i = 0; i < WARMUP; i++) {
      await push([edge(next++)])
      await push([edge(next++, SMALL)])
    }
    const cpu = { big: 0, small: 0 }
    const wall = { big: 0, small: 0 }
    const one = async (which: 'big' | 'small') => {
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      await push([edge(next++, which === 'big' ? BIG : SMALL)])
      const c = process.cpuUsage(c0)
      cpu[which] += (c.user + c.system) / 1000
      wall[which] += performance.now() - t0
    }
    const start = performance.now()
    let writes = 0
    while (writes < WRITES && (writes < MIN_WRITES || performance.now() - start < BUDGET_MS)) {
      // Alternate which goes first, so neither always follows the other's write.
      if (writes % 2 === 0) {
        await one('big')
        await one('small')
      } else {
        await one('small')
        await one('big')
      }
      writes++
    }
    out = {
      edges: EDGES,
      writes,
      cpuMsBig: cpu.big / writes,
      cpuMsSmall: cpu.small / writes,
      wallMsBig: wall.big / writes,
      wallMsSmall: wall.small / writes,
      buildS,
      rssMb: process.memoryUsage().rss / 2 ** 20,
    }
  } finally {
    await node.stop()
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
console.log(JSON.stringify(out))
