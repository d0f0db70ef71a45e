/**
 * One REAL node (startNode: LevelDB, engine, HTTP, libp2p mesh) for the namespace tests, run
 * inside a namespace by test/netns/mesh-nodes.test.ts: mesh on, mDNS ON tied to the namespace's
 * only interface, NO bootstrap list, HTTP on the namespace's own 127.0.0.1. mDNS is the only way
 * it can find peers.
 *
 *   ip netns exec NS node test/netns/node-runner.ts --data-dir D --listen /ip4/10.77.0.1/tcp/7421 \
 *     --iface eth1 [--members HEX,HEX,...] --max-ms 60000
 *
 * stdout (JSON lines): `{"ready": {peerId, url, addrs}}` once serving, then every 200 ms
 * `{"status": {events, state_hash, peers, mdns}}`, and `{"pushed": {...}}` after each push.
 * stdin (JSON lines): `{"push": [ ...events ]}` posts them to its own HTTP API (POST /sync/push,
 * as a client on the namespace's loopback would). Stops when stdin closes, on SIGTERM, or
 * after --max-ms (bounded by design).
 */
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { loadConfig } from '../../src/config/index.ts'
import { startNode } from '../../src/node/index.ts'

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    listen: { type: 'string' },
    iface: { type: 'string' },
    members: { type: 'string' },
    'max-ms': { type: 'string', default: '60000' },
  },
})
const members = values.members === undefined ? undefined : values.members.split(',')
const config = loadConfig({
  env: {},
  values: {
    mdns: { enabled: true, interface: values.iface },
    ...(members !== undefined ? { members } : {}),
  },
  flags: {
    dataDir: values['data-dir'],
    http: '127.0.0.1:0',
    mesh: true,
    listen: [values.listen as string],
    bootstrap: [],
  },
})
const node = await startNode(config)
const url = `http://${node.http.host}:${node.http.port}`
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`)

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  clearInterval(report)
  clearTimeout(deadline)
  await node.stop()
  process.exit(0)
}

out({ ready: { peerId: node.peerId, url, addrs: node.listenAddrs } })
const report = setInterval(() => {
  void node.api.status().then((s) => {
    if (stopping) return
    out({
      status: {
        events: s.events,
        state_hash: s.state_hash,
        peers: node.network?.peers().filter((p) => p.connected).length ?? 0,
        mdns: node.network?.stats['mdns.peers_seen'] ?? 0,
      },
    })
  })
}, 200)
const deadline = setTimeout(() => void stop(), Number(values['max-ms']))

createInterface({ input: process.stdin })
  .on('line', (line) => {
    const msg = JSON.parse(line) as { push?: unknown[] }
    if (msg.push === undefined) return
    void fetch(`${url}/sync/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(msg.push),
      signal: AbortSignal.timeout(10_000),
    })
      .then(async (r) => out({ pushed: { status: r.status, body: await r.json() } }))
      .catch((err: Error) => out({ pushed: { status: 0, error: err.message } }))
  })
  .on('close', () => void stop())
process.on('SIGTERM', () => void stop())
