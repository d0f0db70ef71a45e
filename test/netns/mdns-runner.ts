/**
 * One mesh node for the namespace tests, run inside a namespace by test/netns/mdns.test.ts:
 * a Network with mDNS on (the namespace's only interface), no bootstrap list, backed by the
 * in-test FakeApi. It writes `--write` events, then reports on stdout (JSON lines) the digests
 * it holds every 200 ms, until stdin closes or `--max-ms` passes (bounded by design).
 *
 *   node test/netns/mdns-runner.ts --listen /ip4/10.77.0.1/tcp/7421 --iface eth1 --write 3 --max-ms 60000
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { EVENT_TYPES } from '../../src/core/types.ts'
import { createNetwork } from '../../src/net/index.ts'
import { newSeed } from '../../src/util/random.ts'
import { FakeApi, TEST_LIMITS } from '../unit/net/helpers.ts'

const { values } = parseArgs({
  options: {
    listen: { type: 'string' },
    iface: { type: 'string' },
    write: { type: 'string', default: '1' },
    'max-ms': { type: 'string', default: '60000' },
  },
})
const seed = newSeed()
const dataDir = await mkdtemp(join(tmpdir(), 'gkm-netns-'))
const api = new FakeApi(seed)
const net = createNetwork(
  { api, seed, dataDir },
  {
    listen: [values.listen as string],
    bootstrap: [],
    mdns: { enabled: true, interface: values.iface },
    dataTypes: [...EVENT_TYPES],
    limits: TEST_LIMITS,
  },
)
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`)
let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  clearInterval(report)
  clearTimeout(deadline)
  await net.stop()
  await rm(dataDir, { recursive: true, force: true })
  process.exit(0)
}
await net.start()
out({ ready: net.peerId, addrs: net.addresses() })
for (let i = 0; i < Number(values.write); i++)
  await api.write('persona_update', `${net.peerId}-${i}`, { op: 'set', fields: { i } })
const report = setInterval(() => {
  out({
    digests: [...api.byDigest.keys()].sort(),
    peers: net.peers().filter((p) => p.connected).length,
    mdns: net.stats['mdns.peers_seen'] ?? 0,
  })
}, 200)
const deadline = setTimeout(() => void stop(), Number(values['max-ms']))
process.stdin.on('end', () => void stop())
process.stdin.resume()
process.on('SIGTERM', () => void stop())
