/**
 * Ingest benchmarks (issue: >= 15,000 local events/s durable through POST /sync/push in batches of
 * 500; >= 8,000 already-signed events/s). A real node in a temp dir, mesh off, HTTP on loopback.
 * Run: npm run bench -- ingest
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config/index.ts'
import { eventToJson, signEvent } from '../src/core/event.ts'
import type { SyncEventJson } from '../src/core/types.ts'
import { startNode } from '../src/node/index.ts'
import { signerFromSeed } from '../src/util/crypto.ts'
import { newEventId } from '../src/util/random.ts'
import { fmt, summarize } from './stats.ts'

const BATCH = 500
const BATCHES_PER_RUN = Number(process.env.BENCH_BATCHES ?? 40)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)

function localWrite(i: number) {
  return {
    event_type: 'persona_update',
    target_id: `persona-${i % 5000}`,
    payload: { op: 'set', fields: { [`f${i % 7}`]: i, note: 'bench' } },
  }
}

async function post(url: string, body: unknown[]): Promise<{ accepted: number; rejected: unknown[] }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (res.status !== 200) throw new Error(`push answered ${res.status}: ${await res.text()}`)
  return (await res.json()) as { accepted: number; rejected: unknown[] }
}

/** Sends batches with `concurrency` requests in flight; returns events/s. */
async function drive(url: string, batches: unknown[][], concurrency: number): Promise<number> {
  let next = 0
  let accepted = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batches.length) {
        const r = await post(url, batches[next++])
        if (r.rejected.length > 0) throw new Error(`rejected: ${JSON.stringify(r.rejected[0])}`)
        accepted += r.accepted
      }
    }),
  )
  return accepted / ((performance.now() - t0) / 1000)
}

export async function benchIngest(): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'gkm-bench-'))
  const node = await startNode(
    loadConfig({ env: {}, flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false } }),
  )
  try {
    const url = `http://${node.http.host}:${node.http.port}/sync/push`
    const local: number[] = []
    const signed: number[] = []
    let n = 0
    const remote = signerFromSeed(new Uint8Array(32).fill(99))
    let wall = Date.now() - 10_000
    for (let run = 0; run < RUNS; run++) {
      const localBatches = Array.from({ length: BATCHES_PER_RUN }, () =>
        Array.from({ length: BATCH }, () => localWrite(n++)),
      )
      local.push(await drive(url, localBatches, 4))
      // Signed events by another author (pre-signed outside the measured time).
      const signedBatches: SyncEventJson[][] = Array.from({ length: BATCHES_PER_RUN }, () =>
        Array.from({ length: BATCH }, () => {
          const i = n++
          return eventToJson(
            signEvent(
              {
                eventId: newEventId(),
                type: 'vector_update',
                targetId: `vec-${i % 5000}`,
                payload: { op: 'upsert', values: [i, 0.5, -1, 2] },
                hlc: { wallMs: wall++, counter: 0 },
                parents: [],
              },
              remote,
            ),
          )
        }),
      )
      signed.push(await drive(url, signedBatches, 4))
    }
    const out = {
      machine: `${(await import('node:os')).cpus().length} cores, Node ${process.version}`,
      events_per_run: BATCH * BATCHES_PER_RUN,
      local_http_events_per_s: summarize(local),
      signed_http_events_per_s: summarize(signed),
    }
    console.log(
      `local writes via POST /sync/push (batches of ${BATCH}, durable): median ${fmt(out.local_http_events_per_s.median)}/s, range ${fmt(out.local_http_events_per_s.min)}..${fmt(out.local_http_events_per_s.max)} over ${RUNS} runs`,
    )
    console.log(
      `signed events via POST /sync/push (verify + durable): median ${fmt(out.signed_http_events_per_s.median)}/s, range ${fmt(out.signed_http_events_per_s.min)}..${fmt(out.signed_http_events_per_s.max)} over ${RUNS} runs`,
    )
    return out
  } finally {
    await node.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
