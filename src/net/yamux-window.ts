/**
 * Yamux receive-window updates only once half the window is used, as Go (hashicorp/yamux) and
 * rust-yamux send them, instead of after every data frame as js-libp2p-yamux 8 does.
 *
 * Why: gossip is a stream of small messages (one event, a few hundred bytes). With one window
 * update per data frame, every message a peer sends us costs a second frame back: encrypted,
 * written and woken for on both sides, so the transport carries twice the frames the mesh needs.
 * The receiver still grants exactly the bytes it took in, only later: a sender is never left
 * waiting, because by the time it has used up the whole window the receiver has taken in at
 * least half of it and sent the update (the same reasoning as the Go and Rust implementations).
 * SYN/ACK flags still go out at once, a paused stream still sends nothing, and the window still
 * grows with the round-trip time as before.
 *
 * The change is made on `YamuxStream.prototype` (the class is a public export of the package),
 * for the 8.x line whose code this was written against; on any other version, or on a stream
 * whose fields are not what this expects, the library's own method runs.
 */
import { readFileSync } from 'node:fs'
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

/** Yamux frame type of a window update (yamux spec: Data 0, WindowUpdate 1). */
const FRAME_WINDOW_UPDATE = 1

/** The major version of @chainsafe/libp2p-yamux whose stream fields this relies on. */
export const YAMUX_MAJOR_PATCHED = 8

/** The fields of YamuxStream (declared private in its types) that window accounting uses. */
interface WindowedStream {
  state: StreamState
  streamId: number
  recvWindow: number
  recvWindowCapacity: number
  maxStreamWindowSize: number
  epochStart: number
  getRTT(): number
  getSendFlags(): number
  sendFrame(header: { type: number; flag: number; streamID: number; length: number }): boolean
}

type SendWindowUpdate = (this: WindowedStream) => void

const proto = YamuxStream.prototype as unknown as { sendWindowUpdate: SendWindowUpdate }
const original: SendWindowUpdate = proto.sendWindowUpdate
let installed = false

function yamuxMajor(): number | undefined {
  try {
    // dist/src/stream.js -> the package's own package.json, two folders up from dist/src
    const url = new URL('../../package.json', import.meta.resolve('@chainsafe/libp2p-yamux/stream'))
    const v = (JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown }).version
    return typeof v === 'string' ? Number(v.split('.')[0]) : undefined
  } catch {
    return undefined
  }
}

function halfWindowUpdate(this: WindowedStream): void {
  if (typeof this.recvWindow !== 'number' || typeof this.recvWindowCapacity !== 'number') {
    original.call(this)
    return
  }
  if (this.state === StreamState.Paused) {
    this.epochStart = Date.now()
    return
  }
  const flags = this.getSendFlags()
  const now = Date.now()
  const rtt = this.getRTT()
  // Data taken in within four round trips of the last update: the window doubles (as before).
  if (flags === 0 && rtt > -1 && now - this.epochStart <= rtt * 4)
    this.recvWindow = Math.min(this.recvWindow * 2, this.maxStreamWindowSize)
  const delta = this.recvWindow - this.recvWindowCapacity
  if (flags === 0 && delta < this.recvWindow / 2) return
  this.recvWindowCapacity = this.recvWindow
  this.epochStart = now
  this.sendFrame({ type: FRAME_WINDOW_UPDATE, flag: flags, streamID: this.streamId, length: delta })
}

/**
 * Installs the half-window rule (idempotent). Returns whether it is in force: false when the
 * installed yamux (`major`, read from its package.json) is not the major version this was
 * written for (its own rule then applies).
 */
export function installYamuxWindowUpdates(major: number | undefined = yamuxMajor()): boolean {
  if (installed) return true
  if (typeof original !== 'function' || major !== YAMUX_MAJOR_PATCHED) return false
  proto.sendWindowUpdate = halfWindowUpdate
  installed = true
  return true
}

/** Tests: puts the library's own method back. */
export function uninstallYamuxWindowUpdates(): void {
  proto.sendWindowUpdate = original
  installed = false
}
