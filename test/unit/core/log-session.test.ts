/**
 * The sans-IO log session (src/core/log-session.ts) driven between two in-memory nodes: for
 * random pairs of log sets (empty, identical, disjoint, one apart, sparse holes, hundreds of
 * logs, forks) both sides end holding every position either held, and two identical sets agree
 * in one round trip. Seeded: the seed is printed, and GKM_SEED replays one.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { signEvent } from '../../../src/core/event.ts'
import { RECONCILE_LOGS_MAX } from '../../../src/core/log-frames.ts'
import { LOG_PUSH_WINDOW, LogSession } from '../../../src/core/log-session.ts'
import { headSignable, leafHash, peaksAppend, peaksOf, rootHash } from '../../../src/core/merkle-log.ts'
import type { LogHead } from '../../../src/core/ports.ts'
import type { AuthorKey, SignedEvent } from '../../../src/core/types.ts'
import { fromHex, toHex } from '../../../src/util/bytes.ts'
import { type Signer, signerFromSeed } from '../../../src/util/crypto.ts'
import { LOG_BUCKETS_PER_FRAME, ReconcileFrame } from '../../../src/wire/index.ts'
import { drive, MemLogs, NOW, type VERIFY } from '../../helpers/mem-logs.ts'

/** mulberry32: a small seeded generator. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const signers = new Map<number, Signer>()
function signer(n: number): Signer {
  let s = signers.get(n)
  if (s === undefined) {
    const seed = new Uint8Array(32)
    seed[0] = n & 255
    seed[1] = n >> 8
    seed[2] = 7
    s = signerFromSeed(seed)
    signers.set(n, s)
  }
  return s
}

/** An author's log of `length` events (position p's event id names the variant: a fork's
 *  second event at p has variant 1), with the author's signed heads every 8 positions and at
 *  the end. */
interface AuthorLog {
  readonly events: SignedEvent[]
  readonly heads: LogHead[]
}

const LOG_ID = '00000000000000aa'

function event(n: number, seq: number, variant = 0): SignedEvent {
  return signEvent(
    {
      eventId: `00000000-0000-4000-8${variant}00-${n.toString(16).padStart(4, '0')}${seq.toString(16).padStart(8, '0')}`,
      type: 'persona_update',
      targetId: `p${seq % 7}`,
      payload: { op: 'set', fields: { name: `n${seq}`, v: variant } },
      hlc: { wallMs: NOW + seq, counter: 0 },
      parents: [],
      log: LOG_ID,
      seq,
    },
    signer(n),
  )
}

function authorLog(n: number, length: number): AuthorLog {
  const events = Array.from({ length }, (_, seq) => event(n, seq))
  const leaves = events.map((e) => leafHash(fromHex(e.digest)!))
  const heads: LogHead[] = []
  const s = signer(n)
  for (let len = 1; len <= length; len++) {
    if (len % 8 !== 0 && len !== length) continue
    const root = rootHash(len, peaksOf(leaves.slice(0, len)))
    const sig = s.sign(headSignable(s.publicKey, fromHex(LOG_ID)!, len, root))
    heads.push({
      author: toHex(s.publicKey) as AuthorKey,
      log: LOG_ID,
      length: len,
      root: toHex(root),
      signature: toHex(sig),
    })
  }
  return { events, heads }
}

/** A side holds `positions` of a log, and the heads over its contiguous prefix. */
function give(side: MemLogs, l: AuthorLog, positions: Iterable<number>): void {
  const held = new Set(positions)
  for (const p of held) side.add(l.events[p])
  let c = 0
  while (held.has(c)) c++
  for (const h of l.heads) if (h.length <= c) side.addHead(h)
}

type Case =
  | 'empty'
  | 'identical'
  | 'disjoint'
  | 'one-apart'
  | 'sparse'
  | 'many'
  | 'forks'
  | 'many-identical'
  | 'many-one-apart'
  | 'many-vs-few'
  | 'holes-many'
  | 'branches'
const CASES: Case[] = [
  'empty',
  'identical',
  'disjoint',
  'one-apart',
  'sparse',
  'many',
  'forks',
  'many-identical',
  'many-one-apart',
  'many-vs-few',
  'holes-many',
  'branches',
]

function build(kind: Case, r: () => number): { a: MemLogs; b: MemLogs } {
  const a = new MemLogs()
  const b = new MemLogs()
  const int = (n: number) => Math.floor(r() * n)
  const many = kind.startsWith('many')
  const authors = many ? 100 + int(300) : kind === 'empty' ? int(3) : kind === 'holes-many' ? 2 : 1 + int(6)
  const odd = int(authors)
  for (let n = 0; n < authors; n++) {
    const len = many ? 1 + int(4) : kind === 'holes-many' ? 1_000 + int(200) : 1 + int(40)
    const l = authorLog(n + 1, len)
    const all = [...l.events.keys()]
    switch (kind) {
      case 'empty':
        give(r() < 0.5 ? a : b, l, all)
        break
      case 'identical':
        give(a, l, all)
        give(b, l, all)
        break
      case 'disjoint':
        give(n % 2 === 0 ? a : b, l, all)
        break
      case 'one-apart': {
        give(a, l, all)
        give(b, l, n === 0 ? all.slice(0, -1) : all)
        break
      }
      case 'sparse': {
        // Random positions missing on either side (at most 16 hole runs each).
        const drop = (p: number) => r() < 0.3 && p % 3 === 0
        give(
          a,
          l,
          all.filter((p) => !drop(p)),
        )
        give(
          b,
          l,
          all.filter((p) => !drop(p)),
        )
        break
      }
      case 'many':
        give(a, l, all.slice(0, int(len + 1)))
        give(b, l, all.slice(0, int(len + 1)))
        break
      case 'holes-many': {
        // Hundreds of hole runs on either side (past the 16 a summary lists and the 256 a
        // record tracks): the holes are read from the held positions.
        const drop = (p: number) => p > 3 && p % 2 === 0 && r() < 0.6
        give(
          a,
          l,
          all.filter((p) => !drop(p)),
        )
        give(
          b,
          l,
          all.filter((p) => !drop(p) && p < len - int(5)),
        )
        break
      }
      case 'many-identical':
        give(a, l, all)
        give(b, l, all)
        break
      case 'many-one-apart':
        // One log differs by its newest event (either side), the rest agree.
        give(a, l, n === odd && r() < 0.5 ? all.slice(0, -1) : all)
        give(b, l, n === odd && r() < 0.5 ? all.slice(0, -1) : all)
        break
      case 'many-vs-few':
        // One side holds many logs, the other a few of them (and one of its own).
        give(r() < 0.5 ? a : b, l, all)
        if (n % 40 === 0) give(r() < 0.5 ? a : b, l, all)
        break
      case 'branches': {
        // The author signed other events from some position on; each side holds one branch
        // (same length, different roots): a descent finds the position, both keep both.
        const at = int(len)
        const tail = r() < 0.5 ? len : at + 1
        give(a, l, all)
        give(
          b,
          l,
          all.filter((p) => p < at || p >= tail),
        )
        for (let p = at; p < tail; p++) b.add(event(n + 1, p, 1))
        break
      }
      case 'forks': {
        give(a, l, all)
        give(b, l, all)
        if (n === 0) {
          // The author signed a second event at one position; only b holds it.
          b.add(event(n + 1, int(len), 1))
        }
        break
      }
    }
  }
  return { a, b }
}

const FRAME = 4 * 1024 * 1024
const encode = (f: Partial<ReconcileFrame>) => ReconcileFrame.decode(ReconcileFrame.encode(f))
const size = (f: ReconcileFrame) => ReconcileFrame.encode(f).byteLength + 5

async function session(kind: Case, seed: number) {
  const { a, b } = build(kind, rng(seed))
  const before = { a: a.positions(), b: b.positions(), ca: a.contents(), cb: b.contents() }
  const init = { frameBytes: FRAME, eventsMax: 5_000, inFlight: new Set<string>() }
  const sa = new LogSession(a, 'initiator', init)
  const sb = new LogSession(b, 'responder', { ...init, inFlight: new Set<string>() })
  const d = await drive({ logs: a, session: sa }, { logs: b, session: sb }, encode, size)
  return { a, b, before, d, result: sa.result }
}

const SEED = Number(process.env.GKM_SEED ?? 0x10c5)

describe('log session between two in-memory nodes', () => {
  it(`both end holding every position either held (seed ${SEED}, GKM_SEED replays)`, async () => {
    console.log(`log-session property seed: ${SEED}`)
    const r = rng(SEED)
    for (let round = 0; round < 3 * CASES.length; round++) {
      const kind = CASES[round % CASES.length]
      const seed = Math.floor(r() * 2 ** 31)
      const { a, b, before, d, result } = await session(kind, seed)
      const why = `case ${kind}, seed ${seed}`
      if (process.env.DBG)
        console.log(
          why,
          JSON.stringify(result, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)).slice(0, 600),
          d,
        )
      const union = new Set([...before.a, ...before.b])
      const lacks = (held: Set<string>) => [...union].filter((p) => !held.has(p)).slice(0, 5)
      assert.deepEqual(lacks(a.positions()), [], `initiator lacks: ${why}`)
      assert.deepEqual(lacks(b.positions()), [], `responder lacks: ${why}`)
      // Nothing held before is lost; nothing appears that neither held.
      const all = new Set([...before.ca, ...before.cb])
      for (const c of [...a.contents(), ...b.contents()]) assert.ok(all.has(c), `${why}: ${c}`)
      if (kind === 'identical' || kind === 'many-identical') {
        assert.equal(result.consistent, true, why)
        assert.equal(d.roundTrips, 1, why)
      }
      if (kind === 'forks') assert.equal(result.consistent, false, `${why}: a fork is never consistent`)
      if (kind === 'branches') {
        // Both branches on both sides, found by the log phase alone.
        assert.deepEqual([...all].filter((c) => !a.contents().has(c)).slice(0, 3), [], `initiator: ${why}`)
        assert.deepEqual([...all].filter((c) => !b.contents().has(c)).slice(0, 3), [], `responder: ${why}`)
      }
      // A head verified what it covered: no bad heads between honest sides.
      assert.equal(result.received.badHeads, 0, why)
    }
  })

  it('a log fetched whole is verified by heads, not one signature per event', async () => {
    const a = new MemLogs()
    const b = new MemLogs()
    const l = authorLog(1, 40)
    give(b, l, l.events.keys())
    const init = { frameBytes: FRAME, eventsMax: 5_000, inFlight: new Set<string>() }
    const sa = new LogSession(a, 'initiator', init)
    const sb = new LogSession(b, 'responder', { ...init, inFlight: new Set<string>() })
    await drive({ logs: a, session: sa }, { logs: b, session: sb }, encode, size)
    assert.equal(sa.result.received.accepted, 40)
    assert.equal(sa.result.received.byHead, 40)
  })

  it('an answer may count more than a frame of stored events, never more than was pushed', async () => {
    const setup = () => {
      const a = new MemLogs()
      const b = new MemLogs()
      const l = authorLog(3, 200)
      give(a, l, l.events.keys())
      const init = { frameBytes: FRAME, eventsMax: 50, inFlight: new Set<string>() }
      return {
        a: { logs: a, session: new LogSession(a, 'initiator', init) },
        b: { logs: b, session: new LogSession(b, 'responder', { ...init, inFlight: new Set<string>() }) },
      }
    }
    // The responder's stores finish only at its settle barrier (a loaded node): its last answer
    // counts all 200 events, four frames' worth of eventsMax.
    const { a, b } = setup()
    const held: Array<{ kind: 'store' } & Record<string, unknown>> = []
    const inner = b.session
    const lagging = {
      poll: async () => {
        for (;;) {
          if (held.length > 0 && releasing) return held.shift() as never
          releasing = false
          const o = await inner.poll()
          if (o?.kind === 'store') held.push(o)
          else if (o?.kind === 'settle') releasing = true
          else return o
        }
      },
      handle: (f: ReconcileFrame, c: typeof VERIFY) => inner.handle(f, c),
      stored: (x: never, r: never) => inner.stored(x, r),
      abort: () => inner.abort(),
      start: () => inner.start(),
      get done() {
        return inner.done
      },
    } as unknown as LogSession
    let releasing = false
    const answers: number[] = []
    const seen = (f: Partial<ReconcileFrame>) => {
      if ((f.accepted ?? 0) > 0) answers.push(f.accepted as number)
      return encode(f)
    }
    await drive(a, { logs: b.logs, session: lagging }, seen, size)
    assert.ok(
      answers.some((n) => n > 50),
      `one answer counted more than eventsMax: ${answers}`,
    )
    assert.equal(a.session.result.pushedAccepted, 200)
    assert.equal(b.logs.positions().size, 200)

    // A peer that says it stored more than it was sent broke the protocol.
    const liar = setup()
    const inflate = (f: Partial<ReconcileFrame>) =>
      encode((f.accepted ?? 0) > 0 ? { ...f, accepted: (f.accepted as number) + 1_000 } : f)
    await assert.rejects(drive(liar.a, liar.b, inflate, size), /stored \d+ events of \d+ pushed/)
  })

  it('a push of a log longer than one range answer goes on to its end in the log phase', async () => {
    // 60,000 positions: past LOG_FETCH_EVENTS_MAX (50,000), where a range answer stops.
    const n = 60_000
    const s = signer(9)
    const a = new MemLogs()
    const b = new MemLogs()
    let peaks: ReturnType<typeof peaksOf> = []
    for (let seq = 0; seq < n; seq++) {
      const e = event(9, seq)
      a.add(e)
      peaks = peaksAppend(peaks, [leafHash(fromHex(e.digest)!)])
      if ((seq + 1) % 4_096 === 0 || seq + 1 === n) {
        const root = rootHash(seq + 1, peaks)
        a.addHead({
          author: toHex(s.publicKey) as AuthorKey,
          log: LOG_ID,
          length: seq + 1,
          root: toHex(root),
          signature: toHex(s.sign(headSignable(s.publicKey, fromHex(LOG_ID)!, seq + 1, root))),
        })
      }
    }
    const init = { frameBytes: FRAME, eventsMax: 5_000, inFlight: new Set<string>() }
    const sa = new LogSession(a, 'initiator', init)
    const sb = new LogSession(b, 'responder', { ...init, inFlight: new Set<string>() })
    await drive({ logs: a, session: sa }, { logs: b, session: sb }, encode, size)
    assert.equal(b.positions().size, n, 'the responder holds the whole log')
    assert.equal(sa.result.pushedAccepted, n)
  })

  it('many logs in agreement: one round trip and a first message of the 16 top buckets', async () => {
    const a = new MemLogs()
    const b = new MemLogs()
    for (let n = 0; n < 300; n++) {
      const l = authorLog(1_000 + n, 1)
      give(a, l, [0])
      give(b, l, [0])
    }
    const init = { frameBytes: FRAME, eventsMax: 5_000, inFlight: new Set<string>() }
    const sa = new LogSession(a, 'initiator', init)
    const sb = new LogSession(b, 'responder', { ...init, inFlight: new Set<string>() })
    const d = await drive({ logs: a, session: sa }, { logs: b, session: sb }, encode, size)
    assert.equal(d.roundTrips, 1)
    assert.ok(d.firstBytes < 1_000, `first message ${d.firstBytes} B`)
    assert.equal(sa.result.consistent, true)
  })

  it('pushing many small logs goes 16 frames ahead of the answers, not one round trip per log', async () => {
    const a = new MemLogs()
    const b = new MemLogs()
    for (let n = 0; n < 40; n++) give(a, authorLog(2_000 + n, 2), [0, 1])
    const init = { frameBytes: FRAME, eventsMax: 5_000, inFlight: new Set<string>() }
    const sa = new LogSession(a, 'initiator', init)
    const sb = new LogSession(b, 'responder', { ...init, inFlight: new Set<string>() })
    const d = await drive({ logs: a, session: sa }, { logs: b, session: sb }, encode, size)
    assert.equal(sa.result.pushedAccepted, 80)
    assert.equal(b.positions().size, 80)
    // Summaries (1), then 40 one-log frames and `done` in windows of LOG_PUSH_WINDOW.
    assert.ok(d.roundTrips <= 1 + Math.ceil(41 / LOG_PUSH_WINDOW), `${d.roundTrips} round trips`)
  })

  it('a message of more buckets than any side holds logs is a protocol error', async () => {
    const s = new LogSession(new MemLogs(), 'responder', {
      frameBytes: FRAME,
      eventsMax: 10,
      inFlight: new Set(),
    })
    const page = Array.from({ length: LOG_BUCKETS_PER_FRAME }, () => ({
      prefix: Uint8Array.of(1),
      count: 1,
      fingerprint: new Uint8Array(16),
      mode: 0,
    }))
    const frame = ReconcileFrame.decode(
      ReconcileFrame.encode({ logPhase: true, logBuckets: page, logsMore: true }),
    )
    await assert.rejects(
      async () => {
        for (let i = 0; i <= Math.ceil(RECONCILE_LOGS_MAX / LOG_BUCKETS_PER_FRAME); i++)
          await s.handle(frame, { nowMs: NOW, driftMaxMs: 1 })
      },
      { name: 'ReconcileProtocolError' },
    )
  })

  it('a frame outside the log phase is a protocol error', async () => {
    const s = new LogSession(new MemLogs(), 'responder', {
      frameBytes: FRAME,
      eventsMax: 10,
      inFlight: new Set(),
    })
    await assert.rejects(
      s.handle(ReconcileFrame.decode(ReconcileFrame.encode({ type: 'x' })), { nowMs: NOW, driftMaxMs: 1 }),
      { name: 'ReconcileProtocolError' },
    )
  })
})
