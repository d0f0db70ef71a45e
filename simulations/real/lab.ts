/**
 * The real-node lab: network namespaces the harness creates and removes. One hub namespace holds
 * a bridge (`br0`, 10.78.0.254/24) where the driver, the delay proxy and the observers run; node
 * namespace i holds one veth on that bridge (`eth0`, 10.78.0.<i+1>/24) and a 224.0.0.0/4 route so
 * that mDNS works between namespaces. No interface is created in the root namespace: each veth
 * pair is created inside its two namespaces, so nothing the nodes send (mDNS included) can leave
 * the lab. Every name carries the run's prefix (`gkmr<hex>`); `destroyLab` removes the
 * namespaces by name after killing, by PID, any process still inside them (all started by the
 * harness), which also removes their veths, bridge, nft tables and qdiscs.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'

export const LAB_PREFIX = 'gkmr'
export const HUB_IP = '10.78.0.254'
export const MESH_PORT = 7421
export const HTTP_PORT = 7420
export const NODE_IFACE = 'eth0'

export interface LabSpec {
  readonly prefix: string
  readonly hub: string
  readonly nodes: readonly string[]
  readonly ips: readonly string[]
}

export function nodeIp(i: number): string {
  return `10.78.0.${i + 1}`
}

export function run(cmd: string, args: readonly string[], input?: string): string {
  return execFileSync(cmd, args, {
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 20_000,
  })
}

/** `ip -n NS ...` */
export function ipIn(ns: string, ...args: string[]): void {
  run('ip', ['-n', ns, ...args])
}

/** Why the lab cannot be made here (not Linux, not root, no `ip netns`, no `nft`), or undefined. */
export function labUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'network namespaces need root (run as root, as CI does)'
  for (const [cmd, pkg] of [
    ['ip', 'iproute2'],
    ['nft', 'nftables'],
    ['tc', 'iproute2'],
  ] as const) {
    try {
      run(cmd, ['-V'])
    } catch {
      return `${cmd} is not installed (Debian package ${pkg})`
    }
  }
  const probe = `${LAB_PREFIX}probe${randomBytes(3).toString('hex')}`
  try {
    run('ip', ['netns', 'add', probe])
  } catch (err) {
    return `ip netns add failed: ${String((err as { stderr?: string }).stderr ?? err).trim()}`
  } finally {
    try {
      run('ip', ['netns', 'del', probe])
    } catch {}
  }
  return undefined
}

/** Creates the hub and `n` node namespaces (all or nothing). */
export function createLab(n: number): LabSpec {
  if (n < 1 || n > 99) throw new RangeError(`the lab holds 1..99 nodes (got ${n})`)
  const prefix = `${LAB_PREFIX}${randomBytes(2).toString('hex')}`
  const spec: LabSpec = {
    prefix,
    hub: `${prefix}-hub`,
    nodes: Array.from({ length: n }, (_, i) => `${prefix}-n${i}`),
    ips: Array.from({ length: n }, (_, i) => nodeIp(i)),
  }
  try {
    run('ip', ['netns', 'add', spec.hub])
    ipIn(spec.hub, 'link', 'set', 'lo', 'up')
    ipIn(spec.hub, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0')
    ipIn(spec.hub, 'addr', 'add', `${HUB_IP}/24`, 'dev', 'br0')
    ipIn(spec.hub, 'link', 'set', 'br0', 'up')
    spec.nodes.forEach((ns, i) => {
      run('ip', ['netns', 'add', ns])
      ipIn(ns, 'link', 'add', NODE_IFACE, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', spec.hub)
      ipIn(spec.hub, 'link', 'set', `p${i}`, 'master', 'br0', 'up')
      ipIn(ns, 'addr', 'add', `${spec.ips[i]}/24`, 'dev', NODE_IFACE)
      ipIn(ns, 'link', 'set', NODE_IFACE, 'up')
      ipIn(ns, 'link', 'set', 'lo', 'up')
      ipIn(ns, 'route', 'add', '224.0.0.0/4', 'dev', NODE_IFACE)
    })
  } catch (err) {
    destroyLab(spec)
    throw err
  }
  return spec
}

/** PIDs of the processes inside a namespace (`ip netns pids`). */
function pidsIn(ns: string): number[] {
  try {
    return run('ip', ['netns', 'pids', ns])
      .split(/\s+/)
      .filter((s) => /^\d+$/.test(s))
      .map(Number)
  } catch {
    return []
  }
}

/** Kills (by PID, SIGKILL) what still runs in the lab's namespaces and deletes them. Never
 *  throws; returns what it removed. */
export function destroyLab(spec: Pick<LabSpec, 'hub' | 'nodes'>): { namespaces: number; killed: number } {
  let killed = 0
  let namespaces = 0
  for (const ns of [...spec.nodes, spec.hub]) {
    for (const pid of pidsIn(ns)) {
      if (pid === process.pid) continue
      try {
        process.kill(pid, 'SIGKILL')
        killed++
      } catch {}
    }
  }
  for (const ns of [...spec.nodes, spec.hub]) {
    try {
      run('ip', ['netns', 'del', ns])
      namespaces++
    } catch {}
  }
  return { namespaces, killed }
}

/** Namespaces left by an earlier run of this harness that was killed before it could clean up
 *  (named `gkmr<hex>-...`). */
export function staleLabNamespaces(): string[] {
  let out = ''
  try {
    out = run('ip', ['netns', 'list'])
  } catch {
    return []
  }
  return out
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => new RegExp(`^${LAB_PREFIX}[0-9a-f]{4}-(hub|n\\d+)$`).test(n))
}

export function destroyStale(): number {
  const names = staleLabNamespaces()
  const hubs = names.filter((n) => n.endsWith('-hub'))
  const nodes = names.filter((n) => !n.endsWith('-hub'))
  let removed = 0
  for (const hub of hubs) removed += destroyLab({ hub, nodes: [] }).namespaces
  removed += destroyLab({ hub: '', nodes }).namespaces
  return removed
}
