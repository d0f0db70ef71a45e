/**
 * Cost per event (issue 12, store and ingest side), this checkout beside the code at the start of
 * the issue (BENCH_BASE_REF, default 73ef879), alternating A B A B in one run so the machine's
 * drift hits both alike; ratios are taken per pair. Each measurement is its own process
 * (bench/cost-child.ts):
 *
 * - commit: CPU per stored gossiped event (one `pushVerified` per event, fsync), BENCH_COST_COMMIT
 *   events (default 3,000) after a warm-up of 1,000;
 * - commit-burst: the same, 64 `pushVerified` calls in flight as a burst of gossip hands them over:
 *   group commits form, so the commit's fixed cost is shared (CPU per event);
 * - push500: local writes through POST /sync/push in batches of 500, 4 in flight,
 *   BENCH_COST_PUSH events (default 20,000): events/s;
 * - push1: one local write per POST /sync/push, sequential, BENCH_COST_PUSH1 (default 2,000):
 *   events/s;
 * - floor: what one synced LevelDB batch of 1 and of 8 small puts costs on this machine (the
 *   lower bound of a one-event group commit: the fsync itself), CPU per write;
 * - push500-floor, push1-floor: the same client and bodies against a bare fastify server that
 *   writes one synced batch of this code's puts and bytes per event, with no engine (cost-child.ts):
 *   the most events/s this client, HTTP stack and disk allow, run after each pair of its scenario.
 *
 * The base code is checked out with `git worktree add` into a temp dir (removed at the end) and
 * runs on this checkout's node_modules. Run: npm run bench -- cost
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClassicLevel } from 'classic-level'
import { childJson } from './child-json.ts'
import { summarize } from './stats.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CHILD = fileURLToPath(new URL('./cost-child.ts', import.meta.url))
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const BASE_REF = process.env.BENCH_BASE_REF ?? '73ef879'
const SCENARIOS: Record<string, number> = {
  commit: Number(process.env.BENCH_COST_COMMIT ?? 3000),
  'commit-burst': Number(process.env.BENCH_COST_COMMIT ?? 3000),
  push500: Number(process.env.BENCH_COST_PUSH ?? 20_000),
  push1: Number(process.env.BENCH_COST_PUSH1 ?? 2000),
}

function child(
  root: string,
  scenario: string,
  n: number,
  ...extra: string[]
): Promise<Record<string, number>> {
  return childJson([CHILD, root, scenario, String(n), ...extra], {
    nodeFlags: ['--max-old-space-size=256', '--max-semi-space-size=16'],
    env: { ...process.env, MALLOC_ARENA_MAX: '2' },
    what: `child ${scenario}`,
  })
}

/** CPU and wall time per synced batch of `puts` small puts (~300 B + 40 B values), 2,000
 *  batches one after another: the wall time is the disk's fsync latency, the ceiling of any
 *  sequential durable write (push1 waits for one such batch per request). */
async function floor(puts: number): Promise<{ cpuMs: number; wallMs: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'gkm-bench-floor-'))
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
  try {
    await db.open()
    const count = 2000
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    for (let i = 0; i < count; i++) {
      const b = db.batch()
      for (let j = 0; j < puts; j++) b.put(Buffer.from(`k${i}-${j}`), Buffer.alloc(j === 0 ? 300 : 40, i))
      await b.write({ sync: true } as never)
    }
    const c = process.cpuUsage(c0)
    return { cpuMs: (c.user + c.system) / 1000 / count, wallMs: (performance.now() - t0) / count }
  } finally {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  }
}

const f = (x: number, d = 3) => x.toFixed(d)
const range = (s: { median: number; min: number; max: number }, d: number) =>
  `${f(s.median, d)} (${f(s.min, d)}..${f(s.max, d)})`

export async function benchCost(): Promise<Record<string, unknown>> {
  const base = await mkdtemp(join(tmpdir(), 'gkm-bench-base-'))
  await rm(base, { recursive: true })
  execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', base, BASE_REF], { stdio: 'ignore' })
  await symlink(join(ROOT, 'node_modules'), join(base, 'node_modules'))
  const out: Record<string, unknown> = { baseRef: BASE_REF, runs: RUNS }
  try {
    for (const [scenario, n] of Object.entries(SCENARIOS)) {
      const key = scenario.startsWith('commit') ? 'cpuMs' : 'eventsPerS'
      const now: number[] = []
      const then: number[] = []
      const floors: number[] = []
      // Puts and bytes written per event: deterministic, whatever the machine's load.
      let writes: Record<string, number> = {}
      for (let r = 0; r < RUNS; r++) {
        const a = await child(ROOT, scenario, n)
        const b = await child(base, scenario, n)
        now.push(a[key])
        then.push(b[key])
        writes = {
          puts: a.putsPerEvent,
          basePuts: b.putsPerEvent,
          bytes: a.bytesPerEvent,
          baseBytes: b.bytesPerEvent,
        }
        console.log(`  ${scenario} run ${r + 1}: ${f(now[r], 3)} vs ${BASE_REF} ${f(then[r], 3)} ${key}`)
        if (!scenario.startsWith('commit')) {
          const fl = await child(
            ROOT,
            `${scenario}-floor`,
            n,
            String(a.putsPerEvent),
            String(a.bytesPerEvent),
          )
          floors.push(fl.eventsPerS)
          console.log(`  ${scenario} floor run ${r + 1}: ${f(fl.eventsPerS, 0)} events/s`)
        }
      }
      if (floors.length > 0) {
        const fl = summarize(floors)
        const share = summarize(now.map((x, i) => x / floors[i]))
        console.log(
          `${scenario} floor (same client, bare fastify + one synced batch of this code's puts per request): ` +
            `${range(fl, 0)} events/s; this code reaches ${range(share, 2)} of it`,
        )
        out[`${scenario}Floor`] = { eventsPerS: fl, share }
      }
      const s = summarize(now)
      const b = summarize(then)
      const ratio = summarize(now.map((x, i) => x / then[i]))
      const d = key === 'cpuMs' ? 3 : 0
      console.log(
        `${scenario} (${n} events): ${range(s, d)} ${key} vs ${BASE_REF} ${range(b, d)}; ratio ${range(ratio, 2)}; ` +
          `writes per event ${f(writes.puts, 2)} puts, ${f(writes.bytes, 0)} B vs ${f(writes.basePuts, 2)} puts, ${f(writes.baseBytes, 0)} B`,
      )
      out[scenario] = { events: n, unit: key, now: s, base: b, ratio, writesPerEvent: writes }
    }
  } finally {
    execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', base], { stdio: 'ignore' })
  }
  const ones = [await floor(1), await floor(1), await floor(1)]
  const eights = [await floor(8), await floor(8), await floor(8)]
  const onePut = summarize(ones.map((x) => x.cpuMs))
  const eight = summarize(eights.map((x) => x.cpuMs))
  const wall = summarize(eights.map((x) => x.wallMs))
  console.log(
    `floor: one synced LevelDB batch, CPU ms: 1 put ${range(onePut, 3)}, 8 puts ${range(eight, 3)}; ` +
      `wall ms per sequential synced batch of 8 puts ${range(wall, 3)} ` +
      `(at most ${f(1000 / wall.median, 0)} sequential durable writes/s on this disk)`,
  )
  out.floorCpuMsPerSyncedBatch = { onePut, eightPuts: eight }
  out.floorWallMsPerSyncedBatch = { eightPuts: wall }
  return out
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCost()
