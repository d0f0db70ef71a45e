/**
 * Backup of a running node and restore into a new one (issue 9, "Backup"): the backup is
 * consistent while writes go on, a node started from it has the backup's state hash, and a node
 * restored from an old backup catches up from its peer. Two real nodes on 127.0.0.1, mDNS off.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { runCli } from '../../src/cli/program.ts'
import { restoreStore, startNode } from '../../src/node/index.ts'
import { createLevelStore } from '../../src/store/index.ts'
import { emptyMesh, postJson, waitFor } from '../helpers/mesh.ts'
import { nodeConfig } from '../helpers/store-files.ts'

function events(tag: string, n: number) {
  return Array.from({ length: n }, (_, i) => ({
    event_type: 'persona_update',
    target_id: `${tag}-${i % 50}`,
    payload: { op: 'set', fields: { [`f${i % 7}`]: `${tag}-${i}` } },
  }))
}

describe('backup and restore', () => {
  const mesh = emptyMesh()
  const dirs: string[] = []
  after(async () => {
    await mesh.close()
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('a backup taken during writes restores to its state hash; the restored node catches up', async () => {
    const a = await mesh.create()
    await a.start()
    await a.push(events('before', 500))
    const backups = await mkdtemp(join(tmpdir(), 'gkm-backups-'))
    dirs.push(backups)

    // Writes go on while the backup is taken (bounded: 20 pushes).
    let writing = true
    const writer = (async () => {
      for (let i = 0; i < 20 && writing; i++) await a.push(events(`during${i}`, 100))
    })()
    const out: string[] = []
    const progress: string[] = []
    const code = await runCli(['backup', join(backups, 'b1'), '--node', a.url, '--json'], {
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: (s: string) => progress.push(s) },
    })
    writing = false
    await writer
    assert.equal(code, 0, `${out.join('')}${progress.join('')}`)
    const backup = JSON.parse(out.join('')) as { events: number; last_seq: number; state_hash: string }
    // Progress on stderr (not a terminal: a line per 10 %), ending with the whole store copied.
    assert.match(progress.join(''), /^backing up: \d+ entries \(100%\)$/m, progress.join(''))
    assert.ok(backup.events >= 500)
    assert.equal(backup.last_seq, backup.events)

    // A second backup into the same directory is refused (409), not merged.
    const twice = await postJson(`${a.url}/admin/backup`, { dir: join(backups, 'b1') })
    assert.equal(twice.status, 409, JSON.stringify(twice.body))

    // Restore into a new directory: the node has exactly the backup's events and state hash.
    const fresh = await mkdtemp(join(tmpdir(), 'gkm-restored-'))
    dirs.push(fresh)
    const r = await restoreStore(join(backups, 'b1'), fresh, { nowMs: 1 })
    // The restored store starts a new own log: positions its node signed after the backup was
    // taken must never be signed again with other content (a fork of its log).
    const logOf = async (dir: string) => {
      const st = createLevelStore(dir)
      await st.open()
      try {
        return await st.getMeta('log')
      } finally {
        await st.close()
      }
    }
    const [before, after] = [await logOf(join(backups, 'b1')), await logOf(fresh)]
    assert.match(String(before), /^[0-9a-f]{16}$/)
    assert.match(String(after), /^[0-9a-f]{16}$/)
    assert.notEqual(after, before)
    assert.equal(r.stateHash, backup.state_hash)
    const restored = await startNode(nodeConfig(fresh), {})
    try {
      const s = await restored.api.status()
      assert.equal(s.events, backup.events)
      assert.equal(s.state_hash, backup.state_hash)
    } finally {
      await restored.stop()
    }
    // Rebuilt from the log, the restored store gives the same hash.
    const rebuilt = await startNode(nodeConfig(fresh), { rebuild: true })
    try {
      assert.equal((await rebuilt.api.status()).state_hash, backup.state_hash)
    } finally {
      await rebuilt.stop()
    }

    // Restoring over a store is refused without --force, and with it the old store is kept aside.
    await assert.rejects(restoreStore(join(backups, 'b1'), fresh, { nowMs: 2 }), /needs --force/)
    const err: string[] = []
    const refused = await runCli(['restore', join(backups, 'b1'), '--data-dir', fresh], {
      stdout: { write: () => {} },
      stderr: { write: (s: string) => err.push(s) },
      env: {},
    })
    assert.equal(refused, 1)
    assert.match(err.join(''), /^gkm-sync: .*already holds a store: restoring over it needs --force/)
    const forced = await restoreStore(join(backups, 'b1'), fresh, { nowMs: 3, force: true })
    assert.ok(forced.movedAside !== undefined)
    assert.ok((await readdir(forced.movedAside!)).includes('CURRENT'))

    // The backup is now old: A moves on, then node B starts from the backup and catches up.
    await a.push(events('after', 300))
    const b = await mesh.create({ bootstrap: [a.addr()] })
    await restoreStore(join(backups, 'b1'), b.dir, { nowMs: 4 })
    await b.start()
    const target = await a.status()
    await waitFor(
      'the restored node to catch up',
      async () => (await b.status()).state_hash === target.state_hash,
      60_000,
      async () => ({ a: target.events, b: (await b.status()).events }),
    )
    assert.equal((await b.status()).events, target.events)
  })

  it('restore refuses a directory that is not a backup, and a running node', async () => {
    const a = await mesh.create()
    await a.start()
    const notABackup = await mkdtemp(join(tmpdir(), 'gkm-empty-'))
    dirs.push(notABackup)
    await assert.rejects(
      restoreStore(notABackup, a.dir, { nowMs: 1, force: true }),
      /holds no gkm-sync store/,
    )
    const backups = await mkdtemp(join(tmpdir(), 'gkm-backups-'))
    dirs.push(backups)
    assert.equal((await postJson(`${a.url}/admin/backup`, { dir: join(backups, 'x') })).status, 200)
    await assert.rejects(restoreStore(join(backups, 'x'), a.dir, { nowMs: 1, force: true }), {
      name: 'StoreLockedError',
    })
    assert.equal((await postJson(`${a.url}/admin/backup`, { dir: 'relative/path' })).status, 400)
  })
})
