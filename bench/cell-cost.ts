/**
 * Cost of one write to a big target (issue 12, state per cell): the CPU of adding one edge to a
 * graph of BENCH_CELL_EDGES edges (default 100,000) against adding one to a graph that starts
 * empty, in the same node, write by write alternately (bench/cell-cost-child.ts: a node on
 * LevelDB, edges added by local writes, one durable group per write), for this checkout beside
 * the code at the start of the issue (BENCH_BASE_REF, default 73ef879), each measurement in its
 * own process, A B per run.
 *
 * BENCH_CELL_HUGE=1000000 also measures this checkout alone on a graph of that many edges, once
 * (the start's code keeps a target as one JSON value: a million edges are a ~400 MB string,
 * rewritten and rehashed on every write, which it cannot build in a useful time here).
 *
 * Run: npm run bench -- cells
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { childJson } from './child-json.ts'
import { summarize } from './stats.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CHILD = fileURLToPath(new URL('./cell-cost-child.ts', import.meta.url))
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const BASE_REF = process.env.BENCH_BASE_REF ?? '73ef879'
const EDGES = Number(process.env.BENCH_CELL_EDGES ?? 100_000)
const HUGE = Number(process.env.BENCH_CELL_HUGE ?? 0)
const WRITES = Number(process.env.BENCH_CELL_WRITES ?? 300)

type Result = {
  edges: number
  writes: number
  cpuMsBig: number
  cpuMsSmall: number
  wallMsBig: number
  wallMsSmall: number
  buildS: number
  rssMb: number
}

function child(root: string, edges: number): Promise<Result> {
  return childJson<Result>([CHILD, root, String(edges), String(WRITES)], {
    nodeFlags: ['--max-old-space-size=4096'],
    env: { ...process.env, MALLOC_ARENA_MAX: '2' },
    what: `cell-cost child (${edges} edges)`,
  })
}

const f = (x: number, d = 3) => x.toFixed(d)
const range = (s: { median: number; min: number; max: number }, d = 3) =>
  `${f(s.median, d)} (${f(s.min, d)}..${f(s.max, d)})`

export async function benchCellCost(): Promise<Record<string, unknown>> {
  const base = await mkdtemp(join(tmpdir(), 'gkm-bench-base-'))
  await rm(base, { recursive: true })
  execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', base, BASE_REF], { stdio: 'ignore' })
  await symlink(join(ROOT, 'node_modules'), join(base, 'node_modules'))
  const out: Record<string, unknown> = { baseRef: BASE_REF, runs: RUNS, edges: EDGES, writesMax: WRITES }
  const runs = { now: [] as Result[], base: [] as Result[] }
  const name = (side: 'now' | 'base') => (side === 'now' ? 'this checkout' : BASE_REF)
  try {
    for (let r = 0; r < RUNS; r++) {
      for (const [side, root] of [
        ['now', ROOT],
        ['base', base],
      ] as const) {
        const x = await child(root, EDGES)
        runs[side].push(x)
        console.log(
          `  run ${r + 1} ${name(side)}: one edge, CPU ms: graph of ${EDGES} edges ${f(x.cpuMsBig)}, ` +
            `graph starting empty ${f(x.cpuMsSmall)} (${x.writes} writes each; built in ${f(x.buildS, 1)} s, RSS ${f(x.rssMb, 0)} MB)`,
        )
      }
    }
  } finally {
    execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', base], { stdio: 'ignore' })
  }
  for (const side of ['now', 'base'] as const) {
    const xs = runs[side]
    const big = summarize(xs.map((x) => x.cpuMsBig))
    const small = summarize(xs.map((x) => x.cpuMsSmall))
    const ratio = summarize(xs.map((x) => x.cpuMsBig / x.cpuMsSmall))
    const build = summarize(xs.map((x) => x.buildS))
    console.log(
      `${name(side)}: one edge, CPU ms per write: graph of ${EDGES} edges ${range(big)}, graph starting empty ` +
        `${range(small)}; big/empty ${range(ratio, 2)}; build ${range(build, 1)} s`,
    )
    out[side] = { bigCpuMs: big, emptyCpuMs: small, bigOverEmpty: ratio, buildS: build }
  }
  if (HUGE > 0) {
    const x = await child(ROOT, HUGE)
    console.log(
      `this checkout, once: one edge, CPU ms: graph of ${HUGE} edges ${f(x.cpuMsBig)}, graph starting empty ` +
        `${f(x.cpuMsSmall)} (ratio ${f(x.cpuMsBig / x.cpuMsSmall, 2)}; ${x.writes} writes each; built in ${f(x.buildS, 0)} s, RSS ${f(x.rssMb, 0)} MB)`,
    )
    out.huge = x
  }
  return out
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCellCost()
