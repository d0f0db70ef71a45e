/**
 * `/gkm/peers/1.0.0`: peer exchange. The client sends one `PeersRequest`; the server answers one
 * `PeersResponse` listing peers it knows (connected ones first, then the most recently seen),
 * each with its listen addresses, at most PEER_EXCHANGE_PEERS_MAX peers of at most
 * PEER_EXCHANGE_ADDRS_MAX addresses. The requester and the server itself are left out; in a
 * federation with a members list only members are listed (and a client dials only members).
 * What a node does with the answer is src/net/mesh-keeper.ts.
 */
import type { PeerId } from '@libp2p/interface'
import { decodePeersRequest, decodePeersResponse, PeersRequest, PeersResponse } from '../../wire/index.ts'
import { PEER_EXCHANGE_ADDRS_MAX, PEER_EXCHANGE_PEERS_MAX, PROTOCOL_PEERS } from '../constants.ts'
import { UnexpectedMessageError } from '../errors.ts'
import { deadline, type Framed, openFramed, type ProtocolContext, readFrame } from './context.ts'

/** A peer and its listen addresses (multiaddr text without /p2p/). */
export interface SharedPeer {
  readonly peerId: string
  readonly addrs: readonly string[]
}

export const PEER_EXCHANGE_LIMITS = {
  peersMax: PEER_EXCHANGE_PEERS_MAX,
  addrsMax: PEER_EXCHANGE_ADDRS_MAX,
  textBytesMax: 1024,
} as const

export async function handlePeers(
  lp: Framed,
  requester: string,
  known: (requester: string) => readonly SharedPeer[],
): Promise<void> {
  const frame = await readFrame(lp, deadline(), false)
  const req = decodePeersRequest(frame as Uint8Array)
  const max = req.limit === 0 ? PEER_EXCHANGE_PEERS_MAX : Math.min(req.limit, PEER_EXCHANGE_PEERS_MAX)
  const peers = known(requester)
    .slice(0, max)
    .map((p) => ({ peerId: p.peerId, addrs: p.addrs.slice(0, PEER_EXCHANGE_ADDRS_MAX) }))
  await lp.write(PeersResponse.encode({ peers }), { signal: deadline() })
}

/** Asks a connected peer for the peers it knows (bounded; nothing filtered here). */
export async function peersOf(
  ctx: ProtocolContext,
  peer: PeerId,
  signal?: AbortSignal,
): Promise<SharedPeer[]> {
  const { stream, lp } = await openFramed(ctx, peer, PROTOCOL_PEERS, deadline(undefined, signal))
  try {
    await lp.write(PeersRequest.encode({ limit: PEER_EXCHANGE_PEERS_MAX }), {
      signal: deadline(undefined, signal),
    })
    const frame = await readFrame(lp, deadline(undefined, signal), false)
    if (frame === undefined) throw new UnexpectedMessageError('peers stream ended without an answer')
    const res = decodePeersResponse(frame, PEER_EXCHANGE_LIMITS)
    await stream.close({ signal: deadline(undefined, signal) })
    return res.peers.map((p) => ({ peerId: p.peerId, addrs: p.addrs }))
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}
