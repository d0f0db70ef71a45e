import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  authorKeyFromPeerId,
  PeerFileFormatError,
  parseBootstrapFile,
  parseMembersFile,
  parseSwarmKey,
  peerIdFromAuthorKey,
} from '../../../src/net/index.ts'

const KEY = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'
const ID = peerIdFromAuthorKey(KEY)

describe('bootstrap and members files', () => {
  it('peer id <-> author key', () => {
    assert.match(ID, /^12D3KooW/)
    assert.equal(authorKeyFromPeerId(ID), KEY)
    assert.equal(authorKeyFromPeerId('not an id'), undefined)
  })

  it('bootstrap: comments, blanks, duplicates; /p2p required', () => {
    const text = `# federation seeds\n\n/ip4/10.0.0.1/tcp/7421/p2p/${ID}  # alpha\n/dns4/b.example/tcp/7421/p2p/${ID}\n/ip4/10.0.0.1/tcp/7421/p2p/${ID}\n`
    assert.deepEqual(parseBootstrapFile(text), [
      `/ip4/10.0.0.1/tcp/7421/p2p/${ID}`,
      `/dns4/b.example/tcp/7421/p2p/${ID}`,
    ])
    assert.throws(
      () => parseBootstrapFile('/ip4/10.0.0.1/tcp/7421\n'),
      (e: Error) => e instanceof PeerFileFormatError && /line 1/.test(e.message) && /\/p2p/.test(e.message),
    )
    assert.throws(
      () => parseBootstrapFile('\n\nnot-a-multiaddr\n'),
      (e: Error) => e instanceof PeerFileFormatError && /line 3/.test(e.message),
    )
  })

  it('the example files in bootstrap/ parse', async () => {
    const { readFile } = await import('node:fs/promises')
    const peers = parseBootstrapFile(
      await readFile(new URL('../../../bootstrap/peers.example.txt', import.meta.url), 'utf8'),
    )
    const members = parseMembersFile(
      await readFile(new URL('../../../bootstrap/members.example.txt', import.meta.url), 'utf8'),
    )
    assert.ok(peers.length >= 1 && members.length >= 1)
  })

  it('members: hex keys (any case) and peer ids, normalised to lowercase hex', () => {
    assert.deepEqual(parseMembersFile(`${KEY.toUpperCase()}\n# comment\n${ID}\n`), [KEY])
    assert.throws(
      () => parseMembersFile('abc\n'),
      (e: Error) => e instanceof PeerFileFormatError && /line 1/.test(e.message),
    )
  })

  it('swarm key: the libp2p file format, normalised', () => {
    const hex = 'ab'.repeat(32)
    const out = Buffer.from(
      parseSwarmKey(`/key/swarm/psk/1.0.0/\r\n/base16/\r\n${hex.toUpperCase()}\n`),
    ).toString()
    assert.equal(out, `/key/swarm/psk/1.0.0/\n/base16/\n${hex}`)
    assert.throws(() => parseSwarmKey('/key/swarm/psk/1.0.0/\n/base16/\nabcd\n'), PeerFileFormatError)
    assert.throws(() => parseSwarmKey(hex), PeerFileFormatError)
  })
})
