import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { signerFromSeed } from '../../../src/util/crypto.ts'
import { IdentityFileError, loadOrCreateIdentity } from '../../../src/util/identity-file.ts'
import { run } from './run.ts'

const root = mkdtempSync(join(tmpdir(), 'gkm-keygen-'))
after(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const fresh = () => join(root, `d${++n}`, 'data')

describe('gkm-sync keygen', () => {
  it('writes a 32-byte seed with mode 0600 in a 0700 directory and prints its public key', async () => {
    const dataDir = fresh()
    const r = await run(['keygen', '--data-dir', dataDir])
    assert.equal(r.code, 0, r.stderr)
    const file = join(dataDir, 'identity.key')
    const seed = readFileSync(file)
    assert.equal(seed.byteLength, 32)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.equal(statSync(dataDir).mode & 0o777, 0o700)
    const publicKey = Buffer.from(signerFromSeed(new Uint8Array(seed)).publicKey).toString('hex')
    assert.equal(r.stdout, `${publicKey}\n`)
    assert.match(r.stderr, /wrote a new identity key to .*identity\.key/)
  })

  it('keeps an existing key and prints the same public key; --force replaces it', async () => {
    const dataDir = fresh()
    const first = await run(['keygen', '--data-dir', dataDir])
    const again = await run(['keygen', '--data-dir', dataDir])
    assert.equal(again.code, 0)
    assert.equal(again.stdout, first.stdout)
    assert.match(again.stderr, /kept the existing identity key/)
    const forced = await run(['keygen', '--data-dir', dataDir, '--force'])
    assert.equal(forced.code, 0)
    assert.notEqual(forced.stdout, first.stdout)
    assert.match(forced.stdout, /^[0-9a-f]{64}\n$/)
    assert.equal(statSync(join(dataDir, 'identity.key')).mode & 0o777, 0o600)
  })

  it('takes the data dir from GKM_DATA_DIR, relative to the working directory', async () => {
    const cwd = join(root, `cwd${++n}`)
    const r = await run(['keygen'], { env: { GKM_DATA_DIR: 'rel' }, cwd })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(readFileSync(join(cwd, 'rel', 'identity.key')).byteLength, 32)
  })

  it('refuses a key file other users can read, with the fix in the message', async () => {
    const dataDir = fresh()
    await run(['keygen', '--data-dir', dataDir])
    const file = join(dataDir, 'identity.key')
    chmodSync(file, 0o644)
    const r = await run(['keygen', '--data-dir', dataDir])
    assert.equal(r.code, 1)
    assert.equal(
      r.stderr,
      `gkm-sync: identity key ${file} is accessible by other users (mode 0644); restrict it with \`chmod 600 ${file}\`\n`,
    )
    assert.equal(r.stdout, '')
  })

  it('refuses a key file of the wrong size', async () => {
    const dataDir = fresh()
    await run(['keygen', '--data-dir', dataDir])
    const file = join(dataDir, 'identity.key')
    writeFileSync(file, 'not a key', { mode: 0o600 })
    const r = await run(['keygen', '--data-dir', dataDir])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /is 9 bytes; it must be a raw 32-byte Ed25519 seed/)
  })
})

describe('loadOrCreateIdentity', () => {
  it('without create, a missing key is an IdentityFileError', async () => {
    await assert.rejects(loadOrCreateIdentity(fresh()), (err: unknown) => {
      assert.ok(err instanceof IdentityFileError)
      assert.equal(err.code, 'identity_missing')
      assert.match(err.message, /gkm-sync keygen/)
      return true
    })
  })

  it('creates once, then loads the same key', async () => {
    const dataDir = fresh()
    const a = await loadOrCreateIdentity(dataDir, { create: true })
    const b = await loadOrCreateIdentity(dataDir, { create: true })
    assert.equal(a.created, true)
    assert.equal(b.created, false)
    assert.deepEqual(b.seed, a.seed)
    assert.deepEqual(b.publicKey, signerFromSeed(a.seed).publicKey)
  })

  it('concurrent creators agree on one key', async () => {
    const dataDir = fresh()
    const all = await Promise.all(
      Array.from({ length: 8 }, () => loadOrCreateIdentity(dataDir, { create: true })),
    )
    const keys = new Set(all.map((i) => Buffer.from(i.publicKey).toString('hex')))
    assert.equal(keys.size, 1)
    assert.equal(all.filter((i) => i.created).length, 1)
  })
})
