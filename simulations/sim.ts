/**
 * The deterministic simulator: N nodes in one process, virtual time in integer milliseconds,
 * one seed. Each node holds its event set as the shipped core does — one RangeIndex per event
 * type (src/core/range-index.ts) — and reconciles with its neighbours by running the shipped
 * ReconcileSession (src/core/reconcile-session.ts) message by message over the simulated
 * network. When it reconciles with whom (on connect, every interval, relay after learning,
 * again after a truncated session, retries, one session per peer and RECONCILE_PARALLEL_MAX at
 * once, strikes and bans) is decided by the shipped SyncScheduler (src/core/sync-scheduler.ts),
 * one per node, driven here as src/net/anti-entropy.ts drives it in the node, with the node's
 * own constants (src/net/constants.ts). Events are built and signed by src/core/event.ts;
 * signatures are checked with the real verifier once per event and cached (a pure function of
 * the bytes). State is computed by the shipped Ingestor (see state.ts).
 */

import { CONFIG_DEFAULTS } from '../src/config/defaults.ts'
import { HLC_DRIFT_MAX_MS_DEFAULT } from '../src/core/constants.ts'
import { eventFromWire, signEvent, type VerifyContext } from '../src/core/event.ts'
import { decodeSigned, readLogPosition } from '../src/core/event-codec.ts'
import { tickHlc } from '../src/core/hlc.ts'
import { LOG_PUSH_WINDOW } from '../src/core/log-session.ts'
import { planLogs } from '../src/core/log-summary.ts'
import { ChunkPool, compareKeys, HLC_BYTES, itemKey, RangeIndex } from '../src/core/range-index.ts'
import { NEED_MAX, ReconcileSession, type ReconRange } from '../src/core/reconcile-session.ts'
import type { StoredEvent } from '../src/core/records.ts'
import { type SessionOutcome, SyncScheduler } from '../src/core/sync-scheduler.ts'
import type { Digest, EventType, Hlc, JsonObject } from '../src/core/types.ts'
import {
  FRAME_BYTES_MIN,
  LOG_FETCH_EVENTS_MAX,
  RECONCILE_BAN_MS,
  RECONCILE_FETCH_DIGESTS_MAX,
  RECONCILE_FETCH_PIPELINE,
  RECONCILE_LOGS_PER_FRAME,
  RECONCILE_MESSAGE_SLACK_BYTES,
  RECONCILE_PARALLEL_MAX,
  RECONCILE_RELAY_DELAY_MS,
  RECONCILE_RELAY_GOSSIP_MAX,
  RECONCILE_RETRY_MS,
  RECONCILE_STRIKES_MAX,
} from '../src/net/constants.ts'
import { fromHex, toHex } from '../src/util/bytes.ts'
import { type Signer, sha256Hex, signerFromSeed } from '../src/util/crypto.ts'
import { MinHeap } from './heap.ts'
import { Histogram } from './histogram.ts'
import { LogModel, type LogView, type Summary, summaryBytes } from './log-model.ts'
import { buildMesh, NetworkModel } from './network.ts'
import { Rng } from './rng.ts'
import type { Scenario } from './scenario.ts'

/** Wall-clock time of virtual time 0 (HLC wall times are built on it). */
export const EPOCH_MS = Date.UTC(2026, 0, 1)
/** A reconciliation message's budget, as the node's adapter (src/net/protocols/reconcile.ts)
 *  sets it before the peer says what it reads: the smallest frame every node reads, less slack. */
export const MESSAGE_BUDGET_BYTES = FRAME_BYTES_MIN - RECONCILE_MESSAGE_SLACK_BYTES
/** Admission once per event: the drift rule is applied per node (open federation: no members). */
const NO_DRIFT_CHECK: VerifyContext = { nowMs: Number.POSITIVE_INFINITY, driftMaxMs: 0 }
/** Envelope bytes of a gossip message / a stream frame around its payload (estimates). */
const GOSSIP_OVERHEAD_BYTES = 64
const FRAME_OVERHEAD_BYTES = 16
/** What every simulated node reads in one frame: the node's default `limits.frameBytesMax`.
 *  Both sides say it in their first frame, so after the first round trip the adapter's
 *  reconciliation messages and push frames use it (less slack for messages). */
const NODE_FRAME_BYTES = CONFIG_DEFAULTS.limits.frameBytesMax
/** A message's budget once both sides said what they read. */
const NEGOTIATED_BUDGET_BYTES = NODE_FRAME_BYTES - RECONCILE_MESSAGE_SLACK_BYTES
/** A push frame: the adapter fills frames up to what both sides read. */
const PUSH_FRAME_BYTES = NODE_FRAME_BYTES
/** A fetch answer frame: the responder keeps them at the floor. */
const FETCH_FRAME_BYTES = FRAME_BYTES_MIN
/** A node's index takes a batch of at least this many committed events in one merge per chunk
 *  (RangeIndex.insertSorted); smaller ones (mostly appends at the newest end) key by key. */
const FLUSH_MERGE_MIN = 64
/** Initial room of a node's list of committed events waiting for its index (it doubles). */
const UNINDEXED_ROOM = 1024
/** Conflicts the scenario's users resolve per resolveEveryMs, at most. */
const RESOLUTIONS_PER_TICK = 10

export type Role = 'honest' | 'forker' | 'invalid' | 'withholder'

export interface SimEvent {
  readonly ord: number
  readonly typeIdx: number
  readonly target: string
  readonly eventId: string
  readonly author: number
  /** Position in the author's log. */
  readonly seq: number
  readonly stored: StoredEvent
  readonly digest: Digest
  readonly key: Uint8Array
  readonly hlc: Hlc
  readonly parents: readonly Digest[]
  readonly bytes: number
  readonly createdAt: number
  ackAt: number
  /** Events that are versions of one (author, event_id) share a slot (the first one's ord). */
  readonly slot: number
  /** 0 not checked yet, 1 signature verifies, 2 it does not. */
  valid: 0 | 1 | 2
  /** Live honest nodes holding it durably (per slot, on the slot's first event). */
  holders: number
  fullAt: number
}

interface SimNode {
  readonly id: number
  readonly role: Role
  readonly signer: Signer
  joined: boolean
  up: boolean
  left: boolean
  /** Per event ordinal: 0 absent, 1 received and not yet durable, 2 durable. */
  held: Uint8Array
  pending: number[]
  commitScheduled: boolean
  readonly idx: RangeIndex[]
  /** Committed events not yet in `idx` (ordinals, the first `unindexedN`): added in one batch,
   *  in HLC order, when the index is read (a range phase, the end's check), so the index is
   *  the node's durable set whenever something looks at it, and an index no one reads is not
   *  built (after a heal most nodes' indexes are never read again: 4 bytes an event waiting,
   *  instead of 40 in a private copy of every chunk the other half's events land in). */
  unindexed: Int32Array
  unindexedN: number
  heldSlots: number
  hlc: Hlc
  nbrs: number[]
  clockOffsetMs: number
  /** AntiEntropy: the shipped scheduler (a new one at each restart, as a new process). */
  sched: SyncScheduler
  /** Bumped at each restart: what a session or timer of the old process reports is dropped. */
  epoch: number
  /** When the scheduler's wake-up is armed (undefined: none). */
  timerAt: number | undefined
  /** Peers this node holds a connection to. */
  readonly conn: Set<number>
  /** Events some session of this node is fetching (the adapter's `inFlight`: parallel sessions
   *  take each event once). */
  readonly inFlight: Set<number>
  /** What the node holds of each author's log (contiguous prefix, end). */
  logs: LogView
  /** Authors whose log some session of this node is fetching, or a peer is pushing to it (the
   *  log phase's `log:` claims in the adapter's `inFlight`). */
  readonly logClaims: Set<number>
  bytesGossip: number
  bytesReconcile: number
  sessions: number
}

export interface FaultMark {
  readonly kind: string
  readonly atMs: number
  readonly untilMs: number
  readonly label: string
}

export interface Sample {
  readonly t: number
  /** Live honest nodes, and of them those holding every event any of them holds. */
  readonly live: number
  readonly complete: number
  /** Mean share of that union each live honest node holds. */
  readonly coverage: number
  readonly events: number
  readonly conflictsOpen: number
  readonly conflictsResolved: number
  readonly conflictsRaised: number
  readonly sessions: number
  readonly bytes: number
}

interface Transcript {
  readonly msgBytes: number[]
  readonly need: number[]
  readonly have: number[]
  readonly rounds: number
  readonly truncated: boolean
}

/** What one session carries from its start to its end. */
interface SessionRun {
  readonly a: SimNode
  readonly b: SimNode
  readonly epochs: readonly [number, number]
  /** Events a claimed in a.inFlight and has not asked for yet (released on a failure). */
  readonly claimed: number[]
  /** Authors whose logs this session claimed on a's side (fetching) and b's (being pushed). */
  readonly logClaimsA: number[]
  readonly logClaimsB: number[]
  /** Events the log phase fetched. */
  logNeed: number
  readonly report: SessionReport
}

interface SessionReport {
  learned: number
  withheld: number
  badSignature: number
  truncated: boolean
  transient: boolean
  inSync: boolean
  relay: number[]
}

/** A delivery bucket: (node, ordinal) pairs arriving at one ms. */
type Bucket = number[]

export class Simulator {
  readonly s: Scenario
  readonly seed: number
  now = 0
  readonly nodes: SimNode[] = []
  readonly events: SimEvent[] = []
  readonly byDigest = new Map<string, number>()
  /** The same, keyed by the digest's bytes as a latin1 string (no hex per look-up). */
  readonly #byId = new Map<string, number>()
  readonly net: NetworkModel
  /** Every author's log, and what each node holds of it (the log phase's summaries). */
  readonly logModel: LogModel
  readonly marks: FaultMark[] = []
  readonly samples: Sample[] = []
  readonly delays = new Histogram()
  readonly fullDelays = new Histogram()
  readonly counters = {
    gossipMessages: 0,
    receivedDuplicates: 0,
    gossipLost: 0,
    sessions: 0,
    sessionsFailed: 0,
    sessionsMemo: 0,
    logPhases: 0,
    logConsistent: 0,
    logDeferred: 0,
    logPeerFetching: 0,
    logFetched: 0,
    logPushed: 0,
    deferred: 0,
    rounds: 0,
    fetched: 0,
    pushed: 0,
    withheld: 0,
    badSignature: 0,
    equivocations: 0,
    driftRefused: 0,
    strikes: 0,
    bans: 0,
    crashes: 0,
    lostInFlight: 0,
    joins: 0,
    leaves: 0,
    resolutions: 0,
    invalidWritten: 0,
    forksWritten: 0,
  }
  readonly #rng: { topo: Rng; write: Rng; gossip: Rng; session: Rng; fault: Rng; keys: Rng }
  readonly #actions = new MinHeap<() => void>()
  readonly #buckets = new Map<number, Bucket>()
  readonly #bucketTimes = new MinHeap<number>()
  readonly #targetEvents = new Map<string, number[]>()
  readonly #memo = new Map<string, Transcript>()
  /** setKeyOf's sets seen: by a hash of the node's `held` bytes. */
  readonly #setKeys = new Map<string, { held: Uint8Array; key: string }>()
  /** Slots with more than one version (a forking member's events). */
  readonly #forked = new Set<number>()
  readonly #types: readonly EventType[]
  #capacity = 1024
  #dist = new Float64Array(0)
  /** Each event's HLC as one number (wall ms * 2^16 + counter): the index's key order, nearly. */
  #hlcOrder = new Float64Array(1024)
  /** Nodes holding each event (received or durable): a flood whose origin is its only holder
   *  need not look at what the others hold. */
  #holding = new Int32Array(1024)
  #settled = new Uint8Array(0)
  /** The flood's queue: nodes reached in each millisecond after the publish (reused). */
  readonly #floodBuckets: number[][] = []
  /** Range-index chunks shared by the nodes that hold equal ones (most of them, most of the time). */
  readonly chunks = new ChunkPool()
  #liveHonest = 0
  #slots = 0
  /** Slots some live honest node holds. */
  #union = 0
  #lastSampleAt = -1
  /** Bring every node's index up to date at every sample (the reference the lazy indexes are
   *  tested against: the same result but for the pool's counters). */
  eagerIndexes = false
  onSample?: (s: Sample) => void
  /** Called as events are created (the conflicts oracle feeds on them). */
  onEvent?: (e: SimEvent) => void
  openConflictPicker?: () => Array<{
    id: string
    sides: Digest[]
    cell: string
    type: EventType
    target: string
  }>

  constructor(s: Scenario, seed: number) {
    this.s = s
    this.seed = seed
    this.#types = s.types
    this.#rng = {
      topo: new Rng(seed, 'topology'),
      write: new Rng(seed, 'writes'),
      gossip: new Rng(seed, 'gossip'),
      session: new Rng(seed, 'sessions'),
      fault: new Rng(seed, 'faults'),
      keys: new Rng(seed, 'keys'),
    }
    this.net = new NetworkModel(s, this.#rng.topo.u32())
    this.logModel = new LogModel((ord) => this.events[ord].key.subarray(HLC_BYTES))
  }

  // ---------------------------------------------------------------- set-up

  setup(): void {
    const s = this.s
    const f = s.faults
    const joiners =
      f.churn === undefined ? 0 : Math.floor((f.churn.untilMs - f.churn.atMs) / f.churn.joinEveryMs) + 1
    const total = s.nodes + joiners
    const roles: Role[] = Array.from({ length: total }, () => 'honest')
    const byz = this.#rng.topo.shuffle([...Array(s.nodes).keys()])
    let k = 0
    for (let i = 0; i < (f.forkers ?? 0); i++) roles[byz[k++]] = 'forker'
    for (let i = 0; i < (f.invalidSenders ?? 0); i++) roles[byz[k++]] = 'invalid'
    for (let i = 0; i < (f.withholders ?? 0); i++) roles[byz[k++]] = 'withholder'
    const mesh = buildMesh(total, s.degree, this.#rng.topo)
    const signers = Array.from({ length: total }, () => signerFromSeed(this.#rng.keys.bytes(32)))
    for (const sg of signers) this.logModel.addAuthor(sg.publicKey)
    for (let i = 0; i < total; i++) {
      this.nodes.push({
        id: i,
        role: roles[i],
        signer: signers[i],
        joined: i < s.nodes,
        up: i < s.nodes,
        left: false,
        held: new Uint8Array(this.#capacity),
        pending: [],
        commitScheduled: false,
        idx: this.#types.map(() => new RangeIndex()),
        unindexed: new Int32Array(UNINDEXED_ROOM),
        unindexedN: 0,
        heldSlots: 0,
        hlc: { wallMs: 0, counter: 0 },
        nbrs: mesh[i].filter((j) => j < s.nodes || j === i),
        clockOffsetMs: 0,
        sched: this.#newScheduler(i),
        epoch: 0,
        timerAt: undefined,
        conn: new Set(),
        inFlight: new Set(),
        logs: this.logModel.newView(),
        logClaims: new Set(),
        bytesGossip: 0,
        bytesReconcile: 0,
        sessions: 0,
      })
    }
    for (const n of this.nodes) if (n.joined && n.role === 'honest') this.#liveHonest++
    this.#dist = new Float64Array(total)
    this.#settled = new Uint8Array(total)
    this.#setupClocks()
    this.#writeHistory()
    this.#scheduleFaults(joiners)
    this.#scheduleWrites()
    // Every node dials its neighbours at start (the scheduler starts a session on each new
    // connection and ticks every interval from the first one).
    for (const n of this.nodes) if (n.up) for (const p of n.nbrs) if (p > n.id) this.#reconnect(n.id, p)
  }

  #setupClocks(): void {
    const sk = this.s.faults.skew
    if (sk === undefined) return
    const ids = this.#rng.fault.shuffle([...Array(this.s.nodes).keys()]).slice(0, sk.count)
    for (const id of ids)
      this.nodes[id].clockOffsetMs = Math.round(this.#rng.fault.range(-sk.maxOffsetMs, sk.maxOffsetMs))
    for (const j of sk.jumps ?? []) {
      const id = this.#rng.fault.int(this.s.nodes)
      this.mark(
        'clock jump',
        j.atMs,
        j.untilMs,
        `node ${id} clock ${j.byMs > 0 ? '+' : ''}${j.byMs / 1000} s`,
      )
      this.at(j.atMs, () => {
        this.nodes[id].clockOffsetMs += j.byMs
      })
      this.at(j.untilMs, () => {
        this.nodes[id].clockOffsetMs -= j.byMs
      })
    }
    if (ids.length > 0)
      this.mark(
        'clock skew',
        0,
        this.s.healAtMs,
        `${ids.length} nodes off by up to ±${sk.maxOffsetMs / 1000} s`,
      )
  }

  /** The node's wall clock (ms since the epoch) at virtual time t. */
  clock(n: SimNode, t = this.now): number {
    return EPOCH_MS + t + n.clockOffsetMs
  }

  mark(kind: string, atMs: number, untilMs: number, label: string): void {
    this.marks.push({ kind, atMs, untilMs, label })
  }

  #scheduleFaults(joiners: number): void {
    const s = this.s
    const f = s.faults
    for (const p of f.partitions ?? []) {
      this.mark(
        p.oneWay ? 'one-way partition' : 'partition',
        p.atMs,
        p.untilMs,
        `${p.groups} groups${p.oneWay ? ', one way' : ''}`,
      )
    }
    for (const fl of f.flapping ?? [])
      this.mark(
        'flapping',
        fl.atMs,
        fl.untilMs,
        `${Math.round(fl.share * 100)}% of links, ${fl.periodMs} ms period`,
      )
    for (const b of f.lossBursts ?? [])
      this.mark('loss', b.atMs, b.untilMs, `loss ${Math.round(b.loss * 100)}%, +${b.extraDelayMs} ms delay`)
    // Links going down drop their connections; links coming back are redialed (and the
    // scheduler starts a session on the new connection).
    for (const t of this.net.transitions()) {
      this.at(t, () => {
        for (const n of this.nodes) {
          if (!n.up) continue
          for (const p of n.nbrs) {
            if (p < n.id) continue
            const both = this.#bothWays(n.id, p, t)
            if (!both && n.conn.has(p)) this.#disconnect(n.id, p)
            else if (both && !n.conn.has(p)) this.#reconnect(n.id, p)
          }
        }
      })
    }
    for (const c of f.crashes ?? []) {
      for (let i = 0; i < c.count; i++) {
        const id = this.#rng.fault.int(s.nodes)
        const at = Math.round(this.#rng.fault.range(c.atMs, Math.max(c.atMs + 1, c.untilMs - c.downMs)))
        this.mark('crash', at, at + c.downMs, `node ${id} crashed`)
        this.at(at, () => this.crash(id))
        this.at(at + c.downMs, () => this.restart(id))
      }
    }
    const ch = f.churn
    if (ch !== undefined) {
      this.mark(
        'churn',
        ch.atMs,
        ch.untilMs,
        `a node leaves every ${ch.leaveEveryMs / 1000} s, one joins every ${ch.joinEveryMs / 1000} s`,
      )
      for (let t = ch.atMs; t < ch.untilMs; t += ch.leaveEveryMs) this.at(t, () => this.#leaveOne())
      for (let i = 0; i < joiners; i++) {
        const t = ch.atMs + i * ch.joinEveryMs
        if (t >= ch.untilMs) break
        this.at(t, () => this.#join(s.nodes + i))
      }
    }
    const off = f.offline
    if (off !== undefined) {
      for (let i = 0; i < off.count; i++) {
        const n = this.nodes[this.#offlineIds[i]]
        this.mark('offline', 0, off.untilMs, `node ${n.id} offline (a day's backlog)`)
        this.at(off.untilMs, () => this.restart(n.id))
      }
    }
  }

  #offlineIds: number[] = []

  // ---------------------------------------------------------------- events

  #grow(ord: number): void {
    if (ord < this.#capacity) return
    while (this.#capacity <= ord) this.#capacity *= 2
    const order = new Float64Array(this.#capacity)
    order.set(this.#hlcOrder)
    this.#hlcOrder = order
    const holding = new Int32Array(this.#capacity)
    holding.set(this.#holding)
    this.#holding = holding
    for (const n of this.nodes) {
      const h = new Uint8Array(this.#capacity)
      h.set(n.held)
      n.held = h
    }
  }

  #heads(n: SimNode, key: string): Digest[] {
    const list = this.#targetEvents.get(key)
    if (list === undefined) return []
    const held = list.filter((o) => n.held[o] === 2)
    const named = new Set<string>()
    for (const o of held) for (const p of this.events[o].parents) named.add(p)
    const heads = held.filter((o) => !named.has(this.events[o].digest))
    heads.sort((a, b) => b - a)
    return heads.slice(0, 12).map((o) => this.events[o].digest)
  }

  #payload(typeIdx: number, target: number): { target: string; payload: JsonObject } {
    const r = this.#rng.write
    const type = this.#types[typeIdx]
    const field = r.int(this.s.fieldsPerTarget)
    const value = r.int(1000)
    if (type === 'graph_update') {
      return {
        target: `graph-${target}`,
        payload: {
          op: 'set_edge_properties',
          from: `n${field}`,
          label: 'rel',
          to: `m${field % 3}`,
          properties: { w: value },
        },
      }
    }
    if (type === 'vector_update')
      return {
        target: `vec-${target}-${field}`,
        payload: { op: 'upsert', values: [value / 1000, field], metadata: {} },
      }
    if (type === 'document_update')
      return { target: `doc-${target}-${field}`, payload: { op: 'put', content: `v${value}` } }
    return { target: `persona-${target}`, payload: { op: 'set', fields: { [`f${field}`]: value } } }
  }

  /** Builds, signs and registers an event written by node n at its clock; returns its ordinal. */
  #create(
    n: SimNode,
    typeIdx: number,
    target: string,
    payload: JsonObject,
    at: number,
    opts: {
      eventId?: string
      slot?: number
      /** A position already used in the author's log (a forking member's second version). */
      seq?: number
      extraParents?: readonly Digest[]
      wallMs?: number
    } = {},
  ): number {
    const type = this.#types[typeIdx]
    const key = `${type}/${target}`
    const parents = [...new Set([...this.#heads(n, key), ...(opts.extraParents ?? [])])].slice(0, 16)
    const wall = opts.wallMs ?? this.clock(n, at)
    n.hlc = tickHlc(n.hlc, wall)
    const seq = opts.seq ?? this.#nextSeq(n)
    const e = signEvent(
      {
        eventId: opts.eventId ?? this.#rng.write.uuid(),
        type,
        targetId: target,
        payload,
        hlc: n.hlc,
        parents: parents as Digest[],
        log: toHex(n.signer.publicKey).slice(0, 16),
        seq,
      },
      n.signer,
    )
    let signature = e.signature
    if (n.role === 'invalid') {
      signature = signature.slice()
      signature[7] ^= 0x5a
      this.counters.invalidWritten++
    }
    const ord = this.events.length
    this.#grow(ord)
    const slot = opts.slot ?? ord
    if (slot === ord) this.#slots++
    else this.#forked.add(slot)
    this.events.push({
      ord,
      typeIdx,
      target,
      eventId: e.eventId,
      author: n.id,
      seq,
      stored: { signed: e.signed, signature, digest: e.digest },
      digest: e.digest,
      key: itemKey(e.signed.subarray(21, 29), fromHex(e.digest)!),
      hlc: e.hlc,
      parents: e.parents,
      bytes: e.signed.byteLength + 64 + 8,
      createdAt: at,
      ackAt: -1,
      slot,
      valid: 0,
      holders: 0,
      fullAt: -1,
    })
    this.byDigest.set(e.digest, ord)
    this.#byId.set(idKey(fromHex(e.digest)!), ord)
    this.logModel.addEvent(n.id, seq, ord)
    this.#hlcOrder[ord] = e.hlc.wallMs * 65536 + e.hlc.counter
    let list = this.#targetEvents.get(key)
    if (list === undefined) {
      list = []
      this.#targetEvents.set(key, list)
    }
    list.push(ord)
    return ord
  }

  /**
   * The node's admission check (src/core/event.ts `eventFromWire`: schema, target id, signature),
   * once per event: it is a pure function of the bytes but for the clock-drift rule, which
   * depends on the receiving node's clock and is applied per node (`#ahead`).
   */
  valid(e: SimEvent): boolean {
    if (e.valid === 0) {
      try {
        eventFromWire(e.stored.signed, e.stored.signature, NO_DRIFT_CHECK)
        e.valid = 1
      } catch {
        e.valid = 2
      }
    }
    return e.valid === 1
  }

  /** The admission's drift rule at node n's clock at t (checkEvent in src/core/event.ts). */
  #ahead(n: SimNode, e: SimEvent, t = this.now): boolean {
    return e.hlc.wallMs - this.clock(n, t) > HLC_DRIFT_MAX_MS_DEFAULT
  }

  #writeHistory(): void {
    const s = this.s
    const off = s.faults.offline
    if (off !== undefined)
      this.#offlineIds = this.#rng.fault
        .shuffle([...Array(s.nodes).keys()].filter((i) => this.nodes[i].role === 'honest'))
        .slice(0, off.count)
    if (s.history <= 0 && off === undefined) return
    const honest = this.nodes.filter((n) => n.joined && n.role === 'honest')
    const dayMs = 24 * 3600_000
    for (let i = 0; i < s.history; i++) {
      const author = this.#rng.write.pick(honest)
      const typeIdx = this.#rng.write.int(this.#types.length)
      const { target, payload } = this.#payload(typeIdx, this.#rng.write.int(s.targets))
      const wall = EPOCH_MS - dayMs + Math.floor((i * dayMs) / s.history)
      const ord = this.#create(author, typeIdx, target, payload, 0, { wallMs: wall })
      const e = this.events[ord]
      e.valid = 1
      e.ackAt = 0
      const backlog = off !== undefined && i >= s.history - off.backlog
      for (const n of this.nodes) {
        if (!n.joined) continue
        if (backlog && this.#offlineIds.includes(n.id)) continue
        this.#store(n, e, 0, false)
      }
    }
    for (const id of this.#offlineIds) {
      this.nodes[id].up = false
      this.#setLive(this.nodes[id], false)
    }
  }

  #scheduleWrites(): void {
    const s = this.s
    const span = Math.max(1, s.writeUntilMs - s.writeFromMs)
    for (let i = 0; i < s.events; i++) {
      const t =
        s.writeFromMs +
        Math.floor((i * span) / s.events) +
        this.#rng.write.int(Math.max(1, Math.floor(span / s.events)))
      this.at(t, () => this.#writeOne())
    }
    const byz = this.nodes.filter((n) => n.role !== 'honest')
    for (const n of byz) {
      for (let t = s.writeFromMs + 500; t < s.writeUntilMs; t += Math.max(1000, Math.floor(span / 10)))
        this.at(t, () => this.#byzantineWrite(n))
    }
    if (s.resolveEveryMs > 0)
      for (let t = s.resolveEveryMs; t < s.healAtMs + s.settleMs; t += s.resolveEveryMs)
        this.at(t, () => this.#resolveOne())
  }

  #writeOne(): void {
    const live = this.nodes.filter((n) => n.up && n.role === 'honest')
    if (live.length === 0) return
    const n = this.#rng.write.pick(live)
    const typeIdx = this.#rng.write.int(this.#types.length)
    const { target, payload } = this.#payload(typeIdx, this.#rng.write.int(this.s.targets))
    const ord = this.#create(n, typeIdx, target, payload, this.now)
    this.#receive(n, ord, this.now)
  }

  #byzantineWrite(n: SimNode): void {
    if (!n.up) return
    const typeIdx = this.#rng.write.int(this.#types.length)
    const { target, payload } = this.#payload(typeIdx, this.#rng.write.int(this.s.targets))
    const ord = this.#create(n, typeIdx, target, payload, this.now)
    if (n.role === 'forker') {
      // A second version under the same event_id, different content.
      const twin = this.#create(
        n,
        typeIdx,
        target,
        { ...payload, ...this.#payload(typeIdx, 0).payload },
        this.now,
        {
          // A fork of its log: same event_id and position, other content. Both versions are
          // kept by every node (docs/EVENTS.md "Forks"), so the twin is an event of its own.
          eventId: this.events[ord].eventId,
          seq: readLogPosition(this.events[ord].stored.signed).seq,
        },
      )
      this.counters.forksWritten++
      this.events[ord].valid = this.valid(this.events[ord]) ? 1 : 2
      this.#store(n, this.events[ord], this.now, true)
      const half = Math.ceil(n.nbrs.length / 2)
      this.#publish(ord, n.id, this.now, n.nbrs.slice(0, half))
      this.#publish(twin, n.id, this.now, n.nbrs.slice(half))
      return
    }
    this.#store(n, this.events[ord], this.now, true)
    if (n.role === 'invalid') this.#publish(ord, n.id, this.now)
  }

  #resolveOne(): void {
    const open = this.openConflictPicker?.() ?? []
    let done = 0
    for (const c of open) {
      const sides = c.sides.map((d) => this.byDigest.get(d)!)
      const cands = this.nodes.filter(
        (n) => n.up && n.role === 'honest' && sides.every((o) => n.held[o] === 2),
      )
      if (cands.length === 0) continue
      const n = this.#rng.write.pick(cands)
      const typeIdx = this.#types.indexOf(c.type)
      const winner = this.events[sides[sides.length - 1]]
      const value = this.#payloadValue(winner, c.cell)
      const payload: JsonObject = {
        op: 'resolve',
        conflict_id: c.id,
        strategy: 'prefer_local',
        cells: [value === undefined ? { cell: c.cell, del: true } : { cell: c.cell, value }],
      }
      const ord = this.#create(n, typeIdx, c.target, payload, this.now, { extraParents: c.sides })
      this.counters.resolutions++
      this.#receive(n, ord, this.now)
      if (++done >= RESOLUTIONS_PER_TICK) return
    }
  }

  #payloadValue(e: SimEvent, cell: string): JsonObject[string] | undefined {
    const p = decodeSigned(e.stored.signed).payload
    if (p.op === 'set' && cell.startsWith('field:')) return (p.fields as JsonObject)[cell.slice(6)]
    if (p.op === 'set_edge_properties' && cell.startsWith('prop:')) {
      const key = (JSON.parse(cell.slice(5)) as string[])[3]
      return (p.properties as JsonObject)[key]
    }
    return undefined
  }

  // ---------------------------------------------------------------- scheduling

  at(t: number, fn: () => void): void {
    this.#actions.push(Math.max(t, this.now), fn)
  }

  #deliverAt(t: number, node: number, ord: number): void {
    const ms = Math.max(this.now + 1, Math.ceil(t))
    let b = this.#buckets.get(ms)
    if (b === undefined) {
      b = []
      this.#buckets.set(ms, b)
      this.#bucketTimes.push(ms, ms)
    }
    b.push(node, ord)
  }

  /** Runs the simulation until `until` (ms) or until `stop()` returns true at a sample. */
  run(until: number, stop?: () => boolean): void {
    for (;;) {
      const ta = this.#actions.peekKey()
      const tb = this.#bucketTimes.peekKey()
      const t = Math.min(ta ?? Infinity, tb ?? Infinity)
      if (t === Infinity || t > until) {
        this.now = until
        return
      }
      this.now = t
      if (tb !== undefined && tb === t && (ta === undefined || tb <= ta)) {
        this.#bucketTimes.pop()
        const b = this.#buckets.get(t)!
        this.#buckets.delete(t)
        for (let i = 0; i < b.length; i += 2) this.#receive(this.nodes[b[i]], b[i + 1], t)
        continue
      }
      const fn = this.#actions.pop()!
      fn()
      if (this.#lastSampleAt === this.now && stop?.() === true) return
    }
  }

  // ---------------------------------------------------------------- nodes

  #setLive(n: SimNode, live: boolean): void {
    if (n.role !== 'honest') return
    this.#liveHonest += live ? 1 : -1
    for (let o = 0; o < this.events.length; o++) {
      if (n.held[o] !== 2) continue
      const e = this.events[this.events[o].slot]
      if (live) {
        if (e.holders++ === 0) this.#union++
      } else if (--e.holders === 0) this.#union--
    }
  }

  crash(id: number): void {
    const n = this.nodes[id]
    if (!n.up) return
    this.counters.crashes++
    n.up = false
    for (const o of n.pending)
      if (n.held[o] === 1) {
        n.held[o] = 0
        this.#holding[o]--
        this.counters.lostInFlight++
      }
    n.pending = []
    n.commitScheduled = false
    for (const p of [...n.conn]) this.#disconnect(n.id, p)
    n.inFlight.clear()
    this.#setLive(n, false)
  }

  restart(id: number): void {
    const n = this.nodes[id]
    if (n.up || n.left) return
    n.up = true
    n.joined = true
    // A new process: a new scheduler (strikes and bans are in memory), reports of the old one's
    // sessions and timers are dropped.
    n.sched = this.#newScheduler(id)
    n.epoch++
    n.timerAt = undefined
    this.#setLive(n, true)
    for (const p of n.nbrs) this.#reconnect(id, p)
  }

  #leaveOne(): void {
    const cands = this.nodes.filter((n) => n.up && n.role === 'honest' && n.id < this.s.nodes)
    if (cands.length <= 2) return
    const n = this.#rng.fault.pick(cands)
    this.crash(n.id)
    n.left = true
    this.counters.leaves++
  }

  #join(id: number): void {
    const n = this.nodes[id]
    const live = this.nodes.filter((m) => m.up && m.id !== id)
    const picks = this.#rng.fault.shuffle([...live]).slice(0, this.s.degree)
    n.nbrs = picks.map((m) => m.id).sort((a, b) => a - b)
    for (const m of picks) if (!m.nbrs.includes(id)) m.nbrs.push(id)
    n.hlc = { wallMs: 0, counter: 0 }
    this.counters.joins++
    this.restart(id)
  }

  #newScheduler(id: number): SyncScheduler {
    return new SyncScheduler({
      selfId: peerId(id),
      intervalMs: this.s.reconcileIntervalMs,
      retryMs: RECONCILE_RETRY_MS,
      relayDelayMs: RECONCILE_RELAY_DELAY_MS,
      parallelMax: RECONCILE_PARALLEL_MAX,
      strikesMax: RECONCILE_STRIKES_MAX,
      banMs: RECONCILE_BAN_MS,
    })
  }

  /** The redialer: a connection a-b opens after a random delay, if the link is up both ways. */
  #reconnect(a: number, b: number): void {
    const d = this.#rng.session.int(this.s.redialMs) + 1
    this.at(this.now + d, () => this.#connect(a, b))
  }

  #bothWays(a: number, b: number, t: number): boolean {
    return this.linkUp(a, b, t) && this.linkUp(b, a, t)
  }

  /** A connection opens: both schedulers hear of it; one that refuses the peer (banned) hangs up. */
  #connect(a: number, b: number): void {
    const na = this.nodes[a]
    const nb = this.nodes[b]
    if (na.conn.has(b) || !this.#bothWays(a, b, this.now)) return
    const okA = na.sched.handleConnected(peerId(b), this.now)
    const okB = nb.sched.handleConnected(peerId(a), this.now)
    if (!okA || !okB) {
      if (okA) na.sched.handleDisconnected(peerId(b))
      if (okB) nb.sched.handleDisconnected(peerId(a))
      return
    }
    na.conn.add(b)
    nb.conn.add(a)
    this.#drive(na)
    this.#drive(nb)
  }

  #disconnect(a: number, b: number): void {
    const na = this.nodes[a]
    const nb = this.nodes[b]
    if (na.conn.delete(b)) na.sched.handleDisconnected(peerId(b))
    if (nb.conn.delete(a)) nb.sched.handleDisconnected(peerId(a))
  }

  /** A ban either way (the banning node hung up and refuses the peer's connections). */
  #banned(a: number, b: number, t: number): boolean {
    if (this.counters.bans === 0) return false
    return this.nodes[a].sched.banned(peerId(b), t) || this.nodes[b].sched.banned(peerId(a), t)
  }

  /** Whether honest node `by` has cut `peer` off at some point of this process's life. */
  cutOff(by: SimNode, peer: number): boolean {
    return (by.sched.schedule(peerId(peer))?.bannedUntilMs ?? 0) > 0
  }

  /** Whether a message from a reaches b at t: both up, no fault window in the way, no ban. */
  linkUp(a: number, b: number, t: number): boolean {
    const na = this.nodes[a]
    const nb = this.nodes[b]
    return na.up && nb.up && this.net.passes(a, b, t) && !this.#banned(a, b, t)
  }

  /** A received event (gossip, reconciliation, or the node's own write): queued for the next commit. */
  #receive(n: SimNode, ord: number, t: number): void {
    if (!n.up) return
    if (n.held[ord] !== 0) {
      this.counters.receivedDuplicates++
      return
    }
    n.held[ord] = 1
    this.#holding[ord]++
    n.pending.push(ord)
    if (!n.commitScheduled) {
      n.commitScheduled = true
      this.at(t + this.s.commitDelayMs, () => this.#commit(n))
    }
  }

  /** The node's group commit: what passes its checks becomes durable and enters its range index. */
  #commit(n: SimNode): void {
    n.commitScheduled = false
    if (!n.up) return
    const pending = n.pending
    n.pending = []
    for (const ord of pending) {
      if (n.held[ord] !== 1) continue
      const e = this.events[ord]
      if (e.author !== n.id) {
        if (!this.valid(e)) {
          n.held[ord] = 0
          this.#holding[ord]--
          continue
        }
        if (this.#ahead(n, e)) {
          n.held[ord] = 0
          this.#holding[ord]--
          this.counters.driftRefused++
          continue
        }
        if (this.#forked.has(e.slot) && this.#hasTwin(n, e)) {
          n.held[ord] = 0
          this.#holding[ord]--
          this.counters.equivocations++
          continue
        }
      }
      this.#store(n, e, this.now, true)
      if (e.author === n.id && e.ackAt < 0) {
        e.ackAt = this.now
        if (n.role === 'honest') this.#publish(ord, n.id, this.now)
      }
    }
  }

  /** Positions of each author's log (one log per simulated node). */
  readonly #seqs = new Map<number, number>()
  #nextSeq(n: SimNode): number {
    const seq = this.#seqs.get(n.id) ?? 0
    this.#seqs.set(n.id, seq + 1)
    return seq
  }

  #hasTwin(n: SimNode, e: SimEvent): boolean {
    const list = this.#targetEvents.get(`${this.#types[e.typeIdx]}/${e.target}`) ?? []
    for (const o of list) if (o !== e.ord && this.events[o].slot === e.slot && n.held[o] === 2) return true
    return false
  }

  #store(n: SimNode, e: SimEvent, t: number, observe: boolean): void {
    if (n.held[e.ord] === 0) this.#holding[e.ord]++
    n.held[e.ord] = 2
    if (n.unindexedN === n.unindexed.length) {
      const grown = new Int32Array(n.unindexed.length * 2)
      grown.set(n.unindexed)
      n.unindexed = grown
    }
    n.unindexed[n.unindexedN++] = e.ord
    this.logModel.stored(n.logs, n.held, e.author, e.seq)
    if (
      observe &&
      e.author !== n.id &&
      (e.hlc.wallMs > n.hlc.wallMs || (e.hlc.wallMs === n.hlc.wallMs && e.hlc.counter > n.hlc.counter))
    )
      n.hlc = e.hlc
    const slot = this.events[e.slot]
    n.heldSlots++
    if (n.role === 'honest' && n.up) {
      if (slot.holders++ === 0) this.#union++
      if (e.createdAt >= 0 && e.author !== n.id && t > 0) this.delays.add(t - e.createdAt)
      if (slot.holders === this.#liveHonest && slot.fullAt < 0 && t > 0) {
        slot.fullAt = t
        this.fullDelays.add(t - slot.createdAt)
      }
    }
  }

  // ---------------------------------------------------------------- gossip

  /**
   * A lossy, delayed flood over the mesh: each node forwards once, on first receipt (Dijkstra
   * over the hops' sampled delays, with a queue of 1 ms buckets: a hop takes at least
   * latency.baseMs, so what a node reached in one millisecond relaxes only later buckets, and
   * within a bucket nodes are taken in the order they were reached). Every hop is counted and
   * may be lost; a hop to a node that already has the event from an earlier arrival cannot
   * change anything, so its delay and duplicate are not drawn.
   */
  #publish(ord: number, origin: number, t: number, firstHop?: readonly number[]): void {
    const e = this.events[ord]
    const rng = this.#rng.gossip
    const size = e.bytes + GOSSIP_OVERHEAD_BYTES
    const othersHold = this.#holding[ord] > (this.nodes[origin].held[ord] === 0 ? 0 : 1)
    const dist = this.#dist
    const settled = this.#settled
    dist.fill(Infinity)
    settled.fill(0)
    const buckets = this.#floodBuckets
    const base = Math.floor(t)
    const dup = this.s.gossip.duplicate
    const perByte = 1 / this.s.bandwidthBytesPerMs
    dist[origin] = t
    let last = 0
    const queue = (v: number, tv: number) => {
      const b = Math.floor(tv) - base
      while (buckets.length <= b) buckets.push([])
      buckets[b].push(v)
      if (b > last) last = b
    }
    queue(origin, t)
    for (let b = 0; b <= last; b++) {
      const bucket = buckets[b]
      for (let k = 0; k < bucket.length; k++) {
        const u = bucket[k]
        if (settled[u] === 1) continue
        settled[u] = 1
        const d = dist[u]
        const nu = this.nodes[u]
        if (u !== origin) {
          // The gossip layer ignores (neither stores nor forwards) what the node already holds; the
          // validator stops a bad signature or an event too far ahead of this node's clock.
          if (othersHold && nu.held[ord] !== 0) continue
          if (!nu.up || !this.valid(e) || this.#ahead(nu, e, d)) continue
          this.#deliverAt(d, u, ord)
          if (nu.role === 'withholder') continue
        }
        const loss = Math.max(this.s.gossip.loss, this.net.extraLoss(d))
        const out = u === origin && firstHop !== undefined ? firstHop : nu.nbrs
        let sent = 0
        for (let j = 0; j < out.length; j++) {
          const v = out[j]
          if (!this.linkUp(u, v, d)) continue
          sent++
          if (rng.chance(loss)) {
            this.counters.gossipLost++
            continue
          }
          const nv = this.nodes[v]
          nv.bytesGossip += size
          if (settled[v] === 1) continue
          const tv = d + this.net.delay(d, rng) + size * perByte
          if (rng.chance(dup)) {
            nv.bytesGossip += size
            this.#deliverAt(tv + this.net.delay(d, rng), v, ord)
          }
          if (tv < dist[v]) {
            dist[v] = tv
            queue(v, tv)
          }
        }
        this.counters.gossipMessages += sent
        nu.bytesGossip += sent * size
      }
      bucket.length = 0
    }
  }

  // ---------------------------------------------------------------- anti-entropy

  /** AntiEntropy's #drive: start the sessions the scheduler asks for, hang up on the peers it
   *  struck out, and arm its next wake-up. */
  #drive(n: SimNode): void {
    if (!n.up) return
    for (const id of n.sched.pollStart(this.now)) this.#session(n, this.nodes[Number(id)])
    for (const id of n.sched.pollHangUps()) {
      const peer = Number(id)
      this.counters.bans++
      this.mark('ban', this.now, this.now + RECONCILE_BAN_MS, `node ${n.id} cut off node ${peer}`)
      this.#disconnect(n.id, peer)
    }
    const at = n.sched.pollTimeoutMs()
    if (at === undefined || at === n.timerAt) return
    n.timerAt = at
    const epoch = n.epoch
    this.at(at, () => {
      if (n.epoch !== epoch || n.timerAt !== at || !n.up) return
      n.timerAt = undefined
      n.sched.handleTimeout(this.now, this.#rng.session.next())
      this.#drive(n)
    })
  }

  /** Node n's range index of one type, with every event it committed. */
  index(n: SimNode, typeIdx: number): RangeIndex {
    this.#flushIndex(n)
    return n.idx[typeIdx]
  }

  #flushIndex(n: SimNode): void {
    if (n.unindexedN === 0) return
    const ords = Array.from(n.unindexed.subarray(0, n.unindexedN))
    n.unindexedN = 0
    if (n.unindexed.length > UNINDEXED_ROOM) n.unindexed = new Int32Array(UNINDEXED_ROOM)
    const hlc = this.#hlcOrder
    const ev = this.events
    // Key order: the HLC as one number (rounding never inverts it), then the whole key.
    ords.sort((x, y) => hlc[x] - hlc[y] || compareKeys(ev[x].key, ev[y].key))
    if (ords.length < FLUSH_MERGE_MIN) {
      for (const o of ords) n.idx[ev[o].typeIdx].insert(ev[o].key)
      return
    }
    // A large batch (a heal: events landing all over the index) is merged into each chunk once.
    const byType: Uint8Array[][] = this.#types.map(() => [])
    for (const o of ords) byType[ev[o].typeIdx].push(ev[o].key)
    for (let ti = 0; ti < byType.length; ti++) if (byType[ti].length > 0) n.idx[ti].insertSorted(byType[ti])
  }

  /** The set key of one index: its size and whole-range fingerprint (order-free). */
  #setKey(idx: RangeIndex): string {
    return `${idx.size}:${Buffer.from(idx.fingerprint(0, idx.size)).toString('hex')}`
  }

  /**
   * Runs the shipped session between two indexes. A session's messages are a pure function of
   * the two sets (and the message budget), so a pair seen before in this run is answered from
   * the memo, as signature checks are.
   */
  #transcript(typeIdx: number, a: SimNode, b: SimNode): Transcript {
    const ia = this.index(a, typeIdx)
    const ib = this.index(b, typeIdx)
    const memoKey = `${typeIdx}|${this.#setKey(ia)}|${this.#setKey(ib)}`
    const hit = this.#memo.get(memoKey)
    if (hit !== undefined) {
      this.counters.sessionsMemo++
      return hit
    }
    // As the adapter: the initiator's first message within the floor, then both sides within
    // what both read (each says it in its first frame).
    const init = new ReconcileSession(ia, 'initiator', { messageBytesMax: MESSAGE_BUDGET_BYTES })
    const resp = new ReconcileSession(ib, 'responder', { messageBytesMax: NEGOTIATED_BUDGET_BYTES })
    const msgBytes: number[] = []
    let msg: ReconRange[] | null = init.initiate()
    while (msg !== null) {
      msgBytes.push(messageBytes(msg))
      const answer = resp.handle(msg) as ReconRange[]
      msgBytes.push(messageBytes(answer))
      init.limitMessages(NEGOTIATED_BUDGET_BYTES)
      msg = init.handle(answer)
    }
    const ords = (ds: Uint8Array[]) => ds.map((d) => this.#byId.get(idKey(d)) ?? -1).filter((o) => o >= 0)
    const t: Transcript = {
      msgBytes,
      need: ords(init.need),
      have: ords(init.have),
      rounds: init.rounds,
      truncated: init.truncated,
    }
    if (this.#memo.size > 256) this.#memo.delete(this.#memo.keys().next().value!)
    this.#memo.set(memoKey, t)
    return t
  }

  /** One message over the stream: its delay, or -1 when the link is down at that moment. */
  #hop(from: number, to: number, t: number, bytes: number): number {
    if (!this.linkUp(from, to, t)) return -1
    const rng = this.#rng.session
    let d = this.net.delay(t, rng) + bytes / this.s.bandwidthBytesPerMs
    const segments = Math.max(1, Math.ceil(bytes / 65536))
    for (let i = 0; i < segments; i++) if (rng.chance(this.s.streamLoss)) d += this.s.retransmitMs
    this.nodes[from].bytesReconcile += bytes
    this.nodes[to].bytesReconcile += bytes
    return d
  }

  /** One session a → b (a initiates), from the stream's opening to its end: the log phase, then
   *  (unless the logs agreed, or some of them are left to another session) the range phase. */
  #session(a: SimNode, b: SimNode): void {
    this.counters.sessions++
    a.sessions++
    b.sched.handleServing(peerId(a.id), true)
    const ss: SessionRun = {
      a,
      b,
      epochs: [a.epoch, b.epoch],
      claimed: [],
      logClaimsA: [],
      logClaimsB: [],
      logNeed: 0,
      report: {
        learned: 0,
        withheld: 0,
        badSignature: 0,
        truncated: false,
        transient: false,
        inSync: true,
        relay: [],
      },
    }
    let t = this.now
    // Opening the stream: one round trip (protocol negotiation).
    for (const [x, y] of [
      [a.id, b.id],
      [b.id, a.id],
    ]) {
      const d = this.#hop(x, y, t, 64)
      if (d < 0) {
        this.#fail(ss, t + 1)
        return
      }
      t += d
    }
    if (!this.s.logPhase) {
      this.#rangePhase(ss, t)
      return
    }
    const lp = this.#logPhase(ss, t)
    if (lp === undefined) return
    // Logs that agree fully leave nothing for the range phase to find; logs another session of
    // either side is fetching are left to it (the range phase would only find them missing
    // meanwhile, and push the peer what it is fetching elsewhere): as the adapter's skipRanges.
    if (lp.consistent || lp.deferred > 0 || lp.peerFetching) {
      ss.report.inSync &&= lp.deferred === 0 && !lp.peerFetching
      this.#closeSession(ss, lp.t)
      return
    }
    // The adapter starts the range phase once what the log phase fetched is stored.
    const at = lp.fetched > 0 ? lp.t + this.s.commitDelayMs + 1 : lp.t
    this.at(at, () => this.#rangePhase(ss, this.now))
  }

  #fail(ss: SessionRun, at: number): void {
    this.counters.sessionsFailed++
    for (const o of ss.claimed) ss.a.inFlight.delete(o)
    ss.claimed.length = 0
    this.#releaseLogs(ss)
    this.at(at, () => this.#endSession(ss.a, ss.b, ss.epochs, undefined))
  }

  #releaseLogs(ss: SessionRun): void {
    for (const au of ss.logClaimsA) ss.a.logClaims.delete(au)
    for (const au of ss.logClaimsB) ss.b.logClaims.delete(au)
    ss.logClaimsA.length = 0
    ss.logClaimsB.length = 0
  }

  /** Summary frames from one side (RECONCILE_LOGS_PER_FRAME a frame), plus `extra` bytes on the
   *  last: the time they took, or -1 when the link failed. */
  #sendSummaries(from: number, to: number, t: number, list: readonly Summary[], extra: number): number {
    let at = t
    for (let i = 0; i === 0 || i < list.length; i += RECONCILE_LOGS_PER_FRAME) {
      let bytes = FRAME_OVERHEAD_BYTES
      for (let k = i; k < Math.min(list.length, i + RECONCILE_LOGS_PER_FRAME); k++)
        bytes += summaryBytes(list[k])
      if (i + RECONCILE_LOGS_PER_FRAME >= list.length) bytes += extra
      const d = this.#hop(from, to, at, bytes)
      if (d < 0) return -1
      at += d
    }
    return at
  }

  /**
   * The log phase (src/net/protocols/log-phase.ts, planned by the core's planLogs): a sends its
   * summaries; b answers with its own (logs it is fetching elsewhere flagged) and asks for the
   * ranges it lacks that no session of its own is fetching (it claims them); a fetches the
   * ranges it lacks that no other session of its own is fetching (claimed until they arrived),
   * one request per RECONCILE_LOGS_PER_FRAME logs, answered in frames; then pushes what b asked
   * for, a frame at a time, each answered. Returns when it ended, or undefined when it failed.
   */
  #logPhase(
    ss: SessionRun,
    start: number,
  ):
    | { t: number; consistent: boolean; deferred: number; peerFetching: boolean; fetched: number }
    | undefined {
    const { a, b } = ss
    const model = this.logModel
    const mineBy = model.summaryArray(a.logs, a.held)
    const theirsBy = model.summaryArray(b.logs, b.held, b.logClaims)
    this.counters.logPhases++
    // What each side sends (every log it holds), and the logs whose summaries are not one shared
    // object on both sides. A shared summary is a hole-free, unforked prefix of one length: for
    // such a log planLogs plans nothing to move and finds it consistent, so planLogs is run on
    // the other logs only (the same plan, for a fraction of the logs). Both lists made of the
    // same shared summaries: "consistent, nothing to move", without calling it.
    const mine: Summary[] = []
    const theirs: Summary[] = []
    const mineDiff: Summary[] = []
    const theirsDiff: Summary[] = []
    for (let au = 0; au < mineBy.length || au < theirsBy.length; au++) {
      const x = mineBy[au]
      const y = theirsBy[au]
      if (x !== undefined) mine.push(x)
      if (y !== undefined) theirs.push(y)
      if (x === y) continue
      if (x !== undefined) mineDiff.push(x)
      if (y !== undefined) theirsDiff.push(y)
    }
    const same = mineDiff.length === 0 && theirsDiff.length === 0
    // One planLogs for both sides: what b lacks of a's logs (b's `fetch`, planned from its side)
    // is a's `push` range for range (the same `lacking` of b's summary below a's end, in the
    // order of a's logs), but for the logs b flags `fetching`, which a's push leaves out and b
    // leaves out too (it is fetching them elsewhere). So b's plan is not computed a second time.
    const plan = same ? { consistent: true, fetch: [], push: [] } : planLogs(mineDiff, theirsDiff, true)
    // b: what it lacks of a's logs, less what it is fetching elsewhere; it claims the rest.
    const wanted = plan.push.filter((r) => {
      const au = model.authorOf(r.author)
      if (au < 0 || b.logClaims.has(au)) return false
      b.logClaims.add(au)
      ss.logClaimsB.push(au)
      return true
    })
    let t = this.#sendSummaries(a.id, b.id, start, mine, 0)
    if (t >= 0) t = this.#sendSummaries(b.id, a.id, t, theirs, wanted.length * 60)
    if (t < 0) {
      this.#fail(ss, start + 1)
      return undefined
    }
    if (plan.consistent) {
      this.counters.logConsistent++
      this.#releaseLogs(ss)
      return { t, consistent: true, deferred: 0, peerFetching: false, fetched: 0 }
    }
    // a: the ranges it lacks, less the logs another session of a is fetching.
    let deferred = 0
    const ranges: Array<{ au: number; from: number; to: number }> = []
    for (const r of plan.fetch) {
      const au = model.authorOf(r.author)
      if (au < 0) continue
      if (a.logClaims.has(au) && !ss.logClaimsA.includes(au)) {
        deferred++
        continue
      }
      if (!a.logClaims.has(au)) {
        a.logClaims.add(au)
        ss.logClaimsA.push(au)
      }
      ranges.push({ au, from: Number(r.from), to: Number(r.to) })
    }
    this.counters.logDeferred += deferred
    let fetched = 0
    while (ranges.length > 0) {
      const batch = ranges.splice(0, RECONCILE_LOGS_PER_FRAME)
      const d1 = this.#hop(a.id, b.id, t, FRAME_OVERHEAD_BYTES + batch.length * 60)
      if (d1 < 0) {
        this.#fail(ss, t + 1)
        return undefined
      }
      t += d1
      // b answers with what it holds of each range (at most LOG_FETCH_EVENTS_MAX of one range;
      // the rest is asked again), in frames of what both sides read.
      const served: number[] = []
      if (b.role !== 'withholder')
        for (const r of batch) {
          const got = model.held(b.held, r.au, r.from, r.to)
          if (got.length > LOG_FETCH_EVENTS_MAX) {
            const last = this.events[got[LOG_FETCH_EVENTS_MAX - 1]].seq
            ranges.push({ au: r.au, from: last + 1, to: r.to })
            got.length = LOG_FETCH_EVENTS_MAX
          }
          for (const o of got) served.push(o)
        }
      ss.logNeed += served.length
      for (let i = 0; i === 0 || i < served.length; ) {
        let bytes = FRAME_OVERHEAD_BYTES
        const frame: number[] = []
        while (
          i < served.length &&
          (frame.length === 0 || bytes + this.events[served[i]].bytes <= PUSH_FRAME_BYTES)
        ) {
          bytes += this.events[served[i]].bytes
          frame.push(served[i++])
        }
        const d2 = this.#hop(b.id, a.id, t, bytes)
        if (d2 < 0) {
          this.#fail(ss, t + 1)
          return undefined
        }
        t += d2
        if (frame.length > 0) this.#arrive(ss, frame, t)
        if (i >= served.length) break
      }
      fetched += served.length
    }
    this.counters.logFetched += fetched
    // a's claims end once what it fetched is stored.
    if (ss.logClaimsA.length > 0) {
      const mineClaims = ss.logClaimsA.splice(0)
      this.at(t + this.s.commitDelayMs, () => {
        for (const au of mineClaims) a.logClaims.delete(au)
      })
    }
    // Push what b asked for, a frame at a time, each answered; then `done`, answered.
    let pushed = 0
    if (a.role !== 'withholder') {
      // One log's range goes in frames of its own (a frame carries one log's head).
      const frames: number[][] = []
      for (const r of wanted) {
        const events = model.held(a.held, model.authorOf(r.author), Number(r.from), Number(r.to))
        for (const f of this.#frames(events)) frames.push(f)
        pushed += events.length
      }
      const p = this.#pushFrames(ss, frames, t, LOG_PUSH_WINDOW)
      if (p < 0) return undefined
      t = p
    }
    ss.report.inSync &&= fetched === 0 && pushed === 0
    this.counters.logPushed += pushed
    for (const [x, y, n] of [
      [a.id, b.id, FRAME_OVERHEAD_BYTES],
      [b.id, a.id, 24],
    ]) {
      const d = this.#hop(x, y, t, n)
      if (d < 0) {
        this.#fail(ss, t + 1)
        return undefined
      }
      t += d
    }
    const peerFetching = theirs.some((l) => l.fetching)
    if (peerFetching) this.counters.logPeerFetching++
    return { t, consistent: false, deferred, peerFetching, fetched }
  }

  /** Events a fetched arrive at t: what is still new to a is learned (gossip may have won). */
  #arrive(ss: SessionRun, batch: readonly number[], t: number): void {
    const { a, report } = ss
    const good: number[] = []
    for (const o of batch) {
      if (this.valid(this.events[o])) good.push(o)
      else report.badSignature++
    }
    this.at(t, () => {
      if (a.epoch !== ss.epochs[0]) return
      for (const o of good) {
        const e = this.events[o]
        if (a.held[o] === 0 && !(this.#forked.has(e.slot) && this.#hasTwin(a, e))) {
          if (this.#ahead(a, e)) report.transient = true
          else {
            report.learned++
            if (report.relay.length < RECONCILE_RELAY_GOSSIP_MAX) report.relay.push(o)
          }
        }
        this.#receive(a, o, this.now)
      }
    })
  }

  /** Events in frames of what both sides read (a frame holds at least one). */
  #frames(events: readonly number[]): number[][] {
    const out: number[][] = []
    for (let i = 0; i < events.length; ) {
      let bytes = FRAME_OVERHEAD_BYTES
      const frame: number[] = []
      while (
        i < events.length &&
        (frame.length === 0 || bytes + this.events[events[i]].bytes <= PUSH_FRAME_BYTES)
      ) {
        bytes += this.events[events[i]].bytes
        frame.push(events[i++])
      }
      out.push(frame)
    }
    return out
  }

  /** a pushes frames to b, each answered, at most `window` of them unanswered (the range phase
   *  waits for each answer; the log phase sends LOG_PUSH_WINDOW ahead): the time the last
   *  answer arrived, or -1 when the link failed (the session's failure is scheduled). */
  #pushFrames(ss: SessionRun, frames: readonly number[][], start: number, window: number): number {
    const { a, b, epochs } = ss
    let t = start
    let sendFree = start
    const answered: number[] = []
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]
      let bytes = FRAME_OVERHEAD_BYTES
      for (const o of frame) bytes += this.events[o].bytes
      const sendAt = i >= window ? Math.max(sendFree, answered[i - window]) : sendFree
      const d1 = this.#hop(a.id, b.id, sendAt, bytes)
      if (d1 < 0) {
        this.#fail(ss, sendAt + 1)
        return -1
      }
      sendFree = sendAt + bytes / this.s.bandwidthBytesPerMs
      const arrived = sendAt + d1
      this.at(arrived, () => {
        if (b.epoch !== epochs[1]) return
        let fresh = 0
        for (const o of frame) {
          if (
            b.held[o] === 0 &&
            this.valid(this.events[o]) &&
            !(this.#forked.has(this.events[o].slot) && this.#hasTwin(b, this.events[o]))
          )
            fresh++
          this.#receive(b, o, this.now)
        }
        // Events from a outside a session b ran: b relays them (AntiEntropy.onLearned).
        if (fresh > 0 && b.up) {
          b.sched.handleLearned(peerId(a.id), this.now)
          this.#drive(b)
        }
      })
      const d2 = this.#hop(b.id, a.id, arrived, 24)
      if (d2 < 0) {
        this.#fail(ss, arrived + 1)
        return -1
      }
      answered.push(arrived + d2)
      t = Math.max(t, arrived + d2)
    }
    return t
  }

  /** The range phase: the shipped ReconcileSession per type, then fetches and pushes. */
  #rangePhase(ss: SessionRun, start: number): void {
    const { a, b, report } = ss
    let t = start
    const need: number[] = []
    const have: number[] = []
    let truncated = false
    for (let ti = 0; ti < this.#types.length; ti++) {
      const tr = this.#transcript(ti, a, b)
      this.counters.rounds += tr.rounds
      for (let i = 0; i < tr.msgBytes.length; i++) {
        const from = i % 2 === 0 ? a.id : b.id
        const d = this.#hop(from, from === a.id ? b.id : a.id, t, tr.msgBytes[i] + FRAME_OVERHEAD_BYTES)
        if (d < 0) {
          this.#fail(ss, t + 1)
          return
        }
        t += d
      }
      for (const d of tr.need) need.push(d)
      for (const d of tr.have) have.push(d)
      truncated ||= tr.truncated
    }
    report.truncated = truncated
    report.inSync &&= need.length === 0 && have.length === 0
    // Fetch what a lacks, RECONCILE_FETCH_DIGESTS_MAX at a time; the peer serves what it holds.
    // As the adapter does, what another session of a is fetching, or what a received since the
    // sets were compared, is left out (claimed in a.inFlight until its batch arrives).
    let withheld = 0
    // Fetches go RECONCILE_FETCH_PIPELINE at a time (as the adapter: a new one goes out when an
    // answer arrived; the responder answers in order, one after the other on its side of the
    // stream). Storage is not modelled as a bottleneck: a batch counts as stored when it arrives.
    const arrivals: number[] = []
    let answerFree = t
    let sendAt = t
    for (let i = 0; i < need.length; i += RECONCILE_FETCH_DIGESTS_MAX) {
      const ask: number[] = []
      for (const o of need.slice(i, i + RECONCILE_FETCH_DIGESTS_MAX)) {
        if (a.held[o] !== 0 || a.inFlight.has(o)) {
          this.counters.deferred++
          continue
        }
        a.inFlight.add(o)
        ss.claimed.push(o)
        ask.push(o)
      }
      if (ask.length === 0) continue
      if (arrivals.length >= RECONCILE_FETCH_PIPELINE)
        sendAt = Math.max(sendAt, arrivals[arrivals.length - RECONCILE_FETCH_PIPELINE])
      const d1 = this.#hop(a.id, b.id, sendAt, ask.length * 34 + FRAME_OVERHEAD_BYTES)
      if (d1 < 0) {
        this.#fail(ss, sendAt + 1)
        return
      }
      const served = b.role === 'withholder' ? [] : ask.filter((o) => b.held[o] === 2)
      withheld += ask.length - served.length
      const payload = served.reduce((x, o) => x + this.events[o].bytes, 0)
      const bytes = payload + FRAME_OVERHEAD_BYTES * Math.max(1, Math.ceil(payload / FETCH_FRAME_BYTES))
      const answerAt = Math.max(sendAt + d1, answerFree)
      const d2 = this.#hop(b.id, a.id, answerAt, bytes)
      if (d2 < 0) {
        this.#fail(ss, answerAt + 1)
        return
      }
      answerFree = answerAt + bytes / this.s.bandwidthBytesPerMs
      const arrived = answerAt + d2
      arrivals.push(arrived)
      t = Math.max(t, arrived)
      ss.claimed.length = 0
      this.at(arrived, () => {
        for (const o of ask) a.inFlight.delete(o)
      })
      this.#arrive(ss, served, arrived)
      this.counters.fetched += served.length
    }
    // Push what b lacks.
    if (a.role !== 'withholder') {
      const events = have.filter((o) => a.held[o] === 2)
      const p = this.#pushFrames(ss, this.#frames(events), t, 1)
      if (p < 0) return
      t = p
      this.counters.pushed += events.length
    }
    this.counters.withheld += withheld
    report.withheld += withheld
    this.#closeSession(ss, t)
  }

  #closeSession(ss: SessionRun, t: number): void {
    this.counters.badSignature += ss.report.badSignature
    this.at(t + 1, () => {
      this.#releaseLogs(ss)
      this.#endSession(ss.a, ss.b, ss.epochs, ss.report)
    })
  }

  #endSession(a: SimNode, b: SimNode, epochs: readonly [number, number], r: SessionReport | undefined): void {
    if (b.epoch === epochs[1] && b.up) {
      b.sched.handleServing(peerId(a.id), false)
      this.#drive(b)
    }
    if (a.epoch !== epochs[0] || !a.up) return
    if (r === undefined) a.sched.handleSessionFailed(peerId(b.id), false, this.now)
    else {
      // The adapter's relay: a few new events go on gossip at once.
      for (const o of r.relay) if (a.held[o] !== 0) this.#publish(o, a.id, this.now)
      const outcome: SessionOutcome = {
        learned: r.learned,
        inSync: r.inSync,
        truncated: r.truncated,
        transient: r.transient,
        misbehaved: r.withheld > 0 || r.badSignature > 0,
      }
      if (outcome.misbehaved) this.counters.strikes++
      a.sched.handleSessionEnded(peerId(b.id), outcome, this.now)
    }
    this.#drive(a)
  }

  // ---------------------------------------------------------------- measuring

  liveHonest(): SimNode[] {
    return this.nodes.filter((n) => n.up && n.role === 'honest')
  }

  /** Whether every live honest node holds every event (slot) any of them holds. */
  converged(): boolean {
    for (const n of this.nodes)
      if (n.up && n.role === 'honest' && this.#heldSlotCount(n) !== this.#union) return false
    return true
  }

  #heldSlotCount(n: SimNode): number {
    return n.heldSlots
  }

  sample(): void {
    // Nodes holding the same events in a key range share one copy of its chunks from here on
    // (chunks unchanged since the last sample). An index takes what its node committed when it
    // is read (a session's range phase, the end's checks), in one batch, never at a sample:
    // a node catching up after a heal merges its index once per read, and not at all when no
    // range phase reads it.
    for (const n of this.nodes) {
      if (!n.joined) continue
      if (this.eagerIndexes) this.#flushIndex(n)
      for (const idx of n.idx) idx.share(this.chunks)
    }
    const live = this.liveHonest()
    let complete = 0
    let cover = 0
    for (const n of live) {
      if (n.heldSlots === this.#union) complete++
      cover += this.#union === 0 ? 1 : n.heldSlots / this.#union
    }
    const s: Sample = {
      t: this.now,
      live: live.length,
      complete,
      coverage: live.length === 0 ? 1 : cover / live.length,
      events: this.events.length,
      conflictsOpen: 0,
      conflictsResolved: 0,
      conflictsRaised: 0,
      sessions: this.counters.sessions,
      bytes: this.nodes.reduce((x, n) => x + n.bytesGossip + n.bytesReconcile, 0),
    }
    this.samples.push(s)
    this.#lastSampleAt = this.now
    this.onSample?.(s)
  }

  /** Keys of the node's set per type (size and fingerprint), joined: equal iff the sets are equal. */
  setKeyOf(n: SimNode): string {
    // Nodes whose `held` bytes are equal (compared in full) hold the same set: its key is the
    // first such node's, and the others' indexes are not brought up to date for it.
    const bytes = n.held.subarray(0, this.events.length)
    const digest = sha256Hex(bytes)
    const seen = this.#setKeys.get(digest)
    if (seen !== undefined && Buffer.compare(seen.held, bytes) === 0) return seen.key
    const key = this.#types.map((_, ti) => this.#setKey(this.index(n, ti))).join('/')
    if (seen === undefined) this.#setKeys.set(digest, { held: bytes.slice(), key })
    // A thousand indexes brought up to date one after the other: each shares its chunks with
    // the ones before at once (two passes: the first marks them unchanged, the second pools).
    for (const idx of n.idx) {
      idx.share(this.chunks)
      idx.share(this.chunks)
    }
    return key
  }

  heldOrds(n: SimNode): number[] {
    const out: number[] = []
    for (let o = 0; o < this.events.length; o++) if (n.held[o] === 2) out.push(o)
    return out
  }

  get union(): number {
    return this.#union
  }

  /** Slots with more than one version (a forking member's events). */
  get forkedSlots(): ReadonlySet<number> {
    return this.#forked
  }

  get slots(): number {
    return this.#slots
  }
}

/** A digest's bytes as a map key (latin1: a view, no copy). */
function idKey(d: Uint8Array): string {
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('latin1')
}

/** A node's peer id as its scheduler knows it. */
function peerId(n: number): string {
  return String(n)
}

/** Encoded size estimate of a reconciliation message (protobuf: bound, mode, fingerprint, ids). */
export function messageBytes(m: readonly ReconRange[]): number {
  let n = 8
  for (const r of m) {
    n += 2 + r.upper.length + 2 + 4
    if (r.fingerprint !== undefined) n += 2 + r.fingerprint.length
    n += ((r.ids?.length ?? 0) + (r.wanted?.length ?? 0)) * 34
  }
  return n
}

export { NEED_MAX }
