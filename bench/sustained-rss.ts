/**
 * RSS of one node under sustained writes (issue 12: <= 300 MB after 5 minutes). Starts a node in
 * a child process with the runtime flags of `npm start` (mesh off, a fresh data directory), sends
 * it RATE local writes per second over HTTP (`POST /sync/push`, BATCH writes per request, at
 * most 32 requests in flight) for SECONDS, and prints the child's memory samples (RSS split into V8
 * heap, external, anonymous and file-backed memory, LevelDB's estimate) and the last one.
 * Run: npm run bench -- sustained   (BENCH_SUSTAINED_RATE=300, BENCH_SUSTAINED_SECONDS=300,
 * BENCH_SUSTAINED_BATCH=10, BENCH_RUNS=1; BENCH_NODE_FLAGS replaces the V8 flags), or `node bench/sustained-rss.ts [CHILD_SCRIPT]` to
 * drive another checkout's child (a paired run against an older commit: copy
 * bench/sustained-rss-child.ts there).
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { NODE_ENV, NODE_FLAGS } from '../src/cli/runtime-flags.ts'
import { summarize } from './stats.ts'

const RATE = Number(process.env.BENCH_SUSTAINED_RATE ?? 300)
const SECONDS = Number(process.env.BENCH_SUSTAINED_SECONDS ?? 300)
const RUNS = Number(process.env.BENCH_RUNS ?? 1)
const BATCH = Number(process.env.BENCH_SUSTAINED_BATCH ?? 10)
const IN_FLIGHT_MAX = 32
const TARGETS = 5_000

interface Sample {
  s: number
  events: number
  rssMb: number
  anonMb: number
  fileMb: number
  heapUsedMb: number
  heapTotalMb: number
  newSpaceMb: number
  oldSpaceMb: number
  externalMb: number
  arrayBuffersMb: number
  levelMb: number
  mallocMainMb: number
  v8PagesMb: number
  otherAnonMb: number
}

const sampleText = (x: Sample) =>
  `${String(x.s).padStart(4)} s ${String(x.events).padStart(7)} events: RSS ${x.rssMb.toFixed(0)} MB (anonymous ${x.anonMb.toFixed(0)}: malloc main ${x.mallocMainMb}, V8 pages ${x.v8PagesMb}, other ${x.otherAnonMb}; file ${x.fileMb.toFixed(0)}); V8 heap ${x.heapUsedMb}/${x.heapTotalMb} (new space ${x.newSpaceMb}, old ${x.oldSpaceMb}), external ${x.externalMb} (array buffers ${x.arrayBuffersMb}); LevelDB ${x.levelMb}`

export async function runSustained(
  childScript = new URL('./sustained-rss-child.ts', import.meta.url).pathname,
): Promise<{ last: Sample; peakRssMb: number; written: number; lagMs: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'gkm-sustained-'))
  // BENCH_NODE_FLAGS replaces npm start's V8 flags (to measure another setting).
  const flags = process.env.BENCH_NODE_FLAGS?.split(' ') ?? NODE_FLAGS
  const child = spawn(process.execPath, [...flags, childScript, dir, '10000'], {
    env: { ...process.env, ...NODE_ENV },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  try {
    const lines = createInterface({ input: child.stdout })
    const samples: Sample[] = []
    let last: Sample | undefined
    let resolveUrl: (url: string) => void = () => {}
    const url = new Promise<string>((r) => {
      resolveUrl = r
    })
    const done = new Promise<void>((resolve) => {
      lines.on('line', (line) => {
        const m = JSON.parse(line) as Sample & { url?: string; last?: boolean }
        if (m.url !== undefined) return resolveUrl(m.url)
        if (m.last) {
          last = m
          resolve()
          return
        }
        samples.push(m)
        console.log(`  ${sampleText(m)}`)
      })
      child.on('exit', () => resolve())
    })
    const push = `${await url}/sync/push`
    // Paced: write i is due at t0 + i / RATE; at most IN_FLIGHT_MAX requests in flight.
    const total = RATE * SECONDS
    const t0 = performance.now()
    let next = 0
    let lagMs = 0
    const worker = async () => {
      while (next < total) {
        const first = next
        next += BATCH
        const due = t0 + (first * 1000) / RATE
        const wait = due - performance.now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        else lagMs = Math.max(lagMs, -wait)
        const res = await fetch(push, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(
            Array.from({ length: Math.min(BATCH, total - first) }, (_, k) => ({
              event_type: 'persona_update',
              target_id: `persona-${(first + k) % TARGETS}`,
              payload: { op: 'set', fields: { [`f${(first + k) % 7}`]: first + k, note: 'bench' } },
            })),
          ),
        })
        const r = (await res.json()) as { accepted: number }
        if (res.status !== 200 || r.accepted !== Math.min(BATCH, total - first))
          throw new Error(`push failed: ${res.status} ${JSON.stringify(r).slice(0, 300)}`)
      }
    }
    await Promise.all(Array.from({ length: IN_FLIGHT_MAX }, worker))
    child.stdin.end()
    await done
    if (last === undefined) throw new Error('the node exited without a last sample')
    console.log(`  last ${sampleText(last)}`)
    const peakRssMb = Math.max(last.rssMb, ...samples.map((x) => x.rssMb))
    return { last, peakRssMb, written: total, lagMs }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
}

export async function benchSustainedRss(): Promise<Record<string, unknown>> {
  const last: number[] = []
  const peak: number[] = []
  for (let run = 0; run < RUNS; run++) {
    const r = await runSustained()
    last.push(r.last.rssMb)
    peak.push(r.peakRssMb)
    console.log(
      `  run ${run + 1}: ${r.written} writes at ${RATE}/s over ${SECONDS} s (largest lag behind the pace ${r.lagMs.toFixed(0)} ms): RSS at the end ${r.last.rssMb.toFixed(0)} MB, peak ${r.peakRssMb.toFixed(0)} MB`,
    )
  }
  const out = { rate: RATE, seconds: SECONDS, rss_mb_end: summarize(last), rss_mb_peak: summarize(peak) }
  console.log(
    `sustained writes (${RATE}/s, ${SECONDS} s): RSS at the end median ${out.rss_mb_end.median.toFixed(0)} MB (range ${out.rss_mb_end.min.toFixed(0)}..${out.rss_mb_end.max.toFixed(0)}), peak median ${out.rss_mb_peak.median.toFixed(0)} MB`,
  )
  return out
}

if (import.meta.main) {
  const script = process.argv[2]
  const r = await runSustained(script)
  console.log(JSON.stringify({ rssMb: r.last.rssMb, peakRssMb: r.peakRssMb, lagMs: Math.round(r.lagMs) }))
}
