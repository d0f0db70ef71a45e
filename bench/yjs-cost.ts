/**
 * Cost of one Yjs update by the size of its document (issue 12, append-only CRDT documents): the
 * CPU of one small update (a few characters typed) to a document of BENCH_YJS_BYTES of text
 * (default 1,000,000) against one to a document that starts empty, in the same node, update by
 * update alternately (bench/yjs-cost-child.ts: a node on LevelDB, local writes, one durable group
 * per update), for this checkout beside the code at the start of the issue (BENCH_BASE_REF,
 * default 73ef879), each measurement in its own process, A B per run.
 *
 * Run: npm run bench -- yjs
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { childJson } from './child-json.ts'
import { summarize } from './stats.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CHILD = fileURLToPath(new URL('./yjs-cost-child.ts', import.meta.url))
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const BASE_REF = process.env.BENCH_BASE_REF ?? '73ef879'
const BYTES = Number(process.env.BENCH_YJS_BYTES ?? 1_000_000)
/** More than YJS_COMPACT_UPDATES (512), so the measured updates include compactions. */
const WRITES = Number(process.env.BENCH_YJS_WRITES ?? 1200)

type Result = {
  docBytes: number
  writes: number
  cpuMsBig: number
  cpuMsSmall: number
  buildS: number
  rssMb: number
}

function child(root: string): Promise<Result> {
  return childJson<Result>([CHILD, root, String(BYTES), String(WRITES)], {
    nodeFlags: ['--max-old-space-size=2048'],
    env: { ...process.env, MALLOC_ARENA_MAX: '2' },
    what: 'yjs-cost child',
  })
}

const f = (x: number, d = 3) => x.toFixed(d)
const range = (s: { median: number; min: number; max: number }, d = 3) =>
  `${f(s.median, d)} (${f(s.min, d)}..${f(s.max, d)})`

export async function benchYjsCost(): Promise<Record<string, unknown>> {
  const base = await mkdtemp(join(tmpdir(), 'gkm-bench-base-'))
  await rm(base, { recursive: true })
  execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', base, BASE_REF], { stdio: 'ignore' })
  await symlink(join(ROOT, 'node_modules'), join(base, 'node_modules'))
  const out: Record<string, unknown> = { baseRef: BASE_REF, runs: RUNS, docBytes: BYTES, writesMax: WRITES }
  const runs = { now: [] as Result[], base: [] as Result[] }
  const name = (side: 'now' | 'base') => (side === 'now' ? 'this checkout' : BASE_REF)
  try {
    for (let r = 0; r < RUNS; r++) {
      for (const [side, root] of [
        ['now', ROOT],
        ['base', base],
      ] as const) {
        const x = await child(root)
        runs[side].push(x)
        console.log(
          `  run ${r + 1} ${name(side)}: one Yjs update, CPU ms: ${BYTES}-byte document ${f(x.cpuMsBig)}, ` +
            `document starting empty ${f(x.cpuMsSmall)} (${x.writes} updates each; built in ${f(x.buildS, 1)} s, RSS ${f(x.rssMb, 0)} MB)`,
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
    console.log(
      `${name(side)}: one Yjs update, CPU ms: ${BYTES}-byte document ${range(big)}, document starting empty ` +
        `${range(small)}; big/empty ${range(ratio, 2)}`,
    )
    out[side] = { bigCpuMs: big, emptyCpuMs: small, bigOverEmpty: ratio }
  }
  return out
}

if (import.meta.url === `file://${process.argv[1]}`) await benchYjsCost()
