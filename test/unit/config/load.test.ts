import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import {
  CONFIG_DEFAULTS,
  CONFIG_EVENT_TYPES,
  type ConfigError,
  type GkmConfig,
  isConfigError,
  isLoopbackHost,
  isMultiaddrText,
  loadConfig,
  parseHostPort,
} from '../../../src/config/index.ts'
import { HLC_DRIFT_MAX_MS_DEFAULT } from '../../../src/core/constants.ts'
import { EVENT_TYPES } from '../../../src/core/types.ts'

const dir = mkdtempSync(join(tmpdir(), 'gkm-config-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const KEY_A = 'a'.repeat(64)
const KEY_B = 'B'.repeat(64)
const TOKEN = 'x'.repeat(32)

let fileCount = 0
function writeConfig(value: unknown): string {
  const file = join(dir, `config-${++fileCount}.json`)
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value))
  return file
}

/** Loads with an empty environment so the developer's own GKM_* never leak into a test. */
function load(opts: Parameters<typeof loadConfig>[0] = {}): GkmConfig {
  return loadConfig({ env: {}, cwd: dir, ...opts })
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    assert.ok(isConfigError(err), `expected a ConfigError, got ${String(err)}`)
    return err as ConfigError
  }
  assert.fail('expected a ConfigError')
}

describe('defaults', () => {
  it('gives every documented default, with an absolute data dir', () => {
    const c = load()
    assert.equal(c.dataDir, join(dir, '.gkm'))
    assert.equal(c.federation, 'default')
    assert.deepEqual(c.http, { host: '127.0.0.1', port: 7420, bodyBytesMax: 16 * 1024 * 1024 })
    assert.deepEqual(c.dataTypes, ['vector_update', 'persona_update', 'document_update', 'graph_update'])
    assert.equal(c.hlcDriftMaxMs, 60_000)
    assert.equal(c.members, undefined)
    assert.equal(c.membersFile, undefined)
    assert.deepEqual(c.ingest, {
      groupEventsMax: 2000,
      queueEventsMax: 50_000,
      queueBytesMax: 48 * 1024 * 1024,
      groupBytesMax: 8 * 1024 * 1024,
    })
    assert.deepEqual(c.yjs, { workers: 2, timeoutMs: 1000, memoryMb: 64 })
    assert.deepEqual(c.listen, ['/ip4/0.0.0.0/tcp/7421'])
    assert.deepEqual(c.mdns, { enabled: true })
    assert.deepEqual(c.bootstrap, [])
    assert.equal(c.pnetKeyFile, undefined)
    assert.deepEqual(c.mesh, {
      enabled: true,
      reconcileIntervalMs: 10_000,
      gossip: true,
      targetConnections: 8,
      directPeersMax: 16,
      ingestGatherMs: 10,
    })
    assert.deepEqual(c.limits, {
      connectionsMax: 300,
      inboundConnectionThreshold: 100,
      streamsPerProtocolInbound: 32,
      streamsPerProtocolOutbound: 64,
      streamOpensPerPeerPerSecond: 20,
      frameBytesMax: 4 * 1024 * 1024,
    })
    assert.deepEqual(c.log, { level: 'info' })
  })

  it('agrees with the core on event types and clock drift', () => {
    assert.deepEqual([...CONFIG_EVENT_TYPES], [...EVENT_TYPES])
    assert.equal(CONFIG_DEFAULTS.hlcDriftMaxMs, HLC_DRIFT_MAX_MS_DEFAULT)
  })

  it('does not share mutable defaults between loads', () => {
    const a = load()
    a.listen.push('/ip4/127.0.0.1/tcp/1')
    a.http.port = 1
    const b = load()
    assert.deepEqual(b.listen, ['/ip4/0.0.0.0/tcp/7421'])
    assert.equal(b.http.port, 7420)
  })
})

describe('precedence: defaults < file < environment < flags', () => {
  const file = () =>
    writeConfig({
      dataDir: 'data-from-file',
      http: { port: 1111 },
      listen: ['/ip4/127.0.0.1/tcp/1'],
      bootstrap: ['/ip4/127.0.0.1/tcp/2'],
      log: { level: 'warn' },
    })

  it('file overrides defaults and keeps the defaults of fields it leaves out', () => {
    const c = load({ file: file() })
    assert.equal(c.dataDir, join(dir, 'data-from-file'))
    assert.equal(c.http.port, 1111)
    assert.equal(c.http.host, '127.0.0.1')
    assert.equal(c.http.bodyBytesMax, 16 * 1024 * 1024)
    assert.equal(c.log.level, 'warn')
  })

  it('environment overrides the file', () => {
    const c = load({
      file: file(),
      env: {
        GKM_DATA_DIR: 'data-from-env',
        GKM_HTTP: '127.0.0.2:2222',
        GKM_HTTP_TOKEN: TOKEN,
        GKM_LISTEN: '/ip4/127.0.0.1/tcp/3, /ip4/127.0.0.1/tcp/4',
        GKM_BOOTSTRAP: '/ip4/127.0.0.1/tcp/5,peers.txt',
        GKM_NO_MDNS: '1',
        GKM_LOG_LEVEL: 'debug',
      },
    })
    assert.equal(c.dataDir, join(dir, 'data-from-env'))
    assert.deepEqual(c.http, { host: '127.0.0.2', port: 2222, token: TOKEN, bodyBytesMax: 16 * 1024 * 1024 })
    assert.deepEqual(c.listen, ['/ip4/127.0.0.1/tcp/3', '/ip4/127.0.0.1/tcp/4'])
    assert.deepEqual(c.bootstrap, ['/ip4/127.0.0.1/tcp/5', join(dir, 'peers.txt')])
    assert.equal(c.mdns.enabled, false)
    assert.equal(c.log.level, 'debug')
  })

  it('flags override the environment', () => {
    const c = load({
      file: file(),
      env: {
        GKM_DATA_DIR: 'data-from-env',
        GKM_HTTP: '127.0.0.2:2222',
        GKM_LISTEN: '/ip4/127.0.0.1/tcp/3',
        GKM_LOG_LEVEL: 'debug',
      },
      flags: {
        dataDir: 'data-from-flag',
        http: '[::1]:3333',
        listen: ['/ip4/127.0.0.1/tcp/6'],
        bootstrap: ['/ip4/127.0.0.1/tcp/7'],
        mdns: false,
        mesh: false,
        logLevel: 'error',
      },
    })
    assert.equal(c.dataDir, join(dir, 'data-from-flag'))
    assert.equal(c.http.host, '::1')
    assert.equal(c.http.port, 3333)
    assert.deepEqual(c.listen, ['/ip4/127.0.0.1/tcp/6'])
    assert.deepEqual(c.bootstrap, ['/ip4/127.0.0.1/tcp/7'])
    assert.equal(c.mdns.enabled, false)
    assert.equal(c.mesh.enabled, false)
    assert.equal(c.log.level, 'error')
  })

  it('GKM_CONFIG names the file; an explicit file wins over it', () => {
    const a = writeConfig({ federation: 'from-env-file' })
    const b = writeConfig({ federation: 'from-explicit-file' })
    assert.equal(load({ env: { GKM_CONFIG: a } }).federation, 'from-env-file')
    assert.equal(load({ file: b, env: { GKM_CONFIG: a } }).federation, 'from-explicit-file')
  })

  it('treats empty environment values as unset', () => {
    const c = load({ env: { GKM_HTTP: '', GKM_DATA_DIR: '  ', GKM_HTTP_TOKEN: '', GKM_NO_MDNS: '' } })
    assert.equal(c.http.port, 7420)
    assert.equal(c.http.token, undefined)
    assert.equal(c.mdns.enabled, true)
  })

  it('GKM_NO_MDNS=0 leaves mDNS as configured', () => {
    assert.equal(load({ env: { GKM_NO_MDNS: '0' } }).mdns.enabled, true)
  })

  it('resolves paths in the file relative to the file, and env/flag paths relative to cwd', () => {
    const file = writeConfig({
      dataDir: 'd',
      membersFile: 'members.txt',
      pnetKeyFile: '/etc/gkm/swarm.key',
      bootstrap: ['peers.txt', '/dns4/example.org/tcp/7421'],
    })
    const c = load({ file, cwd: '/somewhere/else' })
    assert.equal(c.dataDir, join(dir, 'd'))
    assert.equal(c.membersFile, join(dir, 'members.txt'))
    assert.equal(c.pnetKeyFile, '/etc/gkm/swarm.key')
    assert.deepEqual(c.bootstrap, [join(dir, 'peers.txt'), '/dns4/example.org/tcp/7421'])
    assert.equal(load({ flags: { dataDir: 'x' }, cwd: '/srv' }).dataDir, '/srv/x')
  })
})

describe('normalisation', () => {
  it('accepts the spec short names for data types, dedupes and orders them', () => {
    const c = load({ file: writeConfig({ dataTypes: ['graph', 'vector', 'vector_update', 'persona'] }) })
    assert.deepEqual(c.dataTypes, ['vector_update', 'persona_update', 'graph_update'])
  })

  it('lowercases and dedupes member keys', () => {
    const c = load({ file: writeConfig({ members: [KEY_A, KEY_B, KEY_B.toLowerCase()] }) })
    assert.deepEqual(c.members, [KEY_A, KEY_B.toLowerCase()])
  })

  it('ignores a $schema key (editor support)', () => {
    const c = load({ file: writeConfig({ $schema: './gkm.schema.json', federation: 'f' }) })
    assert.equal(c.federation, 'f')
    assert.equal('$schema' in c, false)
  })
})

describe('errors name the field, the reason, the value and its source', () => {
  it('port that is not a number, from an environment variable', () => {
    const err = configError(() => load({ env: { GKM_HTTP: '127.0.0.1:abc' } }))
    assert.equal(err.name, 'ConfigError')
    assert.equal(err.code, 'config_invalid')
    assert.equal(err.message, 'config: http.port: must be an integer 0..65535 (got "abc" from GKM_HTTP)')
    assert.deepEqual(
      err.issues.map((i) => i.path),
      ['http.port'],
    )
  })

  it('port out of range, from a flag', () => {
    const err = configError(() => load({ flags: { http: '127.0.0.1:70000' } }))
    assert.match(err.message, /^config: http\.port: must be an integer 0\.\.65535 \(got 70000 from --http\)$/)
  })

  it('HOST:PORT that does not parse', () => {
    const err = configError(() => load({ env: { GKM_HTTP: 'localhost' } }))
    assert.match(err.message, /^config: http: must be HOST:PORT .*got "localhost" from GKM_HTTP/)
  })

  const cases: Array<[string, unknown, RegExp]> = [
    ['dataDir', { dataDir: '' }, /^config: dataDir: must be a path/],
    ['federation', { federation: 'has space' }, /^config: federation: must be a name/],
    ['http.host', { http: { host: 'a b' } }, /^config: http\.host: must be an IP address or host name/],
    [
      'http.token',
      { http: { token: 'short' } },
      /^config: http\.token: must be 16\.\.512 visible ASCII characters.*\(got 5 characters from /,
    ],
    [
      'http.bodyBytesMax',
      { http: { bodyBytesMax: 10 } },
      /^config: http\.bodyBytesMax: must be an integer 131072\.\.1073741824 \(bytes\) \(got 10 from /,
    ],
    [
      'dataTypes.1',
      { dataTypes: ['vector', 'vectors'] },
      /^config: dataTypes\.1: must be one of vector_update, .*\(got "vectors"/,
    ],
    ['dataTypes', { dataTypes: [] }, /^config: dataTypes: must name at least one event type/],
    [
      'hlcDriftMaxMs',
      { hlcDriftMaxMs: 1.5 },
      /^config: hlcDriftMaxMs: must be an integer 0\.\.86400000 \(ms\) \(got 1\.5/,
    ],
    [
      'members.1',
      { members: [KEY_A, 'abc'] },
      /^config: members\.1: must be a 64-hex-digit Ed25519 public key \(got "abc"/,
    ],
    ['members', { members: [] }, /^config: members: must list at least one key/],
    ['membersFile', { membersFile: 7 }, /^config: membersFile: must be a path .*\(got 7/],
    [
      'ingest.groupEventsMax',
      { ingest: { groupEventsMax: 0 } },
      /^config: ingest\.groupEventsMax: must be an integer 1\.\./,
    ],
    [
      'ingest.queueEventsMax',
      { ingest: { groupEventsMax: 100, queueEventsMax: 10 } },
      /^config: ingest\.queueEventsMax: must be at least ingest\.groupEventsMax \(100\)/,
    ],
    [
      'ingest.queueBytesMax',
      { ingest: { groupBytesMax: 4 * 1024 * 1024, queueBytesMax: 2 * 1024 * 1024 } },
      /^config: ingest\.queueBytesMax: must be at least ingest\.groupBytesMax \(4194304\)/,
    ],
    [
      'ingest.groupBytesMax',
      { ingest: { groupBytesMax: 1000 } },
      /^config: ingest\.groupBytesMax: must be an integer 65536\.\./,
    ],
    ['yjs.workers', { yjs: { workers: 0 } }, /^config: yjs\.workers: must be an integer 1\.\.64/],
    [
      'yjs.timeoutMs',
      { yjs: { timeoutMs: '250' } },
      /^config: yjs\.timeoutMs: must be an integer .*\(got "250"/,
    ],
    ['yjs.memoryMb', { yjs: { memoryMb: 1 } }, /^config: yjs\.memoryMb: must be an integer 8\.\./],
    [
      'listen.0',
      { listen: ['0.0.0.0:7421'] },
      /^config: listen\.0: must be a multiaddr such as \/ip4\/0\.0\.0\.0\/tcp\/7421/,
    ],
    ['listen', { listen: '/ip4/0.0.0.0/tcp/1' }, /^config: listen: must be an array of multiaddrs/],
    ['mdns.enabled', { mdns: { enabled: 'yes' } }, /^config: mdns\.enabled: must be true or false/],
    ['mdns.interface', { mdns: { interface: '' } }, /^config: mdns\.interface: must be an interface name/],
    ['bootstrap.0', { bootstrap: [''] }, /^config: bootstrap\.0: must be a multiaddr or a file path/],
    ['pnetKeyFile', { pnetKeyFile: '' }, /^config: pnetKeyFile: must be a path/],
    ['mesh.enabled', { mesh: { enabled: 1 } }, /^config: mesh\.enabled: must be true or false/],
    [
      'limits.connectionsMax',
      { limits: { connectionsMax: -1 } },
      /^config: limits\.connectionsMax: must be an integer 1\.\./,
    ],
    [
      'limits.inboundConnectionThreshold',
      { limits: { inboundConnectionThreshold: 0 } },
      /^config: limits\.inboundConnectionThreshold: /,
    ],
    [
      'limits.streamsPerProtocolInbound',
      { limits: { streamsPerProtocolInbound: 5000 } },
      /^config: limits\.streamsPerProtocolInbound: /,
    ],
    [
      'limits.streamsPerProtocolOutbound',
      { limits: { streamsPerProtocolOutbound: 0 } },
      /^config: limits\.streamsPerProtocolOutbound: /,
    ],
    [
      'limits.streamOpensPerPeerPerSecond',
      { limits: { streamOpensPerPeerPerSecond: 0 } },
      /^config: limits\.streamOpensPerPeerPerSecond: /,
    ],
    [
      'limits.frameBytesMax',
      { limits: { frameBytesMax: 1024 } },
      /^config: limits\.frameBytesMax: must be an integer 131072\.\./,
    ],
    [
      'log.level',
      { log: { level: 'verbose' } },
      /^config: log\.level: must be one of error, warn, info, debug, trace \(got "verbose"/,
    ],
  ]
  for (const [path, value, re] of cases) {
    it(`${path}`, () => {
      const file = writeConfig(value)
      const err = configError(() => load({ file }))
      assert.match(err.message, re)
      assert.deepEqual(
        err.issues.map((i) => i.path),
        [path],
      )
      if (!path.startsWith('ingest.queue')) assert.ok(err.message.includes(`from ${file}`), err.message)
    })
  }

  it('never echoes a token back', () => {
    const err = configError(() => load({ env: { GKM_HTTP_TOKEN: 'secret' } }))
    assert.equal(err.message.includes('secret'), false, err.message)
    assert.match(err.message, /got 6 characters from GKM_HTTP_TOKEN/)
  })

  it('lists every issue at once, one line each', () => {
    const err = configError(() => load({ file: writeConfig({ http: { port: -1 }, log: { level: 'loud' } }) }))
    assert.deepEqual(
      err.issues.map((i) => i.path),
      ['http.port', 'log.level'],
    )
    assert.equal(err.message.split('\n').length, 2)
  })

  it('an invalid GKM_NO_MDNS value', () => {
    const err = configError(() => load({ env: { GKM_NO_MDNS: 'maybe' } }))
    assert.match(err.message, /^config: mdns\.enabled: GKM_NO_MDNS must be 1/)
  })
})

describe('unknown keys', () => {
  it('are errors, with the closest known key suggested', () => {
    const file = writeConfig({ http: { prot: 7000 }, dataDri: 'x' })
    const err = configError(() => load({ file }))
    const messages = err.issues.map((i) => `${i.path}: ${i.message}`).sort()
    assert.deepEqual(messages, [
      `dataDri: unknown key (did you mean "dataDir"?) from ${file}`,
      `http.prot: unknown key (did you mean "port"?) from ${file}`,
    ])
  })

  it('are errors without a suggestion when nothing is close', () => {
    const err = configError(() => load({ file: writeConfig({ limits: { somethingElse: 1 } }) }))
    assert.match(err.message, /^config: limits\.somethingElse: unknown key from /)
  })

  it('a "__proto__" key is reported, not merged into the prototype', () => {
    const err = configError(() => load({ file: writeConfig('{"http": {"__proto__": {"port": "x"}}}') }))
    assert.match(err.message, /^config: http\.__proto__: unknown key/)
  })
})

describe('HTTP exposure', () => {
  const message =
    'config: http.token: a bearer token is required when the HTTP API is bound to a non-loopback address (http.host is "0.0.0.0"); set GKM_HTTP_TOKEN or http.token'

  it('a non-loopback host without a token is an error', () => {
    const err = configError(() => load({ flags: { http: '0.0.0.0:7420' } }))
    assert.equal(err.message, message)
  })

  it('a non-loopback host with a token is fine', () => {
    const c = load({ flags: { http: '0.0.0.0:7420' }, env: { GKM_HTTP_TOKEN: TOKEN } })
    assert.equal(c.http.host, '0.0.0.0')
    assert.equal(c.http.token, TOKEN)
  })

  it('loopback hosts need no token', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '::ffff:127.0.0.1'])
      assert.ok(isLoopbackHost(host), host)
    for (const host of ['0.0.0.0', '::', '192.168.1.2', 'example.org', '::ffff:10.0.0.1'])
      assert.ok(!isLoopbackHost(host), host)
    assert.equal(load({ flags: { http: 'localhost:1' } }).http.host, 'localhost')
  })
})

describe('the config file itself', () => {
  it('missing file', () => {
    const file = join(dir, 'nope.json')
    const err = configError(() => load({ file }))
    assert.equal(err.message, `config: ${file}: config file not found`)
  })

  it('not JSON', () => {
    const file = writeConfig('{ "dataDir": ')
    assert.match(
      configError(() => load({ file })).message,
      new RegExp(`^config: ${file}: config file is not valid JSON: `),
    )
  })

  it('not an object', () => {
    const file = writeConfig('[1, 2]')
    assert.match(configError(() => load({ file })).message, /config file must hold a JSON object/)
  })
})

describe('helpers', () => {
  it('parseHostPort', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:7420'), { host: '127.0.0.1', port: 7420 })
    assert.deepEqual(parseHostPort('[::1]:80'), { host: '::1', port: 80 })
    assert.deepEqual(parseHostPort('h:abc'), { host: 'h', port: 'abc' })
    assert.equal(parseHostPort('::1:80'), undefined)
    assert.equal(parseHostPort('host'), undefined)
  })

  it('isMultiaddrText tells multiaddrs from file paths', () => {
    assert.ok(isMultiaddrText('/ip4/10.0.0.1/tcp/7421/p2p/12D3KooW'))
    assert.ok(isMultiaddrText('/dns4/node.example.org/tcp/7421'))
    assert.ok(!isMultiaddrText('/etc/gkm/bootstrap.txt'))
    assert.ok(!isMultiaddrText('bootstrap/lan.txt'))
  })
})

describe('values given in code', () => {
  it('lie over the file and under the environment and flags', () => {
    const file = writeConfig({ federation: 'file', http: { port: 1 }, yjs: { workers: 3 } })
    const values = {
      federation: 'code',
      http: { port: 2, token: undefined },
      mesh: { enabled: false },
      dataDir: 'rel',
    }
    const c = load({ file, values, env: { GKM_HTTP: '127.0.0.1:3' }, cwd: '/base' })
    assert.equal(c.federation, 'code')
    assert.equal(c.http.port, 3)
    assert.equal(c.http.token, undefined)
    assert.equal(c.yjs.workers, 3)
    assert.equal(c.mesh.enabled, false)
    assert.equal(c.dataDir, '/base/rel')
    assert.deepEqual(values.http, { port: 2, token: undefined }, "the caller's object is not modified")
  })

  it('are checked like a file', () => {
    const err = configError(() => load({ values: { http: { port: 'x' }, nope: 1 } }))
    assert.deepEqual(err.issues.map((i) => i.message).sort(), [
      'must be an integer 0..65535 (got "x" from loadConfig values)',
      'unknown key from loadConfig values',
    ])
  })
})

describe('loadConfig reads the environment only when asked', () => {
  it('ignores process.env without env or readEnv, reads it with readEnv: true', () => {
    const saved = process.env.GKM_HTTP
    process.env.GKM_HTTP = '127.0.0.1:7999'
    try {
      assert.equal(loadConfig({ cwd: dir }).http.port, CONFIG_DEFAULTS.http.port)
      assert.equal(loadConfig({ cwd: dir, readEnv: true }).http.port, 7999)
      // An explicit env wins over readEnv.
      assert.equal(
        loadConfig({ cwd: dir, readEnv: true, env: { GKM_HTTP: '127.0.0.1:7998' } }).http.port,
        7998,
      )
    } finally {
      if (saved === undefined) delete process.env.GKM_HTTP
      else process.env.GKM_HTTP = saved
    }
  })
})
