/**
 * One measurement of what adding one edge to a graph costs, for the code under ROOT (this
 * checkout, or an older one checked out by bench/cell-cost.ts), in a fresh process:
 *
 *   node bench/cell-cost-child.ts ROOT EDGES WRITES
 *
 * starts a node (LevelDB in a temp dir, no mesh), builds one graph of EDGES edges with local
 * writes (POST /sync/push's path, `api.push`, 1,000 edges per push: each push is one durable
 * group), then adds edges to that graph one local write at a time, sequentially (each its own
 * durable group, fsync), after a warm-up of WARMUP writes: WRITES writes, or fewer when they take
 * longer than BENCH_CELL_BUDGET_S seconds of wall time (at least MIN_WRITES). Prints one JSON
 * line: CPU per write (`process.cpuUsage`: the whole process, LevelDB's threads included), wall
 * per write, the build time and the RSS.
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
const TARGET = 'bench-graph'

const nodeMod = await import(pathToFileURL(join(root, 'src/node/index.ts')).href)
const configMod = await import(pathToFileURL(join(root, 'src/config/index.ts')).href)

const edge = (i: number) => ({
  event_type: 'graph_update',
  target_id: TARGET,
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
    for (let i = 0; i < WARMUP; i++) await push([edge(next++)])
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    let writes = 0
    while (writes < WRITES && (writes < MIN_WRITES || performance.now() - t0 < BUDGET_MS)) {
      await push([edge(next++)])
      writes++
    }
    const c = process.cpuUsage(c0)
    out = {
      edges: EDGES,
      writes,
      cpuMs: (c.user + c.system) / 1000 / writes,
      wallMs: (performance.now() - t0) / writes,
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
