/**
 * Composition root: config -> components -> start in order (store, identity, replay, engine,
 * HTTP, mesh) and stop in reverse. Nothing else in src/ wires components together.
 */
import { readFile, statfs } from 'node:fs/promises'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import {
  type ChangeFeed,
  createSink,
  createSource,
  type SinkCounters,
  type SinkLogger,
  SinkManager,
  type SinkRunnerInit,
} from '../adapters/index.ts'
import { type GkmConfig, isMultiaddrText } from '../config/index.ts'
import type { SyncApi } from '../core/api.ts'
import { parseHlc } from '../core/hlc.ts'
import { Ingestor } from '../core/ingest.ts'
import type { CrdtMerger } from '../core/merge.ts'
import type { Store } from '../core/ports.ts'
import type { AuthorKey, JsonValue } from '../core/types.ts'
import { EMPTY_STATE_HASH } from '../core/view.ts'
import { createHttpApi, type HttpApi } from '../http/server.ts'
import {
  createNetwork,
  libp2pLogger,
  type Network,
  PeerFileFormatError,
  parseBootstrapFile,
  parseMembersFile,
  parseSwarmKey,
} from '../net/index.ts'
import type { NetLogger } from '../net/stats.ts'
import { createLevelStore, metaOnlyBatch } from '../store/index.ts'
import { toHex } from '../util/bytes.ts'
import { signerFromSeed } from '../util/crypto.ts'
import { loadOrCreateIdentity } from '../util/identity-file.ts'
import { newEventId } from '../util/random.ts'
import { REBUILD_LOG_INTERVAL_MS, SLOW_COMMIT_MS } from './constants.ts'
import { createCryptoPool } from './crypto-pool.ts'
import { BootstrapFileError, MeshListenError } from './errors.ts'
import { EventSet } from './event-set.ts'
import { createLogger, type Logger, netLogger } from './log.ts'
import { createNodeMetrics, type NodeMetrics } from './metrics.ts'
import { openOwnLog } from './own-log.ts'
import { releaseMemory } from './release-memory.ts'
import { type ReplayReport, rebuildState, STATE_FORMAT } from './replay.ts'
import { sinkFeed } from './sink-feed.ts'
import { sinkLogger } from './sink-logger.ts'
import { StorageHealth, watchedStore } from './storage-health.ts'
import { retryLaterOf, SyncNode } from './sync-node.ts'
import { WriteQueue } from './write-queue.ts'
import { createYjsGuard } from './yjs-guard.ts'

export const VERSION = '0.1.0'

export interface RunningNode {
  readonly api: SyncApi
  readonly http: { host: string; port: number }
  /** libp2p peer id (derived from the identity key, which also signs events). */
  readonly peerId: string
  readonly publicKey: string
  readonly dataDir: string
  readonly replay: ReplayReport
  /** The libp2p mesh, when enabled. */
  readonly network?: Network
  /** The node's event set as reconciliation sees it (range indexes per type). */
  readonly eventSet: EventSet
  /** Mesh multiaddrs (each ending in /p2p/<peer id>). */
  readonly listenAddrs: readonly string[]
  /** The node's structured logger (pino). */
  readonly log: Logger
  /** The node's Prometheus metrics (also served at GET /metrics). */
  readonly metrics: NodeMetrics
  /** The application adapters (config `sinks`, `--sink`): their runners and figures. */
  readonly sinks: SinkManager
  /** The change feed as adapters read it (a sink run outside the node's config uses it). */
  readonly feed: ChangeFeed
  stop(): Promise<void>
}

/** A node started with `http: false`: the same, without an HTTP server. */
export type HeadlessNode = Omit<RunningNode, 'http'> & { readonly http: undefined }

export interface StartOptions {
  /** Replace the wall clock (tests and the simulator). */
  readonly now?: () => number
  /** Rebuild the materialized state from the log even if it looks complete. */
  readonly rebuild?: boolean
  /** Where the mesh reports; by default the node's logger. */
  readonly meshLogger?: NetLogger
  /** The node's logger (pino); by default JSON lines on stderr at config `log.level`
   *  (human-readable on a terminal). Embedders pass their own, or `silentLogger()`. */
  readonly logger?: Logger
  /** Told while the state is rebuilt at start-up: events replayed of the log's. A returned
   *  promise is awaited (tests hold the rebuild at a page). */
  readonly onRebuildProgress?: (done: number, total: number) => void | Promise<void>
  /** Put libp2p's own metrics (bytes in/out, connections, streams; @libp2p/prometheus-metrics)
   *  in the node's registry. Off by default: that library keeps its metrics in one module-level
   *  map, so with several nodes in a process they would all count into the first node's registry
   *  (docs/METRICS.md). `gkm-sync start` (one node per process) turns it on. */
  readonly libp2pMetrics?: boolean
  /** Told as soon as the HTTP API listens (before the rebuild), with its address. */
  readonly onListening?: (address: { host: string; port: number }) => void
  /** Where sinks log (default: the node's logger, component "sinks"). */
  readonly sinkLogger?: SinkLogger
  /** Retry and batch tunables of the sinks (tests shorten the backoff). */
  readonly sinkRunner?: SinkRunnerInit
}

/** Bootstrap entries are multiaddrs or files of them (bootstrap/README.md). */
async function resolveBootstrap(entries: readonly string[]): Promise<string[]> {
  const out: string[] = []
  for (const e of entries) {
    if (e.trim() === '') {
      throw new BootstrapFileError(
        'bootstrap entry is empty (--bootstrap, GKM_BOOTSTRAP or "bootstrap" in the config file): give a multiaddr or a file of them',
      )
    }
    if (isMultiaddrText(e)) {
      out.push(e)
      continue
    }
    let text: string
    try {
      text = await readFile(e, 'utf8')
    } catch (err) {
      throw new BootstrapFileError(
        `bootstrap file ${JSON.stringify(e)} (--bootstrap, GKM_BOOTSTRAP or "bootstrap" in the config file) cannot be read: ${(err as Error).message}`,
        { cause: err },
      )
    }
    out.push(...parseBootstrapFile(text))
  }
  return out
}

/** A mesh that could not listen names the address (a port in use is the usual cause). */
function meshStartError(err: unknown, listen: readonly string[]): unknown {
  const text = `${(err as Error)?.message ?? err} ${String((err as { cause?: Error })?.cause?.message ?? '')}`
  const inUse = /EADDRINUSE|address already in use/i.test(text)
  const addrs = listen.join(', ')
  if (!inUse && !/listen/i.test(text)) return err
  return new MeshListenError(
    inUse
      ? `mesh listen address ${addrs} is already in use (another gkm-sync node or program holds the port): stop it, or pass another --listen`
      : `the mesh could not listen on ${addrs}: ${(err as Error)?.message ?? err}`,
    { cause: err },
  )
}

/** Reads a members file: a JSON array of keys, or one hex key or peer id per line (`#`
 *  comments), as docs/CONFIG.md and bootstrap/README.md say. */
export async function readMembersFile(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8')
  if (!text.trimStart().startsWith('[')) return parseMembersFile(text)
  let list: unknown
  try {
    list = JSON.parse(text)
  } catch (err) {
    throw new PeerFileFormatError(`${path}: not valid JSON (${(err as Error).message})`, { cause: err })
  }
  if (!Array.isArray(list) || !list.every((k) => typeof k === 'string')) {
    throw new PeerFileFormatError(`${path}: a JSON members file must be an array of key strings`)
  }
  return parseMembersFile(list.join('\n'))
}

/**
 * Starts a node. `{ http: false }` starts it without the HTTP API (an embedding application
 * uses `node.api` in-process); the HTTP API otherwise listens from the start, answering
 * `starting: rebuild n of m` while the state is rebuilt.
 */
export async function startNode(
  config: GkmConfig,
  opts?: StartOptions & { readonly http?: true },
): Promise<RunningNode>
export async function startNode(
  config: GkmConfig,
  opts: StartOptions & { readonly http: false },
): Promise<HeadlessNode>
export async function startNode(
  config: GkmConfig,
  opts: StartOptions & { readonly http?: boolean } = {},
): Promise<RunningNode | HeadlessNode> {
  const now = opts.now ?? Date.now
  const log = opts.logger ?? createLogger({ level: config.log.level })
  const identity = await loadOrCreateIdentity(config.dataDir, { create: true })
  const baseSigner = signerFromSeed(identity.seed)
  const peerId = peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', identity.seed)).toString()
  const publicKey = Buffer.from(baseSigner.publicKey).toString('hex')

  let members: Set<string> | undefined
  if (config.members !== undefined || config.membersFile !== undefined) {
    members = new Set([
      ...(config.members ?? []),
      ...(config.membersFile !== undefined ? await readMembersFile(config.membersFile) : []),
    ])
  }

  log.info(
    { version: VERSION, peerId, publicKey, dataDir: config.dataDir, federation: config.federation },
    'node starting',
  )
  const stops: Array<() => Promise<void>> = []
  // HTTP listens from the start (to answer "starting" during a rebuild) but stops first.
  let http: HttpApi | undefined
  let stopped = false
  const stopAll = async () => {
    if (stopped) return
    stopped = true
    log.info({ peerId }, 'node stopping')
    await http?.close().catch((err: unknown) => log.warn({ err }, 'closing the HTTP API failed'))
    for (const s of stops.reverse()) {
      await s().catch((err: unknown) => log.warn({ err }, 'a component failed to stop cleanly'))
    }
    log.info({ peerId }, 'node stopped')
  }
  let progress: { message: string; done: number; total: number } | undefined = {
    message: 'starting: opening the store',
    done: 0,
    total: 0,
  }
  let node: SyncNode | undefined
  let network: Network | undefined
  let queue: WriteQueue | undefined
  let openStore: Store | undefined
  /** The sinks' figures for /metrics, once the sinks exist. */
  let sinkCounters: () => readonly SinkCounters[] = () => []
  const metrics = createNodeMetrics({
    counts: () => openStore?.counts(),
    writeQueueEvents: () => queue?.queuedEvents ?? 0,
    network: () => network,
    starting: () => progress,
    sinks: () => sinkCounters(),
  })
  try {
    if (opts.http !== false) {
      http = createHttpApi(undefined, {
        host: config.http.host,
        port: config.http.port,
        token: config.http.token,
        bodyBytesMax: config.http.bodyBytesMax,
        logger: log.child({ component: 'http' }),
        metrics,
        // The routes are reached only once the node is ready (and `node` set).
        backup: (dir, origin, onProgress) => (node as SyncNode).backup(dir, origin, onProgress),
        starting: () => progress,
        // The mesh starts later; the routes are reached only once the node is ready.
        peers: config.mesh.enabled
          ? {
              get peerId() {
                return network?.peerId ?? peerId
              },
              addresses: () => network?.addresses() ?? [],
              peers: () => network?.peers() ?? [],
              dial: (addr: string) => (network as Network).dial(addr),
              reconcile: (peer?: string, onProgress?: (p: object) => void) =>
                (network as Network).reconcile(peer, onProgress),
            }
          : undefined,
      })
    }
    const address = await http?.listen()
    if (address !== undefined) opts.onListening?.(address)
    const pool = createCryptoPool(identity.seed, baseSigner)
    stops.push(() => pool.stop())
    const signer = { ...baseSigner, signMany: (m: readonly Uint8Array[]) => pool.signMany(m) }

    const level = createLevelStore(config.dataDir)
    await level.open()
    stops.push(() => level.close())
    let ingestor: Ingestor | undefined
    const health = new StorageHealth({
      store: level,
      freeBytes: async () => {
        const f = await statfs(config.dataDir)
        return f.bavail * f.bsize
      },
      quiesce: (fn) => (queue === undefined ? fn() : queue.whenIdle(fn)),
      // A batch whose write failed may be on disk after the reopen: drop the engine's caches.
      afterReopen: async () => ingestor?.resetCaches((await level.getMeta('stateHash')) ?? EMPTY_STATE_HASH),
      log: (line) => log.warn({ component: 'storage' }, line),
    })
    stops.push(async () => health.stop())
    const store: Store = watchedStore(level, health)
    openStore = store

    const guard = createYjsGuard({
      workers: config.yjs.workers,
      timeoutMs: config.yjs.timeoutMs,
      memoryMb: config.yjs.memoryMb,
    })
    stops.push(() => guard.stop())
    // A merge the guard could not finish for this node's load or lifecycle is `retry_later` (the
    // event comes back), never a verdict on the update (src/node/sync-node.ts retryLaterOf).
    const crdt: CrdtMerger = {
      merge: (base, update) =>
        guard.merge(base, update).catch((err: unknown) => {
          throw retryLaterOf(err) ?? err
        }),
    }

    const hlc = parseHlc((await store.getMeta('hlc')) ?? '0:0') ?? { wallMs: 0, counter: 0 }
    const own = await openOwnLog(store, toHex(signer.publicKey) as AuthorKey)
    ingestor = new Ingestor(
      { store, signer, crdt },
      {
        hlc,
        stateHash: (await store.getMeta('stateHash')) ?? EMPTY_STATE_HASH,
        log: own.log,
        logNext: own.next,
      },
    )
    if ((await store.lastSeq()) === 0 && (await store.getMeta('stateFormat')) === undefined) {
      await store.commit(metaOnlyBatch({ stateFormat: STATE_FORMAT, stateHash: EMPTY_STATE_HASH }))
    }
    // Rebuilds replay trusted, already-verified log entries (Yjs merged in-process).
    let lastLogMs = Number.NEGATIVE_INFINITY
    const replay = await rebuildState(store, ingestor, {
      members,
      selfKey: publicKey,
      now,
      force: opts.rebuild,
      onProgress: (done, total) => {
        progress = { message: `starting: rebuild ${done} of ${total}`, done, total }
        const held = opts.onRebuildProgress?.(done, total)
        if (done === 0) log.info({ total }, 'rebuilding the state from the log')
        else if (performance.now() - lastLogMs >= REBUILD_LOG_INTERVAL_MS) {
          lastLogMs = performance.now()
          log.info({ done, total }, 'rebuilding')
        }
        return held
      },
    })
    if (replay.rebuilt) {
      log.info({ events: replay.events, skipped: replay.skipped, ms: replay.ms }, 'rebuild done')
      if (replay.spillFailed !== undefined)
        log.warn(
          { reason: replay.spillFailed },
          'the rebuild could not write its spill files (<dataDir>/rebuild-spill) and read the log in passes instead, which is slower; free disk space before the next rebuild',
        )
      metrics.ingested({ kind: 'replay', id: 'log' }, replay.events)
    }
    progress = { message: 'starting: starting the mesh', done: replay.events, total: replay.events }
    if (replay.rebuilt) {
      // A rebuild reads every table of the log once, and LevelDB keeps the tables it opened
      // mapped (their pages count in RSS: ~320 MB at a million events). Reopening releases them.
      await store.close()
      await store.open()
      // And the heap pages the rebuild grew to (src/node/release-memory.ts).
      releaseMemory()
    }

    // The event set reconciliation compares with peers': every committed event is added before
    // the change feed hears of it, and the stored ones are loaded before the mesh starts.
    const eventSet = new EventSet(store)
    stops.push(async () => eventSet.close())
    let sinks: SinkManager | undefined
    queue = new WriteQueue(ingestor, store, {
      groupEventsMax: config.ingest.groupEventsMax,
      queueEventsMax: config.ingest.queueEventsMax,
      queueBytesMax: config.ingest.queueBytesMax,
      groupBytesMax: config.ingest.groupBytesMax,
      now,
      onCommitted: (events) => {
        for (const e of events) {
          metrics.ingested(e.request.origin)
          eventSet.add(e.event.type, e.event.signed, e.event.digest)
        }
        node?.onCommitted(events)
      },
      observer: {
        ...metrics.writeQueue,
        committed: (info) => {
          metrics.writeQueue.committed?.(info)
          if (info.commitMs >= SLOW_COMMIT_MS) {
            metrics.slowCommit()
            log.warn(
              { ...info, commitMs: Math.round(info.commitMs), thresholdMs: SLOW_COMMIT_MS },
              'slow commit',
            )
          }
        },
        commitFailed: (err, events) => {
          metrics.writeQueue.commitFailed?.(err, events)
          log.error({ err, events }, 'storage error: a group commit failed; its writers were told')
        },
      },
    })
    const writeQueue = queue
    stops.push(() => writeQueue.stop())
    node = new SyncNode(
      {
        store,
        ingestor,
        queue,
        signer,
        yjs: guard,
        health,
        backup: (dir, onProgress) => level.backup(dir, onProgress),
        now,
        newEventId,
        verify: (items) => pool.verifyMany(items),
        onSubscriberError: (err) => {
          metrics.subscriberError()
          log.error({ err }, 'a change-feed subscriber threw; delivery goes on')
        },
      },
      {
        nodeId: peerId,
        version: VERSION,
        driftMaxMs: config.hlcDriftMaxMs,
        members,
        dataTypes: config.dataTypes,
        // "In sync with X as of T": per connected or known peer, when a reconciliation last
        // found nothing missing either way, with both state hashes then; and the sinks.
        extraStatus: (): Record<string, JsonValue> => ({
          ...(sinks === undefined || sinks.runners.length === 0 ? {} : { sinks: sinks.statusJson() }),
          in_sync: (network?.peers() ?? [])
            .filter((p) => p.inSyncAsOf !== undefined)
            .map((p) => ({
              peer: p.peerId,
              as_of: p.inSyncAsOf ?? null,
              state_hash: p.inSyncStateHash ?? null,
              peer_state_hash: p.peerStateHash ?? null,
              connected: p.connected,
            })),
        }),
      },
    )
    await store.appendAudit([
      {
        atMs: now(),
        op: 'start',
        origin: 'local:node',
        detail: { version: VERSION, replayed: replay.events, members: members?.size ?? 'open' },
      },
    ])

    // The mesh stops after HTTP (reverse order) but before the store, so no peer writes into a
    // closing store.
    if (config.mesh.enabled) {
      await eventSet.load()
      network = createNetwork(
        {
          api: node,
          seed: identity.seed,
          dataDir: config.dataDir,
          now,
          logger: opts.meshLogger ?? netLogger(log.child({ component: 'mesh' })),
          libp2pLogger: libp2pLogger(log.child({ component: 'libp2p' })),
          libp2pMetrics:
            opts.libp2pMetrics === true
              ? (metrics.libp2p as (components: never) => import('@libp2p/interface').Metrics)
              : undefined,
          verifyMany: (items) => pool.verifyMany(items),
          eventSet,
        },
        {
          listen: config.listen,
          bootstrap: await resolveBootstrap(config.bootstrap),
          mdns: config.mdns,
          members: members === undefined ? undefined : [...members],
          pnetKey:
            config.pnetKeyFile === undefined ? undefined : parseSwarmKey(await readFile(config.pnetKeyFile)),
          dataTypes: config.dataTypes,
          limits: config.limits,
          driftMaxMs: config.hlcDriftMaxMs,
          reconcileIntervalMs: config.mesh.reconcileIntervalMs,
          gossip: config.mesh.gossip,
          targetConnections: config.mesh.targetConnections,
          directPeersMax: config.mesh.directPeersMax,
          ingestGatherMs: config.mesh.ingestGatherMs,
          agentVersion: `gkm-sync/${VERSION}`,
        },
      )
      const mesh = network
      try {
        await mesh.start()
      } catch (err) {
        throw meshStartError(err, config.listen)
      }
      stops.push(() => mesh.stop())
    }

    // Sinks stop after HTTP and before the mesh and the store (reverse order of this list).
    const feed = sinkFeed(store, node)
    const sinkLog = opts.sinkLogger ?? sinkLogger(log.child({ component: 'sinks' }))
    sinks = new SinkManager({ feed, logger: sinkLog }, { now, ...opts.sinkRunner })
    for (const spec of config.sinks) sinks.add(await createSink(spec))
    sinks.start()
    const runningSinks = sinks
    sinkCounters = () => runningSinks.counters()
    stops.push(() => runningSinks.stop())
    // Sources (postgres `source: true`): the application's direct writes pushed as local writes.
    const writer = node
    for (const spec of config.sinks) {
      const source = await createSource(
        spec,
        { push: (events) => writer.push(events, { kind: 'local', id: `source:${spec.name ?? spec.kind}` }) },
        sinkLog,
      )
      if (source === undefined) continue
      await source.install()
      source.start()
      stops.push(() => source.stop())
    }

    http?.ready(node)
    progress = undefined
    log.info(
      {
        peerId,
        http: address === undefined ? 'off' : `${address.host}:${address.port}`,
        mesh: network?.addresses() ?? 'off',
        events: (await store.counts()).events,
        replayed: replay.rebuilt ? replay.events : 0,
      },
      'node ready',
    )

    return {
      api: node,
      http: address,
      log,
      metrics,
      peerId,
      publicKey,
      dataDir: config.dataDir,
      replay,
      network,
      eventSet,
      listenAddrs: network?.addresses() ?? [],
      sinks,
      feed,
      stop: stopAll,
    }
  } catch (err) {
    // A named failure (a locked or damaged store, a port in use, a bad bootstrap file) is said
    // in one line; only an unexpected one (a bug) carries its stack.
    const e = err as { name?: string; code?: unknown; message?: string }
    if (typeof e?.code === 'string')
      log.error({ error: e.name, code: e.code, reason: e.message }, 'start failed')
    else log.error({ err }, 'start failed')
    await stopAll()
    throw err
  }
}
