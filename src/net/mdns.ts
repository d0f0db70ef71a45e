/**
 * LAN discovery by multicast DNS, in libp2p's mDNS format (specs/discovery/mdns.md: a PTR query
 * for `_p2p._udp.local`, answered with a PTR to `<peer name>._p2p._udp.local` and one TXT record
 * `dnsaddr=<multiaddr>/p2p/<id>` per address), so gkm nodes also see other libp2p nodes' answers
 * (and ignore non-members). Written here rather than taken from @libp2p/mdns because that one
 * cannot be bound to one interface (`mdns.interface`), and because discovery must not dial: the
 * network decides (membership, backoff).
 *
 * Never run on a machine's real interfaces in tests (docs/MESH.md "Testing"): only between
 * network namespaces a test made.
 */
import { randomBytes } from 'node:crypto'
import { networkInterfaces } from 'node:os'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import multicastDns from 'multicast-dns'
import {
  MDNS_ADDRS_PER_PEER_MAX,
  MDNS_QUERY_INTERVAL_MS,
  MDNS_SERVICE_TAG,
  MDNS_TXT_BYTES_MAX,
} from './constants.ts'
import { NetConfigError } from './errors.ts'
import type { NetLogger, NetStats } from './stats.ts'

export interface MdnsInit {
  /** Interface name (`eth0`) or IPv4 address to use; all IPv4 interfaces when absent. */
  readonly interface?: string
  readonly intervalMs?: number
}

export interface MdnsComponents {
  /** Our own multiaddrs, each ending in /p2p/<our id>. */
  readonly localAddrs: () => string[]
  readonly selfPeerId: string
  /** A peer was announced (not ourselves); addrs without the /p2p suffix. */
  readonly onPeer: (peerId: string, addrs: string[]) => void
  readonly stats: NetStats
  readonly log: NetLogger
}

/** Resolves `eth0` or `10.0.0.2` to the IPv4 address multicast should use. */
export function interfaceAddress(iface: string): string {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(iface)) return iface
  const addrs = networkInterfaces()[iface]
  const v4 = addrs?.find((a) => a.family === 'IPv4')
  if (v4 === undefined)
    throw new NetConfigError(
      `mdns.interface ${JSON.stringify(iface)}: no such interface with an IPv4 address`,
    )
  return v4.address
}

function txtStrings(data: unknown): string[] {
  const list = Array.isArray(data) ? data : [data]
  return list.map((d) =>
    typeof d === 'string'
      ? d
      : Buffer.isBuffer(d) || d instanceof Uint8Array
        ? Buffer.from(d).toString('utf8')
        : '',
  )
}

export class MdnsDiscovery {
  readonly #c: MdnsComponents
  readonly #init: MdnsInit
  readonly #peerName = randomBytes(16).toString('hex')
  #mdns: multicastDns.MulticastDNS | undefined
  #timer: ReturnType<typeof setInterval> | undefined
  #ifaceIp: string | undefined

  constructor(components: MdnsComponents, init: MdnsInit) {
    this.#c = components
    this.#init = init
  }

  start(): void {
    if (this.#mdns !== undefined) return
    this.#ifaceIp = this.#init.interface === undefined ? undefined : interfaceAddress(this.#init.interface)
    // Bind to the wildcard: a socket bound to a unicast address receives no multicast on Linux.
    const mdns = multicastDns({ interface: this.#ifaceIp, bind: '0.0.0.0', loopback: true })
    mdns.on('query', (q) => this.#onQuery(q))
    mdns.on('response', (r) => this.#onResponse(r))
    mdns.on('warning', (err: Error) => this.#c.log.debug(`mdns warning: ${err.message}`))
    mdns.on('error', (err: Error) => this.#c.log.warn(`mdns error: ${err.message}`))
    this.#mdns = mdns
    const query = () => {
      this.#c.stats.inc('mdns.queries')
      mdns.query({ questions: [{ name: MDNS_SERVICE_TAG, type: 'PTR' }] })
    }
    query()
    this.#timer = setInterval(query, this.#init.intervalMs ?? MDNS_QUERY_INTERVAL_MS)
    this.#timer.unref?.()
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    const mdns = this.#mdns
    this.#mdns = undefined
    if (mdns !== undefined) await new Promise<void>((resolve) => mdns.destroy(() => resolve()))
  }

  /** Addresses worth announcing on the LAN: not loopback, on the chosen interface if any. */
  #announceable(): string[] {
    return this.#c.localAddrs().filter((a) => {
      const host = multiaddr(a).getComponents()[0]
      if (host === undefined || (host.name !== 'ip4' && host.name !== 'ip6')) return false
      const ip = host.value ?? ''
      if (ip.startsWith('127.') || ip === '::1') return false
      return this.#ifaceIp === undefined || host.name !== 'ip4' || ip === this.#ifaceIp
    })
  }

  #onQuery(q: multicastDns.QueryPacket): void {
    if (this.#mdns === undefined || !q.questions.some((x) => x.name === MDNS_SERVICE_TAG && x.type === 'PTR'))
      return
    const addrs = this.#announceable()
    if (addrs.length === 0) return
    const host = `${this.#peerName}.${MDNS_SERVICE_TAG}`
    this.#c.stats.inc('mdns.responses_sent')
    this.#mdns.respond({
      answers: [
        { name: MDNS_SERVICE_TAG, type: 'PTR', class: 'IN', ttl: 120, data: host },
        ...addrs
          .map((a) => `dnsaddr=${a}`)
          .filter((d) => Buffer.byteLength(d) <= MDNS_TXT_BYTES_MAX)
          .slice(0, MDNS_ADDRS_PER_PEER_MAX)
          .map((data) => ({ name: host, type: 'TXT' as const, class: 'IN' as const, ttl: 120, data })),
      ],
    })
  }

  #onResponse(r: multicastDns.ResponsePacket): void {
    const records = [...(r.answers ?? []), ...(r.additionals ?? [])]
    const ptr = records.find((a) => a.type === 'PTR' && a.name === MDNS_SERVICE_TAG)
    if (ptr === undefined || String((ptr as { data?: unknown }).data).startsWith(this.#peerName)) return
    let peerId: string | undefined
    const addrs: string[] = []
    for (const rec of records) {
      if (rec.type !== 'TXT') continue
      for (const text of txtStrings((rec as { data?: unknown }).data)) {
        if (!text.startsWith('dnsaddr=') || addrs.length >= MDNS_ADDRS_PER_PEER_MAX) continue
        try {
          const ma = multiaddr(text.slice('dnsaddr='.length))
          const id = ma.getComponents().findLast((c) => c.name === 'p2p')?.value
          if (id === undefined || (peerId !== undefined && id !== peerId)) continue
          peerIdFromString(id)
          peerId = id
          addrs.push(ma.decapsulateCode(421).toString())
        } catch {
          this.#c.stats.inc('mdns.bad_records')
        }
      }
    }
    if (peerId === undefined || peerId === this.#c.selfPeerId || addrs.length === 0) return
    this.#c.stats.inc('mdns.peers_seen')
    this.#c.onPeer(peerId, addrs)
  }
}
