/**
 * Start-up replay benchmark (issue: replay of 1,000,000 events <= 60 s; RSS of a node holding
 * 1,000,000 events <= 300 MB). Writes N signed events straight into a LevelDB log (no
 * materialized state), then starts a real node in a child process, which rebuilds the state
 * from the log; the child reports the rebuild time and its RSS after start-up.
 * Run: npm run bench -- replay   (BENCH_REPLAY_EVENTS=1000000 by default)
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signEvent } from '../src/core/event.ts'
import type { Digest } from '../src/core/types.ts'
import { createLevelStore } from '../src/store/index.ts'
import { signerFromSeed } from '../src/util/crypto.ts'
import { newEventId } from '../src/util/random.ts'
import { fmt, summarize } from './stats.ts'

const EVENTS = Number(process.env.BENCH_REPLAY_EVENTS ?? 1_000_000)
const TARGETS = 50_000
const RUNS = Number(process.env.BENCH_REPLAY_RUNS ?? 3)

async function fill(dir: string): Promise<number> {
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

export async function benchReplay(): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'gkm-replay-'))
  try {
    const fillS = await fill(dir)
    console.log(`wrote ${fmt(EVENTS)} signed events to the log in ${fillS.toFixed(1)} s`)
    const seconds: number[] = []
    const rss: number[] = []
    const anon: number[] = []
    for (let run = 0; run < RUNS; run++) {
      const out = execFileSync(
        process.execPath,
        [new URL('./replay-child.ts', import.meta.url).pathname, dir],
        { encoding: 'utf8', maxBuffer: 1 << 20 },
      )
      const r = JSON.parse(out.trim().split('\n').pop()!) as {
        rebuilt: boolean
        events: number
        ms: number
        rssMb: number
        rssAnonMb: number
        rssFileMb: number
        startMs: number
      }
      if (!r.rebuilt || r.events !== EVENTS) throw new Error(`replay did not rebuild all events: ${out}`)
      seconds.push(r.ms / 1000)
      rss.push(r.rssMb)
      anon.push(r.rssAnonMb)
      console.log(
        `  run ${run + 1}: rebuilt ${fmt(r.events)} events in ${(r.ms / 1000).toFixed(1)} s, RSS ${r.rssMb.toFixed(0)} MB (anonymous ${r.rssAnonMb.toFixed(0)}, file pages ${r.rssFileMb.toFixed(0)})`,
      )
    }
    const out = {
      events: EVENTS,
      targets: TARGETS,
      replay_seconds: summarize(seconds),
      rss_mb_after_start: summarize(rss),
    }
    console.log(
      `start-up replay of ${fmt(EVENTS)} events: median ${out.replay_seconds.median.toFixed(1)} s (range ${out.replay_seconds.min.toFixed(1)}..${out.replay_seconds.max.toFixed(1)}); RSS median ${out.rss_mb_after_start.median.toFixed(0)} MB`,
    )
    return out
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
