/**
 * One socket write per Noise message instead of two.
 *
 * Why: Noise (@chainsafe/libp2p-noise) hands the connection each encrypted message as a list of
 * two buffers, its 2-byte length prefix and the ciphertext, and the TCP connection
 * (@libp2p/tcp) calls `socket.write` once per buffer. With TCP_NODELAY (libp2p's default) every
 * mesh message, a direct-stream frame of one event or a yamux window update, costs two write
 * syscalls and two TCP segments, and the receiver wakes for each. On loopback the sender's
 * syscall also does the receiver's TCP work. Socket writes are the largest single item of a
 * node's main-thread time in bench/propagation.ts (~3.5 %, docs/BENCHMARKS-MESH.md "Per-write
 * CPU"); between two nodes 9 of 20 socket writes were a prefix alone (the test of this file).
 *
 * The change: a connection's `send` joins a list of buffers into one buffer when the list is at
 * most TRANSPORT_JOIN_BYTES_MAX bytes (a copy of a few hundred bytes costs far less than a
 * syscall), then runs the library's own `send`. The bytes on the wire are the same, in the same
 * order; only how many `write` calls carry them changes. Larger lists (bulk catch-up) are left
 * as they are: per 64 KiB of data a second syscall does not matter, a large copy would.
 *
 * Made on `AbstractMultiaddrConnection.prototype` (a public export of @libp2p/utils, the base of
 * the TCP connection and of the pnet wrapper); the method it wraps is the public `send` of every
 * libp2p message stream. Installed once per process by the network (src/net/network.ts).
 */
import { AbstractMultiaddrConnection } from '@libp2p/utils'
import { isUint8ArrayList, type Uint8ArrayList } from 'uint8arraylist'

/** Lists up to this many bytes are joined into one buffer before the socket write: one Noise
 *  message (2-byte prefix + at most 65,535 bytes) and a little more. */
export const TRANSPORT_JOIN_BYTES_MAX = 64 * 1024 + 1024

type Send = (this: AbstractMultiaddrConnection, data: Uint8Array | Uint8ArrayList) => boolean

const proto = AbstractMultiaddrConnection.prototype as unknown as { send: Send }
const own = Object.getOwnPropertyDescriptor(proto, 'send')
const original: Send = proto.send
let installed = false

/** One buffer for a small list of several; anything else as it is. Lists are recognised by
 *  the package's marker (`isUint8ArrayList`), not by class: Noise and Yamux carry their own
 *  copy of uint8arraylist (2.x) beside ours (3.x). */
export function joinForWrite(data: Uint8Array | Uint8ArrayList): Uint8Array | Uint8ArrayList {
  if (data instanceof Uint8Array || !isUint8ArrayList(data)) return data
  if (data.byteLength > TRANSPORT_JOIN_BYTES_MAX) return data
  let bufs = 0
  for (const _ of data) if (++bufs > 1) return data.subarray()
  return data
}

function sendJoined(this: AbstractMultiaddrConnection, data: Uint8Array | Uint8ArrayList): boolean {
  return original.call(this, joinForWrite(data))
}

/** Installs the joined send (idempotent). False when the library has no `send` to wrap. */
export function installTransportWrites(): boolean {
  if (installed) return true
  if (typeof original !== 'function') return false
  proto.send = sendJoined
  installed = true
  return true
}

/** Tests: puts the library's own method back. */
export function uninstallTransportWrites(): void {
  if (!installed) return
  if (own === undefined) delete (proto as { send?: Send }).send
  else Object.defineProperty(proto, 'send', own)
  installed = false
}
