/** A node in its own process (for crash tests): prints {"url": ...} once serving. A second
 *  argument `--rebuild` rebuilds the state from the log at start. */
import { loadConfig } from '../../src/config/index.ts'
import { startNode } from '../../src/node/index.ts'

// Modules are loaded: the start (store open, replay or rebuild, mesh, HTTP) begins now.
process.stdout.write(`${JSON.stringify({ starting: true })}\n`)
const node = await startNode(
  loadConfig({ env: {}, flags: { dataDir: process.argv[2], http: '127.0.0.1:0', mesh: false, mdns: false } }),
  { rebuild: process.argv[3] === '--rebuild' },
)
process.stdout.write(
  `${JSON.stringify({ url: `http://${node.http.host}:${node.http.port}`, replayed: node.replay.events })}\n`,
)
process.on('SIGTERM', () => void node.stop().then(() => process.exit(0)))
