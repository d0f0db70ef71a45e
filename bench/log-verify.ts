/**
 * Verifying a catch-up stream on one core (issue 10: >= 100,000 events/s): N persona events of
 * one author (~300 bytes, as the README's writes) arrive as wire bytes; the receiver decodes and
 * checks each (schema, drift, digest: checkEvent) and verifies the range against the author's
 * signed head (src/core/log-verify.ts: leaf hashes, peaks, one Ed25519 signature) — beside the
 * same events verified one Ed25519 signature each (what catch-up did before per-author logs).
 *
 * Run: npm run bench -- logverify   (BENCH_LOGVERIFY_N events, default 10,000; BENCH_RUNS runs)
 */
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { LogHead } from '../src/core/ports.ts'
import type { AuthorKey, Digest } from '../src/core/types.ts'
import { fmt, summarize } from './stats.ts'

/** The code to measure: this checkout, or another one given as the first argument (a base
 *  checked out elsewhere, to pair with this one in one run). */
// Another checkout's root only when run directly (bench/run.ts imports this module with its own argv).
const ROOT = (import.meta.main ? process.argv[2] : undefined) ?? fileURLToPath(new URL('..', import.meta.url))
const load = (file: string) => import(pathToFileURL(join(ROOT, file)).href)
const { checkEvent, signEvent } = await load('src/core/event.ts')
const { decodeSigned } = await load('src/core/event-codec.ts')
const { verifyLogChunk } = await load('src/core/log-verify.ts')
const { headSignable, leafHash, peaksOf, rootHash } = await load('src/core/merkle-log.ts')
const { fromHex, toHex } = await load('src/util/bytes.ts')
const { signerFromSeed, verifyEd25519 } = await load('src/util/crypto.ts')

const N = Number(process.env.BENCH_LOGVERIFY_N ?? 10_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)

export async function benchLogVerify(): Promise<Record<string, unknown>> {
  const signer = signerFromSeed(new Uint8Array(32).fill(7))
  const log = '0123456789abcdef'
  const wall = 1_764_000_000_000
  const wire = Array.from({ length: N }, (_, i) => {
    const e = signEvent(
      {
        eventId: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
        type: 'persona_update',
        targetId: `persona-${i % 500}`,
        payload: { op: 'set', fields: { name: `n${i}`, role: 'writer', score: i } },
        hlc: { wallMs: wall + i, counter: 0 },
        parents: [],
        log,
        seq: i,
      },
      signer,
    )
    return { signed: e.signed, signature: e.signature, digest: e.digest }
  })
  const peaks = peaksOf(wire.map((e) => leafHash(fromHex(e.digest)!)))
  const root = rootHash(N, peaks)
  const author = toHex(signer.publicKey) as AuthorKey
  const head: LogHead = {
    author,
    log,
    length: N,
    root: toHex(root),
    signature: toHex(signer.sign(headSignable(signer.publicKey, fromHex(log)!, N, root))),
  }
  const ctx = { nowMs: wall + N + 60_000, driftMaxMs: 60_000 }
  const byHead: number[] = []
  const byHeadCpu: number[] = []
  const perEvent: number[] = []
  const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000
  for (let r = 0; r < RUNS; r++) {
    const c0 = process.threadCpuUsage()
    let t = performance.now()
    const events = wire.map((w: { signed: Uint8Array; signature: Uint8Array }) =>
      checkEvent(decodeSigned(w.signed), w.signed, w.signature, ctx),
    )
    const verdict = await verifyLogChunk(
      { length: 0, peaks: [] },
      events,
      head,
      async (seqs: number[]) => seqs.map((): Digest | undefined => undefined),
      verifyEd25519,
    )
    if (!verdict.ok) throw new Error(`the head did not verify: ${verdict.why}`)
    byHead.push(N / ((performance.now() - t) / 1000))
    // CPU time of this thread (not V8's GC helpers): the rate on one core even when
    // the machine is shared and the wall clock also counts other processes' turns.
    byHeadCpu.push(N / (cpuMs(process.threadCpuUsage(c0)) / 1000))
    t = performance.now()
    for (const w of wire) {
      const e = checkEvent(decodeSigned(w.signed), w.signed, w.signature, ctx)
      if (!verifyEd25519(signer.publicKey, e.signed, e.signature)) throw new Error('bad signature')
    }
    perEvent.push(N / ((performance.now() - t) / 1000))
  }
  const a = summarize(byHead)
  const ac = summarize(byHeadCpu)
  const b = summarize(perEvent)
  console.log(
    `verify a catch-up stream of ${fmt(N)} events on one core: by signed head ${fmt(a.median)}/s ` +
      `(${fmt(a.min)}..${fmt(a.max)}), one signature per event ${fmt(b.median)}/s (${fmt(b.min)}..${fmt(b.max)}); ` +
      `ratio ${(a.median / b.median).toFixed(2)}; by signed head per CPU-second ${fmt(ac.median)}/s ` +
      `(${fmt(ac.min)}..${fmt(ac.max)})`,
  )
  return { events: N, byHeadPerS: a, byHeadPerCpuS: ac, perEventPerS: b }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchLogVerify()
