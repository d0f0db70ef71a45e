/**
 * One socket write per Noise message (src/net/transport-writes.ts): small buffer lists are
 * joined before the connection writes them, large ones are left alone, the bytes are the same;
 * and between two real hosts (TCP, Noise, Yamux on 127.0.0.1) no 2-byte length prefix goes to
 * the socket on its own any more.
 */
import assert from 'node:assert/strict'
import { Socket } from 'node:net'
import { after, describe, it } from 'node:test'
import { AbstractMultiaddrConnection } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { Uint8ArrayList } from 'uint8arraylist'
import type { SignedEvent } from '../../../src/core/types.ts'
import { PROTOCOL_DIRECT } from '../../../src/net/constants.ts'
import { topicOf } from '../../../src/net/index.ts'
import {
  installTransportWrites,
  joinForWrite,
  TRANSPORT_JOIN_BYTES_MAX,
  uninstallTransportWrites,
} from '../../../src/net/transport-writes.ts'
import { runCleanup, startNode, type TestNode, waitFor, waitForSubscribers } from './helpers.ts'

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill)

/** A connection that records what reaches its transport (`sendData`), one entry per call with
 *  the buffers it was given. */
class RecordingConnection extends AbstractMultiaddrConnection {
  readonly writes: Uint8Array[][] = []
  constructor() {
    const quiet = Object.assign(() => {}, {
      enabled: false,
      trace: () => {},
      error: () => {},
      newScope: () => quiet,
    })
    super({ remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/1'), direction: 'outbound', log: quiet } as never)
  }
  sendData(data: Uint8ArrayList) {
    this.writes.push([...data])
    return { sentBytes: data.byteLength, canSendMore: true }
  }
  sendReset() {}
  async sendClose() {}
  sendPause() {}
  sendResume() {}
}

describe('transport writes (src/net/transport-writes.ts)', () => {
  const cleanup: Array<() => Promise<void>> = []
  after(async () => {
    await runCleanup(cleanup)
    uninstallTransportWrites()
  })

  it('joins a small list into one buffer with the same bytes; leaves single buffers and large lists', () => {
    const prefix = Uint8Array.of(1, 44)
    const body = bytes(300, 7)
    const joined = joinForWrite(new Uint8ArrayList(prefix, body))
    assert.ok(joined instanceof Uint8Array, 'one buffer')
    assert.deepEqual(joined, new Uint8ArrayList(prefix, body).subarray())

    const plain = bytes(10, 1)
    assert.equal(joinForWrite(plain), plain, 'a buffer passes as it is')
    const single = new Uint8ArrayList(bytes(10, 2))
    assert.equal(joinForWrite(single), single, 'a one-buffer list is not copied')
    const large = new Uint8ArrayList(Uint8Array.of(0, 0), bytes(TRANSPORT_JOIN_BYTES_MAX, 3))
    assert.equal(joinForWrite(large), large, 'a list above the bound is not copied')
    const atBound = new Uint8ArrayList(Uint8Array.of(0, 0), bytes(TRANSPORT_JOIN_BYTES_MAX - 2, 3))
    assert.ok(joinForWrite(atBound) instanceof Uint8Array, 'a list at the bound is joined')
  })

  it("a connection's send reaches the transport as one write when installed, as two without", () => {
    const list = () => new Uint8ArrayList(Uint8Array.of(1, 44), bytes(300, 9))
    uninstallTransportWrites()
    const before = new RecordingConnection()
    before.send(list())
    assert.equal(before.writes[0].length, 2, "the library's own send writes each buffer")

    assert.equal(installTransportWrites(), true)
    assert.equal(installTransportWrites(), true, 'idempotent')
    const afterInstall = new RecordingConnection()
    afterInstall.send(list())
    assert.equal(afterInstall.writes.length, 1)
    assert.equal(afterInstall.writes[0].length, 1, 'one buffer')
    assert.deepEqual(afterInstall.writes[0][0], list().subarray(), 'the same bytes in the same order')
  })

  it('between real hosts no length prefix is written to a socket on its own', async () => {
    // The network installs it on start; count socket writes of exactly 2 bytes (a Noise length
    // prefix alone) while direct frames and yamux window updates flow.
    const lone = { targetConnections: 0 }
    const nodes: TestNode[] = [await startNode(lone, cleanup), await startNode(lone, cleanup)]
    const [a, b] = nodes
    await b.net.dial(a.addr())
    await waitForSubscribers(nodes, topicOf('persona_update'), 1)
    await waitFor('a knows b speaks direct', async () => {
      const peer = await a.net.libp2p?.peerStore.get(b.net.libp2p!.peerId)
      return peer?.protocols.includes(PROTOCOL_DIRECT) === true
    })
    const write = Socket.prototype.write
    let writes = 0
    let prefixesAlone = 0
    Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
      writes++
      if (chunk instanceof Uint8Array && chunk.byteLength === 2) prefixesAlone++
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest)
    } as typeof write
    try {
      const written: SignedEvent[] = []
      for (let i = 0; i < 20; i++)
        written.push(await a.api.write('persona_update', `t${i}`, { op: 'set', fields: { i } }))
      await waitFor('b holds all 20', () => written.every((e) => b.api.has(e.digest)))
    } finally {
      Socket.prototype.write = write
    }
    assert.ok(writes > 0, 'the events went over sockets')
    assert.equal(prefixesAlone, 0, `${prefixesAlone} of ${writes} socket writes were a 2-byte prefix alone`)
  })
})
