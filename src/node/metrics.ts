/**
 * The node's Prometheus metrics (`GET /metrics`): one prom-client registry per node (several
 * nodes can run in one process), filled by the write queue and the change feed as things happen
 * and by gauges read at scrape time (counts, queues, peers, the mesh's counters). Every name is
 * documented in docs/METRICS.md; test/integration/metrics.test.ts keeps the two in step.
 */
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { SinkCounters } from '../adapters/index.ts'
import type { Origin } from '../core/types.ts'
import type { Network } from '../net/index.ts'
import type { WriteQueueObserver } from './write-queue.ts'

/** Latency buckets (seconds): 1 ms .. 10 s, for HTTP/peer ingest and LevelDB commits. */
const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Sources of the state the node reads at scrape time. */
export interface MetricsSources {
  /** Events held and conflicts open (the store's counters); undefined before the store opens. */
  readonly counts: () => Promise<{ events: number; conflictsOpen: number }> | undefined
  /** Events waiting in the write queue. */
  readonly writeQueueEvents: () => number
  readonly network?: () => Network | undefined
  /** Rebuild progress while starting: [done, total]; undefined when ready. */
  readonly starting?: () => { done: number; total: number } | undefined
  /** The application adapters' figures (config `sinks`), one entry per sink. */
  readonly sinks?: () => readonly SinkCounters[]
}

export interface NodeMetrics {
  readonly registry: Registry
  /** For the write queue: commit and request latencies. */
  readonly writeQueue: WriteQueueObserver
  /** An event was committed (the change feed's origin kinds: local, http, peer, replay). */
  ingested(origin: Origin, n?: number): void
  /** A change-feed subscriber threw (the error itself goes to the log). */
  subscriberError(): void
  /** A slow commit was seen (see SLOW_COMMIT_MS). */
  slowCommit(): void
  /** For the mesh (StartOptions.libp2pMetrics): libp2p's own metrics (connections, streams,
   *  bytes in/out) in this registry. */
  readonly libp2p: ReturnType<typeof prometheusMetrics>
  /** Prometheus text exposition. */
  render(): Promise<string>
  readonly contentType: string
}

/** The mesh's counters (`Network.stats`) that are refusals of something a peer sent or did,
 *  by prefix, and the `where` label they get. The rest of the prefix is the reason. */
const REFUSAL_PREFIXES: ReadonlyArray<[prefix: string, where: string]> = [
  ['gossip.reject.', 'gossip'],
  ['membership.denied_', 'membership'],
  ['errors.', 'protocol'],
]

export function createNodeMetrics(sources: MetricsSources): NodeMetrics {
  const registry = new Registry()
  // A scrape while the store reopens (after a rebuild) or closes leaves the two gauges as they were.
  const counts = async () => {
    try {
      return await sources.counts()
    } catch {
      return undefined
    }
  }
  collectDefaultMetrics({ register: registry })

  const ingested = new Counter({
    name: 'gkm_events_ingested_total',
    help: 'Events stored by this node since it started, by origin (local, http, peer, replay)',
    labelNames: ['origin'],
    registers: [registry],
  })
  for (const o of ['local', 'http', 'peer', 'replay']) ingested.inc({ origin: o }, 0)
  const requestSeconds = new Histogram({
    name: 'gkm_ingest_seconds',
    help: 'Time from a write request entering the write queue to its answer (durable), by origin',
    labelNames: ['origin', 'result'],
    buckets: LATENCY_BUCKETS_S,
    registers: [registry],
  })
  const commitSeconds = new Histogram({
    name: 'gkm_commit_seconds',
    help: 'Time of one group commit (one LevelDB batch write, synced)',
    buckets: LATENCY_BUCKETS_S,
    registers: [registry],
  })
  const commitEvents = new Counter({
    name: 'gkm_commit_events_total',
    help: 'Events in committed groups (accepted or not), and groups',
    labelNames: ['kind'],
    registers: [registry],
  })
  const commitFailures = new Counter({
    name: 'gkm_commit_failures_total',
    help: 'Group commits that failed (storage errors; nothing of the group was acknowledged)',
    registers: [registry],
  })
  const slowCommits = new Counter({
    name: 'gkm_commit_slow_total',
    help: 'Group commits slower than the slow-commit threshold (also logged)',
    registers: [registry],
  })
  const subscriberErrors = new Counter({
    name: 'gkm_subscriber_errors_total',
    help: 'Exceptions thrown by change-feed subscribers (isolated: delivery went on)',
    registers: [registry],
  })

  new Gauge({
    name: 'gkm_events_held',
    help: 'Events in this node’s log',
    registers: [registry],
    async collect() {
      const c = await counts()
      if (c !== undefined) this.set(c.events)
    },
  })
  new Gauge({
    name: 'gkm_conflicts_open',
    help: 'Conflicts detected and not yet resolved',
    registers: [registry],
    async collect() {
      const c = await counts()
      if (c !== undefined) this.set(c.conflictsOpen)
    },
  })
  new Gauge({
    name: 'gkm_queue_events',
    help: 'Events waiting: in the write queue (queue="write"), validated gossip events waiting for the write queue (queue="gossip_ingest")',
    labelNames: ['queue'],
    registers: [registry],
    collect() {
      this.set({ queue: 'write' }, sources.writeQueueEvents())
      this.set({ queue: 'gossip_ingest' }, sources.network?.()?.ingestQueueLength ?? 0)
    },
  })
  new Gauge({
    name: 'gkm_starting',
    help: 'Start-up rebuild progress: events replayed (stage="done") of (stage="total"); 0/0 when ready',
    labelNames: ['stage'],
    registers: [registry],
    collect() {
      const s = sources.starting?.()
      this.set({ stage: 'done' }, s?.done ?? 0)
      this.set({ stage: 'total' }, s?.total ?? 0)
    },
  })
  new Gauge({
    name: 'gkm_peers',
    help: 'Peers of the mesh: connected now (state="connected"), known (state="known", remembered or connected)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const peers = sources.network?.()?.peers() ?? []
      this.set({ state: 'connected' }, peers.filter((p) => p.connected).length)
      this.set({ state: 'known' }, peers.length)
    },
  })
  new Gauge({
    name: 'gkm_peer_in_sync_timestamp_seconds',
    help: 'Per connected peer: when a reconciliation with it last found nothing missing either way (Unix seconds); absent until one has',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset()
      for (const p of sources.network?.()?.peers() ?? []) {
        if (p.connected && p.inSyncAtMs !== undefined) this.set({ peer: p.peerId }, p.inSyncAtMs / 1000)
      }
    },
  })
  new Gauge({
    name: 'gkm_peer_pulled_seq',
    help: 'Per connected peer: the arrival sequence of its log this node has pulled up to',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset()
      for (const p of sources.network?.()?.peers() ?? []) {
        if (p.connected && p.lastSeq !== undefined) this.set({ peer: p.peerId }, p.lastSeq)
      }
    },
  })
  // The mesh's counters, read at scrape time (they are plain numbers in Network.stats).
  const meshCounter = (name: string, help: string, read: (stats: Record<string, number>) => void) =>
    new Counter({
      name,
      help,
      labelNames: ['where', 'reason', 'result'],
      registers: [registry],
      collect() {
        this.reset()
        const stats = sources.network?.()?.stats
        if (stats !== undefined) read.call(this, stats)
      },
    })
  // Counters read from elsewhere: reset, then set to the source's running total at each scrape.
  const setCounter = (c: Counter<string>, labels: Record<string, string>, value: number) => {
    if (value > 0) c.inc(labels, value)
  }
  meshCounter(
    'gkm_refusals_total',
    'Things peers sent or did that this node refused, by where (gossip, membership, protocol) and reason',
    function (this: Counter<string>, stats) {
      for (const [name, value] of Object.entries(stats)) {
        for (const [prefix, where] of REFUSAL_PREFIXES) {
          if (name.startsWith(prefix)) setCounter(this, { where, reason: name.slice(prefix.length) }, value)
        }
      }
      setCounter(this, { where: 'push', reason: 'event_rejected' }, stats['push.events_rejected'] ?? 0)
      setCounter(this, { where: 'catch_up', reason: 'event_rejected' }, stats['catchup.rejected'] ?? 0)
      setCounter(this, { where: 'reconcile', reason: 'withheld' }, stats['reconcile.withheld'] ?? 0)
      setCounter(this, { where: 'reconcile', reason: 'forged' }, stats['reconcile.forged'] ?? 0)
      setCounter(this, { where: 'reconcile', reason: 'bad_head' }, stats['reconcile.bad_heads'] ?? 0)
      setCounter(this, { where: 'reconcile', reason: 'strike' }, stats['reconcile.strikes'] ?? 0)
      setCounter(this, { where: 'reconcile', reason: 'cut_off' }, stats['reconcile.cut_off'] ?? 0)
      setCounter(this, { where: 'gossip', reason: 'event_rejected' }, stats['ingest.rejected'] ?? 0)
    },
  )
  meshCounter(
    'gkm_sync_sessions_total',
    'Reconciliation sessions this node ran to the end (result="completed"), that failed (result="failed"), and that it served (result="served"); catch-up pulls (without an event set) as result="started"/"failed" of kind="catch_up"',
    function (this: Counter<string>, stats) {
      setCounter(this, { result: 'completed' }, stats['reconcile.sessions'] ?? 0)
      setCounter(
        this,
        { result: 'failed' },
        (stats['reconcile.failed'] ?? 0) + (stats['catchup.failed'] ?? 0),
      )
      setCounter(this, { result: 'served' }, stats['reconcile.served'] ?? 0)
      setCounter(this, { result: 'started' }, stats['catchup.runs'] ?? 0)
    },
  )
  meshCounter(
    'gkm_sync_events_total',
    'Events moved by reconciliation: fetched from peers and now held (result="accepted"), sent to peers that lacked them and accepted there (result="pushed"), received from peers that pushed them in their sessions (result="received"); of those fetched or received, verified by the signed head of their log instead of one signature each (result="verified_by_head"); catch-up pulls: result="received"/"accepted" too',
    function (this: Counter<string>, stats) {
      setCounter(
        this,
        { result: 'received' },
        (stats['catchup.events'] ?? 0) + (stats['reconcile.events_received'] ?? 0),
      )
      setCounter(
        this,
        { result: 'accepted' },
        (stats['catchup.accepted'] ?? 0) + (stats['reconcile.events_fetched'] ?? 0),
      )
      setCounter(this, { result: 'pushed' }, stats['reconcile.events_pushed'] ?? 0)
      setCounter(this, { result: 'verified_by_head' }, stats['reconcile.events_by_head'] ?? 0)
    },
  )

  // The application adapters (docs/ADAPTERS.md): one series per sink, read at scrape time.
  const sinkGauge = (name: string, help: string, read: (c: SinkCounters) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['sink', 'kind'],
      registers: [registry],
      collect() {
        this.reset()
        for (const c of sources.sinks?.() ?? []) this.set({ sink: c.name, kind: c.kind }, read(c))
      },
    })
  sinkGauge('gkm_sink_lag_events', 'Per sink: log entries the sink has not applied yet', (c) => c.lag)
  sinkGauge(
    'gkm_sink_checkpoint',
    'Per sink: the change-feed sequence its store holds as applied',
    (c) => c.checkpoint,
  )
  sinkGauge('gkm_sink_paused', 'Per sink: 1 while paused after repeated failures, else 0', (c) =>
    c.paused ? 1 : 0,
  )
  const sinkCounter = (name: string, help: string, read: (c: SinkCounters) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['sink', 'kind'],
      registers: [registry],
      collect() {
        this.reset()
        for (const c of sources.sinks?.() ?? []) {
          const v = read(c)
          if (v > 0) this.inc({ sink: c.name, kind: c.kind }, v)
        }
      },
    })
  sinkCounter(
    'gkm_sink_applied_batches_total',
    'Per sink: batches applied to its store',
    (c) => c.appliedBatches,
  )
  sinkCounter(
    'gkm_sink_applied_changes_total',
    'Per sink: changes (targets) applied to its store',
    (c) => c.appliedChanges,
  )
  sinkCounter('gkm_sink_errors_total', 'Per sink: failed attempts to apply a batch', (c) => c.errorsTotal)

  const libp2p = prometheusMetrics({ registry, collectDefaultMetrics: false, preserveExistingMetrics: true })

  return {
    registry,
    libp2p,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    ingested: (origin, n = 1) => ingested.inc({ origin: origin.kind }, n),
    subscriberError: () => subscriberErrors.inc(),
    slowCommit: () => slowCommits.inc(),
    writeQueue: {
      committed: ({ events, commitMs }) => {
        commitSeconds.observe(commitMs / 1000)
        commitEvents.inc({ kind: 'events' }, events)
        commitEvents.inc({ kind: 'groups' })
      },
      commitFailed: () => commitFailures.inc(),
      answered: (origin, ms, ok) =>
        requestSeconds.observe({ origin: origin.kind, result: ok ? 'ok' : 'error' }, ms / 1000),
    },
  }
}
