/** Client options as users type them: `peers --help`, `--node --json`, a bad `--since`,
 *  an empty `--bootstrap`, and progress output. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isTty, PLAIN_LINE_MS, progressBar, progressLine } from '../../../src/cli/progress.ts'
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

  it('redraws one line in place on a terminal and ends it, as far as it got, with a newline', () => {
    let out = ''
    let t = 0
    const bar = progressBar({ write: (s: string) => (out += s) }, 'pushing', true, () => t)
    bar.update(5, 10)
    t += 10
    bar.update(7, 10) // within the redraw interval: not drawn now
    assert.ok(!out.includes('7/10'))
    bar.done() // a push that failed at 7 of 10 ends at 70 %, not 100 %
    assert.ok(out.startsWith('\rpushing ['))
    assert.ok(out.endsWith('] 70% 7/10\u001b[K\n'), JSON.stringify(out))
    assert.equal(out.split('\n').length, 2)
  })

  it('a count line without a total: redrawn on a terminal, one line per interval elsewhere', () => {
    let out = ''
    let t = 0
    const line = progressLine({ write: (s: string) => (out += s) }, 'reconciling', false, () => t)
    line.update('fetched 0 events')
    for (let i = 1; i <= 95; i++) {
      t += 100 // 9.5 s in all: a line at 0 s and at 5 s
      line.update(`fetched ${i * 10} events`)
    }
    line.done()
    const lines = out.trim().split('\n')
    assert.equal(lines[0], 'reconciling: fetched 0 events')
    assert.deepEqual(lines, [
      'reconciling: fetched 0 events',
      `reconciling: fetched ${(PLAIN_LINE_MS / 100) * 10} events`,
      'reconciling: fetched 950 events', // the last counts, written by done()
    ])

    let tty = ''
    const onTty = progressLine({ write: (s: string) => (tty += s) }, 'reconciling', true, () => t)
    onTty.update('fetched 1 events')
    onTty.update('fetched 2 events') // same instant: drawn at done()
    onTty.done()
    assert.equal(tty, '\rreconciling: fetched 1 events\u001b[K\rreconciling: fetched 2 events\u001b[K\n')
    let none = ''
    progressLine({ write: (s: string) => (none += s) }, 'x', true).done()
    assert.equal(none, '', 'nothing shown, nothing written')
  })
})
