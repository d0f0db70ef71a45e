/**
 * Parsers of the federation's text files (formats in bootstrap/README.md):
 *
 * - bootstrap list: one multiaddr ending in `/p2p/<peer id>` per line;
 * - members list: one member per line, as a 64-hex Ed25519 public key or as its peer id;
 * - swarm key: libp2p's private-network key file (`/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex).
 *
 * In the two lists `#` starts a comment (whole line or trailing), blank lines are skipped and
 * duplicates are dropped. Errors name the line.
 */
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { fromHex, toHex } from '../util/bytes.ts'
import { PeerFileFormatError } from './errors.ts'

/** Lines longer than this are refused (a multiaddr with a peer id is < 200 chars). */
const LINE_CHARS_MAX = 1024
/** Entries in one file: far above any federation, bounds what a corrupt file can do. */
const ENTRIES_MAX = 10_000

function* entries(text: string, what: string): Generator<{ value: string; line: number }> {
  const lines = text.split(/\r?\n/)
  let count = 0
  for (let i = 0; i < lines.length; i++) {
    const value = lines[i].replace(/#.*$/, '').trim()
    if (value === '') continue
    if (value.length > LINE_CHARS_MAX)
      throw new PeerFileFormatError(`${what} line ${i + 1}: longer than ${LINE_CHARS_MAX} characters`)
    if (++count > ENTRIES_MAX) throw new PeerFileFormatError(`${what}: more than ${ENTRIES_MAX} entries`)
    yield { value, line: i + 1 }
  }
}

/** The peer id (text) a bootstrap multiaddr names, or undefined when it names none. */
export function peerIdOfMultiaddr(text: string): string | undefined {
  const ma = multiaddr(text)
  return ma.getComponents().findLast((c) => c.name === 'p2p')?.value
}

/** Parses a bootstrap list; every entry must be a multiaddr that ends in `/p2p/<peer id>`. */
export function parseBootstrapFile(text: string): string[] {
  const out = new Set<string>()
  for (const { value, line } of entries(text, 'bootstrap file')) {
    let peer: string | undefined
    try {
      peer = peerIdOfMultiaddr(value)
      if (peer !== undefined) peerIdFromString(peer)
    } catch (err) {
      throw new PeerFileFormatError(
        `bootstrap file line ${line}: not a multiaddr: ${(err as Error).message}`,
        { cause: err },
      )
    }
    if (peer === undefined) {
      throw new PeerFileFormatError(
        `bootstrap file line ${line}: ${value} has no /p2p/<peer id>; add the peer's id (gkm-sync status shows it)`,
      )
    }
    out.add(value)
  }
  return [...out]
}

/** Hex Ed25519 public key -> libp2p peer id text. Throws PeerFileFormatError on a bad key. */
export function peerIdFromAuthorKey(hex: string): string {
  const raw = fromHex(hex.toLowerCase())
  if (raw === undefined || raw.byteLength !== 32)
    throw new PeerFileFormatError(`${hex.slice(0, 80)} is not a 64-hex Ed25519 public key`)
  return peerIdFromPublicKey(publicKeyFromRaw(raw)).toString()
}

/** libp2p peer id text -> hex Ed25519 public key, or undefined when the id is not Ed25519. */
export function authorKeyFromPeerId(peerId: string): string | undefined {
  try {
    const id = peerIdFromString(peerId)
    if (id.type !== 'Ed25519') return undefined
    return toHex(id.publicKey.raw)
  } catch {
    return undefined
  }
}

/** Parses a members list into lowercase hex public keys (peer ids are converted). */
export function parseMembersFile(text: string): string[] {
  const out = new Set<string>()
  for (const { value, line } of entries(text, 'members file')) {
    if (/^[0-9a-fA-F]{64}$/.test(value)) {
      try {
        peerIdFromAuthorKey(value)
      } catch (err) {
        throw new PeerFileFormatError(`members file line ${line}: ${(err as Error).message}`, { cause: err })
      }
      out.add(value.toLowerCase())
      continue
    }
    const key = authorKeyFromPeerId(value)
    if (key === undefined) {
      throw new PeerFileFormatError(
        `members file line ${line}: ${value.slice(0, 80)} is neither a 64-hex Ed25519 public key nor an Ed25519 peer id`,
      )
    }
    out.add(key)
  }
  return [...out]
}

const SWARM_KEY_RE = /^\/key\/swarm\/psk\/1\.0\.0\/\r?\n\/base16\/\r?\n([0-9a-fA-F]{64})\s*$/

/**
 * Checks a libp2p swarm key file and returns it in the exact form @libp2p/pnet reads
 * (`/key/swarm/psk/1.0.0/\n/base16/\n<64 hex>`). The key is 32 random bytes shared by every
 * member; generate one with `npx node -e "import('@libp2p/pnet').then(m => m.generateKey(process.stdout))"`.
 */
export function parseSwarmKey(file: Uint8Array | string): Uint8Array {
  const text = typeof file === 'string' ? file : Buffer.from(file).toString('utf8')
  const m = SWARM_KEY_RE.exec(text.trimStart())
  if (m === null) {
    throw new PeerFileFormatError(
      'swarm key must be three lines: /key/swarm/psk/1.0.0/, /base16/, and 64 hex characters (a 32-byte key)',
    )
  }
  return new Uint8Array(Buffer.from(`/key/swarm/psk/1.0.0/\n/base16/\n${m[1].toLowerCase()}`, 'utf8'))
}
