/**
 * `npm run simulate:real` at small scale: 3 real node processes (LevelDB, libp2p) in network
 * namespaces the harness creates, steady writes, a partition healed, kill -9 and restart, and
 * the lab removed afterwards — also when the run is interrupted with SIGINT. Each run is bounded
 * (a few seconds of writes, a 100 s convergence budget). Skipped with the reason where namespaces
 * cannot be made (not root, not Linux, no `ip netns` / nft).
 */
import assert from 'node:assert/strict'
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { labUnavailable } from '../../simulations/real/lab.ts'

const MAIN = resolve(import.meta.dirname, '../../simulations/real/main.ts')
const RUN_TIMEOUT_MS = 240_000
const SEED = 3

const skip = labUnavailable()
const out = mkdtempSync(join(tmpdir(), 'gkm-real-test-'))
const children: ChildProcess[] = []

function labsOf(text: string): string[] {
  return [...text.matchAll(/\((gkmr[0-9a-f]{4})-n0\.\./g)].map((m) => m[1])
}

function namespacesLeft(prefix: string): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(`${prefix}-`))
}

/** Runs main.ts; resolves with its exit code and output. `onLine` may signal it. */
function simulate(args: string[], onLine?: (line: string, child: ChildProcess) => void) {
  // Correctness, not speed: a generous convergence budget for a loaded machine.
  const child = spawn(
    process.execPath,
    [MAIN, ...args, '--seed', String(SEED), '--budget-s', '100', '--out', out],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  children.push(child)
  let text = ''
  const take = (d: Buffer) => {
    const chunk = d.toString()
    text += chunk
    for (const line of chunk.split('\n')) if (line !== '') onLine?.(line, child)
  }
  child.stdout!.on('data', take)
  child.stderr!.on('data', take)
  const timer = setTimeout(() => child.kill('SIGTERM'), RUN_TIMEOUT_MS)
  return new Promise<{ code: number | null; text: string }>((res) =>
    child.once('exit', (code) => {
      clearTimeout(timer)
      res({ code, text })
    }),
  )
}

function resultOf(name: string) {
  return JSON.parse(readFileSync(join(out, `real-${name}-lan-n3-seed${SEED}.json`), 'utf8'))
}

describe('npm run simulate:real (3 real nodes in network namespaces)', { skip }, () => {
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM')
    rmSync(out, { recursive: true, force: true })
  })

  it(`steady: every acknowledged write reaches every node, one state; JSON + HTML written (seed ${SEED})`, {
    timeout: RUN_TIMEOUT_MS + 10_000,
  }, async () => {
    const { code, text } = await simulate(['--scenario', 'steady', '--nodes', '3', '--write-s', '4'])
    assert.equal(code, 0, text)
    assert.match(text, /PASSED: steady/)
    const r = resultOf('steady')
    assert.equal(r.passed, true)
    assert.equal(r.writes.acked, r.writes.planned, JSON.stringify(r.writes))
    assert.equal(r.propagation.count, r.writes.acked * 2, 'every write seen arriving on both other nodes')
    // each arrival recorded: one row per acknowledged event, a delay for each other node
    assert.equal(r.arrivals.eventsTotal, r.writes.acked)
    assert.equal(r.arrivals.delayMs.length, r.writes.acked)
    assert.ok(
      r.arrivals.delayMs.every(
        (row: Array<number | null>, e: number) =>
          row.length === 3 &&
          row.filter((d) => d !== null).length === 2 &&
          row[r.arrivals.origin[e]] === null,
      ),
    )
    assert.equal(r.arrivals.slow.of, r.propagation.count)
    assert.equal(r.propagationStartup.count + r.propagationAfterStartup.count, r.propagation.count)
    // the writes waited for the formed mesh (readiness.ts); the 4-peer moment (here: both
    // peers) is recorded, no later than the gate
    assert.match(r.gate, /connected to every other.*direct stream.*reconciliation session/)
    assert.match(text, /mesh formed in [0-9.]+ s \(every node connected to every other/)
    assert.ok(r.fourPeersMs !== null && r.fourPeersMs <= r.startupMs, `${r.fourPeersMs} / ${r.startupMs}`)
    assert.ok(
      r.nodeCounters.every((c: { commits: number }) => c.commits > 0),
      'commits read from /metrics',
    )
    assert.equal(new Set(r.statesAtEnd.map((s: { stateHash: string }) => s.stateHash)).size, 1)
    assert.ok(r.statesAtEnd.every((s: { events: number }) => s.events === r.writes.acked))
    assert.ok(
      r.bytesPerNode.every((b: { sent: number }) => b.sent > 0),
      'mesh bytes counted',
    )
    const html = readFileSync(join(out, `real-steady-lan-n3-seed${SEED}.html`), 'utf8')
    assert.match(html, /<svg/)
    assert.doesNotMatch(html, /<script|https?:\/\//)
    for (const lab of labsOf(text)) assert.deepEqual(namespacesLeft(lab), [], 'lab removed')
  })

  it('steady over the WAN profile: the mesh runs through the delay proxy (nft resets direct dials)', {
    timeout: RUN_TIMEOUT_MS + 10_000,
  }, async () => {
    const { code, text } = await simulate([
      '--scenario',
      'steady',
      '--profile',
      'wan',
      '--nodes',
      '3',
      '--write-s',
      '3',
    ])
    assert.equal(code, 0, text)
    const r = JSON.parse(readFileSync(join(out, `real-steady-wan-n3-seed${SEED}.json`), 'utf8'))
    assert.equal(r.passed, true)
    assert.equal(r.profile.delayMs, 50)
    const meshBytes = r.bytesPerNode.reduce((a: number, b: { sent: number }) => a + b.sent, 0)
    assert.ok(r.proxyBytes > 0 && meshBytes > 0, `proxy ${r.proxyBytes} B, mesh ${meshBytes} B`)
    for (const lab of labsOf(text)) assert.deepEqual(namespacesLeft(lab), [])
  })

  it('partition-heal: both sides write during the split; after the heal no acknowledged event is lost', {
    timeout: RUN_TIMEOUT_MS + 10_000,
  }, async () => {
    const { code, text } = await simulate(['--scenario', 'partition-heal', '--nodes', '3', '--fault-s', '6'])
    assert.equal(code, 0, text)
    const r = resultOf('partition-heal')
    assert.equal(r.passed, true)
    assert.ok(r.faults.some((f: { kind: string }) => f.kind === 'partition'))
    assert.ok(r.convergedAfterHealMs !== null)
    // During the split the sides held different sets: the convergence chart shows it.
    assert.ok(
      r.samples.some(
        (s: { t: number; complete: number }) => s.t > 5_500 && s.t < r.healAtMs && s.complete < 1,
      ),
      'the partition separated the nodes',
    )
    for (const lab of labsOf(text)) assert.deepEqual(namespacesLeft(lab), [])
  })

  it('crash-restart: kill -9 and restart lose no acknowledged event', {
    timeout: RUN_TIMEOUT_MS + 10_000,
  }, async () => {
    const { code, text } = await simulate(['--scenario', 'crash-restart', '--nodes', '3', '--fault-s', '8'])
    assert.equal(code, 0, text)
    const r = resultOf('crash-restart')
    assert.equal(r.passed, true)
    assert.ok(r.restarts >= 1, 'a node was killed and restarted')
    assert.ok(r.checks.find((c: { name: string }) => c.name === 'no acknowledged event lost').ok)
    for (const lab of labsOf(text)) assert.deepEqual(namespacesLeft(lab), [])
  })

  it('SIGINT during a run stops every node and removes the lab', {
    timeout: RUN_TIMEOUT_MS + 10_000,
  }, async () => {
    let signalled = false
    const { code, text } = await simulate(
      ['--scenario', 'steady', '--nodes', '2', '--write-s', '60'],
      (line, child) => {
        if (!signalled && line.includes('acked')) {
          signalled = true
          child.kill('SIGINT')
        }
      },
    )
    assert.ok(signalled, text)
    assert.equal(code, 130, text)
    const labs = labsOf(text)
    assert.equal(labs.length, 1, text)
    assert.match(text, new RegExp(`lab ${labs[0]} removed`))
    assert.deepEqual(namespacesLeft(labs[0]), [])
  })
})
