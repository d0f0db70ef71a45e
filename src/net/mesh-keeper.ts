/**
 * Membership of the mesh: a node that knows one member learns the others from it and keeps
 * `targetConnections` direct connections, so a federation bootstrapped from one address becomes
 * a mesh (in the README's star, nodes 2 and 3 connect to each other).
 *
 * - When a peer has identified itself and speaks `/gkm/peers/1.0.0`, and every
 *   PEER_EXCHANGE_INTERVAL_MS while the node has fewer connections than its target, the node
 *   asks connected peers for the peers they know (src/net/protocols/peers.ts).
 * - Learned peers are checked (a valid peer id, not us, a member when there is a members list,
 *   addresses that parse, no relay addresses) and remembered in the peer book (`learn`).
 * - While connected to fewer than the target, the node asks the redialer (with its backoff and
 *   give-up rules) to dial remembered peers it is not connected to, until connected + being
 *   dialled reaches the target. The target is a floor, not a ceiling: peers that dial us are
 *   kept (`limits.connectionsMax` is the ceiling).
 *
 * Answers are shared the same way: connected peers first, then remembered ones by last seen;
 * with a members list, members only.
 */
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { PEER_EXCHANGE_ADDRS_MAX, PEER_EXCHANGE_INTERVAL_MS, PEER_EXCHANGE_TIMEOUT_MS } from './constants.ts'
import type { PeerBook } from './peer-book.ts'
import type { SharedPeer } from './protocols/peers.ts'
import type { NetLogger, NetStats } from './stats.ts'

const P2P_CODE = 421

export interface MeshKeeperComponents {
  readonly selfId: string
  readonly book: PeerBook
  readonly stats: NetStats
  readonly log: NetLogger
  readonly isMember: (peerId: string) => boolean
  /** Peer ids we have an open connection to. */
  readonly connected: () => readonly PeerId[]
  /** Asks a peer for its peers (protocol client, with its own timeout). */
  readonly ask: (peer: PeerId, signal: AbortSignal) => Promise<SharedPeer[]>
  /** Wants a peer connected (the redialer, kind 'known'); returns whether it was new there. */
  readonly want: (peerId: string, addrs: readonly string[]) => void
  /** Whether the redialer already wants this peer. */
  readonly wanted: (peerId: string) => boolean
}

export interface MeshKeeperInit {
  readonly targetConnections: number
}

/** Listen addresses fit to share and dial: parse, no relay, no /p2p suffix; bounded. */
export function dialableAddrs(addrs: readonly string[]): string[] {
  const out: string[] = []
  for (const a of addrs) {
    if (out.length >= PEER_EXCHANGE_ADDRS_MAX) break
    if (a.includes('/p2p-circuit')) continue
    try {
      out.push(multiaddr(a).decapsulateCode(P2P_CODE).toString())
    } catch {
      // not a multiaddr: skipped
    }
  }
  return [...new Set(out)]
}

export class MeshKeeper {
  readonly #c: MeshKeeperComponents
  readonly #target: number
  readonly #abort = new AbortController()
  readonly #asking = new Set<string>()
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(components: MeshKeeperComponents, init: MeshKeeperInit) {
    this.#c = components
    this.#target = init.targetConnections
  }

  start(): void {
    if (this.#target <= 0 || this.#timer !== undefined) return
    this.#timer = setInterval(() => {
      if (this.#c.connected().length >= this.#target) return
      for (const p of this.#c.connected()) this.exchange(p)
      this.fill()
    }, PEER_EXCHANGE_INTERVAL_MS)
    this.#timer.unref?.()
  }

  stop(): void {
    this.#abort.abort()
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** What this node tells `requester` (the protocol handler's answer). */
  shared(requester: string): SharedPeer[] {
    const connected = new Set(this.#c.connected().map((p) => p.toString()))
    const entries = this.#c.book
      .entries()
      .filter(
        ([id, p]) => id !== requester && id !== this.#c.selfId && this.#c.isMember(id) && p.addrs.length > 0,
      )
      .sort(
        (a, b) =>
          Number(connected.has(b[0])) - Number(connected.has(a[0])) || b[1].lastSeenMs - a[1].lastSeenMs,
      )
    const out: SharedPeer[] = []
    for (const [peerId, p] of entries) {
      const addrs = dialableAddrs(p.addrs)
      if (addrs.length > 0) out.push({ peerId, addrs })
    }
    return out
  }

  /** Asks a peer for its peers (one exchange per peer at a time), then fills up to the target. */
  exchange(peer: PeerId): void {
    const id = peer.toString()
    if (this.#target <= 0 || this.#abort.signal.aborted || this.#asking.has(id)) return
    this.#asking.add(id)
    this.#c.stats.inc('peerx.asked')
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(PEER_EXCHANGE_TIMEOUT_MS)])
    void this.#c
      .ask(peer, signal)
      .then((peers) => {
        this.#learn(peers)
        this.fill()
      })
      .catch((err: unknown) => {
        this.#c.stats.inc('peerx.failed')
        this.#c.log.debug(`peer exchange with ${id} failed: ${(err as Error)?.message}`)
      })
      .finally(() => this.#asking.delete(id))
  }

  #learn(peers: readonly SharedPeer[]): void {
    for (const p of peers) {
      if (p.peerId === this.#c.selfId) continue
      try {
        peerIdFromString(p.peerId)
      } catch {
        this.#c.stats.inc('peerx.bad_peer_id')
        continue
      }
      if (!this.#c.isMember(p.peerId)) {
        this.#c.stats.inc('peerx.non_member')
        continue
      }
      const addrs = dialableAddrs(p.addrs)
      if (addrs.length === 0) continue
      this.#c.book.learn(p.peerId, addrs)
      this.#c.stats.inc('peerx.learned')
    }
  }

  /** Wants remembered peers dialled until connected + wanted-and-not-connected reach the target. */
  fill(): void {
    if (this.#target <= 0 || this.#abort.signal.aborted) return
    const connected = new Set(this.#c.connected().map((p) => p.toString()))
    const known = this.#c.book.entries().filter(([id]) => id !== this.#c.selfId && this.#c.isMember(id))
    let pending = known.filter(([id]) => !connected.has(id) && this.#c.wanted(id)).length
    const candidates = known
      .filter(([id, p]) => !connected.has(id) && !this.#c.wanted(id) && p.addrs.length > 0)
      .sort((a, b) => b[1].lastSeenMs - a[1].lastSeenMs)
    for (const [id, p] of candidates) {
      if (connected.size + pending >= this.#target) break
      const addrs = dialableAddrs(p.addrs)
      if (addrs.length === 0) continue
      this.#c.want(id, addrs)
      this.#c.stats.inc('peerx.dials_wanted')
      pending++
    }
  }
}
