/**
 * GET /peers and POST /peers: the mesh's peers, and dialling one by hand. The mesh is optional
 * (`--no-mesh`), and src/http may not import src/net, so the node passes any object with this
 * shape (src/net's `Network` has it).
 */
import type { FastifyInstance } from 'fastify'
import { BadRequestError, DialFailedError, errorAnswer, MeshDisabledError } from '../errors.ts'
import { sendWithProgress, wantsNdjson } from '../progress-stream.ts'
import { objectBody } from '../validate.ts'
import type { RouteContext } from './context.ts'

export interface MeshPeerInfo {
  readonly peerId: string
  readonly addrs: readonly string[]
  readonly connected: boolean
  readonly lastSeq?: number
  readonly score?: number
  readonly inSyncAsOf?: string
}

/** What the peers routes need from the mesh. */
export interface MeshPeers {
  readonly peerId: string
  /** Our multiaddrs. */
  addresses(): string[]
  peers(): readonly MeshPeerInfo[]
  /** Dials now and keeps redialling (the peer is remembered). */
  dial(multiaddr: string): Promise<void>
  /** Reconciles now with one peer (peer id) or every connected peer; one report per peer.
   *  `onProgress` hears how far each session is. */
  reconcile?(peerId?: string, onProgress?: (progress: object) => void): Promise<readonly object[]>
}

const PEER_ID_RE = /^[1-9A-HJ-NP-Za-km-z]{32,128}$/

const MULTIADDR_CHARS_MAX = 1024

export function registerPeersRoutes(
  app: FastifyInstance,
  ctx: RouteContext,
  mesh: MeshPeers | undefined,
): void {
  app.get('/peers', async () => {
    if (mesh === undefined) return { mesh: false, peer_id: null, addresses: [], peers: [] }
    return { mesh: true, peer_id: mesh.peerId, addresses: mesh.addresses(), peers: mesh.peers() }
  })

  // POST /sync/reconcile {peer?}: a reconciliation now, with one peer or every connected one;
  // answers when the sessions ended, with what each found and moved. With `Accept:
  // application/x-ndjson`, progress lines first (src/http/progress-stream.ts).
  app.post('/sync/reconcile', async (req, reply) => {
    const body = objectBody(req.body ?? {}, ['peer'], 'sync/reconcile')
    const peer = body.peer
    if (peer !== undefined && (typeof peer !== 'string' || !PEER_ID_RE.test(peer)))
      throw new BadRequestError('peer must be a libp2p peer id (12D3KooW...) as GET /peers lists them')
    if (mesh?.reconcile === undefined)
      throw new MeshDisabledError(
        'this node runs without the mesh (--no-mesh); there is nobody to reconcile with',
      )
    const reconcile = mesh.reconcile.bind(mesh)
    const run = async (onProgress?: (progress: object) => void) => {
      try {
        return { sessions: await reconcile(peer as string | undefined, onProgress) }
      } catch (err) {
        if (!errorAnswer(err, ctx.bodyBytesMax).internal) throw err
        throw new DialFailedError(`reconciliation failed: ${(err as Error)?.message ?? String(err)}`, {
          cause: err,
        })
      }
    }
    if (!wantsNdjson(req)) return run()
    return sendWithProgress(reply, ctx.bodyBytesMax, run, (err) =>
      ctx.log.error('reconcile stream failed', { err }),
    )
  })

  app.post('/peers', async (req) => {
    const body = objectBody(req.body, ['multiaddr'], 'peers')
    const multiaddr = body.multiaddr
    if (
      typeof multiaddr !== 'string' ||
      !/^\/\S+$/.test(multiaddr) ||
      multiaddr.length > MULTIADDR_CHARS_MAX
    ) {
      throw new BadRequestError(
        'multiaddr must be a multiaddr such as /ip4/192.168.1.20/tcp/7421/p2p/12D3KooW...',
      )
    }
    if (mesh === undefined)
      throw new MeshDisabledError(
        'this node runs without the mesh (--no-mesh); there is nothing to dial with',
      )
    try {
      await mesh.dial(multiaddr)
    } catch (err) {
      // The mesh's own named errors (not a member, not running, timeout) keep their status;
      // anything else is the remote side or the network failing us.
      if (!errorAnswer(err, ctx.bodyBytesMax).internal) throw err
      throw new DialFailedError(`could not dial ${multiaddr}: ${(err as Error)?.message ?? String(err)}`, {
        cause: err,
      })
    }
    return { dialed: multiaddr }
  })
}
