/**
 * Test helpers for a mesh of real nodes (src/node startNode: LevelDB, engine, HTTP, libp2p) in
 * one process, on loopback only: HTTP on 127.0.0.1:0, the mesh on a 127.0.0.1 port drawn below
 * the ephemeral range (MESH_PORT_*), mDNS OFF
 * (the host's interfaces never see multicast), peers found through bootstrap lists.
 *
 *   const mesh = await startMesh(3)                 // node i>0 bootstraps to node 0
 *   after(() => mesh.close())                       // stops every node, removes every temp dir
 *   await mesh.nodes[0].push([{ event_type: 'persona_update', ... }])
 *   await waitFor('all converge', () => converged(mesh.nodes), 20_000)
 *
 * Identities are created before any node starts, so a federation's members list (every node's
 * public key, or a chosen subset) can be given to each node at start. Each node's data directory
 * is its own temp dir, so tests using this run in parallel (`--test-concurrency`).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/index.ts'
import type { StatusInfo } from '../../src/core/api.ts'
import { ALL_TOPICS, type GkmNetwork, peerIdFromAuthorKey } from '../../src/net/index.ts'
import { loadOrCreateIdentity, type RunningNode, startNode } from '../../src/node/index.ts'
import { testLogger } from './node.ts'

/** Mesh ports are drawn from [MESH_PORT_LOW, MESH_PORT_HIGH), below Linux's ephemeral range
 *  (32768-60999 by default), not from `listen(0)`: a node gets its port back on restart, and a
 *  port from the ephemeral range can be taken meanwhile by another test's outgoing connection
 *  or `listen(0)` (the web console's restart failed once with EADDRINUSE so). */
const MESH_PORT_LOW = 20_000
const MESH_PORT_HIGH = 32_000
/** Starts tried before a taken port fails the test: a first start draws anew each time, a
 *  restart waits MESH_LISTEN_RETRY_MS between tries (5 s in all). */
const MESH_LISTEN_ATTEMPTS = 20
const MESH_LISTEN_RETRY_MS = 250

function drawMeshPort(): number {
  return MESH_PORT_LOW + Math.floor(Math.random() * (MESH_PORT_HIGH - MESH_PORT_LOW))
}

export interface MeshNodeOptions {
  /** Members list (hex keys) given to this node; undefined = open federation. */
  members?: readonly string[]
  /** Bootstrap multiaddrs (with /p2p/). */
  bootstrap?: readonly string[]
  /** Other config fields (loadConfig `values`), e.g. `{ limits: {...} }`. */
  values?: Record<string, unknown>
  /** false: start with the mesh off (HTTP only: the node is cut off from its peers). */
  mesh?: boolean
}

export interface MeshNode {
  readonly index: number
  readonly dir: string
  /** Hex Ed25519 public key (= event author key), known before the node starts. */
  readonly publicKey: string
  /** libp2p peer id, known before the node starts. */
  readonly peerId: string
  /** The running node; throws when stopped. */
  readonly node: RunningNode
  readonly running: boolean
  /** `http://127.0.0.1:<port>` of the running node. */
  readonly url: string
  /** The node's loopback mesh multiaddr, ending in /p2p/<peer id>. */
  addr(): string
  /** Replaces the node's options (members, bootstrap, values) for its next start. */
  configure(opts: MeshNodeOptions): void
  /** Starts the node (again) with the same data directory, options and mesh port. */
  start(): Promise<void>
  /** Stops the node; its data directory is kept (restart with `start()`). */
  stop(): Promise<void>
  /** HTTP POST /sync/push; throws unless 200. */
  push(events: unknown[]): Promise<PushAnswer>
  status(): Promise<StatusInfo>
}

export interface PushAnswer {
  accepted: number
  duplicates: number
  rejected: Array<{ event_id: string | null; error: string; message: string }>
  digests: string[]
}

export interface Mesh {
  readonly nodes: MeshNode[]
  /** Creates (identity only, not started) a node with its own temp data directory. */
  create(opts?: MeshNodeOptions): Promise<MeshNode>
  /** Stops every node and removes every data directory (safe to call twice). */
  close(): Promise<void>
}

export interface StartMeshOptions {
  /** 'first': node i>0 bootstraps to node 0 (default); 'all': to every node before it. */
  bootstrap?: 'first' | 'all'
  /** true: every node's members list is the keys of all `n` nodes; an array: that list. */
  members?: boolean | readonly string[]
  /** Other config fields for every node. */
  values?: Record<string, unknown>
}

/** A mesh with no node yet (add nodes with `create()` and start them yourself). */
export function emptyMesh(): Mesh {
  const nodes: MeshNode[] = []
  const dirs: string[] = []
  let closed = false
  return {
    nodes,
    async create(opts: MeshNodeOptions = {}) {
      const dir = await mkdtemp(join(tmpdir(), 'gkm-mesh-'))
      dirs.push(dir)
      const n = await meshNode(nodes.length, dir, opts)
      nodes.push(n)
      return n
    },
    async close() {
      if (closed) return
      closed = true
      await Promise.all(nodes.map((n) => n.stop().catch(() => {})))
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
    },
  }
}

/**
 * Starts `n` real nodes. Node 0 starts first; the others bootstrap to it (or to all before
 * them) and are started one after the other. On failure everything started is stopped and
 * removed before the error is thrown.
 */
export async function startMesh(n: number, opts: StartMeshOptions = {}): Promise<Mesh> {
  const mesh = emptyMesh()
  try {
    for (let i = 0; i < n; i++) await mesh.create({ values: opts.values })
    const members =
      opts.members === true
        ? mesh.nodes.map((x) => x.publicKey)
        : opts.members === false
          ? undefined
          : opts.members
    for (const [i, node] of mesh.nodes.entries()) {
      const before = mesh.nodes.slice(0, i).map((x) => x.addr())
      const bootstrap = opts.bootstrap === 'all' ? before : before.slice(0, 1)
      node.configure({ members, bootstrap, values: opts.values })
      await node.start()
    }
  } catch (err) {
    await mesh.close()
    throw err
  }
  return mesh
}

async function meshNode(index: number, dir: string, initial: MeshNodeOptions): Promise<MeshNode> {
  const identity = await loadOrCreateIdentity(dir, { create: true })
  const publicKey = Buffer.from(identity.publicKey).toString('hex')
  const peerId = peerIdFromAuthorKey(publicKey)
  let opts = initial
  let running: RunningNode | undefined
  /** The mesh port of the first start, reused on restarts so peers' redials find the node. */
  let port = 0
  const self: MeshNode = {
    index,
    dir,
    publicKey,
    peerId,
    get node() {
      if (running === undefined) throw new Error(`mesh node ${index} is not running`)
      return running
    },
    get running() {
      return running !== undefined
    },
    get url() {
      const n = self.node
      return `http://${n.http.host}:${n.http.port}`
    },
    addr() {
      const a = self.node.listenAddrs.find((x) => x.startsWith('/ip4/127.0.0.1/tcp/'))
      if (a === undefined) throw new Error(`mesh node ${index} has no loopback address`)
      return a
    },
    configure(o) {
      opts = o
    },
    async start() {
      if (running !== undefined) return
      const config = (listenPort: number) =>
        loadConfig({
          env: {},
          values: {
            ...(opts.values ?? {}),
            ...(opts.members !== undefined ? { members: [...opts.members] } : {}),
          },
          flags: {
            dataDir: dir,
            http: '127.0.0.1:0',
            mesh: opts.mesh ?? true,
            mdns: false,
            listen: [`/ip4/127.0.0.1/tcp/${listenPort}`],
            bootstrap: [...(opts.bootstrap ?? [])],
          },
        })
      for (let attempt = 1; ; attempt++) {
        const listenPort = port === 0 ? drawMeshPort() : port
        try {
          running = await startNode(config(listenPort), { logger: testLogger() })
          break
        } catch (err) {
          // Taken: a first start draws another port; a restart waits for the holder to let go.
          if ((err as { code?: string }).code !== 'mesh_listen_failed' || attempt >= MESH_LISTEN_ATTEMPTS)
            throw err
          if (port !== 0) await new Promise((r) => setTimeout(r, MESH_LISTEN_RETRY_MS))
        }
      }
      if (opts.mesh !== false) port = Number(/\/tcp\/(\d+)\//.exec(self.addr())?.[1] ?? 0)
    },
    async stop() {
      const r = running
      running = undefined
      await r?.stop()
    },
    async push(events) {
      const res = await postJson(`${self.url}/sync/push`, events)
      if (res.status !== 200)
        throw new Error(`push to node ${index}: ${res.status} ${JSON.stringify(res.body)}`)
      return res.body as PushAnswer
    },
    status: () => self.node.api.status(),
  }
  return self
}

// biome-ignore lint/suspicious/noExplicitAny: the node's JSON answers, asserted field by field in tests
export async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  })
  const text = await res.text()
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined }
}

// biome-ignore lint/suspicious/noExplicitAny: the node's JSON answers, asserted field by field in tests
export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) })
  const text = await res.text()
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined }
}

/**
 * Polls `cond` (every 50 ms) until it is true; throws after `deadlineMs` with `what` and, when
 * given, the result of `explain()` (the state that was not reached).
 */
export async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  deadlineMs = 20_000,
  explain?: () => unknown | Promise<unknown>,
): Promise<void> {
  const until = Date.now() + deadlineMs
  for (;;) {
    if (await cond()) return
    if (Date.now() > until) {
      const detail = explain === undefined ? '' : `: ${JSON.stringify(await explain())}`
      throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${detail}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** `events` and `state_hash` of each running node. */
export async function summaries(
  nodes: readonly MeshNode[],
): Promise<Array<{ node: number; events: number; state_hash: string }>> {
  return Promise.all(
    nodes.map(async (n) => {
      const s = await n.status()
      return { node: n.index, events: s.events, state_hash: s.state_hash }
    }),
  )
}

/**
 * True when every node holds the same number of events and the same state hash (and, when
 * `events` is given, exactly that many). The state hash is a function of the event set, so equal
 * hashes with equal counts mean the same events and the same state.
 */
export async function converged(nodes: readonly MeshNode[], events?: number): Promise<boolean> {
  const s = await summaries(nodes)
  if (events !== undefined && s[0].events !== events) return false
  return s.every((x) => x.events === s[0].events && x.state_hash === s[0].state_hash)
}

/** Peer ids a running node is connected to. */
export function connectedPeers(n: MeshNode): string[] {
  return (n.node.network?.peers() ?? []).filter((p) => p.connected).map((p) => p.peerId)
}

/** The node's gossipsub (tests: raw publishing, subscriber lists). */
export function pubsubOf(n: MeshNode) {
  const libp2p = (n.node.network as GkmNetwork | undefined)?.libp2p
  if (libp2p === undefined) throw new Error(`mesh node ${n.index} has no running mesh`)
  return libp2p.services.pubsub
}

/**
 * Waits until each node is connected to at least `count` of the others and knows that each
 * peer it is connected to subscribes to every event topic (so a publish reaches it by gossip
 * rather than by the next catch-up).
 */
export async function waitForPeers(
  nodes: readonly MeshNode[],
  count: number,
  deadlineMs = 20_000,
): Promise<void> {
  const ready = (n: MeshNode) => {
    const peers = connectedPeers(n)
    if (peers.length < count) return false
    const pubsub = pubsubOf(n)
    return ALL_TOPICS.every((t) => {
      const subs = new Set(pubsub.getSubscribers(t).map((p) => p.toString()))
      return peers.every((p) => subs.has(p))
    })
  }
  await waitFor(
    `every node connected to ${count} peers, each subscribed to every topic`,
    () => nodes.every(ready),
    deadlineMs,
    () => nodes.map((n) => ({ node: n.index, connected: connectedPeers(n).length, ready: ready(n) })),
  )
}
