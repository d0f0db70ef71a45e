/**
 * What the protocol handlers and clients share: the node's API, the host, the limits, the
 * counters, and framed stream helpers (length-prefixed frames via lpStream, every read bounded
 * by frameBytesMax and a timeout).
 */
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { type LengthPrefixedStream, lpStream, RateLimiter } from '@libp2p/utils'
import type { Uint8ArrayList } from 'uint8arraylist'
import type { SyncApi } from '../../core/api.ts'
import type { VerifyContext } from '../../core/event.ts'
import type { StoredEvent } from '../../core/records.ts'
import { FRAME_PREFIX_BYTES_MAX, WireDecodeError, WireLimitError, type WireLimits } from '../../wire/index.ts'
import { STREAM_TIMEOUT_MS } from '../constants.ts'
import { StreamRateLimitedError } from '../errors.ts'
import type { RecentEvents } from '../recent-events.ts'
import type { NetLogger, NetStats } from '../stats.ts'

export interface ProtocolContext {
  readonly api: SyncApi
  readonly libp2p: Libp2p
  readonly limits: WireLimits
  readonly frameBytesMax: number
  readonly stats: NetStats
  readonly log: NetLogger
  readonly recent: RecentEvents
  readonly verifyContext: () => VerifyContext
  /** Whether peers may ask this node to sign conflict resolutions (docs/MESH.md). */
  readonly allowRemoteResolve: boolean
  /** Gossip events a peer pushed to us that we accepted (they are new to the mesh maybe). */
  readonly publishAccepted: (events: readonly StoredEvent[]) => void
}

export type Framed = LengthPrefixedStream<Stream>

/**
 * Decodes a frame's uvarint length prefix. lpStream's default decoder signals "need more bytes"
 * with a RangeError forever, so a peer sending endless continuation bytes would grow the prefix
 * buffer without bound; this one refuses a prefix longer than FRAME_PREFIX_BYTES_MAX.
 */
export function decodeFramePrefix(data: Uint8ArrayList): number {
  let value = 0
  let shift = 1
  const n = Math.min(data.byteLength, FRAME_PREFIX_BYTES_MAX)
  for (let i = 0; i < n; i++) {
    const b = data.get(i)
    value += (b & 0x7f) * shift
    if ((b & 0x80) === 0) return value
    shift *= 0x80
  }
  if (data.byteLength >= FRAME_PREFIX_BYTES_MAX)
    throw new WireDecodeError(`frame length prefix is longer than ${FRAME_PREFIX_BYTES_MAX} bytes`)
  throw new RangeError('need more bytes')
}

/** Frames of the largest size a framed stream holds unread before it refuses the peer. A
 *  reconciliation peer writes its next frame while this node still stores the last one (the log
 *  phase's pushes are acknowledged by later answers, not one by one), so with events near the
 *  frame limit two or more frames are legitimately in the buffer at once: a bound of one frame
 *  failed honest sessions of 10 KB events with "frame too large" (test/integration/
 *  mesh-large-events.test.ts). Memory: up to this many × frameBytesMax per open stream
 *  (16 MiB at the default 4 MiB), docs/LIMITS.md. */
export const FRAMED_READ_BUFFER_FRAMES = 4

export function framed(stream: Stream, frameBytesMax: number): Framed {
  return lpStream(stream, {
    maxDataLength: frameBytesMax,
    maxBufferSize: FRAMED_READ_BUFFER_FRAMES * (frameBytesMax + 64),
    lengthDecoder: decodeFramePrefix,
  })
}

/** Reads one frame; undefined on a clean end of stream at a frame boundary. Maps framing errors
 *  to wire errors (the remote's fault). */
export async function readFrame(
  lp: Framed,
  signal: AbortSignal,
  allowEnd: boolean,
): Promise<Uint8Array | undefined> {
  try {
    return (await lp.read({ signal })).subarray()
  } catch (err) {
    const name = (err as Error)?.name
    if (name === 'UnexpectedEOFError' && allowEnd && /after reading 0\//.test((err as Error).message))
      return undefined
    // StreamBufferError: the peer sent more than FRAMED_READ_BUFFER_FRAMES frames' worth before
    // we read them.
    if (
      name === 'InvalidDataLengthError' ||
      name === 'InvalidDataLengthLengthError' ||
      name === 'StreamBufferError'
    ) {
      throw new WireLimitError(`frame too large: ${(err as Error).message}`, { cause: err })
    }
    if (name === 'InvalidMessageLengthError')
      throw new WireDecodeError(`bad frame prefix: ${(err as Error).message}`, { cause: err })
    throw err
  }
}

/** An AbortSignal that fires after `ms`, and also when `outer` fires. */
export function deadline(ms: number = STREAM_TIMEOUT_MS, outer?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(ms)
  return outer === undefined ? t : AbortSignal.any([t, outer])
}

/** Opens a framed stream to a connected (or dialable) peer. */
export async function openFramed(
  ctx: ProtocolContext,
  peer: PeerId,
  protocol: string,
  signal: AbortSignal,
): Promise<{ stream: Stream; lp: Framed }> {
  const stream = await ctx.libp2p.dialProtocol(peer, protocol, { signal })
  return { stream, lp: framed(stream, ctx.frameBytesMax) }
}

/** Truncates text to `max` UTF-8 bytes (error messages sent to peers). */
export function clip(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text
  let out = text.slice(0, max)
  while (Buffer.byteLength(out, 'utf8') > max - 3) out = out.slice(0, -1)
  return `${out}...`
}

/**
 * Per-peer rate limit on opening our protocol streams (libp2p only caps concurrent streams):
 * `perSecond` opens per remote peer per second across the three protocols.
 */
export class StreamOpenLimiter {
  readonly #limiter: RateLimiter

  constructor(perSecond: number) {
    this.#limiter = new RateLimiter({ points: perSecond, duration: 1 })
  }

  /** Throws StreamRateLimitedError when the peer is over its rate. */
  consume(peerId: string): void {
    try {
      this.#limiter.consume(peerId, 1)
    } catch (err) {
      throw new StreamRateLimitedError(`peer ${peerId} opens protocol streams faster than allowed`, {
        cause: err,
      })
    }
  }
}

/**
 * Wraps a protocol handler: rate limit, then the handler with a framed stream; any error aborts
 * the stream (the remote sees a reset) and is counted under `<name>.errors` and by error name.
 */
export function serve(
  ctx: ProtocolContext,
  limiter: StreamOpenLimiter,
  name: string,
  handler: (lp: Framed, peer: string, stream: Stream) => Promise<void>,
): (stream: Stream, connection: Connection) => Promise<void> {
  return async (stream, connection) => {
    const peer = connection.remotePeer.toString()
    try {
      limiter.consume(peer)
    } catch (err) {
      ctx.stats.inc('streams.rate_limited')
      stream.abort(err as Error)
      return
    }
    ctx.stats.inc(`${name}.served`)
    try {
      await handler(framed(stream, ctx.frameBytesMax), peer, stream)
      await stream.close({ signal: deadline() }).catch((err: unknown) => stream.abort(err as Error))
    } catch (err) {
      ctx.stats.inc(`${name}.errors`)
      ctx.stats.inc(`errors.${(err as Error)?.name ?? 'unknown'}`)
      ctx.log.debug(`${name} from ${peer} failed: ${(err as Error)?.message}`)
      stream.abort(err as Error)
    }
  }
}

/** The stable code sent to a peer for a failure of ours: the error's own `code` for the core's
 *  and node's named errors, `internal` otherwise (no internals leak beyond the message). */
export function refusalCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' && /^[a-z_]{1,64}$/.test(code) ? code : 'internal'
}
