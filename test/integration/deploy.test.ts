/**
 * deploy/gkm-sync.service runs: its ExecStart line (parsed from the unit file) with its
 * Environment= lines, the example config deploy/node.example.json in place of /etc/gkm/node.json,
 * and the overrides an operator would put in a drop-in (data dir, loopback HTTP and mesh ports,
 * mDNS off) given as GKM_* variables; then SIGTERM, as systemd sends it, must stop it cleanly.
 */

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { startupUrl } from '../helpers/node.ts'

const root = new URL('../../', import.meta.url).pathname

/** `Key=value` lines of a unit's [Service] section (repeated keys kept in order). */
function serviceLines(unit: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  let section = ''
  for (const raw of unit.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const s = /^\[(.+)\]$/.exec(line)
    if (s !== null) section = s[1]
    else if (section === 'Service') {
      const i = line.indexOf('=')
      out.push([line.slice(0, i), line.slice(i + 1)])
    }
  }
  return out
}

describe('deploy/gkm-sync.service', () => {
  const dirs: string[] = []
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('its ExecStart starts a node that SIGTERM stops cleanly', async () => {
    const lines = serviceLines(await readFile(join(root, 'deploy/gkm-sync.service'), 'utf8'))
    const execStart = lines.find(([k]) => k === 'ExecStart')?.[1]
    assert.ok(execStart, 'the unit has an ExecStart')
    assert.equal(lines.find(([k]) => k === 'KillSignal')?.[1], 'SIGTERM')
    const argv = execStart.split(/\s+/)
    assert.match(argv[0], /\/gkm-sync$/)
    const unitEnv = Object.fromEntries(
      lines.filter(([k]) => k === 'Environment').map(([, v]) => v.split('=', 2) as [string, string]),
    )
    // The installed command is the package's bin; the config is the example.
    argv[0] = join(root, 'bin/gkm-sync.js')
    const config = argv.indexOf('--config')
    assert.equal(argv[config + 1], '/etc/gkm/node.json')
    argv[config + 1] = join(root, 'deploy/node.example.json')

    const data = await mkdtemp(join(tmpdir(), 'gkm-deploy-'))
    dirs.push(data)
    const child = spawn(argv[0], argv.slice(1), {
      cwd: data,
      env: {
        ...process.env,
        ...unitEnv,
        PATH: `${join(root, 'node_modules/.bin')}${delimiter}${process.env.PATH}`,
        GKM_DATA_DIR: data,
        GKM_HTTP: '127.0.0.1:0',
        GKM_LISTEN: '/ip4/127.0.0.1/tcp/0',
        GKM_NO_MDNS: '1',
        GKM_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    let err = ''
    child.stderr.on('data', (d) => {
      err += d
    })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    try {
      const url = await startupUrl(child, () => err)
      assert.equal((await fetch(`${url}/health`)).status, 200)
      const metrics = await (await fetch(`${url}/metrics`)).text()
      assert.match(metrics, /^gkm_events_held 0$/m)
      assert.match(metrics, /^# TYPE libp2p_\w+/m, 'the CLI node exports libp2p metrics')
      assert.match(out, /mdns off/)
      assert.match(out, /federation example-federation/)
    } finally {
      child.kill('SIGTERM')
    }
    assert.equal(await exited, 0, `clean exit on SIGTERM; stderr: ${err}`)
    // JSON log lines on stderr (not a terminal): start and stop.
    const logged = err
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string })
    assert.ok(logged.some((l) => l.msg === 'node ready'))
    assert.ok(logged.some((l) => l.msg === 'node stopped'))
    assert.equal(((await stat(join(data, 'identity.key'))).mode & 0o777).toString(8), '600')
  })
})
