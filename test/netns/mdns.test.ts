/**
 * Multi-host: N processes in N network namespaces on one bridge find each other by mDNS alone
 * (no bootstrap list, no dial) and converge on the same set of events. Skipped with the reason
 * where namespaces cannot be made (not root, not Linux). mDNS only ever runs inside the
 * namespaces this test creates; the lab is removed by name afterwards, also on failure.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createLab, type Lab, labUnavailable } from './lab.ts'

const NODES = 3
const WRITES = 2
const TIMEOUT_MS = 45_000
const RUNNER = fileURLToPath(new URL('./mdns-runner.ts', import.meta.url))

const skip = labUnavailable()

describe('mesh across network namespaces', { skip }, () => {
  let lab: Lab | undefined
  const procs: ChildProcess[] = []
  after(() => {
    for (const p of procs) if (p.exitCode === null && p.pid !== undefined) p.kill('SIGKILL')
    lab?.destroy()
  })

  it(`${NODES} nodes discover each other by mDNS alone and converge`, {
    timeout: TIMEOUT_MS + 15_000,
  }, async () => {
    lab = createLab(NODES)
    const latest: Array<{ digests: string[]; peers: number } | undefined> = Array(NODES).fill(undefined)
    const stderr: string[] = Array(NODES).fill('')
    lab.nodes.forEach((ns, i) => {
      const p = spawn(
        'ip',
        [
          'netns',
          'exec',
          ns,
          process.execPath,
          RUNNER,
          '--listen',
          `/ip4/${lab!.ips[i]}/tcp/7421`,
          '--iface',
          lab!.ifaces[i],
          '--write',
          String(WRITES),
          '--max-ms',
          String(TIMEOUT_MS),
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      )
      procs.push(p)
      createInterface({ input: p.stdout! }).on('line', (line) => {
        try {
          const msg = JSON.parse(line)
          if (msg.digests !== undefined) latest[i] = msg
        } catch {}
      })
      p.stderr!.on('data', (d: Buffer) => {
        stderr[i] = (stderr[i] + d.toString()).slice(-4000)
      })
    })
    const until = Date.now() + TIMEOUT_MS
    const converged = () =>
      latest.every((l) => l !== undefined && l.digests.length === NODES * WRITES && l.peers === NODES - 1) &&
      latest.every((l) => JSON.stringify(l!.digests) === JSON.stringify(latest[0]!.digests))
    while (!converged()) {
      if (Date.now() > until || procs.some((p) => p.exitCode !== null)) {
        assert.fail(
          `no convergence: ${JSON.stringify(latest.map((l) => l && { events: l.digests.length, peers: l.peers }))}\n${stderr.join('\n---\n')}`,
        )
      }
      await new Promise((r) => setTimeout(r, 200))
    }
    for (const p of procs) p.stdin!.end()
    await Promise.all(
      procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))),
    )
  })
})
