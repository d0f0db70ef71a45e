/**
 * What the driver sees of the nodes, all over their HTTP APIs from the hub namespace: each
 * node's change feed (`GET /changes`, server-sent events) gives the events it holds and when
 * each first appeared (the propagation times); `GET /status` gives its event count and state
 * hash; `GET /metrics` its mesh bytes (libp2p's global sent / received counters, summed over the
 * process's lives). A feed that breaks is followed again from where it was; after a restart it
 * is read again from the start (a killed node may have lost what was not durable).
 */
import type { NodeProc } from './node-proc.ts'
import type { PeerRow } from './readiness.ts'

/** Requests to a node give up after this long (a paused node does not answer). */
const REQUEST_TIMEOUT_MS = 3_000
const FEED_RETRY_MS = 250

export interface NodeStatus {
  events: number
  state_hash: string
  conflicts_open: number
}

/** What a node's `/metrics` says about how its events arrived and were stored. */
export interface NodeCounters {
  /** group commits (one synced LevelDB batch each), and those over 0.1 s / 1 s */
  commits: number
  commitsOver100ms: number
  commitsOver1s: number
  /** events fetched by reconciliation (they had not come by the direct stream or gossip) */
  reconcileFetched: number
  /** events received in peers' reconciliation pushes and catch-up pulls */
  reconcileReceived: number
  /** reconciliation sessions run to the end */
  sessions: number
}

export const emptyCounters = (): NodeCounters => ({
  commits: 0,
  commitsOver100ms: 0,
  commitsOver1s: 0,
  reconcileFetched: 0,
  reconcileReceived: 0,
  sessions: 0,
})

const addCounters = (a: NodeCounters, b: NodeCounters): NodeCounters => ({
  commits: a.commits + b.commits,
  commitsOver100ms: a.commitsOver100ms + b.commitsOver100ms,
  commitsOver1s: a.commitsOver1s + b.commitsOver1s,
  reconcileFetched: a.reconcileFetched + b.reconcileFetched,
  reconcileReceived: a.reconcileReceived + b.reconcileReceived,
  sessions: a.sessions + b.sessions,
})

/** Reads the counters from a Prometheus text exposition (src/node/metrics.ts names them). */
export function countersOf(text: string): NodeCounters {
  const v = (series: string): number => {
    const at = text.indexOf(`\n${series} `)
    if (at < 0) return 0
    const n = Number(text.slice(at + series.length + 2, text.indexOf('\n', at + 1)))
    return Number.isFinite(n) ? n : 0
  }
  const commits = v('gkm_commit_seconds_count')
  return {
    commits,
    commitsOver100ms: commits - v('gkm_commit_seconds_bucket{le="0.1"}'),
    commitsOver1s: commits - v('gkm_commit_seconds_bucket{le="1"}'),
    reconcileFetched: v('gkm_sync_events_total{result="accepted"}'),
    reconcileReceived: v('gkm_sync_events_total{result="received"}'),
    sessions: v('gkm_sync_sessions_total{result="completed"}'),
  }
}

export class NodeView {
  /** Digests the node holds (as its change feed has shown them since its last start). */
  held = new Set<string>()
  /** Digest → when this node's feed first showed it (performance.now()), over all its lives. */
  readonly firstSeen = new Map<string, number>()
  status: NodeStatus | undefined
  statusAt = 0
  bytesSent = 0
  bytesReceived = 0
  /** Node counters from `/metrics` that explain slow arrivals, summed over the process's lives. */
  counters: NodeCounters = emptyCounters()
  #lifeCounters: NodeCounters = emptyCounters()
  #lifeSent = 0
  #lifeReceived = 0
  #lastSeq = 0
  #life = -1
  #abort: AbortController | undefined
  #running = false
  #stopped = false

  readonly node: NodeProc

  constructor(node: NodeProc) {
    this.node = node
  }

  get #auth(): Record<string, string> {
    return { authorization: `Bearer ${this.node.spec.token}` }
  }

  /** Follows the feed while the node lives; call again after a restart (it starts over). */
  follow(): void {
    if (this.#life !== this.node.lives) {
      this.#life = this.node.lives
      this.#abort?.abort()
      this.held = new Set()
      this.#lastSeq = 0
      this.bytesSent += this.#lifeSent
      this.bytesReceived += this.#lifeReceived
      this.#lifeSent = 0
      this.#lifeReceived = 0
      this.counters = addCounters(this.counters, this.#lifeCounters)
      this.#lifeCounters = emptyCounters()
    }
    if (this.#running) return
    this.#running = true
    void this.#loop().finally(() => {
      this.#running = false
    })
  }

  stop(): void {
    this.#stopped = true
    this.#abort?.abort()
  }

  async #loop(): Promise<void> {
    while (!this.#stopped && this.node.state !== 'down') {
      const life = this.#life
      const abort = new AbortController()
      this.#abort = abort
      try {
        const res = await fetch(`${this.node.url}/changes?after=${this.#lastSeq}`, {
          headers: this.#auth,
          signal: abort.signal,
        })
        if (!res.ok || res.body === null) throw new Error(`status ${res.status}`)
        const decoder = new TextDecoder()
        let buf = ''
        for await (const chunk of res.body) {
          if (life !== this.#life) break
          buf += decoder.decode(chunk, { stream: true })
          let cut = buf.indexOf('\n\n')
          while (cut >= 0) {
            this.#frame(buf.slice(0, cut))
            buf = buf.slice(cut + 2)
            cut = buf.indexOf('\n\n')
          }
        }
      } catch {}
      if (this.#stopped) return
      await new Promise((r) => setTimeout(r, FEED_RETRY_MS))
    }
  }

  #frame(frame: string): void {
    for (const line of frame.split('\n')) {
      if (!line.startsWith('data: ')) continue
      let msg: { seq?: number; event?: { digest?: string } }
      try {
        msg = JSON.parse(line.slice(6))
      } catch {
        continue
      }
      if (typeof msg.seq === 'number') this.#lastSeq = Math.max(this.#lastSeq, msg.seq)
      const d = msg.event?.digest
      if (typeof d !== 'string') continue
      const now = performance.now()
      this.held.add(d)
      if (!this.firstSeen.has(d)) this.firstSeen.set(d, now)
    }
  }

  async get(path: string): Promise<Response> {
    return fetch(`${this.node.url}${path}`, {
      headers: this.#auth,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
  }

  async pollStatus(): Promise<NodeStatus | undefined> {
    if (this.node.state !== 'up') return undefined
    try {
      const res = await this.get('/status')
      if (!res.ok) return undefined
      const s = (await res.json()) as NodeStatus
      if (typeof s.state_hash !== 'string') return undefined
      this.status = { events: s.events, state_hash: s.state_hash, conflicts_open: s.conflicts_open }
      this.statusAt = performance.now()
      return this.status
    } catch {
      return undefined
    }
  }

  async pollMetrics(): Promise<void> {
    if (this.node.state !== 'up') return
    try {
      const res = await this.get('/metrics')
      if (!res.ok) return
      const text = await res.text()
      const value = (proto: string) => {
        const m = text.match(
          new RegExp(`^libp2p_data_transfer_bytes_total\\{protocol="global ${proto}"\\} ([0-9.e+]+)`, 'm'),
        )
        return m === null ? undefined : Number(m[1])
      }
      this.#lifeSent = value('sent') ?? this.#lifeSent
      this.#lifeReceived = value('received') ?? this.#lifeReceived
      this.#lifeCounters = countersOf(text)
    } catch {}
  }

  /** The counters over all lives (as last scraped). */
  get totalCounters(): NodeCounters {
    return addCounters(this.counters, this.#lifeCounters)
  }

  get totalSent(): number {
    return this.bytesSent + this.#lifeSent
  }

  get totalReceived(): number {
    return this.bytesReceived + this.#lifeReceived
  }

  /** The node's `/peers` rows (GET /peers), or undefined when the node does not answer. */
  async peerRows(): Promise<PeerRow[] | undefined> {
    try {
      const res = await this.get('/peers')
      if (!res.ok) return undefined
      const body = (await res.json()) as { peers: PeerRow[] }
      return body.peers
    } catch {
      return undefined
    }
  }
}
