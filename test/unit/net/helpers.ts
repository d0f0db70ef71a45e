/**
 * Test scaffolding for the mesh: a small in-memory SyncApi that verifies events with the core's
 * `eventFromWire` and keeps them in a Map and an arrival log, plus helpers to start networks on
 * 127.0.0.1 (mDNS off) and wait for conditions with a deadline.
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type {
  ChangeEvent,
  PullPage,
  PullRequest,
  PushResult,
  ResolveRequest,
  ResolveResult,
  StatusInfo,
  SyncApi,
} from '../../../src/core/api.ts'
import { ConflictNotFoundError, InvalidRequestError, isEventRejectedError } from '../../../src/core/errors.ts'
import { eventFromTrustedBytes, eventFromWire, eventToJson, signEvent } from '../../../src/core/event.ts'
import { digestOf } from '../../../src/core/event-codec.ts'
import type { StoredEvent } from '../../../src/core/records.ts'
import {
  EVENT_TYPES,
  type EventType,
  type JsonObject,
  type Origin,
  type SignedEvent,
} from '../../../src/core/types.ts'
import { createNetwork, type GkmNetwork, type NetComponents, type NetInit } from '../../../src/net/index.ts'
import { type Signer, signerFromSeed } from '../../../src/util/crypto.ts'
import { newSeed } from '../../../src/util/random.ts'
import { nextLogPosition } from '../../helpers/log-position.ts'

export class FakeApi implements SyncApi {
  readonly signer: Signer
  readonly log: Array<{ seq: number; event: StoredEvent; digest: string; type: EventType; wallMs: number }> =
    []
  readonly byDigest = new Map<string, number>()
  readonly origins: Origin[] = []
  members?: ReadonlySet<string>
  driftMaxMs = 60_000
  /** Benchmarks: skip re-verifying events that come from peers (the mesh verified them). The
   *  real node verifies again; this isolates the mesh's own cost. */
  trustPeers = false
  #hlc = 0
  readonly #subs = new Set<(c: ChangeEvent) => void>()

  constructor(seed: Uint8Array) {
    this.signer = signerFromSeed(seed)
  }

  /** Signs and stores a local write, as the node does for `push` of spec fields. */
  async write(type: EventType, targetId: string, payload: JsonObject): Promise<SignedEvent> {
    this.#hlc = Math.max(this.#hlc + 1, Date.now())
    const ev = signEvent(
      {
        eventId: randomUUID(),
        type,
        targetId,
        payload,
        hlc: { wallMs: this.#hlc, counter: 0 },
        parents: [],
        ...nextLogPosition(this.signer),
      },
      this.signer,
    )
    this.#store(ev.signed, ev.signature, ev.digest, ev.type, ev.hlc.wallMs, { kind: 'local', id: 'test' })
    return ev
  }

  #store(
    signed: Uint8Array,
    signature: Uint8Array,
    digest: string,
    type: EventType,
    wallMs: number,
    origin: Origin,
  ): number {
    const seq = this.log.length + 1
    this.log.push({ seq, event: { signed, signature }, digest, type, wallMs })
    this.byDigest.set(digest, seq)
    this.origins.push(origin)
    const change: ChangeEvent = { seq, event: { signed, signature }, origin }
    for (const s of this.#subs) s(change)
    return seq
  }

  has(digest: string): boolean {
    return this.byDigest.has(digest)
  }

  async push(): Promise<PushResult> {
    throw new Error('FakeApi.push: use write()')
  }

  /** When set, gossip deliveries (pushVerified) fail as a full disk would make them. */
  failVerified = false

  async pushVerified(events: readonly StoredEvent[], origin: Origin): Promise<PushResult> {
    if (this.failVerified) throw new Error('disk full (test)')
    return this.pushSigned(events, origin)
  }

  /** Events handed to pushSigned/pushVerified, per origin kind and id (`peer:<id>`). */
  readonly received = new Map<string, number>()

  /** Digests refused once with `retry_later` (a busy node) the first time they are offered. */
  readonly refuseOnce = new Set<string>()
  /** pushSigned calls that throw a `busy` error (a full ingest queue) before any is handled. */
  busyCalls = 0

  async pushSigned(events: readonly StoredEvent[], origin: Origin): Promise<PushResult> {
    if (this.busyCalls > 0) {
      this.busyCalls--
      throw Object.assign(new Error('ingest queue is full (test)'), { name: 'IngestBusyError', code: 'busy' })
    }
    const from = `${origin.kind}:${'id' in origin ? origin.id : ''}`
    this.received.set(from, (this.received.get(from) ?? 0) + events.length)
    const result: PushResult = { accepted: 0, duplicates: 0, rejected: [], digests: [] }
    for (const e of events) {
      const digest = digestOf(e.signed)
      if (this.refuseOnce.delete(digest)) {
        result.rejected.push({ event_id: null, error: 'retry_later', message: 'busy (test)' })
        continue
      }
      try {
        const ev =
          this.trustPeers && origin.kind === 'peer'
            ? eventFromTrustedBytes(e.signed, e.signature)
            : eventFromWire(e.signed, e.signature, {
                nowMs: Date.now(),
                driftMaxMs: this.driftMaxMs,
                allowedAuthors: this.members,
              })
        if (this.byDigest.has(ev.digest)) {
          result.duplicates++
          continue
        }
        this.#store(ev.signed, ev.signature, ev.digest, ev.type, ev.hlc.wallMs, origin)
        result.accepted++
        result.digests.push(ev.digest)
      } catch (err) {
        if (!isEventRejectedError(err)) throw err
        result.rejected.push({ event_id: null, error: err.code, message: err.message })
      }
    }
    return result
  }

  async pull(req: PullRequest): Promise<PullPage> {
    const types = (req.data_types ?? EVENT_TYPES) as readonly string[]
    const limit = req.limit ?? 500
    if (req.cursor?.startsWith('t.') || (req.cursor === undefined && req.last_sync_time !== undefined)) {
      const since = req.last_sync_time !== undefined ? Date.parse(req.last_sync_time) : 0
      const offset = req.cursor !== undefined ? Number(req.cursor.slice(2)) : 0
      const rows = this.log
        .filter((r) => types.includes(r.type) && r.wallMs >= since)
        .sort((a, b) => a.wallMs - b.wallMs)
      const page = rows.slice(offset, offset + limit)
      return {
        events: page.map((r) => r.event),
        next_cursor: `t.${offset + page.length}`,
        has_more: offset + page.length < rows.length,
      }
    }
    let after = 0
    if (req.cursor !== undefined) {
      const m = /^s\.(\d+)$/.exec(req.cursor)
      if (m === null) throw new InvalidRequestError('cursor is not a cursor this node issued')
      after = Number(m[1])
    }
    const rows = this.log.filter((r) => r.seq > after && types.includes(r.type)).slice(0, limit)
    const last = rows.length > 0 ? rows[rows.length - 1].seq : after
    return {
      events: rows.map((r) => r.event),
      next_cursor: `s.${last}`,
      has_more: rows.length === limit && last < this.log.length,
    }
  }

  async resolveConflict(req: ResolveRequest, origin: Origin): Promise<ResolveResult> {
    if (req.conflictId !== 'c1') throw new ConflictNotFoundError(`no conflict ${req.conflictId}`)
    this.origins.push(origin)
    const ev = await this.write('persona_update', 'resolved', {
      op: 'set',
      fields: { strategy: req.resolutionStrategy, value: req.value ?? null },
    })
    // a resolution stored on behalf of a peer has the peer's origin in the node
    return { conflict_id: req.conflictId, strategy: req.resolutionStrategy, event: eventToJson(ev) }
  }

  async rollback(): Promise<never> {
    throw new Error('not in the fake')
  }

  async conflicts() {
    return []
  }

  async equivocations() {
    return []
  }

  async state() {
    return undefined
  }

  async history(): Promise<never> {
    throw new Error('not in the fake')
  }

  async status(): Promise<StatusInfo> {
    return { last_seq: this.log.length } as unknown as StatusInfo
  }

  async audit() {
    return []
  }

  subscribe(afterSeq: number, onChange: (c: ChangeEvent) => void): () => void {
    for (const r of this.log)
      if (r.seq > afterSeq) onChange({ seq: r.seq, event: r.event, origin: this.origins[r.seq - 1] })
    this.#subs.add(onChange)
    return () => this.#subs.delete(onChange)
  }
}

export const TEST_LIMITS: NetInit['limits'] = {
  connectionsMax: 50,
  inboundConnectionThreshold: 1000,
  streamsPerProtocolInbound: 32,
  streamsPerProtocolOutbound: 64,
  streamOpensPerPeerPerSecond: 1000,
  frameBytesMax: 4 * 1024 * 1024,
}

export interface TestNode {
  readonly api: FakeApi
  readonly net: GkmNetwork
  readonly seed: Uint8Array
  readonly dataDir: string
  readonly publicKey: string
  addr(): string
}

export interface TestNodeOptions extends Partial<NetInit> {
  seed?: Uint8Array
  dataDir?: string
  /** The node's batch signature check (NetComponents.verifyMany). */
  verifyMany?: NetComponents['verifyMany']
  /** The mesh's wall clock (NetComponents.now); Date.now by default. */
  now?: NetComponents['now']
}

/** Starts a network on 127.0.0.1:0 with mDNS off (the host's interfaces never see multicast). */
export async function startNode(
  opts: TestNodeOptions = {},
  cleanup?: Array<() => Promise<void>>,
): Promise<TestNode> {
  const seed = opts.seed ?? newSeed()
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'gkm-net-')))
  const api = new FakeApi(seed)
  const { seed: _s, dataDir: _d, verifyMany, now, ...init } = opts
  if (init.members !== undefined) api.members = new Set(init.members)
  const net = createNetwork(
    { api, seed, dataDir, verifyMany, now },
    {
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: [],
      dataTypes: [...EVENT_TYPES],
      limits: TEST_LIMITS,
      catchUpIntervalMs: 60_000,
      ...init,
      mdns: { enabled: false },
    },
  ) as GkmNetwork
  await net.start()
  const node: TestNode = {
    api,
    net,
    seed,
    dataDir,
    publicKey: Buffer.from(api.signer.publicKey).toString('hex'),
    addr: () => net.addresses().find((a) => a.includes('/ip4/127.0.0.1/')) as string,
  }
  cleanup?.push(async () => {
    await net.stop()
    if (opts.dataDir === undefined) await rm(dataDir, { recursive: true, force: true })
  })
  return node
}

/** Waits until `check()` is true, polling; fails with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const until = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Waits until each node has `topic` subscribers among the others (gossip mesh formed). */
export async function waitForSubscribers(
  nodes: readonly TestNode[],
  topic: string,
  count: number,
): Promise<void> {
  for (const n of nodes) {
    await waitFor(
      `${n.net.peerId} sees ${count} subscribers of ${topic}`,
      () => (n.net.libp2p?.services.pubsub.getSubscribers(topic).length ?? 0) >= count,
    )
  }
}

export async function runCleanup(cleanup: Array<() => Promise<void>>): Promise<void> {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => {})
}
