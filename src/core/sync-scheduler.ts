/**
 * SyncScheduler: when a node reconciles with whom, as a sans-IO state machine (the shape of
 * quinn-proto's `handle_*` / `poll_*`). Inputs are what happened and the time; outputs are the
 * sessions to start, the peers to hang up on, and when to be woken next. The libp2p adapter
 * (src/net/anti-entropy.ts), the unit tests and the simulator drive the same object.
 *
 * Rules:
 * - a new connection starts a session when this node's id sorts first (one session per new
 *   connection, both directions in it);
 * - every `intervalMs`, one session with a random connected peer (anti-entropy); with
 *   `intervalJitter` J each interval is drawn from intervalMs × [1 − J, 1 + J) (the caller's
 *   random draw), so nodes that connected at the same moment (a federation restarted together)
 *   do not all reconcile in the same instant for ever;
 * - after a session that taught the node events, one session with every other connected peer,
 *   `relayDelayMs` later and coalesced (relay);
 * - after a session cut short at its size bound, another at once; after one whose fetched events
 *   were refused for a transient reason, another `retryMs` later; after one that failed without
 *   a fault of the peer's (a timeout, a stream ended early), another `retryMs` later, backing off
 *   while they keep failing;
 * - on demand (`request`);
 * - one session per peer at a time (a request meanwhile runs after it), `parallelMax` at once;
 * - a session in which the peer forged, withheld or broke the protocol is a strike; at
 *   `strikesMax` the peer is hung up on and refused for `banMs`.
 */

export interface SchedulerInit {
  readonly selfId: string
  readonly intervalMs: number
  /** Spread of each anti-entropy interval, a fraction of `intervalMs` in [0, 1): the interval is
   *  intervalMs × (1 − J + 2J·u) for the caller's uniform draw u. 0 (the default): exact. */
  readonly intervalJitter?: number
  readonly retryMs: number
  readonly relayDelayMs: number
  readonly parallelMax: number
  readonly strikesMax: number
  readonly banMs: number
}

/** What a finished session tells the scheduler. */
export interface SessionOutcome {
  /** Events new to this node that the session brought. */
  readonly learned: number
  /** Nothing missing on either side. */
  readonly inSync: boolean
  /** Stopped at its size bound: more to do. */
  readonly truncated: boolean
  /** Some fetched events were refused for a transient reason. */
  readonly transient: boolean
  /** The peer forged or withheld events, or sent badly signed ones. */
  readonly misbehaved: boolean
}

export interface PeerSchedule {
  readonly running: boolean
  readonly queued: boolean
  readonly strikes: number
  readonly bannedUntilMs: number
  readonly inSyncAtMs?: number
  /** A retry is due at this time. */
  readonly dueAtMs?: number
}

interface PeerState {
  connected: boolean
  running: boolean
  /** The peer runs a session with us (we serve it): ours waits, or both would move the same
   *  events twice. */
  serving: number
  queued: boolean
  strikes: number
  bannedUntilMs: number
  inSyncAtMs?: number
  /** A session is wanted at or after this time (retry). */
  dueAtMs?: number
  /** Sessions with this peer that failed in a row (not struck): the retry backs off. */
  failures: number
}

/** A failed session's retry backs off to at most this many `retryMs` when there is no
 *  anti-entropy interval to cap it. */
export const RETRY_BACKOFF_MAX = 64

export class SyncScheduler {
  readonly #init: SchedulerInit
  readonly #peers = new Map<string, PeerState>()
  /** Peers waiting for a session, in request order. */
  readonly #queue: string[] = []
  readonly #hangUps: string[] = []
  #running = 0
  #nextTickMs: number | undefined
  #relayAtMs: number | undefined
  readonly #relaySources = new Set<string>()

  constructor(init: SchedulerInit) {
    this.#init = init
  }

  #peer(id: string): PeerState {
    let p = this.#peers.get(id)
    if (p === undefined) {
      p = {
        connected: false,
        running: false,
        serving: 0,
        queued: false,
        strikes: 0,
        bannedUntilMs: 0,
        failures: 0,
      }
      this.#peers.set(id, p)
    }
    return p
  }

  #enqueue(id: string): void {
    const p = this.#peer(id)
    if (p.queued) return
    p.queued = true
    this.#queue.push(id)
  }

  /** The next anti-entropy interval for a uniform draw `u` in [0, 1) (see `intervalJitter`). */
  #interval(u: number): number {
    const j = this.#init.intervalJitter ?? 0
    return Math.round(this.#init.intervalMs * (1 - j + 2 * j * u))
  }

  banned(id: string, nowMs: number): boolean {
    return (this.#peers.get(id)?.bannedUntilMs ?? 0) > nowMs
  }

  /** A connection to `id` opened. Returns false when the peer is refused (hang it up). The
   *  first connection sets the first anti-entropy tick; `jitterDraw` (uniform in [0, 1), 0.5 =
   *  exactly `intervalMs`) spreads it (`intervalJitter`). */
  handleConnected(id: string, nowMs: number, jitterDraw = 0.5): boolean {
    const p = this.#peer(id)
    if (this.banned(id, nowMs)) return false
    p.connected = true
    if (this.#nextTickMs === undefined && this.#init.intervalMs > 0)
      this.#nextTickMs = nowMs + this.#interval(jitterDraw)
    if (this.#init.selfId < id) this.#enqueue(id)
    return true
  }

  handleDisconnected(id: string): void {
    const p = this.#peers.get(id)
    if (p === undefined) return
    p.connected = false
    p.dueAtMs = undefined
  }

  /** A session with `id` is asked for (on demand, or by the adapter). */
  request(id: string, nowMs: number): void {
    if (this.banned(id, nowMs)) return
    this.#enqueue(id)
  }

  /** Sessions to start now: each returned peer is marked running until handleSession*. */
  pollStart(nowMs: number): string[] {
    const out: string[] = []
    for (const [id, p] of this.#peers) {
      if (p.dueAtMs !== undefined && p.dueAtMs <= nowMs) {
        p.dueAtMs = undefined
        if (p.connected) this.#enqueue(id)
      }
    }
    for (let i = 0; i < this.#queue.length && this.#running < this.#init.parallelMax; ) {
      const id = this.#queue[i]
      const p = this.#peer(id)
      if (p.running || p.serving > 0) {
        i++
        continue
      }
      this.#queue.splice(i, 1)
      p.queued = false
      if (this.banned(id, nowMs)) continue
      p.running = true
      this.#running++
      out.push(id)
    }
    return out
  }

  /** Peers to hang up on (struck out). */
  pollHangUps(): string[] {
    return this.#hangUps.splice(0)
  }

  handleSessionEnded(id: string, outcome: SessionOutcome, nowMs: number): void {
    const p = this.#finish(id)
    p.failures = 0
    if (outcome.inSync) p.inSyncAtMs = nowMs
    if (outcome.misbehaved) this.#strike(id, p, nowMs)
    if (outcome.learned > 0) this.#relay(id, nowMs)
    if (outcome.truncated) this.#enqueue(id)
    else if (outcome.transient && p.connected) p.dueAtMs = nowMs + this.#init.retryMs
  }

  /** The session failed; `protocolError`: the peer broke the protocol (a strike). Any other
   *  failure (a timeout, a stream that ended early, a refusal for a transient reason) is retried
   *  `retryMs` later, doubling with each failure in a row up to the anti-entropy interval
   *  (RETRY_BACKOFF_MAX × retryMs when there is none): what the session did not bring must not
   *  wait for the next tick, nor for a random pick among many peers. */
  handleSessionFailed(id: string, protocolError: boolean, nowMs: number): void {
    const p = this.#finish(id)
    if (protocolError) {
      this.#strike(id, p, nowMs)
      return
    }
    p.failures++
    if (!p.connected) return
    const capMs = this.#init.intervalMs > 0 ? this.#init.intervalMs : this.#init.retryMs * RETRY_BACKOFF_MAX
    const backoff = this.#init.retryMs * 2 ** Math.min(p.failures - 1, 30)
    p.dueAtMs = nowMs + Math.max(this.#init.retryMs, Math.min(capMs, backoff))
  }

  /** The peer started (`true`) or ended (`false`) a session with this node. */
  handleServing(id: string, serving: boolean): void {
    const p = this.#peer(id)
    p.serving = Math.max(0, p.serving + (serving ? 1 : -1))
  }

  /** Events arrived from `id` outside a session this node ran (the peer pushed them in its own). */
  handleLearned(id: string, nowMs: number): void {
    this.#relay(id, nowMs)
  }

  #finish(id: string): PeerState {
    const p = this.#peer(id)
    if (p.running) {
      p.running = false
      this.#running--
    }
    return p
  }

  #relay(from: string, nowMs: number): void {
    this.#relaySources.add(from)
    this.#relayAtMs ??= nowMs + this.#init.relayDelayMs
  }

  #strike(id: string, p: PeerState, nowMs: number): void {
    p.strikes++
    if (p.strikes >= this.#init.strikesMax) {
      p.strikes = 0
      p.bannedUntilMs = nowMs + this.#init.banMs
      p.dueAtMs = undefined
      this.#hangUps.push(id)
    }
  }

  /**
   * The time passed: the anti-entropy tick (one random connected peer; `random` in [0, 1)) and
   * the relay (every connected peer but the sources). `jitterDraw` (uniform in [0, 1), a draw
   * of its own; 0.5 = exactly `intervalMs`) sets the next interval (`intervalJitter`).
   */
  handleTimeout(nowMs: number, random: number, jitterDraw = 0.5): void {
    if (this.#nextTickMs !== undefined && nowMs >= this.#nextTickMs) {
      this.#nextTickMs = this.#init.intervalMs > 0 ? nowMs + this.#interval(jitterDraw) : undefined
      const live = this.#connected(nowMs)
      if (live.length > 0) this.#enqueue(live[Math.min(live.length - 1, Math.floor(random * live.length))])
    }
    if (this.#relayAtMs !== undefined && nowMs >= this.#relayAtMs) {
      this.#relayAtMs = undefined
      for (const id of this.#connected(nowMs)) if (!this.#relaySources.has(id)) this.#enqueue(id)
      this.#relaySources.clear()
    }
  }

  #connected(nowMs: number): string[] {
    const out: string[] = []
    for (const [id, p] of this.#peers) if (p.connected && !this.banned(id, nowMs)) out.push(id)
    return out.sort()
  }

  /** When to call handleTimeout (and pollStart) next; undefined = nothing scheduled. */
  pollTimeoutMs(): number | undefined {
    let t = this.#nextTickMs
    const earlier = (x: number | undefined) => {
      if (x !== undefined && (t === undefined || x < t)) t = x
    }
    earlier(this.#relayAtMs)
    for (const p of this.#peers.values()) earlier(p.dueAtMs)
    return t
  }

  schedule(id: string): PeerSchedule | undefined {
    const p = this.#peers.get(id)
    if (p === undefined) return undefined
    return {
      running: p.running,
      queued: p.queued,
      strikes: p.strikes,
      bannedUntilMs: p.bannedUntilMs,
      inSyncAtMs: p.inSyncAtMs,
      dueAtMs: p.dueAtMs,
    }
  }

  /** Sessions running now. */
  get running(): number {
    return this.#running
  }
}
