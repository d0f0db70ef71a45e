/**
 * The log phase's cost on the wire (issue 10: 1,000,000 vs 1,000,000 events differing by one:
 * <= 2 round trips and <= 4 KB before the missing event; differing by 10,000: <= 1.3 x the
 * missing events' bytes), beside a naive baseline (each side sends its full digest list).
 *
 * The frames are the protocol's own (src/net/protocols/log-phase.ts: summaryFrames, planLogs,
 * rangeFrames over a LogSource), encoded with the wire codec; the logs are built from N random
 * digests per author, with real Merkle peaks, and the events moved are real signed events of
 * ~300 bytes. What the phase sends does not depend on how many events a log holds, only on the
 * number of logs and their holes: this bench shows both.
 *
 * Run: npm run bench -- logphase   (BENCH_LOGPHASE_N events per log, default 1,000,000)
 */
import { randomBytes } from 'node:crypto'
import type { PushResult } from '../src/core/api.ts'
import { signEvent } from '../src/core/event.ts'
import { type LogPort as LogSource, rangeFrames, summaryFrames } from '../src/core/log-frames.ts'
import type { LogStoreAction } from '../src/core/log-intake.ts'
import { LogSession } from '../src/core/log-session.ts'
import { planLogs, toSummary } from '../src/core/log-summary.ts'
import { leafHash, peaksOf } from '../src/core/merkle-log.ts'
import type { LogHead, LogRecord } from '../src/core/ports.ts'
import type { StoredEvent } from '../src/core/records.ts'
import type { AuthorKey, Digest } from '../src/core/types.ts'
import { fromHex, toHex } from '../src/util/bytes.ts'
import { signerFromSeed } from '../src/util/crypto.ts'
import { ReconcileFrame } from '../src/wire/index.ts'
import { drive } from '../test/helpers/mem-logs.ts'
import { fmt } from './stats.ts'

const N = Number(process.env.BENCH_LOGPHASE_N ?? 1_000_000)
const BUDGET = 86_947 - 8 * 1024
const FRAME_OVERHEAD = 4
const signer = signerFromSeed(new Uint8Array(32).fill(9))
const author = toHex(signer.publicKey) as AuthorKey

function record(
  log: string,
  length: number,
  leaves: Uint8Array[],
  holes?: Array<[number, number]>,
): LogRecord {
  const held = holes === undefined ? length : holes[0][0]
  const peaks = peaksOf(leaves.slice(0, held)).map((p) => ({ height: p.height, hash: toHex(p.hash) }))
  return {
    author,
    log,
    contiguous: held,
    peaks,
    end: length,
    heldBeyond: length - held - (holes === undefined ? 0 : holes.reduce((n, [a, b]) => n + b - a, 0)),
    ...(holes === undefined ? {} : { holes }),
  }
}

/** Real signed events at positions [from, to) of the log (what an answer carries). */
function events(log: string, from: number, to: number): Array<{ seq: number; event: StoredEvent }> {
  const out: Array<{ seq: number; event: StoredEvent }> = []
  for (let seq = from; seq < to; seq++) {
    const e = signEvent(
      {
        eventId: `00000000-0000-4000-8000-${seq.toString(16).padStart(12, '0')}`,
        type: 'persona_update',
        targetId: `persona-${seq % 500}`,
        payload: { op: 'set', fields: { name: `n${seq}`, role: 'writer', score: seq } },
        hlc: { wallMs: 1_764_000_000_000 + seq, counter: 0 },
        parents: [],
        log,
        seq,
      },
      signer,
    )
    out.push({ seq, event: { signed: e.signed, signature: e.signature, digest: e.digest } })
  }
  return out
}

function source(
  rec: LogRecord,
  held: Array<{ seq: number; event: StoredEvent }>,
  heads: LogHead[],
): LogSource {
  return {
    listLogs: async () => [rec],
    getLogRecords: async () => [rec],
    getLogHeads: async (_a, _l, from, to) => heads.filter((h) => h.length > from && h.length <= to),
    getLogPositions: async (ps) => ps.map((): Digest | undefined => undefined),
    readLogRange: async (_a, _l, from, to, limit) =>
      held.filter((h) => h.seq >= from && h.seq < to).slice(0, limit),
    readLogHeld: async () => [],
  }
}

const frameBytes = (f: Partial<ReconcileFrame>) => ReconcileFrame.encode(f).byteLength + FRAME_OVERHEAD

async function scenario(
  name: string,
  missing: 'newest' | 'random',
  k: number,
): Promise<Record<string, unknown>> {
  const log = toHex(randomBytes(8))
  const leaves = Array.from({ length: N }, () => leafHash(randomBytes(32)))
  const t0 = performance.now()
  const a = record(log, N, leaves)
  const holeAt = missing === 'newest' ? N - k : Math.floor(N / 2)
  const b = missing === 'newest' ? record(log, N - k, leaves) : record(log, N, leaves, [[holeAt, holeAt + k]])
  const buildMs = performance.now() - t0
  // Session start: the responder's and the initiator's summaries (no scan of the log).
  const s0 = performance.now()
  const initiator = summaryFrames([toSummary(b)], BUDGET)
  const responder = summaryFrames([toSummary(a)], BUDGET)
  const startMs = performance.now() - s0
  const plan = planLogs(
    initiator.flatMap((f) => f.logs ?? []),
    responder.flatMap((f) => f.logs ?? []),
    true,
  )
  const fetch = { logPhase: true, logFetch: plan.fetch }
  const before = [...initiator, ...responder].reduce((n, f) => n + frameBytes(f), 0) + frameBytes(fetch)
  // The answer: the missing events with the head that covers them (a's newest; the missing run
  // ends at the log's end when they are the newest).
  const moved = events(log, holeAt, holeAt + k)
  const head: LogHead = { author, log, length: N, root: 'ab'.repeat(32), signature: 'cd'.repeat(64) }
  let answer = 0
  for (const r of plan.fetch) {
    const range = { author, log, from: Number(r.from), to: Number(r.to) }
    const src = source(a, moved, missing === 'newest' ? [head] : [])
    for await (const fr of rangeFrames(src, range, BUDGET, 1_000))
      answer += frameBytes({
        logPhase: true,
        events: fr.events,
        ...(fr.head === undefined ? {} : { head: fr.head }),
      })
  }
  answer += frameBytes({ logPhase: true, done: true })
  const eventBytes = moved.reduce((n, m) => n + m.event.signed.byteLength + m.event.signature.byteLength, 0)
  // Naive baseline: both sides send their full digest lists (32 bytes each).
  const naive = 32 * (N + (N - k))
  const out = {
    rounds: 2,
    bytesBeforeEvents: before,
    answerBytes: answer,
    missingEventBytes: eventBytes,
    ratio: (before + answer) / eventBytes,
    naiveBytes: naive,
    sessionStartMs: startMs,
    buildMs,
  }
  console.log(
    `log phase, ${fmt(N)} vs ${fmt(N - k)} events (${name}): 2 round trips, ${fmt(before)} B before the events, ` +
      `${fmt(answer)} B for ${fmt(k)} events of ${fmt(eventBytes)} B (ratio ${out.ratio.toFixed(3)}); ` +
      `session start ${startMs.toFixed(2)} ms; naive digest lists ${fmt(naive)} B`,
  )
  return out
}

/** Many authors: the summaries grow with the number of logs (one ~95-byte summary each). */
function manyAuthors(logs: number): Record<string, unknown> {
  const recs = Array.from({ length: logs }, (_, i) => ({
    author: toHex(randomBytes(32)) as AuthorKey,
    log: toHex(randomBytes(8)),
    contiguous: 1_024,
    peaks: [{ height: 10, hash: toHex(randomBytes(32)) }],
    end: 1_024 + (i % 2),
    heldBeyond: 0,
  }))
  const frames = summaryFrames(
    recs.map((r) => toSummary(r)),
    BUDGET,
  )
  const bytes = frames.reduce((n, f) => n + frameBytes(f), 0)
  console.log(
    `log phase summaries of ${fmt(logs)} logs: ${fmt(bytes)} B each way in ${frames.length} frame(s)`,
  )
  return { logs, bytesEachWay: bytes, frames: frames.length }
}

/** A node's logs for the many-logs case: synthetic records (random roots), sorted by key, and
 *  real signed events where a session moves them. Stores what a session hands over by count. */
class SyntheticLogs {
  readonly records: LogRecord[]
  readonly events = new Map<string, Map<number, StoredEvent>>()
  accepted = 0

  constructor(records: LogRecord[]) {
    this.records = [...records].sort((x, y) => (x.author + x.log < y.author + y.log ? -1 : 1))
  }

  #at(after: { author: AuthorKey; log: string } | undefined): number {
    if (after === undefined) return 0
    const k = after.author + after.log
    let lo = 0
    let hi = this.records.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.records[mid].author + this.records[mid].log <= k) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  port(): LogSource {
    const byKey = new Map(this.records.map((r) => [r.author + r.log, r]))
    return {
      listLogs: async (after, limit) => this.records.slice(this.#at(after), this.#at(after) + limit),
      getLogRecords: async (logs) => logs.map((l) => byKey.get(l.author + l.log)),
      getLogHeads: async () => [],
      getLogPositions: async (ps) => ps.map((): Digest | undefined => undefined),
      readLogHeld: async () => [],
      readLogRange: async (a, l, from, to, limit) => {
        const held = this.events.get(a + l) ?? new Map()
        return [...held.entries()]
          .filter(([seq]) => seq >= from && seq < to)
          .slice(0, limit)
          .map(([seq, event]) => ({ seq, event }))
      },
    }
  }

  apply(a: LogStoreAction): PushResult {
    this.accepted += a.events.length
    return { accepted: a.events.length, duplicates: 0, rejected: [], digests: [] }
  }
}

/** Many logs, `differing` of them one event apart (the responder holds one more): bytes, round
 *  trips and the first message of a log phase driven between two in-memory sides. */
async function manyLogs(logs: number, differing: number): Promise<Record<string, unknown>> {
  const recs: LogRecord[] = Array.from({ length: logs }, () => ({
    author: toHex(randomBytes(32)) as AuthorKey,
    log: toHex(randomBytes(8)),
    contiguous: 1_024,
    peaks: [{ height: 10, hash: toHex(randomBytes(32)) }],
    end: 1_024,
    heldBeyond: 0,
  }))
  const b = new SyntheticLogs(recs)
  const aRecs = recs.map((r, i) => {
    if (i >= differing) return r
    // The responder holds position 1,024 of this log too (its author's real event).
    const held = events(r.log, 1_024, 1_025)
    const rec = {
      ...r,
      author,
      contiguous: 1_025,
      end: 1_025,
      peaks: [...r.peaks, { height: 0, hash: toHex(leafHash(fromHex(held[0].event.digest as string)!)) }],
    }
    b.records[b.records.indexOf(r)] = rec
    b.events.set(rec.author + rec.log, new Map(held.map((h) => [h.seq, h.event])))
    return { ...r, author }
  })
  b.records.sort((x, y) => (x.author + x.log < y.author + y.log ? -1 : 1))
  const a = new SyntheticLogs(aRecs)
  const init = { frameBytes: BUDGET, eventsMax: 1_000 }
  // Session start: the initiator's first message ready (its logs read, indexed, fingerprinted).
  const t0 = performance.now()
  const probe = new LogSession(a.port(), 'initiator', { ...init, inFlight: new Set() })
  await probe.start()
  while ((await probe.poll()) !== undefined) {}
  const startMs = performance.now() - t0
  const s0 = performance.now()
  const sa = new LogSession(a.port(), 'initiator', { ...init, inFlight: new Set() })
  const sb = new LogSession(b.port(), 'responder', { ...init, inFlight: new Set() })
  const d = await drive(
    { logs: a, session: sa },
    { logs: b, session: sb },
    (f) => ReconcileFrame.decode(ReconcileFrame.encode(f)),
    (f) => ReconcileFrame.encode(f).byteLength + FRAME_OVERHEAD,
  )
  const ms = performance.now() - s0
  if (a.accepted !== differing) throw new Error(`moved ${a.accepted} events, expected ${differing}`)
  const out = {
    logs,
    differing,
    roundTrips: d.roundTrips,
    firstMessageBytes: d.firstBytes,
    bytes: d.bytes,
    bytesBesideEvents: d.bytes - d.eventFrameBytes,
    consistent: sa.result.consistent,
    sessionStartMs: startMs,
    sessionMs: ms,
  }
  console.log(
    `log phase, ${fmt(logs)} logs, ${fmt(differing)} differing by one event: ${d.roundTrips} round trip(s), ` +
      `first message ${fmt(d.firstBytes)} B, ${fmt(d.bytes)} B in all (${fmt(out.bytesBesideEvents)} B beside the events frames); ` +
      `session start ${startMs.toFixed(0)} ms, whole session (both sides in one process) ${ms.toFixed(0)} ms`,
  )
  return out
}

/**
 * 1,000,000 vs 1,000,000 positions of one log differing by `k` positions at random places
 * inside it (the initiator lacks them: more hole runs than its record tracks, so it reads them
 * from the positions it holds), driven through both sides' LogSession. The responder keeps a
 * signed head every 4,096 positions (their bytes ride along; the roots are not checked here).
 */
async function randomHoles(k: number): Promise<Record<string, unknown>> {
  const log = toHex(randomBytes(8))
  const leaves = Array.from({ length: N }, () => leafHash(randomBytes(32)))
  const missing = new Set<number>()
  while (missing.size < k) missing.add(Math.floor(Math.random() * N))
  const sorted = [...missing].sort((x, y) => x - y)
  const moved = new Map<number, StoredEvent>()
  for (const seq of sorted) moved.set(seq, events(log, seq, seq + 1)[0].event)
  const fakeHead = (length: number): LogHead => ({
    author,
    log,
    length,
    root: 'ab'.repeat(32),
    signature: 'cd'.repeat(64),
  })
  const full = {
    ...record(log, N, leaves),
    head: { length: N, root: 'ab'.repeat(32), signature: 'cd'.repeat(64) },
  }
  const lacking: LogRecord = {
    ...record(log, N, leaves, [[sorted[0], sorted[0] + 1]]),
    heldBeyond: N - sorted[0] - k,
    holes: undefined,
    holesUnknown: true,
  }
  const checkpoints = Array.from({ length: Math.floor(N / 4_096) }, (_, i) => fakeHead((i + 1) * 4_096))
  const responder: LogSource = {
    listLogs: async (after) => (after === undefined ? [full] : []),
    getLogRecords: async (ls) => ls.map(() => full),
    getLogHeads: async (_a, _l, from, to, limit) =>
      checkpoints.filter((h) => h.length > from && h.length <= to).slice(0, limit),
    getLogPositions: async (ps) => ps.map((): Digest | undefined => undefined),
    readLogHeld: async () => [],
    readLogRange: async (_a, _l, from, to, limit) => {
      const out: Array<{ seq: number; event: StoredEvent }> = []
      // Only the positions the initiator lacks are ever asked for; the bench holds their events.
      for (let i = lowerBound(sorted, from); i < sorted.length && sorted[i] < to && out.length < limit; i++)
        out.push({ seq: sorted[i], event: moved.get(sorted[i]) as StoredEvent })
      return out
    },
  }
  const initiator: LogSource = {
    listLogs: async (after) => (after === undefined ? [lacking] : []),
    getLogRecords: async (ls) => ls.map(() => lacking),
    getLogHeads: async () => [],
    getLogPositions: async (ps) => ps.map((): Digest | undefined => undefined),
    readLogHeld: async (_a, _l, from, to, limit) => {
      const out: number[] = []
      for (let p = from; p < to && out.length < limit; p++) if (!missing.has(p)) out.push(p)
      return out
    },
    readLogRange: async () => [],
  }
  let stored = 0
  const count = {
    apply: (a: LogStoreAction): PushResult => {
      stored += a.events.length
      return { accepted: a.events.length, duplicates: 0, rejected: [], digests: [] }
    },
  }
  const init = { frameBytes: BUDGET, eventsMax: 1_000 }
  const t0 = performance.now()
  const sa = new LogSession(initiator, 'initiator', { ...init, inFlight: new Set() })
  const sb = new LogSession(responder, 'responder', { ...init, inFlight: new Set() })
  const d = await drive(
    { logs: count, session: sa },
    { logs: count, session: sb },
    (f) => ReconcileFrame.decode(ReconcileFrame.encode(f)),
    (f) => ReconcileFrame.encode(f).byteLength + FRAME_OVERHEAD,
  )
  const ms = performance.now() - t0
  if (stored !== k) throw new Error(`moved ${stored} events, expected ${k}`)
  const eventBytes = [...moved.values()].reduce((n, e) => n + e.signed.byteLength + e.signature.byteLength, 0)
  const out = {
    events: N,
    missing: k,
    roundTrips: d.roundTrips,
    bytes: d.bytes,
    missingEventBytes: eventBytes,
    ratio: d.bytes / eventBytes,
    sessionMs: ms,
  }
  console.log(
    `log phase, ${fmt(N)} vs ${fmt(N)} events differing by ${fmt(k)} at random places inside the log: ` +
      `${d.roundTrips} round trips, ${fmt(d.bytes)} B for ${fmt(eventBytes)} B of events (ratio ${out.ratio.toFixed(3)}); ` +
      `session ${ms.toFixed(0)} ms (both sides in one process)`,
  )
  return out
}

function lowerBound(xs: readonly number[], v: number): number {
  let lo = 0
  let hi = xs.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (xs[mid] < v) lo = mid + 1
    else hi = mid
  }
  return lo
}

export async function benchLogPhase(): Promise<Record<string, unknown>> {
  if (process.env.BENCH_LOGPHASE_CASE === 'holes')
    return { randomHoles: await randomHoles(Number(process.env.BENCH_LOGPHASE_K ?? 10_000)) }
  if (process.env.BENCH_LOGPHASE_CASE === 'many')
    return {
      logs1000Agree: await manyLogs(1_000, 0),
      logs100000OneDiffers: await manyLogs(Number(process.env.BENCH_LOGPHASE_LOGS ?? 100_000), 1),
    }
  return {
    events: N,
    oneNewest: await scenario('1 missing, the newest', 'newest', 1),
    oneRandom: await scenario('1 missing at a random place', 'random', 1),
    tenThousandNewest: await scenario('10,000 missing, the newest', 'newest', 10_000),
    authors10: manyAuthors(10),
    authors1000: manyAuthors(1_000),
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchLogPhase()
