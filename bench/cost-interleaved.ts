/**
 * The one-event group commit of this checkout beside BENCH_BASE_REF (default 0b6ebd0, main at the start of the batch-cost pass), in ONE
 * process, in alternating chunks (bench/cost-interleaved-child.ts): on a shared machine whose
 * load swings by 2-3x within a minute, separate processes (bench/cost.ts) give pairs that differ
 * by ±40 % for identical code; chunks of 50 events alternating within one process, compared by
 * the median over chunks, come within a few percent. Run twice, once in each order (the second
 * code of a process was measured a few percent apart from the first with identical code), and
 * the two ratios are combined (geometric mean).
 *
 * What it measures: the event loop's CPU per stored gossiped event (the code's own work: merge,
 * plan, reads, handing the batch over), not LevelDB's thread or the fsync, which no code here
 * changes. BENCH_IL_EVENTS (default 4,000) events per code, chunks of BENCH_IL_CHUNK (50).
 *
 * Run: npx node bench/cost-interleaved.ts; BENCH_IL_SCENARIO=push500 for local writes in requests
 * of 500 (BENCH_IL_EVENTS default 40,000, chunks of 2,000).
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { childJson } from './child-json.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CHILD = fileURLToPath(new URL('./cost-interleaved-child.ts', import.meta.url))
const BASE_REF = process.env.BENCH_BASE_REF ?? '0b6ebd0'
/** `commit` (one-event group commits) or `push500` (local writes, requests of 500, 4 in flight). */
const SCENARIO = process.env.BENCH_IL_SCENARIO ?? 'commit'
const PUSH = SCENARIO === 'push500'
const EVENTS = Number(process.env.BENCH_IL_EVENTS ?? (PUSH ? 40_000 : 4000))
const CHUNK = Number(process.env.BENCH_IL_CHUNK ?? (PUSH ? 2000 : 50))
/** BENCH_BASE_DIR: an existing checkout of the base (with its own node_modules) instead of a
 *  temporary worktree of BENCH_BASE_REF. */
const BASE_DIR = process.env.BENCH_BASE_DIR

type Side = { mainMsMedian: number; mainMsP25: number; mainMsP75: number; procMs: number }

function child(a: string, b: string): Promise<{ A: Side; B: Side }> {
  return childJson([CHILD, a, b, String(EVENTS), String(CHUNK), SCENARIO], {
    nodeFlags: ['--max-old-space-size=256', '--max-semi-space-size=16'],
    env: { ...process.env, MALLOC_ARENA_MAX: '2' },
    what: 'interleaved child',
  })
}

export async function benchCostInterleaved(): Promise<Record<string, unknown>> {
  let base = BASE_DIR ?? ''
  if (BASE_DIR === undefined) {
    base = await mkdtemp(join(tmpdir(), 'gkm-bench-base-'))
    await rm(base, { recursive: true })
    execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', base, BASE_REF], { stdio: 'ignore' })
    await symlink(join(ROOT, 'node_modules'), join(base, 'node_modules'))
  }
  try {
    const first = await child(ROOT, base)
    const second = await child(base, ROOT)
    const f = (x: number) => x.toFixed(3)
    const show = (s: Side) => `${f(s.mainMsMedian)} (${f(s.mainMsP25)}..${f(s.mainMsP75)})`
    const r1 = first.A.mainMsMedian / first.B.mainMsMedian
    const r2 = second.B.mainMsMedian / second.A.mainMsMedian
    const ratio = Math.sqrt(r1 * r2)
    console.log(
      `event-loop CPU per ${PUSH ? 'local write (requests of 500)' : 'stored gossiped event'}, ms, median (quartiles) over chunks of ${CHUNK}:\n` +
        `  this first:  ${show(first.A)} vs ${BASE_REF} ${show(first.B)}: ratio ${r1.toFixed(3)}\n` +
        `  ${BASE_REF} first: ${show(second.A)} vs this ${show(second.B)}: ratio ${r2.toFixed(3)}\n` +
        `  combined ratio ${ratio.toFixed(3)}; process CPU per event ${f(first.A.procMs)} / ${f(second.B.procMs)} vs ${f(first.B.procMs)} / ${f(second.A.procMs)}`,
    )
    return {
      baseRef: BASE_DIR ?? BASE_REF,
      scenario: SCENARIO,
      events: EVENTS,
      chunk: CHUNK,
      first,
      second,
      ratio,
    }
  } finally {
    if (BASE_DIR === undefined)
      execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', base], { stdio: 'ignore' })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCostInterleaved()
