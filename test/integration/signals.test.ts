/**
 * Signals stop the node cleanly whoever sends them, and nothing is left behind:
 * - `npm start`: SIGTERM to the npm process reaches the node (the script execs it), which stops
 *   and exits; no node process outlives npm.
 * - `node bin/gkm-sync.js start` (no runtime flags): the launcher re-starts the command with the
 *   flags of src/cli/runtime-flags.ts and passes SIGINT on; both exit.
 * Loopback ports picked by the OS, mDNS off, temp data dirs.
 */

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { NODE_FLAGS } from '../../src/cli/runtime-flags.ts'
import { waitFor } from '../helpers/mesh.ts'
import { startupUrl } from '../helpers/node.ts'

const root = new URL('../../', import.meta.url).pathname
const env: Record<string, string | undefined> = {
  ...process.env,
  PATH: `${join(root, 'node_modules/.bin')}${delimiter}${process.env.PATH}`,
  GKM_LOG_LEVEL: 'warn',
}
const nodeArgs = (dir: string) => [
  '--data-dir',
  dir,
  '--http',
  '127.0.0.1:0',
  '--listen',
  '/ip4/127.0.0.1/tcp/0',
]

/** Pids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid) out.push(Number(name))
    } catch {
      // the process ended while we looked
    }
  }
  return out
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
}

describe('signals', () => {
  const dirs: string[] = []
  const pids: number[] = []
  after(async () => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL')
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('SIGTERM to `npm start` stops the node; no node outlives npm', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gkm-sig-npm-'))
    dirs.push(dir)
    const npm = spawn('npm', ['start', '--silent', '--', ...nodeArgs(dir)], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    pids.push(npm.pid!)
    let err = ''
    npm.stderr.on('data', (d) => {
      err += d
    })
    const exited = new Promise<number | null>((r) => npm.once('exit', (code) => r(code)))
    const url = await startupUrl(npm, () => err)
    const nodes = childrenOf(npm.pid!)
    assert.equal(nodes.length, 1, 'npm runs one child')
    const node = nodes[0]
    pids.push(node)
    // `exec`: the child is the node itself, with the runtime flags, not a shell.
    for (const f of NODE_FLAGS) assert.ok(cmdline(node).includes(f), `${f} in ${cmdline(node).join(' ')}`)
    assert.equal(childrenOf(node).length, 0, 'the node did not need to re-launch itself')
    assert.equal((await fetch(`${url}/health`)).status, 200)

    npm.kill('SIGTERM')
    await exited
    await waitFor('the node exited', () => !alive(node), 30_000)
    assert.match(err, /gkm-sync: stopped/)
  })

  it('the launcher re-starts `start` with the runtime flags and passes SIGINT on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gkm-sig-launch-'))
    dirs.push(dir)
    const { MALLOC_ARENA_MAX: _unset, ...withoutArena } = env
    const launcher = spawn(
      join(root, 'node_modules/.bin/node'),
      [join(root, 'bin/gkm-sync.js'), 'start', '--no-mdns', ...nodeArgs(dir)],
      { cwd: root, env: withoutArena, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    pids.push(launcher.pid!)
    let err = ''
    launcher.stderr.on('data', (d) => {
      err += d
    })
    const exited = new Promise<number | null>((r) => launcher.once('exit', (code) => r(code)))
    await startupUrl(launcher, () => err)
    const [node] = childrenOf(launcher.pid!)
    assert.ok(node !== undefined, 'the launcher started the node as its child')
    pids.push(node)
    for (const f of NODE_FLAGS) assert.ok(cmdline(node).includes(f), `${f} in ${cmdline(node).join(' ')}`)
    const nodeEnv = readFileSync(`/proc/${node}/environ`, 'utf8').split('\0')
    assert.ok(nodeEnv.includes('MALLOC_ARENA_MAX=2'))

    launcher.kill('SIGINT')
    assert.equal(await exited, 0, `the launcher exits as the node does; stderr: ${err}`)
    await waitFor('the node exited', () => !alive(node), 30_000)
    assert.match(err, /gkm-sync: stopped/)
  })
})
