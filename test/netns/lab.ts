/**
 * A throw-away LAN of network namespaces (docs/MESH.md "Testing"): one switch namespace with a
 * bridge, N node namespaces each with one veth on the bridge (10.77.0.<i>/24) and a 224.0.0.0/4
 * route so multicast (mDNS) works. No interface is ever created in the root namespace: each
 * veth pair is created directly inside its two namespaces. Everything is named with a per-run
 * prefix and removed by name in `destroy()`, also after failures.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'

export interface Lab {
  readonly prefix: string
  readonly nodes: string[]
  readonly ips: string[]
  readonly ifaces: string[]
  destroy(): void
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Why namespaces cannot be made here, or undefined when they can. */
export function labUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'network namespaces need root (run as root, as CI does)'
  const probe = `gkmprobe${randomBytes(3).toString('hex')}`
  try {
    ip('netns', 'add', probe)
  } catch (err) {
    return `ip netns add failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`
  } finally {
    try {
      ip('netns', 'del', probe)
    } catch {}
  }
  return undefined
}

export function createLab(n: number): Lab {
  const prefix = `gkm${randomBytes(2).toString('hex')}`
  const sw = `${prefix}-sw`
  const nodes = Array.from({ length: n }, (_, i) => `${prefix}-n${i + 1}`)
  const ips = nodes.map((_, i) => `10.77.0.${i + 1}`)
  const ifaces = nodes.map((_, i) => `eth${i + 1}`)
  const created: string[] = []
  const destroy = () => {
    for (const ns of created.reverse()) {
      try {
        ip('netns', 'del', ns)
      } catch {}
    }
    created.length = 0
  }
  try {
    ip('netns', 'add', sw)
    created.push(sw)
    ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0')
    ip('-n', sw, 'link', 'set', 'br0', 'up')
    nodes.forEach((ns, i) => {
      ip('netns', 'add', ns)
      created.push(ns)
      ip('-n', ns, 'link', 'add', ifaces[i], 'type', 'veth', 'peer', 'name', `p${i + 1}`, 'netns', sw)
      ip('-n', sw, 'link', 'set', `p${i + 1}`, 'master', 'br0', 'up')
      ip('-n', ns, 'addr', 'add', `${ips[i]}/24`, 'dev', ifaces[i])
      ip('-n', ns, 'link', 'set', ifaces[i], 'up')
      ip('-n', ns, 'link', 'set', 'lo', 'up')
      ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', ifaces[i])
    })
  } catch (err) {
    destroy()
    throw err
  }
  return { prefix, nodes, ips, ifaces, destroy }
}
