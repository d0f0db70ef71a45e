/** Client options as users type them: `peers --help`, `--node --json`, a bad `--since`,
 *  an empty `--bootstrap`, and progress output. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isTty, progressBar } from '../../../src/cli/progress.ts'
import { loadConfig } from '../../../src/config/index.ts'
import { run } from './run.ts'

describe('client options', () => {
  it('peers --help lists --node, --token and --json', async () => {
    const r = await run(['peers', '--help'])
    assert.equal(r.code, 0)
    for (const o of ['--node <url>', '--token <token>', '--json']) assert.ok(r.stdout.includes(o), o)
  })

  it('--node followed by an option is reported, not taken as the URL', async () => {
    const r = await run(['status', '--node', '--json'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /--node needs a value \(got the option --json\)/)
  })

  it('a bad --since is reported as --since', async () => {
    const r = await run(['pull', '--since', 'yesterday'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /--since <iso>' argument 'yesterday' is invalid/)
    assert.doesNotMatch(r.stderr, /last_sync_time/)
  })

  it('an empty --bootstrap is refused with the flag named (not read as the working directory)', () => {
    assert.throws(
      () =>
        loadConfig({
          env: {},
          cwd: '/x',
          flags: { bootstrap: ['', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWA'] },
        }),
      /--bootstrap: is empty/,
    )
  })
})

describe('progress', () => {
  it('writes at most one line per 10 % when not a terminal', () => {
    let out = ''
    const bar = progressBar({ write: (t: string) => (out += t) }, 'rebuilding', false)
    for (let i = 0; i <= 1000; i += 10) bar.update(i, 1000)
    bar.done()
    const lines = out.trim().split('\n')
    assert.equal(lines.length, 11)
    assert.equal(lines[0], 'rebuilding: 0 of 1000 (0%)')
    assert.equal(lines.at(-1), 'rebuilding: 1000 of 1000 (100%)')
    assert.equal(isTty({ write: () => {} }), false)
  })

  it('redraws one line in place on a terminal and ends it with a newline', () => {
    let out = ''
    const bar = progressBar({ write: (t: string) => (out += t) }, 'pushing', true)
    bar.update(5, 10)
    bar.done()
    assert.ok(out.startsWith('\rpushing ['))
    assert.ok(out.endsWith('] 100% 10/10\n'))
    assert.equal(out.split('\n').length, 2)
  })
})
