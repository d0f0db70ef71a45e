/**
 * Multi-host with REAL nodes: 3 processes each running the full node (startNode: LevelDB,
 * engine, HTTP, mesh) in its own network namespace on one bridge, mDNS on (tied to the
 * namespace's interface), NO bootstrap list, a federation of the 3 keys. They find each other
 * by mDNS alone; events pushed over HTTP to two of them (each on its namespace's own loopback)
 * reach all three and the state hashes converge.
 *
 * Skipped with the reason where namespaces cannot be made (not root, not Linux). mDNS only
 * runs inside the namespaces this test creates; the lab is deleted by name afterwards and every
 * process is killed by PID, also on failure.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { loadOrCreateIdentity } from '../../src/node/index.ts'
import { createLab, type Lab, labUnavailable } from './lab.ts'

const NODES = 3
const TIMEOUT_MS = 60_000
const RUNNER = fileURLToPath(new URL('./node-runner.ts', import.meta.url))

interface Status {
  events: number
  state_hash: string
  peers: number
  mdns: number
}

const skip = labUnavailable()

describe('real nodes across network namespaces (mDNS only)', { skip }, () => {
  let lab: Lab | undefined
  const procs: ChildProcess[] = []
  const dirs: string[] = []
  after(async () => {
    for (const p of procs)
      if (p.exitCode === null && p.signalCode === null && p.pid !== undefined) p.kill('SIGKILL')
    lab?.destroy()
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })

  it(`${NODES} real nodes discover each other by mDNS alone and converge on HTTP writes`, {
    timeout: TIMEOUT_MS + 20_000,
  }, async () => {
    lab = createLab(NODES)
    const keys: string[] = []
    for (let i = 0; i < NODES; i++) {
      const dir = await mkdtemp(join(tmpdir(), 'gkm-netns-node-'))
      dirs.push(dir)
      keys.push(Buffer.from((await loadOrCreateIdentity(dir, { create: true })).publicKey).toString('hex'))
    }
    const status: Array<Status | undefined> = Array(NODES).fill(undefined)
    const ready: Array<{ peerId: string; url: string } | undefined> = Array(NODES).fill(undefined)
    const pushed: Array<Array<{ status: number; body?: { accepted: number } }>> = lab.nodes.map(() => [])
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
          '--data-dir',
          dirs[i],
          '--listen',
          `/ip4/${lab!.ips[i]}/tcp/7421`,
          '--iface',
          lab!.ifaces[i],
          '--members',
          keys.join(','),
          '--max-ms',
          String(TIMEOUT_MS),
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      )
      procs.push(p)
      createInterface({ input: p.stdout! }).on('line', (line) => {
        try {
          const msg = JSON.parse(line)
          if (msg.status !== undefined) status[i] = msg.status
          if (msg.ready !== undefined) ready[i] = msg.ready
          if (msg.pushed !== undefined) pushed[i].push(msg.pushed)
        } catch {}
      })
      p.stderr!.on('data', (d: Buffer) => {
        stderr[i] = (stderr[i] + d.toString()).slice(-4000)
      })
    })

    const until = Date.now() + TIMEOUT_MS
    const waitUntil = async (what: string, cond: () => boolean) => {
      while (!cond()) {
        if (Date.now() > until || procs.some((p) => p.exitCode !== null)) {
          assert.fail(
            `timed out waiting for ${what}: ${JSON.stringify(status)} pushed ${JSON.stringify(pushed)}\n${stderr.join('\n---\n')}`,
          )
        }
        await new Promise((r) => setTimeout(r, 100))
      }
    }

    await waitUntil('every node connected to the two others (mDNS only)', () =>
      status.every((s) => s !== undefined && s.peers === NODES - 1),
    )
    assert.ok(
      status.every((s) => s!.mdns >= 1),
      'peers were found by mDNS',
    )

    const push = (i: number, events: unknown[]) =>
      procs[i].stdin!.write(`${JSON.stringify({ push: events })}\n`)
    push(0, [
      { event_type: 'persona_update', target_id: 'ada', payload: { op: 'set', fields: { name: 'Ada' } } },
      { event_type: 'vector_update', target_id: 'v1', payload: { op: 'upsert', values: [1, 2, 3] } },
      { event_type: 'document_update', target_id: 'd1', payload: { op: 'put', content: 'Note G' } },
      {
        event_type: 'graph_update',
        target_id: 'g',
        payload: { op: 'add_edge', from: 'ada', label: 'knows', to: 'charles' },
      },
    ])
    push(2, [
      {
        event_type: 'persona_update',
        target_id: 'charles',
        payload: { op: 'set', fields: { name: 'Charles' } },
      },
    ])
    await waitUntil('both pushes answered', () => pushed[0].length === 1 && pushed[2].length === 1)
    assert.equal(pushed[0][0].status, 200, JSON.stringify(pushed[0]))
    assert.equal(pushed[0][0].body?.accepted, 4)
    assert.equal(pushed[2][0].body?.accepted, 1)

    await waitUntil('5 events and one state hash on every node', () =>
      status.every((s) => s !== undefined && s.events === 5 && s.state_hash === status[0]!.state_hash),
    )

    for (const p of procs) p.stdin!.end()
    await Promise.all(
      procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))),
    )
    assert.deepEqual(
      procs.map((p) => p.exitCode),
      procs.map(() => 0),
    )
  })
})
