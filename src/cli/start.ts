/**
 * `gkm-sync start`: load the config, start a node (a progress bar on stderr while it rebuilds its
 * state), print one start-up line, and stop cleanly on SIGINT / SIGTERM / SIGHUP, whoever sends
 * them (a second signal exits at once).
 */
import { type Command, Option } from 'commander'
import { type ConfigFlags, type GkmConfig, loadConfig } from '../config/index.ts'
import type { CliIo, StartedNode, StopSignal } from './io.ts'
import { isTty, progressBar } from './progress.ts'

interface StartOptions {
  dataDir?: string
  http?: string
  config?: string
  listen?: string[]
  bootstrap?: string[]
  mdns?: boolean
  mesh?: boolean
  logLevel?: string
  sink?: string[]
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/** Exit code after a second signal while stopping (128 + SIGINT, as shells report it). */
const EXIT_FORCED = 130

export function registerStartCommand(program: Command, io: CliIo): void {
  program
    .command('start')
    .description('run a node: the HTTP API and, unless --no-mesh, the p2p mesh')
    .option('--data-dir <dir>', 'store and identity key directory (env GKM_DATA_DIR; default ./.gkm)')
    .option('--http <host:port>', 'HTTP API address (env GKM_HTTP; default 127.0.0.1:7420)')
    .option('--config <file>', 'JSON config file (env GKM_CONFIG); see docs/CONFIG.md')
    .option('--listen <multiaddr>', 'mesh listen address, repeatable (env GKM_LISTEN)', collect)
    .option(
      '--bootstrap <file|multiaddr>',
      'peer to dial, or a file listing peers; repeatable (env GKM_BOOTSTRAP)',
      collect,
    )
    .option(
      '--sink <kind=target>',
      'keep an application store in sync: postgres=URL, lancedb=DIR, mongodb=URL, neo4j=URL; repeatable (docs/ADAPTERS.md)',
      collect,
    )
    .option('--no-mdns', 'do not discover LAN peers with mDNS (env GKM_NO_MDNS=1)')
    .option('--no-mesh', 'HTTP API only: no libp2p mesh')
    .addOption(
      new Option('--log-level <level>', 'log detail (env GKM_LOG_LEVEL)').choices([
        'error',
        'warn',
        'info',
        'debug',
        'trace',
      ]),
    )
    .addHelpText(
      'after',
      `
Precedence: defaults < config file < environment < flags.

Examples:
  gkm-sync start
  gkm-sync start --data-dir /var/lib/gkm --http 0.0.0.0:7420 --config /etc/gkm/node.json
  gkm-sync start --no-mdns --bootstrap /ip4/10.0.0.5/tcp/7421/p2p/12D3KooW...
  gkm-sync start --sink postgres=postgres://app@127.0.0.1:5432/app --sink lancedb=./vectors`,
    )
    .action(async (opts: StartOptions, cmd: Command) => {
      const fromCli = (name: string) => cmd.getOptionValueSource(name) === 'cli'
      const flags: ConfigFlags = {
        dataDir: opts.dataDir,
        http: opts.http,
        listen: opts.listen,
        bootstrap: opts.bootstrap,
        mdns: fromCli('mdns') ? opts.mdns : undefined,
        mesh: fromCli('mesh') ? opts.mesh : undefined,
        logLevel: opts.logLevel,
        sinks: opts.sink,
      }
      const config = loadConfig({ file: opts.config, env: io.env, flags, cwd: io.cwd })
      const startNode = io.startNode ?? (await import('../node/index.ts')).startNode
      const bar = progressBar(io.stderr, 'rebuilding the state from the log', isTty(io.stderr))
      const node = await startNode(config, {
        onRebuildProgress: (done, total) => bar.update(done, total),
        // One node in this process: libp2p's process-wide metrics are this node's.
        libp2pMetrics: true,
      })
      bar.done()
      io.stdout.write(`${startupLine(config, node)}\n`)
      await untilSignal(io, node)
    })
}

/** One line: node id, HTTP address, data dir, mesh addresses, membership. */
export function startupLine(config: GkmConfig, node: StartedNode): string {
  const host = node.http.host.includes(':') ? `[${node.http.host}]` : node.http.host
  const parts = [
    `gkm-sync node ${node.peerId}`,
    `http http://${host}:${node.http.port}`,
    `data ${config.dataDir}`,
  ]
  if (config.mesh.enabled) {
    const addrs = node.listenAddrs ?? config.listen
    parts.push(addrs.length > 0 ? `mesh ${addrs.join(' ')}` : 'mesh (no listen address)')
    if (!config.mdns.enabled) parts.push('mdns off')
  } else {
    parts.push('mesh off')
  }
  if (config.members === undefined && config.membersFile === undefined) {
    parts.push(`federation ${config.federation}: open federation (no allow-list)`)
  } else {
    const listed = config.members === undefined ? '' : `${config.members.length} listed`
    const file = config.membersFile === undefined ? '' : `from ${config.membersFile}`
    parts.push(
      `federation ${config.federation}: members ${[listed, file].filter((s) => s !== '').join(' + ')}`,
    )
  }
  return parts.join(' | ')
}

async function untilSignal(io: CliIo, node: StartedNode): Promise<void> {
  const { promise, resolve, reject } = Promise.withResolvers<void>()
  let stopping = false
  const signals: StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  const onSignal = () => {
    if (stopping) {
      io.stderr.write('gkm-sync: second signal: exiting now\n')
      io.exit(EXIT_FORCED)
      return
    }
    stopping = true
    io.stderr.write('gkm-sync: stopping (press Ctrl-C again to exit at once)\n')
    node.stop().then(
      () => {
        for (const s of signals) io.signals.off(s, onSignal)
        io.stderr.write('gkm-sync: stopped\n')
        resolve()
      },
      (err: unknown) => {
        for (const s of signals) io.signals.off(s, onSignal)
        reject(err)
      },
    )
  }
  for (const s of signals) io.signals.on(s, onSignal)
  return promise
}
