/** A node in its own process (for crash tests): prints {"url": ..., "addr": ...} once serving.
 *  Arguments after the data dir: `--rebuild` rebuilds the state from the log at start; `--mesh`
 *  starts the mesh on 127.0.0.1 (mDNS off); `--bootstrap ADDR` dials a peer (implies --mesh). */
import { loadConfig } from '../../src/config/index.ts'
import { startNode } from '../../src/node/index.ts'

const args = process.argv.slice(3)
const bootstrapAt = args.indexOf('--bootstrap')
const bootstrap = bootstrapAt >= 0 ? [args[bootstrapAt + 1]] : []
const mesh = args.includes('--mesh') || bootstrap.length > 0

// Modules are loaded: the start (store open, replay or rebuild, mesh, HTTP) begins now.
process.stdout.write(`${JSON.stringify({ starting: true })}\n`)
const node = await startNode(
  loadConfig({
    env: {},
    flags: {
      dataDir: process.argv[2],
      http: '127.0.0.1:0',
      mesh,
      mdns: false,
      ...(mesh ? { listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap } : {}),
    },
  }),
  { rebuild: args.includes('--rebuild') },
)
process.stdout.write(
  `${JSON.stringify({
    url: `http://${node.http?.host}:${node.http?.port}`,
    replayed: node.replay.events,
    addr: node.listenAddrs.find((a) => a.startsWith('/ip4/127.0.0.1/')),
  })}\n`,
)
process.on('SIGTERM', () => void node.stop().then(() => process.exit(0)))
