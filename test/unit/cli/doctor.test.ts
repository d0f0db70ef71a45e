/** `gkm-sync doctor` on loopback only: what it finds, what it says to fix, its exit code. */
import assert from 'node:assert/strict'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { peerIdFromAuthorKey } from '../../../src/net/index.ts'
import { run } from './run.ts'

const PEER = peerIdFromAuthorKey('ab'.repeat(32))

async function listening(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.destroy())
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, r))
  return { server, port: (server.address() as { port: number }).port }
}

describe('gkm-sync doctor', () => {
  const dirs: string[] = []
  const servers: Server[] = []
  after(async () => {
    for (const s of servers) await new Promise((r) => s.close(r))
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  async function setup(config: Record<string, unknown>) {
    const dir = await mkdtemp(join(tmpdir(), 'gkm-doctor-'))
    dirs.push(dir)
    const file = join(dir, 'node.json')
    await writeFile(file, JSON.stringify({ dataDir: join(dir, 'data'), ...config }))
    return { dir, file }
  }

  it('finds nothing wrong on a fresh loopback setup with a reachable peer; exit 0', async () => {
    const peer = await listening()
    servers.push(peer.server)
    const { file } = await setup({
      http: { host: '127.0.0.1', port: 0 },
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: [`/ip4/127.0.0.1/tcp/${peer.port}/p2p/${PEER}`],
      mdns: { enabled: false },
    })
    const r = await run(['doctor', '--config', file])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /ok +bootstrap peer 127\.0\.0\.1:\d+ accepts connections/)
    assert.match(r.stdout, /will be created/)
    assert.match(r.stdout, /no problems found/)
  })

  it('reports a busy port, a readable key and an unreachable peer, with fixes; exit 1', async () => {
    const busy = await listening()
    servers.push(busy.server)
    const closed = await listening()
    await new Promise((r) => closed.server.close(r))
    const { dir, file } = await setup({
      http: { host: '127.0.0.1', port: busy.port },
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: [`/ip4/127.0.0.1/tcp/${closed.port}/p2p/${PEER}`],
      mdns: { enabled: false },
    })
    const data = join(dir, 'data')
    await (await import('node:fs/promises')).mkdir(data)
    await writeFile(join(data, 'identity.key'), Buffer.alloc(32, 1))
    await chmod(join(data, 'identity.key'), 0o644)
    const r = await run(['doctor', '--config', file])
    assert.equal(r.code, 1)
    assert.match(
      r.stdout,
      new RegExp(`PROBLEM HTTP 127\\.0\\.0\\.1:${busy.port} cannot be bound \\(EADDRINUSE\\)`),
    )
    assert.match(r.stdout, /PROBLEM identity key .* has mode 644: others can read it\n {8}fix: chmod 600 /)
    assert.match(r.stdout, /PROBLEM bootstrap peer .* is unreachable \(ECONNREFUSED\)/)
    assert.match(r.stdout, /3 problem\(s\) found/)
  })
})
