import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { run } from './run.ts'

const COMMANDS: Array<[string[], RegExp[]]> = [
  [
    ['start'],
    [
      /--data-dir <dir>/,
      /--http <host:port>/,
      /--config <file>/,
      /--listen <multiaddr>/,
      /--bootstrap <file\|multiaddr>/,
      /--no-mdns/,
      /--no-mesh/,
      /--log-level <level>/,
    ],
  ],
  [['keygen'], [/--data-dir <dir>/, /--force/, /mode 0600/]],
  [['push'], [/<file>/, /- for standard input/, /--node <url>/, /--token <token>/, /--json/]],
  [['pull'], [/--since <iso>/, /--types <list>/, /--cursor <cursor>/, /--limit <n>/, /--stream/]],
  [['conflicts'], [/--status <status>/, /"open", "resolved", "superseded",\s+"all"/]],
  [['resolve'], [/<conflict-id>/, /--strategy <strategy>/, /--value <json>/, /--deleted/]],
  [['rollback'], [/<type> <target>/, /--to-time <iso>/, /--to-event <digest>/]],
  [['status'], [/--node <url>/]],
  [['state'], [/<type> <target>/]],
  [['audit'], [/--after <seq>/, /--limit <n>/]],
  [['equivocations'], [/--limit <n>/]],
  [['peers'], [/list/, /add \[options\] <multiaddr>/]],
  [
    ['peers', 'add'],
    [/<multiaddr>/, /--node <url>/],
  ],
]

describe('help', () => {
  for (const [cmd, patterns] of COMMANDS) {
    it(`gkm-sync ${cmd.join(' ')} --help`, async () => {
      const r = await run([...cmd, '--help'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stderr, '')
      assert.match(r.stdout, new RegExp(`^Usage: gkm-sync ${cmd.join(' ')} `))
      for (const p of patterns) assert.match(r.stdout, p)
    })
  }

  it('gkm-sync help <command> is the same help', async () => {
    const a = await run(['help', 'pull'])
    const b = await run(['pull', '--help'])
    assert.equal(a.code, 0)
    assert.equal(a.stdout, b.stdout)
  })

  it('gkm-sync --help lists every command', async () => {
    const r = await run(['--help'])
    assert.equal(r.code, 0)
    for (const c of [
      'start',
      'keygen',
      'push',
      'pull',
      'conflicts',
      'resolve',
      'rollback',
      'status',
      'state',
      'audit',
      'equivocations',
      'peers',
    ]) {
      assert.match(r.stdout, new RegExp(`\\n  ${c} `), c)
    }
  })

  it('no arguments prints help and exits 1', async () => {
    const r = await run([])
    assert.equal(r.code, 1)
    assert.match(r.stdout, /^Usage: gkm-sync /)
  })

  it('--version', async () => {
    const r = await run(['--version'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/)
  })
})

describe('usage errors exit 1 with one line and no stack', () => {
  const cases: Array<[string[], RegExp]> = [
    [['bogus'], /^gkm-sync: unknown command 'bogus'/],
    [['statsu'], /Did you mean status\?/],
    [['status', '--bogus'], /^gkm-sync: unknown option '--bogus'/],
    [
      ['pull', '--limit', 'abc'],
      /^gkm-sync: option '--limit <n>' argument 'abc' is invalid\. must be an integer 1\.\.5000/,
    ],
    [['pull', '--limit', '0'], /must be an integer 1\.\.5000/],
    [
      ['conflicts', '--status', 'closed'],
      /argument 'closed' is invalid\. Allowed choices are open, resolved, superseded, all/,
    ],
    [['resolve', 'abc'], /required option '--strategy <strategy>' not specified/],
    [['resolve', '--strategy', 'prefer_local'], /missing required argument 'conflict-id'/],
    [['resolve', 'abc', '--strategy', 'manual_merge', '--value', '{bad'], /^gkm-sync: --value must be JSON/],
    [
      ['rollback', 'persona', 'p1'],
      /^gkm-sync: rollback needs exactly one of --to-time ISO or --to-event DIGEST/,
    ],
    [
      ['rollback', 'persona', 'p1', '--to-time', '2026-01-01T00:00:00Z', '--to-event', 'ab'],
      /exactly one of/,
    ],
    [['state', 'persona'], /missing required argument 'target'/],
    [['push'], /missing required argument 'file'/],
    [['push', '/nonexistent/events.json'], /^gkm-sync: no such file: \/nonexistent\/events\.json/],
    [['status', '--node', 'ftp://x'], /^gkm-sync: --node must be an http:\/\/ or https:\/\/ URL/],
    [['start', '--log-level', 'loud'], /Allowed choices are error, warn, info, debug, trace/],
    [
      ['start', '--http', '127.0.0.1:abc'],
      /^gkm-sync: config: http\.port: must be an integer 0\.\.65535 \(got "abc" from --http\)/,
    ],
    [
      ['start', '--http', '0.0.0.0:7420'],
      /^gkm-sync: config: http\.token: a bearer token is required when the HTTP API is bound to a non-loopback address/,
    ],
  ]
  for (const [argv, re] of cases) {
    it(argv.join(' ') || '(none)', async () => {
      const r = await run(argv)
      assert.equal(r.code, 1, `${r.stdout}${r.stderr}`)
      assert.match(r.stderr, re)
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
    })
  }
})
