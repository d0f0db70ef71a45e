/**
 * Network faults inside the lab, as nft rules in each node's namespace (this kernel has no
 * netem): partitions (a directed pair "a → b": packets from a to b are dropped), random loss and
 * the WAN profile's rule that mesh traffic goes through the hub's delay proxy. Bandwidth is a
 * `tc tbf` qdisc on the node's veth. The rules of a namespace are replaced in one `nft -f` (one
 * atomic transaction) whenever the fault state changes.
 *
 * Paths. LAN: nodes dial each other directly (10.78.0.a → 10.78.0.b:7421). WAN: node a reaches
 * node b only through the proxy port `proxyPort(a, b)` on the hub (a direct dial is reset), the
 * proxy dials b's 7421 from the hub. So in WAN "a → b dropped" is: in a, packets to the hub's
 * port proxyPort(a, b) (connections a dialled), and in b, packets from the hub's port
 * proxyPort(b, a) (connections b dialled: a's bytes arrive from there).
 */
import { spawn } from 'node:child_process'
import { HUB_IP, MESH_PORT, NODE_IFACE, nodeIp, run } from './lab.ts'

export const PROXY_PORT_BASE = 20_000

export type ProfileName = 'lan' | 'wan'

export interface NetProfile {
  readonly name: ProfileName
  /** One-way delay the proxy adds to every byte (WAN), in ms. */
  readonly delayMs: number
  /** Packet loss on a path, per thousand (split between the two ends' namespaces). */
  readonly lossPerMille: number
  /** Egress rate of each node's veth (`tc tbf`), in Mbit/s; 0 = no shaping. */
  readonly rateMbit: number
}

export const PROFILES: Record<ProfileName, NetProfile> = {
  lan: { name: 'lan', delayMs: 0, lossPerMille: 0, rateMbit: 0 },
  wan: { name: 'wan', delayMs: 50, lossPerMille: 10, rateMbit: 20 },
}

export function proxyPort(from: number, to: number): number {
  return PROXY_PORT_BASE + from * 100 + to
}

/** "a>b": packets from node a to node b are dropped. */
export const pairKey = (a: number, b: number): string => `${a}>${b}`

/** The nft script for node i's namespace, given the dropped directed pairs. */
export function nftScript(i: number, n: number, profile: NetProfile, dropped: ReadonlySet<string>): string {
  const out: string[] = []
  const inn: string[] = []
  const hubPorts = `${proxyPort(0, 0)}-${proxyPort(99, 99)}`
  for (let j = 0; j < n; j++) {
    if (j === i) continue
    if (profile.name === 'lan') {
      if (dropped.has(pairKey(i, j))) out.push(`ip daddr ${nodeIp(j)} drop`)
      if (dropped.has(pairKey(j, i))) inn.push(`ip saddr ${nodeIp(j)} drop`)
    } else {
      if (dropped.has(pairKey(i, j))) out.push(`ip daddr ${HUB_IP} tcp dport ${proxyPort(i, j)} drop`)
      if (dropped.has(pairKey(j, i))) inn.push(`ip saddr ${HUB_IP} tcp sport ${proxyPort(i, j)} drop`)
    }
  }
  if (profile.name === 'wan') {
    // Mesh traffic only through the proxy: a direct dial (an address learnt by identify) fails
    // at once instead of bypassing the delay.
    out.push(`ip daddr 10.78.0.0/24 ip daddr != ${HUB_IP} tcp dport ${MESH_PORT} reject with tcp reset`)
  }
  if (profile.lossPerMille > 0) {
    // A path crosses two checks (the sender's egress, the receiver's ingress): half each.
    const p = profile.lossPerMille / 2
    const lossy = (dir: 'dport' | 'sport') => [
      `tcp ${dir} ${MESH_PORT} numgen random mod 2000 < ${Math.round(p * 2)} drop`,
      `ip ${dir === 'dport' ? 'daddr' : 'saddr'} ${HUB_IP} tcp ${dir} ${hubPorts} numgen random mod 2000 < ${Math.round(p * 2)} drop`,
    ]
    out.push(...lossy('dport'), ...lossy('sport'))
    inn.push(...lossy('dport'), ...lossy('sport'))
  }
  const chain = (name: string, hook: string, rules: string[]) =>
    `  chain ${name} {\n    type filter hook ${hook} priority 0; policy accept;\n${rules.map((r) => `    ${r}\n`).join('')}  }\n`
  return `table inet gkmsim\ndelete table inet gkmsim\ntable inet gkmsim {\n${chain('out', 'output', out)}${chain('in', 'input', inn)}}\n`
}

export function applyNft(ns: string, script: string): Promise<void> {
  return runAsync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], script)
}

/** A command without blocking the event loop (the observers time events meanwhile). */
export function runAsync(cmd: string, args: readonly string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] })
    let err = ''
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString()
    })
    p.on('error', reject)
    p.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err.trim()}`)),
    )
    p.stdin.end(input ?? '')
  })
}

/** Shapes the node's egress with a token bucket (no-op for rate 0). */
export function applyBandwidth(ns: string, rateMbit: number): void {
  if (rateMbit <= 0) return
  run('ip', [
    'netns',
    'exec',
    ns,
    'tc',
    'qdisc',
    'replace',
    'dev',
    NODE_IFACE,
    'root',
    'tbf',
    'rate',
    `${rateMbit}mbit`,
    'burst',
    '64kb',
    'latency',
    '400ms',
  ])
}
