/**
 * Composition root: config -> components -> start in order (store, identity, replay, engine,
 * HTTP, mesh) and stop in reverse. Nothing else in src/ wires components together.
 */
import { readFile, statfs } from 'node:fs/promises'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { type GkmConfig, isMultiaddrText } from '../config/index.ts'
import type { SyncApi } from '../core/api.ts'
import { parseHlc } from '../core/hlc.ts'
import { Ingestor } from '../core/ingest.ts'
import type { CrdtMerger } from '../core/merge.ts'
import type { Store } from '../core/ports.ts'
import { EMPTY_STATE_HASH } from '../core/view.ts'
import { createHttpApi } from '../http/server.ts'
import {
  createNetwork,
  type Network,
  PeerFileFormatError,
  parseBootstrapFile,
  parseMembersFile,
  parseSwarmKey,
} from '../net/index.ts'
import type { NetLogger } from '../net/stats.ts'
import { createLevelStore } from '../store/index.ts'
import { signerFromSeed } from '../util/crypto.ts'
import { loadOrCreateIdentity } from '../util/identity-file.ts'
import { newEventId } from '../util/random.ts'
import { createCryptoPool } from './crypto-pool.ts'
import { BootstrapFileError, MeshListenError } from './errors.ts'
import { type ReplayReport, rebuildState, STATE_FORMAT } from './replay.ts'
import { StorageHealth, watchedStore } from './storage-health.ts'
import { SyncNode } from './sync-node.ts'
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
  /** Mesh multiaddrs (each ending in /p2p/<peer id>). */
  readonly listenAddrs: readonly string[]
  stop(): Promise<void>
}

export interface StartOptions {
  /** Replace the wall clock (tests and the simulator). */
  readonly now?: () => number
  /** Rebuild the materialized state from the log even if it looks complete. */
  readonly rebuild?: boolean
  /** Where the mesh reports warnings (silent by default). */
  readonly meshLogger?: NetLogger
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

export async function startNode(config: GkmConfig, opts: StartOptions = {}): Promise<RunningNode> {
  const now = opts.now ?? Date.now
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

  const stops: Array<() => Promise<void>> = []
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch(() => {})
  }
  try {
    const pool = createCryptoPool(identity.seed, baseSigner)
    stops.push(() => pool.stop())
    const signer = { ...baseSigner, signMany: (m: readonly Uint8Array[]) => pool.signMany(m) }

    const level = createLevelStore(config.dataDir)
    await level.open()
    stops.push(() => level.close())
    let queue: WriteQueue | undefined
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
      log: (line) => process.stderr.write(`gkm-sync ${line}\n`),
    })
    stops.push(async () => health.stop())
    const store: Store = watchedStore(level, health)

    const guard = createYjsGuard({
      workers: config.yjs.workers,
      timeoutMs: config.yjs.timeoutMs,
      memoryMb: config.yjs.memoryMb,
    })
    stops.push(() => guard.stop())
    const crdt: CrdtMerger = { merge: (base, update) => guard.merge(base, update) }

    const hlc = parseHlc((await store.getMeta('hlc')) ?? '0:0') ?? { wallMs: 0, counter: 0 }
    ingestor = new Ingestor(
      { store, signer, crdt },
      { hlc, stateHash: (await store.getMeta('stateHash')) ?? EMPTY_STATE_HASH },
    )
    if ((await store.lastSeq()) === 0 && (await store.getMeta('stateFormat')) === undefined) {
      await store.commit({
        events: [],
        targets: [],
        conflicts: [],
        equivocations: [],
        audit: [],
        meta: { stateFormat: STATE_FORMAT, stateHash: EMPTY_STATE_HASH },
      })
    }
    // Rebuilds replay trusted, already-verified log entries (Yjs merged in-process).
    const replay = await rebuildState(store, ingestor, { members, now, force: opts.rebuild })
    if (replay.rebuilt) {
      // A rebuild reads every table of the log once, and LevelDB keeps the tables it opened
      // mapped (their pages count in RSS: ~320 MB at a million events). Reopening releases them.
      await store.close()
      await store.open()
    }

    let node: SyncNode | undefined
    queue = new WriteQueue(ingestor, store, {
      groupEventsMax: config.ingest.groupEventsMax,
      queueEventsMax: config.ingest.queueEventsMax,
      queueBytesMax: config.ingest.queueBytesMax,
      groupBytesMax: config.ingest.groupBytesMax,
      now,
      onCommitted: (events) => node?.onCommitted(events),
    })
    stops.push(() => queue.stop())
    node = new SyncNode(
      {
        store,
        ingestor,
        queue,
        signer,
        yjs: guard,
        health,
        backup: (dir) => level.backup(dir),
        now,
        newEventId,
        verify: (items) => pool.verifyMany(items),
      },
      {
        nodeId: peerId,
        version: VERSION,
        driftMaxMs: config.hlcDriftMaxMs,
        members,
        dataTypes: config.dataTypes,
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
    let network: Network | undefined
    if (config.mesh.enabled) {
      network = createNetwork(
        {
          api: node,
          seed: identity.seed,
          dataDir: config.dataDir,
          now,
          logger: opts.meshLogger,
          verifyMany: (items) => pool.verifyMany(items),
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
          agentVersion: `gkm-sync/${VERSION}`,
        },
      )
      try {
        await network.start()
      } catch (err) {
        throw meshStartError(err, config.listen)
      }
      stops.push(() => network!.stop())
    }

    const http = createHttpApi(node, {
      host: config.http.host,
      port: config.http.port,
      token: config.http.token,
      bodyBytesMax: config.http.bodyBytesMax,
      peers: network,
    })
    const address = await http.listen()
    stops.push(() => http.close())

    return {
      api: node,
      http: address,
      peerId,
      publicKey,
      dataDir: config.dataDir,
      replay,
      network,
      listenAddrs: network?.addresses() ?? [],
      stop: stopAll,
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}
