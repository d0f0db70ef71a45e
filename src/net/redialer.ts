/**
 * Keeps dialling the peers we want connections to while they are not connected: bootstrap peers
 * and peers added by hand forever, known peers (remembered, or found by mDNS) until
 * KNOWN_PEER_DIAL_ATTEMPTS_MAX failures in a row. Exponential backoff with jitter per peer
 * (REDIAL_BASE_MS doubling to REDIAL_CAP_MS), at most REDIAL_PARALLEL_MAX dials at once.
 *
 * A healed path is noticed at once: when a peer we failed to reach connects (either side
 * dialled), the network evidently works again, so every other peer in a failure streak is dialled
 * at the next tick instead of at the end of its backoff (up to REDIAL_CAP_MS away), and a dial of
 * one still pending for REDIAL_RENEW_AFTER_MS or longer is abandoned and started again (a dial
 * sent into a partition waits for TCP's SYN retransmissions, up to DIAL_TIMEOUT_MS, although the
 * path is open now). A younger dial is left alone: every peer that connects after a heal is such
 * a signal, and abandoning every dial in flight at each one (some mid-handshake over the healed
 * path) reconnected a 10-node LAN mesh one peer at a time, 0.5 s apart. Such a renewed
 * attempt does not count as a failure; one that fails counts as usual. In a failure streak,
 * dials are short (REDIAL_PROBE_TIMEOUT_MS but every REDIAL_FULL_EVERY-th), so that a fresh SYN
 * goes out every few seconds rather than on TCP's retransmission backoff.
 *
 * Two nodes that find each other at once (mDNS answers both ways, peer files after a restart of
 * both) would both dial, and libp2p keeps both connections: twice the handshakes and the
 * keep-alive traffic for every pair. So for known peers the node with the larger peer id waits
 * KNOWN_PEER_DIAL_YIELD_MS before dialling (at first sight, and after a stable connection
 * closed) and the smaller one dials at once; a dial in meanwhile makes the wait moot, and if none
 * comes (the other cannot reach us, or runs without this rule) the larger one dials after it.
 * Bootstrap and manual peers are dialled at once: the operator asked for them. The same wait
 * applies once when a failure streak ends (the peer seen again, or another peer of a streak
 * connected: a heal), because both ends notice the healed path at the same moment: without it
 * both dialled, and 16-19 of the 25 pairs across a 10-node LAN heal kept two connections (twice
 * the handshakes, identify and streams while the CPU is the bottleneck).
 *
 * A peer in a failure streak seen again (mDNS: its packets reach us) also renews its dial if it
 * has been pending REDIAL_RENEW_AFTER_MS or longer, like a healed path does. A dial that becomes
 * due between ticks (seen again, a healed path, a renewed dial, a stable connection closed)
 * starts at once rather than at the next tick, up to REDIAL_TICK_MS later.
 *
 * Time and randomness are inputs (`now`, `random`) and `tick()` is public, so tests drive it
 * without timers; `start()` runs `tick()` every REDIAL_TICK_MS.
 */
import {
  DIAL_TIMEOUT_MS,
  KNOWN_PEER_DIAL_ATTEMPTS_MAX,
  KNOWN_PEER_DIAL_YIELD_MS,
  REDIAL_BASE_MS,
  REDIAL_CAP_MS,
  REDIAL_FULL_EVERY,
  REDIAL_JITTER,
  REDIAL_PARALLEL_MAX,
  REDIAL_PROBE_TIMEOUT_MS,
  REDIAL_RENEW_AFTER_MS,
  REDIAL_TICK_MS,
  STABLE_CONNECTION_MS,
} from './constants.ts'
import type { NetLogger } from './stats.ts'

/** Why we want a peer: decides whether we ever give up on it. */
export type DialKind = 'bootstrap' | 'manual' | 'known'

interface Target {
  kind: DialKind
  addrs: string[]
  failures: number
  nextAtMs: number
  dialing: boolean
  /** Aborts the pending dial (a healed path: dial again at once). */
  abort?: AbortController
  /** The pending dial was abandoned on purpose: its failure does not count. */
  renewed?: boolean
  /** When the pending dial started. */
  dialStartedAtMs?: number
  /** When the current connection opened (undefined while not connected). */
  connectedAtMs?: number
  /** Not dialled before this (the dial tie-break: the other side dials first). */
  yieldUntilMs?: number
  /** The tie-break was applied to this failure streak's end (a heal): once per streak. */
  streakYielded?: boolean
  /** When the path was first known open again in this streak (seen, or a heal noticed): only
   *  a dial started before it can be stuck in the partition and renewed. */
  openSinceMs?: number
}

export interface RedialerComponents {
  /** Dials the peer, giving up after `timeoutMs`; `signal` abandons the attempt. */
  readonly dial: (
    peerId: string,
    addrs: readonly string[],
    signal: AbortSignal,
    timeoutMs: number,
  ) => Promise<void>
  readonly isConnected: (peerId: string) => boolean
  readonly now: () => number
  readonly random: () => number
  readonly onFailure?: (peerId: string, err: unknown) => void
  /** This node's peer id: with it, known peers with a smaller id are given the first dial
   *  (KNOWN_PEER_DIAL_YIELD_MS); without it every peer is dialled at once. */
  readonly selfId?: string
  /** Debug lines on the decisions that matter across a heal (diagnostics only). */
  readonly log?: NetLogger
  /** Runs `fn` soon, outside the caller's stack: a dial that became due between ticks starts at
   *  once instead of at the next tick (up to REDIAL_TICK_MS later). Tests pass their own; the
   *  default (setImmediate) is used once `start()` ran. */
  readonly defer?: (fn: () => void) => void
}

const RANK: Readonly<Record<DialKind, number>> = { known: 0, bootstrap: 1, manual: 2 }

export class Redialer {
  readonly #c: RedialerComponents
  readonly #targets = new Map<string, Target>()
  #timer: ReturnType<typeof setInterval> | undefined
  #inFlight = 0
  #kickPending = false

  constructor(components: RedialerComponents) {
    this.#c = components
  }

  /** Adds (or refreshes) a peer to keep connected. A stronger kind is never downgraded. */
  want(peerId: string, addrs: readonly string[], kind: DialKind): void {
    const t = this.#targets.get(peerId)
    const now = this.#c.now()
    if (t === undefined) {
      const yieldUntilMs = now + this.#yieldMs(peerId, kind)
      this.#targets.set(peerId, {
        kind,
        addrs: [...addrs],
        failures: 0,
        nextAtMs: yieldUntilMs,
        dialing: false,
        yieldUntilMs,
      })
      if (yieldUntilMs <= now) this.#kick()
      return
    }
    t.addrs = [...new Set([...addrs, ...t.addrs])]
    if (RANK[kind] > RANK[t.kind]) {
      t.kind = kind
      t.yieldUntilMs = undefined
    }
    // Seen again (mDNS, identify): try soon, even after giving up; but not before the tie-break
    // wait (mDNS answers come again and again while it runs).
    if (t.failures >= KNOWN_PEER_DIAL_ATTEMPTS_MAX) t.failures = 0
    const inStreak = t.failures > 0 && t.connectedAtMs === undefined
    // A peer we failed to reach is seen again (mDNS answered across a healed path): both ends
    // see each other at once, so the tie-break applies again, or both dial and keep two
    // connections (16-19 of the 25 pairs across a 10-node heal did).
    if (inStreak) this.#streakEnds(peerId, t, now)
    const next = Math.min(t.nextAtMs, Math.max(now, t.yieldUntilMs ?? now))
    if (inStreak && next < t.nextAtMs)
      this.#c.log?.debug('redial: a peer in a failure streak seen again', {
        peer: peerId,
        failures: t.failures,
        dialing: t.dialing,
        dueInMs: next - now,
        wasDueInMs: t.nextAtMs - now,
      })
    t.nextAtMs = next
    // Seen, so reachable now: a dial sent into the partition waits for TCP's retransmissions.
    if (inStreak) this.#renewStale(t, now)
    if (t.nextAtMs <= now) this.#kick()
  }

  /** A failure streak ends (the peer was seen again, or the path healed): the tie-break's wait,
   *  once per streak. */
  #streakEnds(peerId: string, t: Target, now: number): void {
    if (t.streakYielded === true) return
    t.streakYielded = true
    t.openSinceMs = now
    if (t.failures === 0) return
    const wait = this.#yieldMs(peerId, t.kind)
    if (wait === 0) return
    t.yieldUntilMs = now + wait
    t.nextAtMs = Math.max(t.nextAtMs, t.yieldUntilMs)
  }

  /** Abandons a pending dial started REDIAL_RENEW_AFTER_MS or longer ago and before the path was
   *  known open again, to be dialled again (not counted as a failure). A younger one is left to
   *  run: its SYN went out at most one initial retransmission timeout ago, and it may be
   *  mid-handshake over the healed path. So is one started after the path was known open: on a
   *  loaded host a dial over the open path takes over 1 s, and renewing it at every mDNS answer
   *  or every peer that connected restarted the same handshakes again and again (10-node heal at
   *  load ~20: a pair connected 4.7 s after the heal, after three abandoned dials). */
  #renewStale(t: Target, now: number): boolean {
    const started = t.dialStartedAtMs ?? now
    if (
      !t.dialing ||
      t.abort === undefined ||
      t.renewed === true ||
      now - started < REDIAL_RENEW_AFTER_MS ||
      (t.openSinceMs !== undefined && started >= t.openSinceMs)
    )
      return false
    t.renewed = true
    t.abort.abort()
    return true
  }

  /** Runs a tick soon (coalesced): something became due between ticks. */
  #kick(): void {
    const defer = this.#c.defer ?? (this.#timer === undefined ? undefined : setImmediate)
    if (defer === undefined || this.#kickPending) return
    this.#kickPending = true
    defer(() => {
      this.#kickPending = false
      // stopped meanwhile: no dial (a test's own `defer` drives it without start())
      if (this.#timer !== undefined || this.#c.defer !== undefined) void this.tick()
    })
  }

  /** The dial tie-break: how long this node waits before dialling `peerId` itself. */
  #yieldMs(peerId: string, kind: DialKind): number {
    const self = this.#c.selfId
    return kind === 'known' && self !== undefined && self > peerId ? KNOWN_PEER_DIAL_YIELD_MS : 0
  }

  /** The peer connected. Backoff is reset only once the connection proved stable (see
   *  `disconnected`): a peer whose gater refuses us connects and drops at once, again and again. */
  connected(peerId: string): void {
    const t = this.#targets.get(peerId)
    if (t === undefined) return
    t.connectedAtMs = this.#c.now()
    t.streakYielded = false
    t.openSinceMs = undefined
    if (t.failures > 0) this.#pathHealed(peerId)
  }

  /** A peer we could not reach connected: retry every other peer in a failure streak, or with a
   *  dial pending, now. */
  #pathHealed(by: string): void {
    const now = this.#c.now()
    const pulled: string[] = []
    const renewed: string[] = []
    const young: string[] = []
    for (const [peerId, t] of this.#targets) {
      if (peerId === by || (t.failures === 0 && !t.dialing) || t.connectedAtMs !== undefined) continue
      if (t.kind === 'known' && t.failures >= KNOWN_PEER_DIAL_ATTEMPTS_MAX) continue
      if (!t.dialing && t.nextAtMs > now) pulled.push(peerId)
      // The other end sees the healed path too: the tie-break decides who dials.
      this.#streakEnds(peerId, t, now)
      t.nextAtMs = Math.min(t.nextAtMs, Math.max(now, t.yieldUntilMs ?? now))
      if (this.#renewStale(t, now)) renewed.push(peerId)
      else if (t.dialing) young.push(peerId)
    }
    this.#c.log?.debug('redial: a peer in a failure streak connected', { by, pulled, renewed, young })
    this.#kick()
  }

  /** The peer's last connection closed. One that lasted under STABLE_CONNECTION_MS counts as a
   *  failed dial (backoff grows); a longer one resets the backoff and redials soon. */
  disconnected(peerId: string): void {
    const t = this.#targets.get(peerId)
    if (t === undefined || t.connectedAtMs === undefined) return
    const now = this.#c.now()
    if (now - t.connectedAtMs < STABLE_CONNECTION_MS) {
      t.failures++
      t.nextAtMs = now + this.backoffMs(t.failures)
    } else {
      // Both ends see the close: the tie-break again, or both dial and keep two connections.
      t.failures = 0
      t.yieldUntilMs = now + this.#yieldMs(peerId, t.kind)
      t.nextAtMs = t.yieldUntilMs
      if (t.nextAtMs <= now) this.#kick()
    }
    t.connectedAtMs = undefined
    t.streakYielded = false
    t.openSinceMs = undefined
  }

  has(peerId: string): boolean {
    return this.#targets.has(peerId)
  }

  /** Failed dials in a row for a peer (tests, status). */
  failures(peerId: string): number {
    return this.#targets.get(peerId)?.failures ?? 0
  }

  /** Delay before retry number `failures` (1-based), with jitter from `random()` in [0, 1). */
  backoffMs(failures: number): number {
    const base = Math.min(REDIAL_CAP_MS, REDIAL_BASE_MS * 2 ** Math.max(0, failures - 1))
    return Math.round(base * (1 - REDIAL_JITTER + 2 * REDIAL_JITTER * this.#c.random()))
  }

  /** How long a dial after `failures` failures in a row may take: the full DIAL_TIMEOUT_MS
   *  outside a streak and every REDIAL_FULL_EVERY-th attempt in one, REDIAL_PROBE_TIMEOUT_MS
   *  otherwise (a fresh SYN soon, instead of TCP's retransmission backoff). */
  dialTimeoutMs(failures: number): number {
    return failures % REDIAL_FULL_EVERY === 0 ? DIAL_TIMEOUT_MS : REDIAL_PROBE_TIMEOUT_MS
  }

  /** Starts dials that are due; returns the dials started (tests await them). */
  tick(): Array<Promise<void>> {
    const now = this.#c.now()
    const started: Array<Promise<void>> = []
    for (const [peerId, t] of this.#targets) {
      if (this.#inFlight >= REDIAL_PARALLEL_MAX) break
      if (t.dialing || t.nextAtMs > now || this.#c.isConnected(peerId)) continue
      if (t.kind === 'known' && t.failures >= KNOWN_PEER_DIAL_ATTEMPTS_MAX) continue
      t.dialing = true
      t.renewed = false
      t.dialStartedAtMs = now
      const abort = new AbortController()
      t.abort = abort
      this.#inFlight++
      started.push(
        this.#c
          .dial(peerId, t.addrs, abort.signal, this.dialTimeoutMs(t.failures))
          .then(() => {
            // Success is judged when the connection closes (`disconnected`); until then a dial
            // that the remote drops at once must not be retried before the backoff.
            t.nextAtMs = this.#c.now() + this.backoffMs(t.failures + 1)
          })
          .catch((err: unknown) => {
            if (t.renewed === true) {
              // Abandoned because a path healed: dial again at once (after the tie-break's
              // wait), not counted.
              const at = this.#c.now()
              t.nextAtMs = Math.max(at, t.yieldUntilMs ?? at)
              if (t.nextAtMs <= at) this.#kick()
              return
            }
            t.failures++
            t.nextAtMs = this.#c.now() + this.backoffMs(t.failures)
            // Not open after all (or cut again): the next sign of a heal counts afresh.
            t.streakYielded = false
            t.openSinceMs = undefined
            this.#c.onFailure?.(peerId, err)
          })
          .finally(() => {
            t.dialing = false
            t.renewed = false
            t.abort = undefined
            this.#inFlight--
          }),
      )
    }
    return started
  }

  start(): void {
    if (this.#timer !== undefined) return
    this.#timer = setInterval(() => void this.tick(), REDIAL_TICK_MS)
    this.#timer.unref?.()
    void this.tick()
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }
}
