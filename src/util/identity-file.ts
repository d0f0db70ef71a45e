/**
 * The node's identity key file: `<dataDir>/identity.key`, the raw 32-byte Ed25519 seed, owner
 * read/write only (0600) in an owner-only directory (0700 when we create it). The same key signs
 * events and is the node's libp2p identity.
 *
 * Creation is atomic and never clobbers by accident: the seed is written to a temporary file,
 * fsynced, then hard-linked into place (fails if a key appeared meanwhile, in which case that
 * key is loaded) or, with `force`, renamed over the old one.
 */
import { randomBytes } from 'node:crypto'
import { chmod, link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { signerFromSeed } from './crypto.ts'
import { newSeed } from './random.ts'

export const IDENTITY_FILE_NAME = 'identity.key'
const SEED_BYTES = 32

export interface IdentityFileOptions {
  /** Create a key when there is none (else: IdentityFileError `identity_missing`). */
  readonly create?: boolean
  /** Replace an existing key with a new one. The node's identity changes: peers and the
   *  federation's allow-list know it by its public key. */
  readonly force?: boolean
}

export interface Identity {
  /** Raw 32-byte Ed25519 seed (private key). */
  readonly seed: Uint8Array
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array
  /** True when this call wrote a new key. */
  readonly created: boolean
  /** Absolute or data-dir-relative path of the key file. */
  readonly path: string
}

/** The key file is missing, unreadable, malformed or readable by other users. */
export class IdentityFileError extends Error {
  override readonly name = 'IdentityFileError'
  readonly code: 'identity_missing' | 'identity_insecure' | 'identity_malformed' | 'identity_io'

  constructor(code: IdentityFileError['code'], message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}

export async function loadOrCreateIdentity(
  dataDir: string,
  opts: IdentityFileOptions = {},
): Promise<Identity> {
  const path = join(dataDir, IDENTITY_FILE_NAME)
  if (opts.force === true) return writeIdentity(dataDir, path, true)
  const existing = await readIdentity(path)
  if (existing !== undefined) return existing
  if (opts.create !== true) {
    throw new IdentityFileError(
      'identity_missing',
      `no identity key at ${path}; create one with \`gkm-sync keygen\``,
    )
  }
  return writeIdentity(dataDir, path, false)
}

async function readIdentity(path: string): Promise<Identity | undefined> {
  let mode: number
  try {
    mode = (await stat(path)).mode
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw ioError(`cannot read the identity key ${path}`, err)
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new IdentityFileError(
      'identity_insecure',
      `identity key ${path} is accessible by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); ` +
        `restrict it with \`chmod 600 ${path}\``,
    )
  }
  let seed: Uint8Array
  try {
    seed = new Uint8Array(await readFile(path))
  } catch (err) {
    throw ioError(`cannot read the identity key ${path}`, err)
  }
  if (seed.byteLength !== SEED_BYTES) {
    throw new IdentityFileError(
      'identity_malformed',
      `identity key ${path} is ${seed.byteLength} bytes; it must be a raw ${SEED_BYTES}-byte Ed25519 seed`,
    )
  }
  return { seed, publicKey: signerFromSeed(seed).publicKey, created: false, path }
}

async function writeIdentity(dataDir: string, path: string, force: boolean): Promise<Identity> {
  const seed = newSeed()
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
    const file = await open(tmp, 'wx', 0o600)
    try {
      await file.writeFile(seed)
      await file.sync()
    } finally {
      await file.close()
    }
    // A umask cannot widen 0600, but an inherited ACL or odd filesystem might: make sure.
    await chmod(tmp, 0o600)
    if (force) {
      await rename(tmp, path)
    } else {
      try {
        await link(tmp, path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        // Another process created the key first: use it.
        const theirs = await readIdentity(path)
        if (theirs !== undefined) return theirs
        throw err
      } finally {
        await unlink(tmp).catch(() => {})
      }
    }
    await syncDir(dataDir)
  } catch (err) {
    await unlink(tmp).catch(() => {})
    if (err instanceof IdentityFileError) throw err
    throw ioError(`cannot write the identity key ${path}`, err)
  }
  return { seed, publicKey: signerFromSeed(seed).publicKey, created: true, path }
}

/** Makes the new directory entry durable (a crash right after keygen keeps the key). */
async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function ioError(message: string, cause: unknown): IdentityFileError {
  const code = (cause as NodeJS.ErrnoException)?.code
  return new IdentityFileError('identity_io', `${message}${code === undefined ? '' : ` (${code})`}`, {
    cause,
  })
}
