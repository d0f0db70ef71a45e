/**
 * Start-up errors that say what is wrong (issue 9, defect 9): each refused start prints one
 * line naming the cause and the file, port or flag, no stack, and exits 1.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { runCli } from '../../src/cli/program.ts'
import { loadConfig } from '../../src/config/index.ts'
import { startNode } from '../../src/node/index.ts'
import { copyDir, nodeConfig, storeWithTables } from '../helpers/store-files.ts'

async function start(args: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = []
  const code = await runCli(['start', '--http', '127.0.0.1:0', '--no-mdns', ...args], {
    stdout: { write: () => {} },
    stderr: { write: (s: string) => err.push(s) },
    env: {},
  })
  return { code, err: err.join('') }
}

function oneLineNoStack(text: string): void {
  assert.doesNotMatch(text, /unexpected error|\n\s+at /, text)
  assert.doesNotMatch(text, /Database failed to open/, text)
}

describe('start-up errors', () => {
  const dirs: string[] = []
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })
  const tempDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'gkm-start-'))
    dirs.push(d)
    return d
  }

  it('a data dir locked by a running node names LOCK', async () => {
    const dir = await tempDir()
    const running = await startNode(nodeConfig(dir))
    try {
      const r = await start(['--no-mesh', '--data-dir', dir])
      assert.equal(r.code, 1)
      oneLineNoStack(r.err)
      assert.match(r.err, new RegExp(`${join(dir, 'LOCK')} is held by another process`))
    } finally {
      await running.stop()
    }
  })

  it('a deleted table file and a corrupt MANIFEST name the file', async () => {
    const base = await storeWithTables(16)
    dirs.push(base.dir)
    const noTable = await copyDir(base.dir)
    dirs.push(noTable)
    const table = (await readdir(noTable)).filter((f) => f.endsWith('.ldb')).sort()[0]
    await unlink(join(noTable, table))
    const r1 = await start(['--no-mesh', '--data-dir', noTable])
    assert.equal(r1.code, 1)
    oneLineNoStack(r1.err)
    assert.match(r1.err, new RegExp(`table file ${join(noTable, table)} is missing`))
    assert.match(r1.err, /gkm-sync repair/)
    console.log(`# ${r1.err.trim()}`)

    const badManifest = await copyDir(base.dir)
    dirs.push(badManifest)
    const manifest = (await readdir(badManifest)).find((f) => f.startsWith('MANIFEST-'))!
    const { writeFile } = await import('node:fs/promises')
    await writeFile(join(badManifest, manifest), Buffer.alloc(200, 0x33))
    const r2 = await start(['--no-mesh', '--data-dir', badManifest])
    assert.equal(r2.code, 1)
    oneLineNoStack(r2.err)
    assert.match(r2.err, new RegExp(`the MANIFEST ${join(badManifest, manifest)} is unreadable`))
    console.log(`# ${r2.err.trim()}`)
    assert.match(r2.err, /gkm-sync repair/)
  })

  it('a mesh port in use names the address', async () => {
    const dir = await tempDir()
    const running = await startNode(
      loadConfig({
        env: {},
        flags: {
          dataDir: dir,
          http: '127.0.0.1:0',
          mesh: true,
          mdns: false,
          listen: ['/ip4/127.0.0.1/tcp/0'],
        },
      }),
    )
    try {
      const addr = running.listenAddrs.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/'))!
      const port = /\/tcp\/(\d+)/.exec(addr)![1]
      const listen = `/ip4/127.0.0.1/tcp/${port}`
      const r = await start(['--data-dir', await tempDir(), '--listen', listen])
      assert.equal(r.code, 1)
      oneLineNoStack(r.err)
      assert.match(r.err, new RegExp(`mesh listen address ${listen} is already in use`))
      console.log(`# ${r.err.trim()}`)
    } finally {
      await running.stop()
    }
  })

  it('an empty --bootstrap and a missing bootstrap file name the flag', async () => {
    const empty = await start([
      '--data-dir',
      await tempDir(),
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--bootstrap',
      '',
    ])
    assert.equal(empty.code, 1)
    oneLineNoStack(empty.err)
    assert.match(empty.err, /--bootstrap/)
    console.log(`# ${empty.err.trim()}`)
    const missing = await start([
      '--data-dir',
      await tempDir(),
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--bootstrap',
      '/nonexistent/peers.txt',
    ])
    assert.equal(missing.code, 1)
    oneLineNoStack(missing.err)
    assert.match(missing.err, /--bootstrap/)
    assert.match(missing.err, /\/nonexistent\/peers\.txt/)
    console.log(`# ${missing.err.trim()}`)
  })
})
