/**
 * Set reconciliation figures, in process (the core's RangeIndex and ReconcileSession, messages
 * encoded with the wire codec to count real bytes): 1,000,000 vs 1,000,000 events differing by
 * one (the newest, or one at a random place) and by 10,000 (random), beside a naive baseline
 * (each side sends its full digest list). Run: npm run bench -- reconcile
 */
import { createHash } from 'node:crypto'
import { itemKey, RangeIndex } from '../src/core/range-index.ts'
import { ReconcileSession, type ReconRange } from '../src/core/reconcile-session.ts'
import { ReconcileFrame } from '../src/wire/index.ts'
import { fmt, summarize } from './stats.ts'

const N = Number(process.env.BENCH_RECONCILE_N ?? 1_000_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
/** Bytes of a typical event on the wire (signed bytes + signature + framing), for the
 *  "bytes per missing event" ratio: a persona `set` of a few fields is ~200 + 64 + 6 bytes. */
const EVENT_WIRE_BYTES = 270
/** Both nodes on the default frame limit (limits.frameBytesMax 4 MiB) less the slack the adapter keeps. */
const MESSAGE_BYTES_MAX = Number(process.env.BENCH_MESSAGE_BYTES ?? 4 * 1024 * 1024 - 8 * 1024)

/** Pseudo-random 32-byte digests (sha256 in counter mode), made once per run: a run builds
 *  millions of keys. */
let digests = new Uint8Array(0)
function makeDigests(count: number): void {
  digests = new Uint8Array(count * 32)
  for (let i = 0; i < count; i += 1024) {
    const block = createHash('sha512').update(`block${i}`).digest()
    for (let j = 0; j < 1024 && i + j < count; j++) {
      digests.set(createHash('sha256').update(block).update(String(j)).digest(), (i + j) * 32)
    }
  }
}

function key(i: number): Uint8Array {
  const hlc = new Uint8Array(8)
  new DataView(hlc.buffer).setBigUint64(0, BigInt(1_764_000_000_000 * 65536 + i * 7))
  return itemKey(hlc, digests.subarray(i * 32, i * 32 + 32))
}

const encode = (m: readonly ReconRange[]) =>
  ReconcileFrame.encode({
    type: 'persona_update',
    ranges: m.map((r) => ({
      upper: r.upper,
      mode: r.mode,
      fingerprint: r.fingerprint ?? new Uint8Array(0),
      ids: [...(r.ids ?? [])],
      wanted: [...(r.wanted ?? [])],
    })),
  }).byteLength

interface Outcome {
  roundTrips: number
  bytes: number
  startMs: number
  ms: number
  found: number
}

function run(a: RangeIndex, b: RangeIndex): Outcome {
  const t0 = performance.now()
  const init = new ReconcileSession(a, 'initiator', { messageBytesMax: MESSAGE_BYTES_MAX })
  const resp = new ReconcileSession(b, 'responder', { messageBytesMax: MESSAGE_BYTES_MAX })
  let msg: ReconRange[] | null = init.initiate()
  const startMs = performance.now() - t0
  let bytes = 0
  let roundTrips = 0
  while (msg !== null) {
    bytes += encode(msg)
    const answer = resp.handle(msg) as ReconRange[]
    bytes += encode(answer)
    roundTrips++
    msg = init.handle(answer)
  }
  return {
    roundTrips,
    bytes,
    startMs,
    ms: performance.now() - t0,
    found: init.need.length + init.have.length,
  }
}

export async function benchReconcile(): Promise<Record<string, unknown>> {
  console.log(`reconciliation, ${fmt(N)} vs ${fmt(N)} events (in process, real message bytes)`)
  makeDigests(N + 20_000)
  const base = new RangeIndex()
  const t0 = performance.now()
  for (let i = 0; i < N; i++) base.insert(key(i))
  console.log(`  index of ${fmt(N)}: built in ${fmt(performance.now() - t0)} ms`)
  const out: Record<string, unknown> = { events: N }

  const cases: Array<{
    name: string
    make: (seed: number) => { a: RangeIndex; b: RangeIndex; diff: number }
  }> = [
    {
      name: 'one apart (the newest)',
      make: () => {
        const b = new RangeIndex()
        for (let i = 0; i < N; i++) b.insert(key(i))
        b.insert(key(N))
        return { a: base, b, diff: 1 }
      },
    },
    {
      name: 'one apart (random place)',
      make: (seed) => {
        const b = new RangeIndex()
        const skip = (seed * 7919 + 12345) % N
        for (let i = 0; i < N; i++) if (i !== skip) b.insert(key(i))
        return { a: b, b: base, diff: 1 }
      },
    },
    {
      name: '10,000 apart (the newest: written on one side while apart)',
      make: () => {
        const b = new RangeIndex()
        for (let i = 0; i < N; i++) b.insert(key(i))
        for (let i = N; i < N + 10_000; i++) b.insert(key(i))
        return { a: base, b, diff: 10_000 }
      },
    },
    {
      name: '10,000 apart (random)',
      make: (seed) => {
        const b = new RangeIndex()
        for (let i = 0; i < N; i++) if ((i * 2654435761 + seed) % 100 !== 0) b.insert(key(i))
        return { a: b, b: base, diff: N - b.size }
      },
    },
  ]
  for (const c of cases) {
    const results: Outcome[] = []
    let diff = 0
    for (let r = 0; r < RUNS; r++) {
      const { a, b, diff: d } = c.make(r + 1)
      diff = d
      const o = run(a, b)
      if (o.found !== d) throw new Error(`${c.name}: found ${o.found}, expected ${d}`)
      results.push(o)
    }
    const rt = summarize(results.map((x) => x.roundTrips))
    const bytes = summarize(results.map((x) => x.bytes))
    const ms = summarize(results.map((x) => x.ms))
    const start = summarize(results.map((x) => x.startMs))
    const naive = 2 * N * 32
    const ratio = (bytes.median + diff * EVENT_WIRE_BYTES) / (diff * EVENT_WIRE_BYTES)
    console.log(
      `  ${c.name}: ${rt.median} round trips, ${fmt(bytes.median)} B before the events (${fmt(bytes.min)}..${fmt(bytes.max)}), ` +
        `session start ${start.median.toFixed(2)} ms, whole ${fmt(ms.median)} ms (${fmt(ms.min)}..${fmt(ms.max)}); ` +
        `with ${fmt(diff)} events of ${EVENT_WIRE_BYTES} B: ${ratio.toFixed(3)} x their bytes; naive digest lists: ${fmt(naive)} B`,
    )
    out[c.name] = {
      roundTrips: rt,
      bytes,
      ms,
      startMs: start,
      missing: diff,
      ratioToEventBytes: ratio,
      naiveBytes: naive,
    }
  }
  return out
}

if (import.meta.url === `file://${process.argv[1]}`) await benchReconcile()
