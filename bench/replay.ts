/**
 * Start-up replay benchmark (issue: replay of 1,000,000 events <= 60 s; RSS of a node holding
 * 1,000,000 events <= 300 MB). Writes N signed events straight into a LevelDB log (no
 * materialized state), then starts a real node in a child process, which rebuilds the state
 * from the log; the child reports the rebuild time and its RSS after start-up.
 * Run: npm run bench -- replay   (BENCH_REPLAY_EVENTS=1000000 by default; BENCH_REPLAY_DIR=DIR
 * reuses a log filled before, e.g. by `node bench/replay.ts fill DIR`)
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
  startMs: number
  rssMb: number
  rssAnonMb: number
  rssFileMb: number
  heapTotalMb: number
  heapUsedMb: number
  eventsStored: number
  stateHash: string
}

function child(dir: string, mode: 'rebuild' | 'restart'): ChildReport {
  const out = execFileSync(
    process.execPath,
    [...NODE_FLAGS, new URL('./replay-child.ts', import.meta.url).pathname, dir, mode],
    { encoding: 'utf8', maxBuffer: 1 << 20, env: { ...process.env, ...NODE_ENV } },
  )
  return JSON.parse(out.trim().split('\n').pop()!) as ChildReport
}

const memText = (r: ChildReport) =>
  `RSS ${r.rssMb.toFixed(0)} MB (anonymous ${r.rssAnonMb.toFixed(0)}, file pages ${r.rssFileMb.toFixed(0)}; V8 heap ${r.heapUsedMb}/${r.heapTotalMb} MB)`

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
    for (let run = 0; run < RUNS; run++) {
      // Started with the runtime flags and environment of `npm start` (src/cli/runtime-flags.ts).
      const r = child(dir, 'rebuild')
      if (!r.rebuilt || r.events !== EVENTS)
        throw new Error(`replay did not rebuild all events: ${JSON.stringify(r)}`)
      seconds.push(r.ms / 1000)
      rss.push(r.rssMb)
      const again = child(dir, 'restart')
      if (again.rebuilt || again.eventsStored !== EVENTS || again.stateHash !== r.stateHash)
        throw new Error(`restart after the rebuild does not hold the same state: ${JSON.stringify(again)}`)
      restartRss.push(again.rssMb)
      restartMs.push(again.startMs)
      console.log(
        `  run ${run + 1}: rebuilt ${fmt(r.events)} events in ${(r.ms / 1000).toFixed(1)} s, then ${memText(r)}; plain restart in ${again.startMs.toFixed(0)} ms, ${memText(again)}`,
      )
    }
    const out = {
      events: EVENTS,
      targets: TARGETS,
      replay_seconds: summarize(seconds),
      rss_mb_after_rebuild: summarize(rss),
      rss_mb_after_restart: summarize(restartRss),
      restart_ms: summarize(restartMs),
    }
    console.log(
      `start-up replay of ${fmt(EVENTS)} events: median ${out.replay_seconds.median.toFixed(1)} s (range ${out.replay_seconds.min.toFixed(1)}..${out.replay_seconds.max.toFixed(1)}); RSS after the rebuild median ${out.rss_mb_after_rebuild.median.toFixed(0)} MB (range ${out.rss_mb_after_rebuild.min.toFixed(0)}..${out.rss_mb_after_rebuild.max.toFixed(0)}); after a plain restart ${out.rss_mb_after_restart.median.toFixed(0)} MB, started in ${out.restart_ms.median.toFixed(0)} ms`,
    )
    return out
  } finally {
    if (process.env.BENCH_REPLAY_DIR === undefined) await rm(dir, { recursive: true, force: true })
  }
}

// `node bench/replay.ts fill DIR`: fill a log once, to rerun the replay on it (BENCH_REPLAY_DIR).
if (import.meta.main && process.argv[2] === 'fill')
  console.log(`filled in ${(await fill(process.argv[3])).toFixed(1)} s`)
