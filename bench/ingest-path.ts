/**
 * The receiving side of a catch-up, in one process and without the network: N signed events of
 * one author log (persona fields on 100 targets, as bench/catch-up-child.ts writes them) arrive
 * as wire bytes; they are decoded and checked (checkEvent) and stored by `pushVerified` in parts
 * of 1,000 with the signed head that covers each part, as the log phase's receiver hands them
 * over. Prints the CPU and wall time of each phase. BENCH_PROFILE=file writes a CPU profile.
 *
 * Run: node bench/ingest-path.ts [N]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config/index.ts'
import { checkEvent, signEvent } from '../src/core/event.ts'
import { decodeSigned } from '../src/core/event-codec.ts'
import { headSignable, leafHash, peaksOf, rootHash } from '../src/core/merkle-log.ts'
import type { LogHead } from '../src/core/ports.ts'
import type { AuthorKey, Digest, SignedEvent } from '../src/core/types.ts'
import { silentLogger, startNode } from '../src/node/index.ts'
import { fromHex, toHex } from '../src/util/bytes.ts'
import { signerFromSeed } from '../src/util/crypto.ts'

const N = Number(process.argv[2] ?? 10_000)
const PART = 1_000
const signer = signerFromSeed(new Uint8Array(32).fill(9))
const log = '0123456789abcdef'
const wall = Date.now() - 60_000
// Each event names its target's previous event as parent (a writer that saw the target's state).
const lastOf = new Map<string, string>()
const signedEvents = Array.from({ length: N }, (_, i) => {
  const target = `a-${i % 100}`
  const prev = lastOf.get(target)
  const e = signEvent(
    {
      eventId: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
      type: 'persona_update',
      targetId: target,
      payload: { op: 'set', fields: { [`f${i}`]: `v${i}` } },
      hlc: { wallMs: wall + i, counter: 0 },
      parents: prev === undefined ? [] : [prev as Digest],
      log,
      seq: i,
    },
    signer,
  )
  lastOf.set(target, e.digest)
  return e
})
const wire = signedEvents.map((e) => ({ signed: e.signed, signature: e.signature }))
const leaves = signedEvents.map((e) => leafHash(fromHex(e.digest)!))
const heads: LogHead[] = []
for (let end = PART; end <= N; end += PART) {
  const root = rootHash(end, peaksOf(leaves.slice(0, end)))
  heads.push({
    author: toHex(signer.publicKey) as AuthorKey,
    log,
    length: end,
    root: toHex(root),
    signature: toHex(signer.sign(headSignable(signer.publicKey, fromHex(log)!, end, root))),
  })
}

const dir = await mkdtemp(join(tmpdir(), 'gkm-bench-ip-'))
const node = await startNode(
  loadConfig({ env: {}, flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false } }),
  { logger: silentLogger() },
)
const inspector =
  process.env.BENCH_PROFILE === undefined
    ? undefined
    : new (await import('node:inspector/promises')).Session()
if (inspector !== undefined) {
  inspector.connect()
  await inspector.post('Profiler.enable')
  await inspector.post('Profiler.start')
}
try {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const ctx = { nowMs: Date.now(), driftMaxMs: 60_000 }
  const checked: SignedEvent[] = wire.map((w) =>
    checkEvent(decodeSigned(w.signed), w.signed, w.signature, ctx),
  )
  const t1 = performance.now()
  const c1 = process.cpuUsage(c0)
  // BENCH_INFLIGHT parts handed over before the first is answered (1: one at a time).
  const inflight = Number(process.env.BENCH_INFLIGHT ?? 1)
  const running: Promise<void>[] = []
  for (let i = 0; i < N; i += PART) {
    running.push(
      node.api
        .pushVerified(checked.slice(i, i + PART), { kind: 'peer', id: 'bench' }, heads[i / PART])
        .then((r) => {
          if (r.accepted !== Math.min(PART, N - i))
            throw new Error(`part ${i}: ${JSON.stringify(r.rejected.slice(0, 3))}`)
        }),
    )
    if (running.length >= inflight) await running.shift()
  }
  await Promise.all(running)
  const t2 = performance.now()
  const c2 = process.cpuUsage(c0)
  const cpu = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000
  console.log(
    JSON.stringify({
      events: N,
      decodeMs: +(t1 - t0).toFixed(1),
      decodeCpuMs: +cpu(c1).toFixed(1),
      storeMs: +(t2 - t1).toFixed(1),
      storeCpuMs: +(cpu(c2) - cpu(c1)).toFixed(1),
      eventsPerS: Math.round(N / ((t2 - t0) / 1000)),
    }),
  )
} finally {
  if (inspector !== undefined) {
    const { profile } = await inspector.post('Profiler.stop')
    await writeFile(process.env.BENCH_PROFILE as string, JSON.stringify(profile))
  }
  await node.stop()
  await rm(dir, { recursive: true, force: true })
}
