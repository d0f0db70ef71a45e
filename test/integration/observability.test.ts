/**
 * Logs and metrics of real nodes on loopback (mDNS off): the log lines an operator relies on
 * (start/stop, peers connected / disconnected with a reason, catch-up sessions with counts,
 * refusals), GET /metrics in Prometheus format behind the API token, values that move after a
 * push, and every metric name documented in docs/METRICS.md.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { loadConfig } from '../../src/config/index.ts'
import type { ChangeEvent } from '../../src/core/api.ts'
import { createLogger, loadOrCreateIdentity, type RunningNode, startNode } from '../../src/node/index.ts'
import { waitFor } from '../helpers/mesh.ts'

type Line = Record<string, unknown> & { level: number; msg: string }

/** A logger whose JSON lines are kept for the test (pino writes one JSON line per call). */
function captureLogger(level = 'debug') {
  const lines: Line[] = []
  const logger = createLogger({
    level,
    destination: { write: (s: string) => void lines.push(JSON.parse(s)) },
  })
  return { logger, lines, find: (msg: string) => lines.filter((l) => l.msg === msg) }
}

const TOKEN = 'observability-test-token'

async function start(
  dir: string,
  logger: ReturnType<typeof createLogger>,
  values: Record<string, unknown> = {},
  bootstrap: string[] = [],
  libp2pMetrics = false,
): Promise<RunningNode> {
  const config = loadConfig({
    env: {},
    values: { http: { token: TOKEN }, ...values },
    flags: {
      dataDir: dir,
      http: '127.0.0.1:0',
      mesh: true,
      mdns: false,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap,
    },
  })
  return startNode(config, { logger, libp2pMetrics })
}

const auth = { authorization: `Bearer ${TOKEN}` }

async function scrape(node: RunningNode): Promise<Map<string, number>> {
  const res = await fetch(`http://${node.http.host}:${node.http.port}/metrics`, { headers: auth })
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  return parseProm(await res.text())
}

/** Prometheus text format: `name{labels} value` lines; keys keep the label text as written. */
function parseProm(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$/.exec(line)
    assert.ok(m, `not a Prometheus sample line: ${line}`)
    out.set(m[1], Number(m[2]))
  }
  return out
}

const persona = (i: number) => ({
  event_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  timestamp: new Date().toISOString(),
  event_type: 'persona_update',
  target_id: `p${i}`,
  payload: { op: 'set', fields: { n: i } },
})

describe('observability: logs and metrics', () => {
  const stops: Array<() => Promise<void>> = []
  const dirs: string[] = []
  after(async () => {
    for (const s of stops.reverse()) await s().catch(() => {})
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })
  const tempDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'gkm-obs-'))
    dirs.push(d)
    return d
  }

  it('logs start, peers, reconciliation with counts, refusals and stop as JSON lines with fields; metrics move', async () => {
    const logA = captureLogger()
    const logB = captureLogger()
    // libp2p's metrics for the first node of this process only (docs/METRICS.md).
    // Gossip only (no direct fan-out): a peer reachable on a direct stream is sent the last 10 s
    // of events at once (the replay, src/net/direct.ts), which would race the session counted here.
    const gossipOnly = { mesh: { directPeersMax: 0 } }
    const a = await start(await tempDir(), logA.logger, gossipOnly, [], true)
    stops.push(() => a.stop())
    // Events on a before b connects: the reconciliation on connect brings them, and says how many.
    for (let i = 0; i < 5; i++) await a.api.push([persona(i)], { kind: 'http', id: 'test' })

    const b = await start(await tempDir(), logB.logger, gossipOnly, [a.listenAddrs[0]])
    stops.push(() => b.stop())
    await waitFor('b has a’s 5 events', async () => (await b.api.status()).events === 5)

    for (const { find, lines } of [logA, logB]) {
      const starting = find('node starting')[0]
      assert.ok(starting, 'a "node starting" line')
      assert.equal(starting.level, 30)
      assert.equal(typeof starting.peerId, 'string')
      assert.equal(typeof starting.time, 'number')
      assert.ok(find('node ready').length === 1)
      assert.ok(lines.every((l) => typeof l.msg === 'string' && typeof l.level === 'number'))
    }
    await waitFor('a logged b connecting', () => logA.find('peer connected').some((l) => l.peer === b.peerId))
    // One reconciliation on connect, started by the side whose peer id sorts first: it logs what
    // moved (b lacked a's 5 events: the initiator needed them, or had them to push).
    // (the events are stored a moment before the session that moved them ends and logs)
    await waitFor('a reconciliation logged', () =>
      [...logA.find('reconciliation with a peer done'), ...logB.find('reconciliation with a peer done')].some(
        (l) => l.peer === a.peerId || l.peer === b.peerId,
      ),
    )
    const sessionB = logB.find('reconciliation with a peer done').find((l) => l.peer === a.peerId)
    const sessionA = logA.find('reconciliation with a peer done').find((l) => l.peer === b.peerId)
    const session = sessionB ?? sessionA
    assert.ok(session, 'the initiator logged its reconciliation')
    if (sessionB !== undefined) assert.deepEqual([sessionB.need, sessionB.accepted], [5, 5])
    else assert.deepEqual([session.have, session.pushed], [5, 5])

    // Metrics: scrape, push, scrape again.
    const before = await scrape(a)
    assert.equal(before.get('gkm_events_ingested_total{origin="http"}'), 5)
    assert.equal(before.get('gkm_events_held'), 5)
    assert.equal(before.get('gkm_peers{state="connected"}'), 1)
    assert.ok((before.get('process_resident_memory_bytes') ?? 0) > 0)
    assert.ok(before.has('nodejs_eventloop_lag_p99_seconds'))
    const res = await fetch(`http://${a.http.host}:${a.http.port}/sync/push`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ events: [persona(10), persona(11), persona(12)] }),
    })
    assert.equal(res.status, 200)
    await waitFor('b has 8 events', async () => (await b.api.status()).events === 8)
    const afterPush = await scrape(a)
    assert.equal(afterPush.get('gkm_events_ingested_total{origin="http"}'), 8)
    assert.equal(afterPush.get('gkm_events_held'), 8)
    assert.ok(
      (afterPush.get('gkm_ingest_seconds_count{origin="http",result="ok"}') ?? 0) >=
        (before.get('gkm_ingest_seconds_count{origin="http",result="ok"}') ?? 0) + 1,
    )
    assert.ok(
      (afterPush.get('gkm_commit_seconds_count') ?? 0) > (before.get('gkm_commit_seconds_count') ?? 0),
    )
    const sent = (m: Map<string, number>) =>
      m.get('libp2p_data_transfer_bytes_total{protocol="global sent"}') ?? 0
    assert.ok(sent(afterPush) > 0, 'bytes out counted')
    const bMetrics = await scrape(b)
    assert.equal(bMetrics.get('gkm_events_ingested_total{origin="peer"}'), 8)
    const sessions = (m: Map<string, number>) =>
      (m.get('gkm_sync_sessions_total{result="completed"}') ?? 0) +
      (m.get('gkm_sync_sessions_total{result="served"}') ?? 0)
    assert.ok(sessions(bMetrics) >= 1)
    // A session that finds nothing missing marks the peer in sync.
    await b.network?.reconcile(a.peerId)
    const inSync = await scrape(b)
    assert.ok((inSync.get(`gkm_peer_in_sync_timestamp_seconds{peer="${a.peerId}"}`) ?? 0) > 0)

    // Same auth as the API.
    const anonymous = await fetch(`http://${a.http.host}:${a.http.port}/metrics`)
    assert.equal(anonymous.status, 401)

    // Disconnect with a reason, then stop lines.
    await b.stop()
    await waitFor('a logged b disconnecting', () =>
      logA.find('peer disconnected').some((l) => l.peer === b.peerId && typeof l.reason === 'string'),
    )
    assert.ok(logB.find('node stopping').length === 1 && logB.find('node stopped').length === 1)
  })

  it('logs and counts a refused non-member with its reason', async () => {
    const logA = captureLogger()
    const dirA = await tempDir()
    const dirB = await tempDir()
    const idA = await loadOrCreateIdentity(dirA, { create: true })
    const a = await start(dirA, logA.logger, { members: [Buffer.from(idA.publicKey).toString('hex')] })
    stops.push(() => a.stop())
    const b = await start(dirB, captureLogger().logger, {}, [a.listenAddrs[0]])
    stops.push(() => b.stop())
    await waitFor('a refused b', () =>
      logA
        .find('refused a peer that is not a member')
        .some((l) => l.peer === b.peerId && l.reason === 'not_a_member'),
    )
    const m = await scrape(a)
    const refused = [...m].filter(
      ([k]) => k.startsWith('gkm_refusals_total{') && k.includes('where="membership"'),
    )
    assert.ok(refused.length > 0 && refused.every(([, v]) => v >= 1), JSON.stringify(refused))
  })

  it('a change-feed subscriber that throws neither kills the process nor stops later subscribers', async () => {
    const log = captureLogger()
    const node = await startNode(
      loadConfig({ env: {}, flags: { dataDir: await tempDir(), mesh: false, mdns: false } }),
      { logger: log.logger, http: false },
    )
    stops.push(() => node.stop())
    assert.equal(node.http, undefined)
    const seen: ChangeEvent[] = []
    const offBad = node.api.subscribe(0, () => {
      throw new Error('subscriber bug')
    })
    const offGood = node.api.subscribe(0, (c) => seen.push(c))
    for (let i = 0; i < 3; i++) await node.api.push([persona(i)], { kind: 'local', id: 'test' })
    await waitFor('the later subscriber got all 3', () => seen.length === 3)
    offBad()
    offGood()
    const errors = log.find('a change-feed subscriber threw; delivery goes on')
    assert.equal(errors.length, 3)
    assert.equal((errors[0].err as { message: string }).message, 'subscriber bug')
    const text = await node.metrics.render()
    assert.match(text, /^gkm_subscriber_errors_total 3$/m)
  })

  it('answers 503 "starting: rebuild n of m" while it rebuilds, /status with the progress', async () => {
    const dir = await tempDir()
    const config = loadConfig({
      env: {},
      flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false },
    })
    const first = await startNode(config, { logger: captureLogger().logger })
    for (let i = 0; i < 4; i++) await first.api.push([persona(i)], { kind: 'local', id: 'test' })
    await first.stop()

    let url = ''
    const answers: Array<{ path: string; status: number; body: Record<string, unknown> }> = []
    const log = captureLogger()
    const second = await startNode(config, {
      logger: log.logger,
      rebuild: true,
      onListening: (a) => {
        url = `http://${a.host}:${a.port}`
      },
      // Held at the first progress report: the HTTP API answers meanwhile.
      onRebuildProgress: async (done, total) => {
        if (done !== 0) return
        assert.equal(total, 4)
        for (const path of ['/status', '/health', '/sync/conflicts']) {
          const res = await fetch(url + path)
          answers.push({ path, status: res.status, body: (await res.json()) as Record<string, unknown> })
        }
      },
    })
    stops.push(() => second.stop())
    assert.deepEqual(
      answers.map((a) => [a.path, a.status, a.body.message]),
      [
        ['/status', 200, 'starting: rebuild 0 of 4'],
        ['/health', 503, 'starting: rebuild 0 of 4'],
        ['/sync/conflicts', 503, 'starting: rebuild 0 of 4'],
      ],
    )
    assert.equal(answers[2].body.error, 'starting')
    assert.equal((await fetch(`${url}/sync/conflicts`)).status, 200)
    const done = log.find('rebuild done')[0]
    assert.equal(done.events, 4)
  })

  it('documents every gkm_ metric in docs/METRICS.md', async () => {
    const node = await startNode(
      loadConfig({ env: {}, flags: { dataDir: await tempDir(), mesh: false, mdns: false } }),
      { logger: captureLogger().logger, http: false },
    )
    stops.push(() => node.stop())
    const text = await node.metrics.render()
    const names = new Set([...text.matchAll(/^# TYPE (gkm_\w+) /gm)].map((m) => m[1]))
    assert.ok(names.size >= 10)
    const doc = await readFile(new URL('../../docs/METRICS.md', import.meta.url), 'utf8')
    for (const n of names) assert.ok(doc.includes(`\`${n}\``), `docs/METRICS.md does not document ${n}`)
  })
})
