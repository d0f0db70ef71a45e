/**
 * GkmNetwork: the composition of the mesh (host, membership, protocols, gossip, catch-up,
 * discovery, redialling, peer persistence) and its start/stop order. The contract is in
 * index.ts; each part lives in its own file.
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { Connection, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { ChangeEvent, PushResult, ResolveRequest, ResolveResult } from '../core/api.ts'
import { HLC_DRIFT_MAX_MS_DEFAULT } from '../core/constants.ts'
import type { VerifyContext } from '../core/event.ts'
import { digestOf } from '../core/event-codec.ts'
import type { StoredEvent } from '../core/records.ts'
import { toHex } from '../util/bytes.ts'
import { signerFromSeed } from '../util/crypto.ts'
import { LruMap } from '../util/lru.ts'
import { AntiEntropy, type ReconcileProgress } from './anti-entropy.ts'
import { CatchUp } from './catch-up.ts'
import {
  ANNOUNCE_BYTES_MIN_DEFAULT,
  ANNOUNCE_FETCH_TIMEOUT_MS,
  CATCH_UP_INTERVAL_MS,
  DIAL_CONFIRM_MS,
  DIAL_TIMEOUT_MS,
  DIRECT_PEERS_MAX_DEFAULT,
  DIRECT_SENDERS_DIGESTS_MAX,
  FRAME_BYTES_MIN,
  GOSSIP_PUBLISH_LINGER_MS_DEFAULT,
  INGEST_BATCH_EVENTS_MAX,
  INGEST_GATHER_MS_DEFAULT,
  INGEST_QUEUE_BYTES_MAX,
  INGEST_QUEUE_EVENTS_MAX,
  PROTOCOL_PEERS,
  PROTOCOL_PULL,
  PROTOCOL_PUSH,
  PROTOCOL_RECONCILE,
  PROTOCOL_RESOLVE,
  PUBLISH_QUEUE_EVENTS_MAX,
  RECENT_EVENTS_BYTES_MAX,
  RECENT_EVENTS_MAX,
  RECONCILE_INTERVAL_MS_DEFAULT,
  SEEN_DIGESTS_MAX,
  TARGET_CONNECTIONS_DEFAULT,
  WIRE_LIMITS,
} from './constants.ts'
import { DirectRouter } from './direct.ts'
import { NetConfigError, NetworkNotRunningError, NotAMemberError, PeerClosedError } from './errors.ts'
import { GossipRouter, type SeenState } from './gossip.ts'
import { connectionPingIntervalMs, createHost, type GkmLibp2p } from './host.ts'
import type { NetComponents, NetInit, Network, PeerInfo } from './index.ts'
import { IngestQueue } from './ingest-queue.ts'
import { MdnsDiscovery } from './mdns.ts'
import { Membership } from './membership.ts'
import { MeshKeeper } from './mesh-keeper.ts'
import { PeerBook } from './peer-book.ts'
import { parseSwarmKey, peerIdFromAuthorKey, peerIdOfMultiaddr } from './peer-files.ts'
import { deadline, type ProtocolContext, StreamOpenLimiter, serve } from './protocols/context.ts'
import { handlePeers, peersOf } from './protocols/peers.ts'
import { fetchFrom, handlePull, type PullFrame, type PullFromRequest, pullFrom } from './protocols/pull.ts'
import { handlePush, pushTo } from './protocols/push.ts'
import { handleReconcile, type ReconcileReport } from './protocols/reconcile.ts'
import { handleResolve, resolveOn } from './protocols/resolve.ts'
import { RecentEvents } from './recent-events.ts'
import { Redialer } from './redialer.ts'
import { NetStats, SILENT_LOGGER } from './stats.ts'
import { installTransportWrites } from './transport-writes.ts'
import { installYamuxWindowUpdates } from './yamux-window.ts'

const P2P_CODE = 421

/** Close reasons held until the peer's disconnect event: one per connected peer at most; the
 *  bound only guards against events that never come. */
const CLOSE_REASONS_MAX = 4096

function withoutPeerId(addr: string): string {
  return multiaddr(addr).decapsulateCode(P2P_CODE).toString()
}

export class GkmNetwork implements Network {
  readonly peerId: string
  readonly #c: NetComponents
  readonly #init: NetInit
  readonly #stats = new NetStats()
  readonly #log
  readonly #now: () => number
  readonly #membership: Membership
  readonly #recent = new RecentEvents(RECENT_EVENTS_BYTES_MAX, RECENT_EVENTS_MAX)
  readonly #seen = new LruMap<string, SeenState>(SEEN_DIGESTS_MAX)
  readonly #senders = new LruMap<string, string[]>(DIRECT_SENDERS_DIGESTS_MAX)
  readonly #book: PeerBook
  /** Why each peer's last connection closed, until its peer:disconnect (bounded). */
  readonly #closeReasons = new Map<string, string>()
  #libp2p: GkmLibp2p | undefined
  #ctx: ProtocolContext | undefined
  #gossip: GossipRouter | undefined
  #direct: DirectRouter | undefined
  #ingest: IngestQueue | undefined
  #catchUp: CatchUp | undefined
  #antiEntropy: AntiEntropy | undefined
  #redialer: Redialer | undefined
  #mdns: MdnsDiscovery | undefined
  #keeper: MeshKeeper | undefined
  #unsubscribe: (() => void) | undefined
  #catchUpTimer: ReturnType<typeof setInterval> | undefined
  #publishQueue: StoredEvent[] = []
  #publishing: Promise<void> | undefined
  #lastPublishAt = Number.NEGATIVE_INFINITY
  #running = false

  constructor(components: NetComponents, init: NetInit) {
    this.#c = components
    this.#init = init
    this.#log = components.logger ?? SILENT_LOGGER
    this.#now = components.now ?? Date.now
    if (init.limits.frameBytesMax < FRAME_BYTES_MIN) {
      throw new NetConfigError(
        `limits.frameBytesMax must be at least ${FRAME_BYTES_MIN} (one maximal event plus framing)`,
      )
    }
    for (const b of init.bootstrap) {
      if (peerIdOfMultiaddr(b) === undefined)
        throw new NetConfigError(`bootstrap address ${b} has no /p2p/<peer id>`)
    }
    const selfKey = toHex(signerFromSeed(components.seed).publicKey)
    this.#membership = new Membership(init.members, selfKey)
    this.peerId = peerIdFromAuthorKey(selfKey)
    this.#book = new PeerBook(components.dataDir, this.#now, this.#log)
  }

  get stats(): Record<string, number> {
    return this.#stats.counters
  }

  /** The libp2p host (tests and diagnostics); undefined before start. */
  get libp2p(): GkmLibp2p | undefined {
    return this.#libp2p
  }

  #verifyContext = (): VerifyContext => ({
    nowMs: this.#now(),
    driftMaxMs: this.#init.driftMaxMs ?? HLC_DRIFT_MAX_MS_DEFAULT,
    allowedAuthors: this.#membership.allowedAuthors,
  })

  async start(): Promise<void> {
    if (this.#running) return
    const init = this.#init
    const privateKey = await generateKeyPairFromSeed('Ed25519', this.#c.seed)
    // One window update per half window instead of per data frame (src/net/yamux-window.ts).
    if (!installYamuxWindowUpdates())
      this.#log.warn(
        'the installed @chainsafe/libp2p-yamux is not 8.x: its own rule applies (a window update per data frame, docs/MESH.md)',
      )
    // One socket write per Noise message instead of two (src/net/transport-writes.ts).
    installTransportWrites()
    const libp2p = await createHost({
      privateKey,
      listen: init.listen,
      limits: init.limits,
      gater: this.#membership.gater((peer, where) => {
        this.#stats.inc(`membership.denied_${where}`)
        this.#log.info('refused a peer that is not a member', { peer, where, reason: 'not_a_member' })
      }),
      pnetKey: init.pnetKey === undefined ? undefined : parseSwarmKey(init.pnetKey),
      datastore: this.#c.datastore,
      agentVersion: init.agentVersion ?? 'gkm-sync',
      pingIntervalMs: connectionPingIntervalMs(Math.random()),
      logger: this.#c.libp2pLogger,
      metrics: this.#c.libp2pMetrics,
    })
    this.#libp2p = libp2p
    const ctx: ProtocolContext = {
      api: this.#c.api,
      libp2p,
      limits: WIRE_LIMITS,
      frameBytesMax: init.limits.frameBytesMax,
      stats: this.#stats,
      log: this.#log,
      recent: this.#recent,
      verifyContext: this.#verifyContext,
      allowRemoteResolve: init.allowRemoteResolve ?? !this.#membership.open,
      publishAccepted: (events) => {
        for (const e of events) this.#enqueuePublish(e)
      },
    }
    this.#ctx = ctx
    const limiter = new StreamOpenLimiter(init.limits.streamOpensPerPeerPerSecond)
    const streamLimits = {
      maxInboundStreams: init.limits.streamsPerProtocolInbound,
      maxOutboundStreams: init.limits.streamsPerProtocolOutbound,
    }
    await libp2p.handle(
      PROTOCOL_PUSH,
      serve(ctx, limiter, 'push', (lp, peer) => handlePush(ctx, lp, peer)),
      streamLimits,
    )
    await libp2p.handle(
      PROTOCOL_PULL,
      serve(ctx, limiter, 'pull', (lp, peer) => handlePull(ctx, lp, peer)),
      streamLimits,
    )
    await libp2p.handle(
      PROTOCOL_RESOLVE,
      serve(ctx, limiter, 'resolve', (lp, peer) => handleResolve(ctx, lp, peer)),
      streamLimits,
    )
    const eventSet = this.#c.eventSet
    if (eventSet !== undefined) {
      await libp2p.handle(
        PROTOCOL_RECONCILE,
        serve(ctx, limiter, 'reconcile', async (lp, peer) => {
          this.#antiEntropy?.serving(peer, true)
          try {
            await handleReconcile(
              ctx,
              eventSet,
              init.dataTypes,
              lp,
              peer,
              this.#antiEntropy?.inFlight ?? new Set(),
              (from) => this.#antiEntropy?.onLearned(from),
            )
          } finally {
            this.#antiEntropy?.serving(peer, false)
          }
        }),
        streamLimits,
      )
      this.#antiEntropy = new AntiEntropy(
        {
          ctx,
          set: eventSet,
          now: this.#now,
          random: Math.random,
          hangUp: async (peer) => {
            await libp2p.hangUp(peer)
          },
        },
        {
          selfId: this.peerId,
          dataTypes: init.dataTypes,
          intervalMs: init.reconcileIntervalMs ?? RECONCILE_INTERVAL_MS_DEFAULT,
        },
      )
    }
    await libp2p.handle(
      PROTOCOL_PEERS,
      serve(ctx, limiter, 'peers', (lp, peer) => handlePeers(lp, peer, (r) => this.#keeper?.shared(r) ?? [])),
      streamLimits,
    )

    this.#ingest = new IngestQueue(
      this.#c.api,
      this.#stats,
      this.#log,
      INGEST_QUEUE_EVENTS_MAX,
      INGEST_BATCH_EVENTS_MAX,
      INGEST_QUEUE_BYTES_MAX,
      init.ingestGatherMs ?? INGEST_GATHER_MS_DEFAULT,
    )
    this.#gossip = new GossipRouter(
      {
        pubsub: libp2p.services.pubsub,
        stats: this.#stats,
        log: this.#log,
        limits: WIRE_LIMITS,
        recent: this.#recent,
        seen: this.#seen,
        ingest: this.#ingest,
        verifyContext: this.#verifyContext,
        verifyMany: this.#c.verifyMany,
        fetch: (peer, digest) =>
          fetchFrom(ctx, peer, [digest], AbortSignal.timeout(ANNOUNCE_FETCH_TIMEOUT_MS)),
      },
      { dataTypes: init.dataTypes, announceBytesMin: init.announceBytesMin ?? ANNOUNCE_BYTES_MIN_DEFAULT },
    )
    const gossip = this.#gossip
    this.#direct = new DirectRouter(
      {
        libp2p,
        stats: this.#stats,
        log: this.#log,
        selfId: this.peerId,
        seen: this.#seen,
        senders: this.#senders,
        ingest: this.#ingest,
        verifyContext: this.#verifyContext,
        now: this.#now,
        gossip: (events) => void gossip.publish(events),
      },
      { dataTypes: init.dataTypes, peersMax: init.directPeersMax ?? DIRECT_PEERS_MAX_DEFAULT },
    )
    if (eventSet === undefined)
      this.#catchUp = new CatchUp(
        ctx,
        this.#book,
        init.dataTypes,
        (d) => this.#seen.get(d) === 'stored',
        init.catchUpIntervalMs ?? CATCH_UP_INTERVAL_MS,
        this.#now,
      )
    this.#redialer = new Redialer({
      dial: (peer, addrs, signal, timeoutMs) => this.#dialPeer(peer, addrs, signal, timeoutMs),
      // by the connections' cached ids: parsing the id (base58, its key) on every tick for
      // every target cost more than the rest of an idle node's redial timer
      isConnected: (peer) => libp2p.getConnections().some((c) => c.remotePeer.toString() === peer),
      now: this.#now,
      random: Math.random,
      selfId: this.peerId,
      log: this.#log,
      onFailure: (peer, err) => {
        this.#stats.inc('dial.failed')
        this.#log.debug('dialling a peer failed', { peer, reason: (err as Error)?.message })
      },
    })

    const redialer = this.#redialer
    this.#keeper = new MeshKeeper(
      {
        selfId: this.peerId,
        book: this.#book,
        stats: this.#stats,
        log: this.#log,
        isMember: (id) => this.#membership.isMember(id),
        connected: () => libp2p.getPeers(),
        ask: (peer, signal) => peersOf(ctx, peer, signal),
        want: (id, addrs) => redialer.want(id, addrs, 'known'),
        wanted: (id) => redialer.has(id),
      },
      { targetConnections: init.targetConnections ?? TARGET_CONNECTIONS_DEFAULT },
    )

    libp2p.addEventListener('peer:connect', (evt) => this.#onConnect(evt.detail))
    libp2p.addEventListener('connection:open', (evt) => this.#watchClose(evt.detail))
    libp2p.addEventListener('peer:disconnect', (evt) => {
      const id = evt.detail.toString()
      const why = this.#closeReasons.get(id)
      this.#closeReasons.delete(id)
      this.#log.info('peer disconnected', { peer: id, reason: why ?? 'unknown' })
      this.#redialer?.disconnected(id)
      this.#direct?.disconnected(id)
      this.#antiEntropy?.disconnected(evt.detail)
    })
    libp2p.addEventListener('peer:identify', (evt) => {
      const id = evt.detail.peerId.toString()
      const addrs = evt.detail.listenAddrs.map((a) => a.toString()).filter((a) => !a.includes('/p2p-circuit'))
      if (addrs.length > 0) this.#book.touch(id, addrs)
      this.#direct?.identified(id, evt.detail.protocols)
      // Learn the peer's peers once it is known to speak peer exchange (older nodes do not).
      if (evt.detail.protocols.includes(PROTOCOL_PEERS)) this.#keeper?.exchange(evt.detail.peerId)
    })

    // Registered before the host starts, like the other protocols, so identify announces it.
    if (init.gossip !== false) await this.#direct.start()
    await this.#book.load()
    await libp2p.start()
    this.#running = true
    if (init.gossip !== false) this.#gossip.start()

    for (const [id, known] of this.#book.entries()) {
      if (id === this.peerId || !this.#membership.isMember(id) || known.addrs.length === 0) continue
      this.#redialer.want(id, known.addrs, 'known')
    }
    for (const b of init.bootstrap) {
      const id = peerIdOfMultiaddr(b) as string
      if (id === this.peerId) continue
      if (!this.#membership.isMember(id)) {
        this.#log.warn(`bootstrap peer ${id} is not a member; not dialling it`)
        continue
      }
      this.#redialer.want(id, [withoutPeerId(b)], 'bootstrap')
    }
    this.#redialer.start()
    this.#keeper.start()

    if (init.mdns.enabled) {
      this.#mdns = new MdnsDiscovery(
        {
          localAddrs: () => libp2p.getMultiaddrs().map((a) => a.toString()),
          selfPeerId: this.peerId,
          onPeer: (peer, addrs) => this.#onDiscovered(peer, addrs),
          stats: this.#stats,
          log: this.#log,
        },
        { interface: init.mdns.interface },
      )
      this.#mdns.start()
    }

    if (this.#catchUp !== undefined) {
      this.#catchUpTimer = setInterval(() => {
        for (const peer of libp2p.getPeers()) this.#catchUp?.request(peer)
      }, init.catchUpIntervalMs ?? CATCH_UP_INTERVAL_MS)
      this.#catchUpTimer.unref?.()
    }

    const lastSeq = (await this.#c.api.status()).last_seq
    this.#unsubscribe = this.#c.api.subscribe(lastSeq, (change) => this.#onChange(change))
    this.#log.info(
      `mesh ${this.peerId} listening on ${this.addresses().join(' ') || '(nothing)'}; ` +
        (this.#membership.open
          ? 'OPEN federation (no members list: any peer may connect)'
          : `${this.#membership.size} members`) +
        (init.pnetKey !== undefined ? '; private network key set' : ''),
      {
        peerId: this.peerId,
        addrs: this.addresses(),
        members: this.#membership.open ? 'open' : this.#membership.size,
        pnet: init.pnetKey !== undefined,
        bootstrap: init.bootstrap.length,
        mdns: init.mdns.enabled,
      },
    )
  }

  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    this.#unsubscribe?.()
    if (this.#catchUpTimer !== undefined) clearInterval(this.#catchUpTimer)
    this.#redialer?.stop()
    this.#keeper?.stop()
    await this.#mdns?.stop()
    await this.#catchUp?.stop()
    await this.#antiEntropy?.stop()
    this.#gossip?.stop()
    await this.#direct?.stop()
    this.#publishQueue = []
    await this.#publishing
    await this.#ingest?.stop()
    await this.#libp2p?.stop()
    await this.#book.flush()
    this.#recent.clear()
    this.#log.info('mesh stopped', { peerId: this.peerId })
  }

  addresses(): string[] {
    return this.#libp2p?.getMultiaddrs().map((a) => a.toString()) ?? []
  }

  peers(): PeerInfo[] {
    const connected = new Set(this.#libp2p?.getPeers().map((p) => p.toString()) ?? [])
    // The GossipSub interface does not declare getScore; the implementation has it.
    const pubsub = this.#libp2p?.services.pubsub as unknown as
      | { getScore(peerId: string): number }
      | undefined
    const ids = new Set([...this.#book.entries().map(([id]) => id), ...connected])
    return [...ids].map((id) => {
      const known = this.#book.get(id)
      const seq = /^s\.(\d+)$/.exec(known?.cursor ?? '')
      const sync = this.#antiEntropy?.info(id)
      const last = sync?.last
      return {
        peerId: id,
        addrs:
          known?.addrs ??
          this.#libp2p?.getConnections(peerIdFromString(id)).map((c) => c.remoteAddr.toString()) ??
          [],
        connected: connected.has(id),
        direct: connected.has(id) ? this.#direct?.ready(id) : undefined,
        lastSeq: seq === null ? undefined : Number(seq[1]),
        inSyncAtMs: sync?.inSyncAtMs ?? this.#catchUp?.inSyncAt.get(id),
        score: connected.has(id) ? pubsub?.getScore(id) : undefined,
        inSyncAsOf: sync?.inSyncAtMs === undefined ? undefined : new Date(sync.inSyncAtMs).toISOString(),
        inSyncStateHash: sync?.inSyncLocalHash,
        peerStateHash: sync?.inSyncPeerHash,
        lastReconcile:
          last === undefined
            ? undefined
            : {
                at: new Date(last.atMs).toISOString(),
                need: last.need,
                have: last.have,
                rounds: last.rounds,
                bytes: last.bytesSent + last.bytesReceived,
                error: sync?.lastError,
              },
      }
    })
  }

  async dial(addr: string): Promise<void> {
    const libp2p = this.#requireRunning()
    const id = peerIdOfMultiaddr(addr)
    if (id !== undefined && !this.#membership.isMember(id))
      throw new NotAMemberError(`peer ${id} is not a member of this federation`)
    const conn = await libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
    await this.#confirm(libp2p, conn)
    const peer = conn.remotePeer.toString()
    const plain = withoutPeerId(addr)
    this.#book.touch(peer, [plain])
    this.#redialer?.want(peer, [plain], 'manual')
  }

  /**
   * Resolves once the peer has identified itself on `conn` (or DIAL_CONFIRM_MS passed with the
   * connection still open); rejects with PeerClosedError when the connection closes first. The
   * dialler's side of the handshake completes before the remote's gater decides, so a dial to
   * a federation that does not list us "succeeds" and is closed a moment later.
   */
  async #confirm(libp2p: GkmLibp2p, conn: Connection): Promise<void> {
    const closed = () =>
      new PeerClosedError(
        `${conn.remotePeer} closed the connection right after the handshake (is this node in its members list, with the same pnet key?)`,
      )
    if (conn.status !== 'open') throw closed()
    await new Promise<void>((resolve, reject) => {
      const finish = (err?: Error) => {
        clearTimeout(timer)
        libp2p.removeEventListener('peer:identify', onIdentify)
        libp2p.removeEventListener('connection:close', onClose)
        if (err === undefined) resolve()
        else reject(err)
      }
      const onIdentify = (evt: CustomEvent<{ connection: Connection }>) => {
        if (evt.detail.connection.id === conn.id) finish()
      }
      const onClose = (evt: CustomEvent<Connection>) => {
        if (evt.detail.id === conn.id) finish(closed())
      }
      const timer = setTimeout(() => finish(conn.status === 'open' ? undefined : closed()), DIAL_CONFIRM_MS)
      libp2p.addEventListener('peer:identify', onIdentify)
      libp2p.addEventListener('connection:close', onClose)
    })
  }

  async publish(event: StoredEvent): Promise<void> {
    if (this.#gossip === undefined || !this.#running)
      throw new NetworkNotRunningError('the network is not running')
    const rest = this.#direct?.publish([event]) ?? [event]
    if (rest.length > 0) await this.#gossip.publish(rest)
  }

  async push(peerId: string, events: readonly StoredEvent[]): Promise<PushResult> {
    this.#requireRunning()
    return pushTo(this.#ctx as ProtocolContext, peerIdFromString(peerId), events)
  }

  pull(peerId: string, req: PullFromRequest): AsyncGenerator<PullFrame> {
    this.#requireRunning()
    return pullFrom(this.#ctx as ProtocolContext, peerIdFromString(peerId), req)
  }

  async resolve(peerId: string, req: ResolveRequest): Promise<ResolveResult> {
    this.#requireRunning()
    return resolveOn(this.#ctx as ProtocolContext, peerIdFromString(peerId), req)
  }

  /** Reconciles now with one peer or every connected one; `onProgress` hears how far each
   *  session is (counts so far, see ReconcileProgress). */
  async reconcile(peerId?: string, onProgress?: (p: ReconcileProgress) => void): Promise<ReconcileReport[]> {
    const libp2p = this.#requireRunning()
    const ae = this.#antiEntropy
    if (ae === undefined)
      throw new NetConfigError("reconciliation needs the node's event set (NetComponents.eventSet)")
    const peers = peerId === undefined ? libp2p.getPeers() : [peerIdFromString(peerId)]
    return Promise.all(peers.map((p) => ae.request(p, onProgress)))
  }

  /** Resolves when no reconciliation runs or waits (tests). */
  async reconcileIdle(): Promise<void> {
    await this.#antiEntropy?.idle()
  }

  /** The direct fan-out (tests, diagnostics); undefined before start. */
  get direct(): DirectRouter | undefined {
    return this.#direct
  }

  /** Validated gossip events waiting for the node (benchmarks, status). */
  get ingestQueueLength(): number {
    return this.#ingest?.length ?? 0
  }

  /** Resolves when no catch-up runs (tests). */
  async catchUpIdle(): Promise<void> {
    await this.#catchUp?.idle()
  }

  #requireRunning(): GkmLibp2p {
    if (!this.#running || this.#libp2p === undefined)
      throw new NetworkNotRunningError('the network is not running')
    return this.#libp2p
  }

  async #dialPeer(
    peer: string,
    addrs: readonly string[],
    signal?: AbortSignal,
    timeoutMs = DIAL_TIMEOUT_MS,
  ): Promise<void> {
    const libp2p = this.#requireRunning()
    const id = peerIdFromString(peer)
    if (addrs.length > 0)
      await libp2p.peerStore.merge(id, { multiaddrs: addrs.map((a) => multiaddr(withoutPeerId(a))) })
    const startedAt = performance.now()
    this.#log.debug('dialling a peer', { peer, timeoutMs })
    try {
      await libp2p.dial(id, { signal: deadline(timeoutMs, signal) })
    } catch (err) {
      const ms = Math.round(performance.now() - startedAt)
      this.#log.debug('dial ended without a connection', { peer, ms, reason: (err as Error)?.message })
      throw err
    }
    this.#log.debug('dial connected', { peer, ms: Math.round(performance.now() - startedAt) })
  }

  /** Remembers why a peer's last connection closed, for the "peer disconnected" line. */
  #watchClose(conn: Connection): void {
    conn.addEventListener(
      'close',
      (evt) => {
        const by = !this.#running
          ? 'node stopping'
          : evt.local === true
            ? 'closed by us'
            : 'closed by the peer'
        const reason = evt.error === undefined ? by : `${by}: ${evt.error.message}`
        const id = conn.remotePeer.toString()
        if (this.#closeReasons.size >= CLOSE_REASONS_MAX) this.#closeReasons.clear()
        this.#closeReasons.set(id, reason)
        this.#log.debug('connection closed', {
          peer: id,
          remoteAddr: conn.remoteAddr.toString(),
          direction: conn.direction,
          reason,
        })
      },
      { once: true },
    )
  }

  #onConnect(peer: PeerId): void {
    const id = peer.toString()
    const conn = this.#libp2p?.getConnections(peer)[0]
    this.#log.info('peer connected', {
      peer: id,
      remoteAddr: conn?.remoteAddr.toString(),
      direction: conn?.direction,
    })
    this.#stats.inc('peers.connected')
    this.#book.touch(id)
    this.#redialer?.connected(id)
    // The scheduler starts one session per new connection (from the side whose id sorts first)
    // and refuses a peer it struck out.
    if (this.#antiEntropy?.connected(peer) === false) {
      this.#stats.inc('reconcile.banned_refused')
      this.#libp2p?.hangUp(peer).catch(() => {})
      return
    }
    this.#catchUp?.request(peer)
  }

  #onDiscovered(peer: string, addrs: string[]): void {
    if (!this.#membership.isMember(peer)) {
      this.#stats.inc('discovery.non_member')
      return
    }
    this.#redialer?.want(peer, addrs, 'known')
  }

  #onChange(change: ChangeEvent): void {
    this.#seen.set(digestOf(change.event.signed), 'stored')
    if (change.origin.kind === 'local' || change.origin.kind === 'http') this.#enqueuePublish(change.event)
  }

  #enqueuePublish(event: StoredEvent): void {
    if (!this.#running || this.#init.gossip === false) return
    if (this.#publishQueue.length >= PUBLISH_QUEUE_EVENTS_MAX) {
      this.#stats.inc('gossip.publish_dropped')
      return
    }
    this.#publishQueue.push(event)
    this.#publishing ??= this.#drainPublishQueue().finally(() => {
      this.#publishing = undefined
    })
  }

  /**
   * Publishes what is queued. A synchronous burst (one group commit) leaves as one batch; a
   * publish within the linger window of the previous one waits for the window to end and takes
   * everything queued by then (GOSSIP_PUBLISH_LINGER_MS_DEFAULT).
   */
  async #drainPublishQueue(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve))
    const linger = this.#init.publishLingerMs ?? GOSSIP_PUBLISH_LINGER_MS_DEFAULT
    while (this.#publishQueue.length > 0 && this.#running) {
      const wait = this.#lastPublishAt + linger - performance.now()
      if (wait > 0) await new Promise<void>((resolve) => setTimeout(resolve, wait))
      const batch = this.#publishQueue.splice(0, this.#publishQueue.length)
      this.#lastPublishAt = performance.now()
      // Direct fan-out in a small federation; gossip for the rest (src/net/direct.ts).
      const rest = this.#direct?.publish(batch) ?? batch
      if (rest.length > 0) await this.#gossip?.publish(rest)
    }
  }
}
