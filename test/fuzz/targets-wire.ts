/**
 * The mesh's inputs: request frames of the push, pull and resolve protocols, run through the
 * real handlers against a real node (the stream is a stand-in that hands over one frame and
 * records the answer), response frames through the client decoders, and gossip messages through
 * the decoder and the event checks a gossiped event gets. Property: a frame is answered (with a
 * named refusal, never `internal`) or refused with a named wire error; nothing else escapes.
 */
import fc from 'fast-check'
import { isEventRejectedError } from '../../src/core/errors.ts'
import { eventFromWire } from '../../src/core/event.ts'
import { WIRE_LIMITS } from '../../src/net/constants.ts'
import type { Framed, ProtocolContext } from '../../src/net/protocols/context.ts'
import { handlePull } from '../../src/net/protocols/pull.ts'
import { handlePush } from '../../src/net/protocols/push.ts'
import { handleResolve } from '../../src/net/protocols/resolve.ts'
import { RecentEvents } from '../../src/net/recent-events.ts'
import { NetStats, SILENT_LOGGER } from '../../src/net/stats.ts'
import { toHex } from '../../src/util/bytes.ts'
import {
  decodeGossipMessage,
  decodePullResponse,
  decodePushResponse,
  decodeResolveResponse,
  encodeGossipAnnounce,
  encodeGossipEvents,
  isWireError,
  PullRequest,
  PullResponse,
  PushRequest,
  PushResponse,
  ResolveRequest,
  ResolveResponse,
} from '../../src/wire/index.ts'
import type { TestNode } from '../helpers/node.ts'
import { bytesNear, nastyJson, nastyString, signedEvent } from './arbitraries.ts'
import { expect, type FuzzTarget } from './runner.ts'
import { acknowledged, nothingLost } from './targets-http.ts'

const FRAME_BYTES_MAX = 4 * 1024 * 1024

/** A stream stand-in: one request frame in, answer frames recorded, then a clean end. */
function oneFrame(frame: Uint8Array): { lp: Framed; written: Uint8Array[] } {
  const frames = [frame]
  const written: Uint8Array[] = []
  const lp = {
    async read() {
      const f = frames.shift()
      if (f !== undefined) return f
      const end = new Error('unexpected end of input after reading 0/1 bytes')
      end.name = 'UnexpectedEOFError'
      throw end
    },
    async write(bytes: Uint8Array) {
      written.push(bytes.subarray())
    },
  }
  return { lp: lp as unknown as Framed, written }
}

/** What the handler's caller (`serve`) accepts: success, or a wire error (the peer's fault). */
async function runHandler(run: () => Promise<void>, what: string): Promise<void> {
  try {
    await run()
  } catch (err) {
    expect(isWireError(err), `${what}: unnamed error ${(err as Error)?.name}: ${(err as Error)?.message}`)
  }
}

function noInternal(what: string, code: string | undefined): void {
  expect(code !== 'internal', `${what}: answered "internal"`)
}

export function wireTargets(t: TestNode, conflictIds: readonly string[]): FuzzTarget[] {
  const ctx: ProtocolContext = {
    api: t.node.api,
    libp2p: undefined as never,
    limits: WIRE_LIMITS,
    frameBytesMax: FRAME_BYTES_MAX,
    stats: new NetStats(),
    log: SILENT_LOGGER,
    recent: new RecentEvents(1 << 20, 1000),
    verifyContext: () => ({ nowMs: Date.now(), driftMaxMs: 60_000 }),
    allowRemoteResolve: true,
    publishAccepted: () => {},
  }
  const events = fc.array(signedEvent(Date.now()), { maxLength: 4 })
  const wireEvents = events.map((es) => es.map((e) => ({ signed: e.signed, signature: e.signature })))
  const pushFrames = bytesNear(wireEvents.map((es) => PushRequest.encode({ events: es })))
  const pullFrames = bytesNear(
    fc
      .record({
        cursor: fc.oneof(
          fc.constantFrom('', 's.0', 't.' + '0'.repeat(16) + '.' + '0'.repeat(64)),
          nastyString,
        ),
        types: fc.array(fc.oneof(fc.constantFrom('persona_update', 'vector', 'graph_update'), nastyString), {
          maxLength: 4,
        }),
        limit: fc.nat({ max: 6000 }),
        sinceMs: fc.option(fc.oneof(fc.nat(), fc.constantFrom(2 ** 48, Number.MAX_SAFE_INTEGER, 8.64e15)), {
          nil: undefined,
        }),
        stream: fc.boolean(),
        digests: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 2 }),
        frameBytesMax: fc.nat(),
      })
      .map((r) => PullRequest.encode(r as unknown as PullRequest)),
  )
  const resolveFrames = bytesNear(
    fc
      .record({
        conflictId: fc.oneof(fc.constantFrom(...conflictIds, 'a'.repeat(64)), nastyString),
        strategy: fc.oneof(fc.constantFrom('prefer_local', 'prefer_remote', 'manual_merge'), nastyString),
        valueJson: fc.oneof(
          nastyJson.map((v) => JSON.stringify(v) ?? ''),
          fc.integer({ min: 20, max: 30_000 }).map((d) => '['.repeat(d) + ']'.repeat(d)),
          nastyString,
        ),
        deleted: fc.boolean(),
      })
      .map((r) => ResolveRequest.encode(r as unknown as ResolveRequest)),
  )
  const gossipFrames = bytesNear(
    fc.oneof(
      wireEvents.map((es) => encodeGossipEvents(es)),
      fc
        .tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat())
        .map(([d, n]) => encodeGossipAnnounce(d, n)),
    ),
  )
  const responseFrames = bytesNear(
    fc.oneof(
      fc.constant(
        PushResponse.encode({ accepted: 1, duplicates: 0, rejected: [], digests: [new Uint8Array(32)] }),
      ),
      wireEvents.map((es) =>
        PullResponse.encode({ events: es, nextCursor: 's.1', hasMore: false, done: true }),
      ),
      fc.constant(
        ResolveResponse.encode({
          conflictId: 'a',
          strategy: 'manual_merge',
          error: { code: 'x', message: 'y' },
        }),
      ),
    ),
  )

  return [
    {
      name: 'mesh push request frames',
      arbitrary: pushFrames,
      async check(frame) {
        const { lp, written } = oneFrame(frame)
        await runHandler(() => handlePush(ctx, lp, 'fuzz-peer'), 'push')
        for (const w of written) {
          const r = decodePushResponse(w, WIRE_LIMITS)
          noInternal('push', r.error?.code)
          for (const d of r.digests) acknowledged.add(toHex(d))
        }
      },
    } satisfies FuzzTarget<Uint8Array>,
    {
      name: 'mesh pull request frames',
      arbitrary: pullFrames,
      async check(frame) {
        const { lp, written } = oneFrame(frame)
        await runHandler(() => handlePull(ctx, lp, 'fuzz-peer'), 'pull')
        for (const w of written) noInternal('pull', decodePullResponse(w, WIRE_LIMITS).error?.code)
      },
    } satisfies FuzzTarget<Uint8Array>,
    {
      name: 'mesh resolve request frames',
      arbitrary: resolveFrames,
      async check(frame) {
        const { lp, written } = oneFrame(frame)
        await runHandler(() => handleResolve(ctx, lp, 'fuzz-peer'), 'resolve')
        for (const w of written) noInternal('resolve', decodeResolveResponse(w, WIRE_LIMITS).error?.code)
      },
    } satisfies FuzzTarget<Uint8Array>,
    {
      name: 'mesh response frames (client side)',
      arbitrary: responseFrames,
      async check(frame) {
        for (const decode of [decodePushResponse, decodePullResponse, decodeResolveResponse]) {
          try {
            decode(frame, WIRE_LIMITS)
          } catch (err) {
            expect(
              isWireError(err),
              `${decode.name}: unnamed error ${(err as Error)?.name}: ${(err as Error)?.message}`,
            )
          }
        }
      },
    } satisfies FuzzTarget<Uint8Array>,
    {
      name: 'gossip messages',
      arbitrary: gossipFrames,
      async check(frame) {
        let decoded: ReturnType<typeof decodeGossipMessage>
        try {
          decoded = decodeGossipMessage(frame, WIRE_LIMITS)
        } catch (err) {
          expect(
            isWireError(err),
            `gossip: unnamed error ${(err as Error)?.name}: ${(err as Error)?.message}`,
          )
          return
        }
        if (decoded.kind !== 'events') return
        const verified = []
        for (const e of decoded.events) {
          try {
            verified.push(eventFromWire(e.signed, e.signature, ctx.verifyContext()))
          } catch (err) {
            expect(
              isEventRejectedError(err),
              `gossip event: unnamed error ${(err as Error)?.name}: ${(err as Error)?.message}`,
            )
          }
        }
        const result = await t.node.api.pushVerified(verified, { kind: 'peer', id: 'fuzz-gossip' })
        for (const d of result.digests) acknowledged.add(d)
      },
      finish: () => nothingLost(t),
    } satisfies FuzzTarget<Uint8Array>,
  ] as FuzzTarget[]
}
