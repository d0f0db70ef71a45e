/**
 * Ingest benchmarks (issue: >= 15,000 local events/s durable through POST /sync/push in batches
 * of 500; >= 8,000 already-signed events/s). A real node in a temp dir (mesh off, HTTP on
 * loopback) in this process; the load client (bench/push-client.ts) in its own process, 4
 * requests in flight. Each run pushes BENCH_BATCHES batches of 500 of each kind.
 * Run: npm run bench -- ingest
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config/index.ts'
import { startNode } from '../src/node/index.ts'
import { fmt, summarize } from './stats.ts'

const BATCH = 500
const BATCHES_PER_RUN = Number(process.env.BENCH_BATCHES ?? 40)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
/** Requests in flight from the load client. */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4)
const CLIENT = new URL('./push-client.ts', import.meta.url).pathname

function client(
  url: string,
  mode: 'local' | 'signed',
  offset: number,
): Promise<{ events: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const c = spawn(
      process.execPath,
      [CLIENT, url, mode, String(BATCHES_PER_RUN), String(BATCH), String(CONCURRENCY), String(offset)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let out = ''
    c.stdout.on('data', (d) => {
      out += d
    })
    c.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').pop()!))
        : reject(new Error(`push client exited with ${code}`)),
    )
  })
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
    for (let run = 0; run < RUNS; run++) {
      const l = await client(url, 'local', run * 1_000_000)
      local.push(l.events / l.seconds)
      const s = await client(url, 'signed', run * 1_000_000 + 500_000)
      signed.push(s.events / s.seconds)
      console.log(`  run ${run + 1}: local ${fmt(local[run])}/s, signed ${fmt(signed[run])}/s`)
    }
    const out = {
      machine: `${cpus().length} cores, Node ${process.version}`,
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
