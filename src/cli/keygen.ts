/** `gkm-sync keygen`: create (or show) the node's identity key. */
import type { Command } from 'commander'
import { loadConfig } from '../config/index.ts'
import type { CliIo } from './io.ts'

export function registerKeygenCommand(program: Command, io: CliIo): void {
  program
    .command('keygen')
    .description("create the node's identity key (<data-dir>/identity.key) and print its public key")
    .option('--data-dir <dir>', 'where the key goes (env GKM_DATA_DIR; default ./.gkm)')
    .option('--config <file>', 'JSON config file to take the data dir from (env GKM_CONFIG)')
    .option('--force', 'replace an existing key (the node gets a new identity: update allow-lists)')
    .addHelpText(
      'after',
      `
The key is the raw 32-byte Ed25519 seed, readable by its owner only (mode 0600). When a key
exists it is kept and its public key printed, unless --force. The public key (hex) is what a
federation's allow-list ("members") names.

Example:
  gkm-sync keygen --data-dir /var/lib/gkm`,
    )
    .action(async (opts: { dataDir?: string; config?: string; force?: boolean }) => {
      const config = loadConfig({
        file: opts.config,
        env: io.env,
        flags: { dataDir: opts.dataDir },
        cwd: io.cwd,
      })
      const { loadOrCreateIdentity } = await import('../node/index.ts')
      const identity = await loadOrCreateIdentity(config.dataDir, {
        create: true,
        force: opts.force === true,
      })
      io.stdout.write(`${Buffer.from(identity.publicKey).toString('hex')}\n`)
      io.stderr.write(
        identity.created
          ? `gkm-sync: wrote a new identity key to ${identity.path}\n`
          : `gkm-sync: kept the existing identity key ${identity.path} (--force replaces it)\n`,
      )
    })
}
