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
 * Bootstrap and manual peers are dialled at once: the operator asked for them.
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
}

const RANK: Readonly<Record<DialKind, number>> = { known: 0, bootstrap: 1, manual: 2 }

export class Redialer {
  readonly #c: RedialerComponents
  readonly #targets = new Map<string, Target>()
  #timer: ReturnType<typeof setInterval> | undefined
  #inFlight = 0

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
    t.nextAtMs = Math.min(t.nextAtMs, Math.max(now, t.yieldUntilMs ?? now))
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
    if (t.failures > 0) this.#pathHealed(peerId)
  }

  /** A peer we could not reach connected: retry every other peer in a failure streak, or with a
   *  dial pending, now. */
  #pathHealed(by: string): void {
    const now = this.#c.now()
    for (const [peerId, t] of this.#targets) {
      if (peerId === by || (t.failures === 0 && !t.dialing) || t.connectedAtMs !== undefined) continue
      if (t.kind === 'known' && t.failures >= KNOWN_PEER_DIAL_ATTEMPTS_MAX) continue
      t.nextAtMs = Math.min(t.nextAtMs, now)
      // A dial younger than REDIAL_RENEW_AFTER_MS is left to run: its SYN went out at most one
      // initial retransmission timeout ago, and it may be mid-handshake over the healed path.
      if (
        t.dialing &&
        t.abort !== undefined &&
        !t.renewed &&
        now - (t.dialStartedAtMs ?? now) >= REDIAL_RENEW_AFTER_MS
      ) {
        t.renewed = true
        t.abort.abort()
      }
    }
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
    }
    t.connectedAtMs = undefined
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
              // Abandoned because a path healed: dial again at once, not counted.
              t.nextAtMs = this.#c.now()
              return
            }
            t.failures++
            t.nextAtMs = this.#c.now() + this.backoffMs(t.failures)
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
