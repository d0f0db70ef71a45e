/**
 * Catch-up between two real nodes, this checkout beside the code at the start of the
 * reconciliation work (BENCH_BASE_REF, default 1decfc6: the per-peer cursor pull), alternating
 * A B A B in one run so the machine's drift hits both alike:
 *
 * - bulk: A writes BENCH_CATCHUP_N events (default 10,000) one push each, then an empty B
 *   connects; time until B holds them all (durable, verified);
 * - heal: A and B each write N/2 while apart, then connect; time until both hold N.
 *
 * The base code is checked out with `git worktree add` into a temp dir (removed at the end) and
 * runs on this checkout's node_modules. Run: npm run bench -- catchup
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { childJson } from './child-json.ts'
import { fmt, summarize } from './stats.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CHILD = fileURLToPath(new URL('./catch-up-child.ts', import.meta.url))
const N = Number(process.env.BENCH_CATCHUP_N ?? 10_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const BASE_REF = process.env.BENCH_BASE_REF ?? '1decfc6'

function child(root: string, scenario: string): Promise<{ ms: number; bytes?: number }> {
  return childJson([CHILD, root, scenario, String(N)], { what: `catch-up ${scenario} child` })
}

export async function benchCatchUp(): Promise<Record<string, unknown>> {
  const base = await mkdtemp(join(tmpdir(), 'gkm-bench-base-'))
  await rm(base, { recursive: true })
  execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', base, BASE_REF], { stdio: 'ignore' })
  await symlink(join(ROOT, 'node_modules'), join(base, 'node_modules'))
  const out: Record<string, unknown> = { events: N, baseRef: BASE_REF }
  try {
    for (const scenario of ['bulk', 'heal']) {
      const now: number[] = []
      const then: number[] = []
      const bytes: number[] = []
      for (let r = 0; r < RUNS; r++) {
        const a = await child(ROOT, scenario)
        now.push(a.ms)
        if (a.bytes !== undefined) bytes.push(a.bytes)
        then.push((await child(base, scenario)).ms)
      }
      const s = summarize(now)
      const b = summarize(then)
      const ratios = summarize(now.map((x, i) => x / then[i]))
      const perEvent = bytes.length > 0 ? summarize(bytes).median / N : undefined
      console.log(
        `catch-up ${scenario} of ${fmt(N)} events: ${fmt(s.median)} ms (${fmt(s.min)}..${fmt(s.max)}) ` +
          `vs ${BASE_REF} ${fmt(b.median)} ms (${fmt(b.min)}..${fmt(b.max)}); ratio ${ratios.median.toFixed(2)} ` +
          `(${ratios.min.toFixed(2)}..${ratios.max.toFixed(2)})` +
          (perEvent === undefined ? '' : `; reconciliation ${perEvent.toFixed(0)} B per event on the wire`),
      )
      out[scenario] = { ms: s, baseMs: b, ratio: ratios, bytesPerEvent: perEvent }
    }
  } finally {
    execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', base], { stdio: 'ignore' })
  }
  return out
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCatchUp()
