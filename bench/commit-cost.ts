/**
 * What one gossiped event costs the node that stores it: CPU per single-event commit of a peer's
 * verified event (`pushVerified`, as the mesh hands over an event at ≤ 100 events/s: one event,
 * one group commit, fsync). The mesh's own cost per event is measured by
 * `bench/propagation.ts --mode mesh`; docs/BENCHMARKS-MESH.md adds the two up.
 *
 * A writer node (mesh off) makes BENCH_COMMIT_EVENTS causal events on 256 targets, one push each
 * (as `bench/propagation.ts` writes them); for every run a fresh receiver node takes them one at
 * a time after a warm-up of 1,000. CPU is the process's (`process.cpuUsage`: the event loop,
 * LevelDB's threads and the workers), so it is the whole cost of the commit on this machine.
 * Run: npm run bench -- commit
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config/index.ts'
import { eventFromTrustedBytes } from '../src/core/event.ts'
import type { SignedEvent } from '../src/core/types.ts'
import { startNode } from '../src/node/index.ts'
import { summarize } from './stats.ts'

const EVENTS = Number(process.env.BENCH_COMMIT_EVENTS ?? 5000)
const WARMUP = 1000
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
/** Events per pushVerified (one group commit): 1 as the mesh hands them over when they arrive
 *  one at a time; more shows what a group's fixed cost is. */
const GROUP = Math.max(1, Number(process.env.BENCH_COMMIT_GROUP ?? 1))

const ms = (x: number) => x.toFixed(3)

const node = (dir: string) =>
  startNode(loadConfig({ env: {}, flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false } }))

async function makeEvents(n: number): Promise<SignedEvent[]> {
  const dir = await mkdtemp(join(tmpdir(), 'gkm-bench-commit-w-'))
  const w = await node(dir)
  try {
    const out: SignedEvent[] = []
    const unsubscribe = w.api.subscribe(0, (c) =>
      out.push(eventFromTrustedBytes(c.event.signed, c.event.signature)),
    )
    for (let i = 0; i < n; i++)
      await w.api.push(
        [
          {
            event_type: 'persona_update',
            target_id: `bench-${i % 256}`,
            payload: { op: 'set', fields: { bench: 1, k: i, sent: Date.now() + 0.5 } },
          },
        ],
        { kind: 'local', id: 'bench' },
      )
    for (let waited = 0; out.length < n && waited < 5_000; waited += 50)
      await new Promise((r) => setTimeout(r, 50))
    unsubscribe()
    if (out.length < n) throw new Error(`the writer's change feed gave ${out.length} of ${n} events`)
    return out
  } finally {
    await w.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

export async function benchCommitCost(): Promise<Record<string, unknown>> {
  const events = await makeEvents(EVENTS + WARMUP)
  const cpuMs: number[] = []
  const wallMs: number[] = []
  for (let run = 0; run < RUNS; run++) {
    const dir = await mkdtemp(join(tmpdir(), 'gkm-bench-commit-'))
    const r = await node(dir)
    try {
      const from = { kind: 'peer', id: 'bench' } as const
      for (const e of events.slice(0, WARMUP)) await r.api.pushVerified([e], from)
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      const measured = events.slice(WARMUP)
      for (let i = 0; i < measured.length; i += GROUP) {
        const group = measured.slice(i, i + GROUP)
        const res = await r.api.pushVerified(group, from)
        if (res.accepted !== group.length)
          throw new Error(`event not accepted: ${JSON.stringify(res.rejected)}`)
      }
      const c = process.cpuUsage(c0)
      wallMs.push((performance.now() - t0) / Math.ceil(EVENTS / GROUP))
      cpuMs.push((c.user + c.system) / 1000 / EVENTS)
      console.log(
        `  run ${run + 1}: CPU ${ms(cpuMs[run])} ms per event, wall ${ms(wallMs[run])} ms per commit`,
      )
    } finally {
      await r.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
  const out = {
    machine: `${cpus().length} cores, Node ${process.version}`,
    events_per_run: EVENTS,
    events_per_commit: GROUP,
    cpu_ms_per_event: summarize(cpuMs),
    wall_ms_per_commit: summarize(wallMs),
  }
  console.log(
    `${GROUP === 1 ? 'single-event commits' : `commits of ${GROUP} events`} of verified peer events (pushVerified, fsync): CPU median ${ms(out.cpu_ms_per_event.median)} ms per event (range ${ms(out.cpu_ms_per_event.min)}..${ms(out.cpu_ms_per_event.max)}), wall ${ms(out.wall_ms_per_commit.median)} ms per commit, ${RUNS} runs`,
  )
  return out
}
