import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { StartedNode } from '../../../src/cli/io.ts'
import type { GkmConfig } from '../../../src/config/index.ts'
import { run } from './run.ts'

/** A fake node: records the config it was started with and how often it was stopped. */
function fakeNode(extra: Partial<StartedNode> = {}) {
  const state = { config: undefined as GkmConfig | undefined, stops: 0, release: () => {} }
  const stopped = new Promise<void>((resolve) => {
    state.release = resolve
  })
  const startNode = async (config: GkmConfig): Promise<StartedNode> => {
    state.config = config
    return {
      peerId: '12D3KooWfake',
      http: { host: '127.0.0.1', port: 7420 },
      stop: async () => {
        state.stops++
        await stopped
      },
      ...extra,
    }
  }
  return { state, startNode }
}

async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('gkm-sync start', () => {
  it('starts the node with the merged config, prints one line, and stops on SIGINT', async () => {
    const { state, startNode } = fakeNode()
    const signals = new EventEmitter()
    const done = run(
      [
        'start',
        '--data-dir',
        'd',
        '--http',
        '127.0.0.1:7999',
        '--listen',
        '/ip4/127.0.0.1/tcp/1',
        '--listen',
        '/ip4/127.0.0.1/tcp/2',
        '--no-mdns',
        '--log-level',
        'debug',
      ],
      {
        startNode,
        signals,
        cwd: '/srv/gkm',
        env: { GKM_BOOTSTRAP: '/ip4/127.0.0.1/tcp/9' },
      },
    )
    await until(() => signals.listenerCount('SIGINT') === 1)
    assert.equal(signals.listenerCount('SIGTERM'), 1)
    const c = state.config!
    assert.equal(c.dataDir, '/srv/gkm/d')
    assert.equal(c.http.port, 7999)
    assert.deepEqual(c.listen, ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'])
    assert.deepEqual(c.bootstrap, ['/ip4/127.0.0.1/tcp/9'])
    assert.equal(c.mdns.enabled, false)
    assert.equal(c.mesh.enabled, true)
    assert.equal(c.log.level, 'debug')

    signals.emit('SIGINT')
    assert.equal(state.stops, 1)
    state.release()
    const r = await done
    assert.equal(r.code, 0, r.stderr)
    assert.equal(
      r.stdout,
      'gkm-sync node 12D3KooWfake | http http://127.0.0.1:7420 | data /srv/gkm/d | mesh /ip4/127.0.0.1/tcp/1 /ip4/127.0.0.1/tcp/2 | mdns off | federation default: open federation (no allow-list)\n',
    )
    assert.match(r.stderr, /stopping/)
    assert.match(r.stderr, /stopped\n$/)
    assert.equal(signals.listenerCount('SIGINT'), 0, 'signal handlers removed')
  })

  it('without --no-mdns / --no-mesh leaves them as configured; SIGTERM stops too', async () => {
    const { state, startNode } = fakeNode({ listenAddrs: ['/ip4/127.0.0.1/tcp/40000'] })
    const signals = new EventEmitter()
    const done = run(['start'], { startNode, signals, cwd: '/x', env: { GKM_NO_MDNS: '1' } })
    await until(() => signals.listenerCount('SIGTERM') === 1)
    assert.equal(state.config!.mdns.enabled, false, 'environment kept')
    assert.equal(state.config!.mesh.enabled, true)
    signals.emit('SIGTERM')
    state.release()
    const r = await done
    assert.equal(r.code, 0)
    assert.match(r.stdout, /\| mesh \/ip4\/127\.0\.0\.1\/tcp\/40000 \| mdns off \|/)
  })

  it('--no-mesh, and an allow-list from the config file, show in the start-up line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gkm-start-'))
    try {
      const file = join(dir, 'node.json')
      writeFileSync(
        file,
        JSON.stringify({
          federation: 'lab',
          members: ['a'.repeat(64), 'b'.repeat(64)],
          membersFile: 'more.txt',
        }),
      )
      const { state, startNode } = fakeNode()
      const signals = new EventEmitter()
      const done = run(['start', '--no-mesh', '--config', file], { startNode, signals, cwd: '/x' })
      await until(() => signals.listenerCount('SIGINT') === 1)
      assert.equal(state.config!.mesh.enabled, false)
      signals.emit('SIGINT')
      state.release()
      const r = await done
      assert.match(
        r.stdout,
        new RegExp(`\\| mesh off \\| federation lab: members 2 listed \\+ from ${join(dir, 'more.txt')}\\n$`),
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('a config error stops before any node starts', async () => {
    const { state, startNode } = fakeNode()
    const r = await run(['start', '--config', '/nonexistent/node.json'], { startNode, cwd: '/x' })
    assert.equal(r.code, 1)
    assert.equal(r.stderr, 'gkm-sync: config: /nonexistent/node.json: config file not found\n')
    assert.equal(state.config, undefined)
  })

  it('a second signal while stopping exits at once', async () => {
    const { state, startNode } = fakeNode()
    const signals = new EventEmitter()
    const exits: number[] = []
    const done = run(['start', '--no-mesh'], {
      startNode,
      signals,
      cwd: '/x',
      exit: (c) => void exits.push(c),
    })
    await until(() => signals.listenerCount('SIGINT') === 1)
    signals.emit('SIGINT')
    signals.emit('SIGINT')
    assert.deepEqual(exits, [130])
    state.release()
    assert.match((await done).stderr, /second signal: exiting now/)
  })

  it('a node that fails to start with a coded error: one line, exit 1', async () => {
    const startNode = async () => {
      throw Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:7420'), {
        code: 'EADDRINUSE',
      })
    }
    const r = await run(['start', '--no-mesh'], { startNode, cwd: '/x' })
    assert.equal(r.code, 1)
    assert.equal(r.stderr, 'gkm-sync: listen EADDRINUSE: address already in use 127.0.0.1:7420\n')
  })

  it('an unexpected error (a bug) prints its stack', async () => {
    const startNode = async () => {
      throw new TypeError('x is not a function')
    }
    const r = await run(['start', '--no-mesh'], { startNode, cwd: '/x' })
    assert.equal(r.code, 1)
    assert.match(
      r.stderr,
      /unexpected error \(a bug; please report it\):\nTypeError: x is not a function\n\s+at /,
    )
  })
})
