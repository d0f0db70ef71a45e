/**
 * Start-up replay benchmark (issue: replay of 1,000,000 events <= 60 s; RSS of a node holding
 * 1,000,000 events <= 300 MB). Writes N signed events straight into a LevelDB log (no
 * materialized state), then starts a real node in a child process, which rebuilds the state
 * from the log; the child reports the rebuild time and its RSS after start-up.
 * Run: npm run bench -- replay   (BENCH_REPLAY_EVENTS=1000000 by default; BENCH_REPLAY_DIR=DIR
 * reuses a log filled before, e.g. by `node bench/replay.ts fill DIR`; BENCH_REPLAY_BASE=DIR pairs
 * every run with a rebuild by another checkout, below)
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NODE_ENV, NODE_FLAGS } from '../src/cli/runtime-flags.ts'
import { signEvent } from '../src/core/event.ts'
import type { Digest } from '../src/core/types.ts'
import { createLevelStore } from '../src/store/index.ts'
import { signerFromSeed } from '../src/util/crypto.ts'
import { newEventId } from '../src/util/random.ts'
import { nextLogPosition } from '../test/helpers/log-position.ts'
import { fmt, summarize } from './stats.ts'

const EVENTS = Number(process.env.BENCH_REPLAY_EVENTS ?? 1_000_000)
const TARGETS = 50_000
const RUNS = Number(process.env.BENCH_REPLAY_RUNS ?? 3)

export async function fill(dir: string): Promise<number> {
  const store = createLevelStore(dir)
  await store.open()
  const authors = [1, 2, 3, 4].map((b) => signerFromSeed(new Uint8Array(32).fill(b)))
  const heads = new Map<string, Digest>()
  const t0 = performance.now()
  let wall = 1_764_000_000_000
  for (let done = 0; done < EVENTS; ) {
    const events = []
    for (let i = 0; i < 10_000 && done < EVENTS; i++, done++) {
      const target = `persona-${done % TARGETS}`
      const parent = heads.get(target)
      const e = signEvent(
        {
          eventId: newEventId(),
          type: 'persona_update',
          targetId: target,
          payload: { op: 'set', fields: { [`f${done % 5}`]: done, name: `n${done % 97}` } },
          hlc: { wallMs: wall++, counter: 0 },
          parents: parent ? [parent] : [],
          ...nextLogPosition(authors[done % authors.length]),
        },
        authors[done % authors.length],
      )
      heads.set(target, e.digest)
      events.push({ signed: e.signed, signature: e.signature })
    }
    await store.commit({
      events,
      targets: [],
      conflicts: [],
      equivocations: [],
      audit: [],
      meta: { hlc: `${wall}:0` },
    })
  }
  await store.close()
  return (performance.now() - t0) / 1000
}

interface ChildReport {
  mode: string
  rebuilt: boolean
  events: number
  ms: number
  waitReadMs?: number
  waitWriteMs?: number
  passes?: number
  scanned?: number
  cpuS?: number
  startMs: number
  rssMb: number
  rssAnonMb: number
  rssFileMb: number
  heapTotalMb: number
  heapUsedMb: number
  externalMb: number
  mallocMainMb: number
  v8PagesMb: number
  otherAnonMb: number
  eventsStored: number
  stateHash: string
}

/** Another checkout to pair with (BENCH_REPLAY_BASE=DIR: its bench/replay-child.ts, which must
 *  exist there, e.g. copied with bench/smaps.ts into a worktree of an older commit): every run
 *  rebuilds with it first, then with this code, on the same log, and both must reach the same
 *  state hash. */
const BASE = process.env.BENCH_REPLAY_BASE

function child(dir: string, mode: 'rebuild' | 'restart', root?: string): ChildReport {
  const script =
    root === undefined
      ? new URL('./replay-child.ts', import.meta.url).pathname
      : join(root, 'bench', 'replay-child.ts')
  const out = execFileSync(process.execPath, [...NODE_FLAGS, script, dir, mode], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    env: { ...process.env, ...NODE_ENV },
  })
  return JSON.parse(out.trim().split('\n').pop()!) as ChildReport
}

const memText = (r: ChildReport) =>
  `RSS ${r.rssMb.toFixed(0)} MB (anonymous ${r.rssAnonMb.toFixed(0)}: malloc main arena ${r.mallocMainMb}, V8 pages ${r.v8PagesMb}, other ${r.otherAnonMb}; file pages ${r.rssFileMb.toFixed(0)}; V8 heap ${r.heapUsedMb}/${r.heapTotalMb} MB, external ${r.externalMb})`

export async function benchReplay(): Promise<Record<string, unknown>> {
  const dir = process.env.BENCH_REPLAY_DIR ?? (await mkdtemp(join(tmpdir(), 'gkm-replay-')))
  try {
    if (process.env.BENCH_REPLAY_DIR === undefined) {
      const fillS = await fill(dir)
      console.log(`wrote ${fmt(EVENTS)} signed events to the log in ${fillS.toFixed(1)} s`)
    }
    const seconds: number[] = []
    const rss: number[] = []
    const restartRss: number[] = []
    const restartMs: number[] = []
    const base = {
      seconds: [] as number[],
      cpu: [] as number[],
      rss: [] as number[],
      restartRss: [] as number[],
    }
    const cpu: number[] = []
    for (let run = 0; run < RUNS; run++) {
      let baseHash: string | undefined
      if (BASE !== undefined) {
        const b = child(dir, 'rebuild', BASE)
        const again = child(dir, 'restart', BASE)
        base.seconds.push(b.ms / 1000)
        base.cpu.push(b.cpuS ?? Number.NaN)
        base.rss.push(b.rssMb)
        base.restartRss.push(again.rssMb)
        baseHash = b.stateHash
        console.log(
          `  run ${run + 1}, base: rebuilt ${fmt(b.events)} events in ${(b.ms / 1000).toFixed(1)} s, ${b.cpuS?.toFixed(1)} CPU-s, then ${memText(b)}; plain restart in ${again.startMs.toFixed(0)} ms, ${memText(again)}`,
        )
      }
      // Started with the runtime flags and environment of `npm start` (src/cli/runtime-flags.ts).
      const r = child(dir, 'rebuild')
      if (baseHash !== undefined && r.stateHash !== baseHash)
        throw new Error(`the base rebuilt state hash ${baseHash}, this code ${r.stateHash}`)
      if (!r.rebuilt || r.events !== EVENTS)
        throw new Error(`replay did not rebuild all events: ${JSON.stringify(r)}`)
      seconds.push(r.ms / 1000)
      cpu.push(r.cpuS ?? Number.NaN)
      rss.push(r.rssMb)
      const again = child(dir, 'restart')
      if (again.rebuilt || again.eventsStored !== EVENTS || again.stateHash !== r.stateHash)
        throw new Error(`restart after the rebuild does not hold the same state: ${JSON.stringify(again)}`)
      restartRss.push(again.rssMb)
      restartMs.push(again.startMs)
      console.log(
        `  run ${run + 1}: rebuilt ${fmt(r.events)} events in ${(r.ms / 1000).toFixed(1)} s, ${r.cpuS?.toFixed(1)} CPU-s (waited ${((r.waitReadMs ?? 0) / 1000).toFixed(1)} s for reads, ${((r.waitWriteMs ?? 0) / 1000).toFixed(1)} s for writes${r.passes === undefined ? '' : `; ${r.passes} scans of the log, ${fmt(r.scanned ?? 0)} entries read`}), then ${memText(r)}; plain restart in ${again.startMs.toFixed(0)} ms, ${memText(again)}`,
      )
    }
    const out = {
      events: EVENTS,
      targets: TARGETS,
      replay_seconds: summarize(seconds),
      replay_cpu_seconds: summarize(cpu),
      rss_mb_after_rebuild: summarize(rss),
      rss_mb_after_restart: summarize(restartRss),
      restart_ms: summarize(restartMs),
      ...(BASE === undefined
        ? {}
        : {
            base_replay_seconds: summarize(base.seconds),
            base_replay_cpu_seconds: summarize(base.cpu),
            base_rss_mb_after_rebuild: summarize(base.rss),
            base_rss_mb_after_restart: summarize(base.restartRss),
          }),
    }
    console.log(
      `start-up replay of ${fmt(EVENTS)} events: median ${out.replay_seconds.median.toFixed(1)} s (range ${out.replay_seconds.min.toFixed(1)}..${out.replay_seconds.max.toFixed(1)}); RSS after the rebuild median ${out.rss_mb_after_rebuild.median.toFixed(0)} MB (range ${out.rss_mb_after_rebuild.min.toFixed(0)}..${out.rss_mb_after_rebuild.max.toFixed(0)}); after a plain restart ${out.rss_mb_after_restart.median.toFixed(0)} MB, started in ${out.restart_ms.median.toFixed(0)} ms`,
    )
    if (BASE !== undefined) {
      const b = summarize(base.seconds)
      console.log(
        `  base: median ${b.median.toFixed(1)} s (range ${b.min.toFixed(1)}..${b.max.toFixed(1)}); RSS after the rebuild median ${summarize(base.rss).median.toFixed(0)} MB; after a plain restart ${summarize(base.restartRss).median.toFixed(0)} MB`,
      )
    }
    return out
  } finally {
    if (process.env.BENCH_REPLAY_DIR === undefined) await rm(dir, { recursive: true, force: true })
  }
}

// `node bench/replay.ts fill DIR`: fill a log once, to rerun the replay on it (BENCH_REPLAY_DIR).
if (import.meta.main && process.argv[2] === 'fill')
  console.log(`filled in ${(await fill(process.argv[3])).toFixed(1)} s`)
