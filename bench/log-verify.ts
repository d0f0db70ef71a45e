/**
 * Verifying a catch-up stream on one core (issue 10: >= 100,000 events/s): N persona events of
 * one author (~300 bytes, as the README's writes) arrive as wire bytes; the receiver decodes and
 * checks each (schema, drift, digest: checkEvent) and verifies the range against the author's
 * signed head (src/core/log-verify.ts: leaf hashes, peaks, one Ed25519 signature) — beside the
 * same events verified one Ed25519 signature each (what catch-up did before per-author logs).
 *
 * Run: npm run bench -- logverify   (BENCH_LOGVERIFY_N events, default 10,000; BENCH_RUNS runs)
 */
import { checkEvent, signEvent } from '../src/core/event.ts'
import { decodeSigned } from '../src/core/event-codec.ts'
import { verifyLogChunk } from '../src/core/log-verify.ts'
import { headSignable, leafHash, peaksOf, rootHash } from '../src/core/merkle-log.ts'
import type { LogHead } from '../src/core/ports.ts'
import type { AuthorKey, Digest } from '../src/core/types.ts'
import { fromHex, toHex } from '../src/util/bytes.ts'
import { signerFromSeed, verifyEd25519 } from '../src/util/crypto.ts'
import { fmt, summarize } from './stats.ts'

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
  const perEvent: number[] = []
  for (let r = 0; r < RUNS; r++) {
    let t = performance.now()
    const events = wire.map((w) => checkEvent(decodeSigned(w.signed), w.signed, w.signature, ctx))
    const verdict = await verifyLogChunk(
      { length: 0, peaks: [] },
      events,
      head,
      async (seqs) => seqs.map((): Digest | undefined => undefined),
      verifyEd25519,
    )
    if (!verdict.ok) throw new Error(`the head did not verify: ${verdict.why}`)
    byHead.push(N / ((performance.now() - t) / 1000))
    t = performance.now()
    for (const w of wire) {
      const e = checkEvent(decodeSigned(w.signed), w.signed, w.signature, ctx)
      if (!verifyEd25519(signer.publicKey, e.signed, e.signature)) throw new Error('bad signature')
    }
    perEvent.push(N / ((performance.now() - t) / 1000))
  }
  const a = summarize(byHead)
  const b = summarize(perEvent)
  console.log(
    `verify a catch-up stream of ${fmt(N)} events on one core: by signed head ${fmt(a.median)}/s ` +
      `(${fmt(a.min)}..${fmt(a.max)}), one signature per event ${fmt(b.median)}/s (${fmt(b.min)}..${fmt(b.max)}); ` +
      `ratio ${(a.median / b.median).toFixed(2)}`,
  )
  return { events: N, byHeadPerS: a, perEventPerS: b }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchLogVerify()
