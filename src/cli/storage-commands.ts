/**
 * Store maintenance commands: `backup` (of a running node, over its HTTP API), `restore` and
 * `repair` (on a stopped node's data directory). Parsing and printing only; the work is done by
 * src/store/maintenance.ts (docs/STORAGE.md, "Backup, restore and repair").
 */
import { resolve } from 'node:path'
import { type Command, Option } from 'commander'
import { loadConfig } from '../config/index.ts'
import { DEFAULT_NODE_URL, NodeClient, parseNodeUrl } from './client.ts'
import { RequestFailedError } from './errors.ts'
import { type CliIo, printJson } from './io.ts'
import { isTty, progressBar, progressLine } from './progress.ts'

/** A backup copies ~50,000-200,000 entries/s here; an hour covers stores far beyond the
 *  documented limits while still ending a request that hangs. */
const BACKUP_TIMEOUT_MS = 3_600_000

interface OfflineOptions {
  dataDir?: string
  config?: string
  json?: boolean
}

function dataDirOf(io: CliIo, opts: OfflineOptions): string {
  return loadConfig({ file: opts.config, env: io.env, flags: { dataDir: opts.dataDir }, cwd: io.cwd }).dataDir
}

function offlineOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', "the stopped node's data directory (env GKM_DATA_DIR; default ./.gkm)")
    .option('--config <file>', 'JSON config file to take the data dir from (env GKM_CONFIG)')
    .option('--json', 'print compact JSON (one line) instead of pretty JSON')
}

export function registerStorageCommands(program: Command, io: CliIo): void {
  program
    .command('backup')
    .description("copy a running node's store, consistently, into a new directory on the node's machine")
    .argument('<dir>', 'directory for the copy (must not hold a store; created if missing)')
    .addOption(new Option('--node <url>', `node API address (env GKM_NODE; default ${DEFAULT_NODE_URL})`))
    .addOption(new Option('--token <token>', 'bearer token of the node API (env GKM_HTTP_TOKEN)'))
    .option('--json', 'print compact JSON (one line) instead of pretty JSON')
    .addHelpText(
      'after',
      `
The node copies its store from one LevelDB snapshot while it keeps serving: writes made during
the copy are in it entirely or not at all. Progress goes to stderr: a bar on a terminal (the
share of the store copied, estimated from LevelDB's on-disk sizes), a line per 10 % elsewhere. The copy is a store "gkm-sync restore" takes. The
identity key is not copied (back up <data-dir>/identity.key once, separately).

Example:
  gkm-sync backup /var/backups/gkm-$(date +%F)`,
    )
    .action(async (dir: string, opts: { node?: string; token?: string; json?: boolean }) => {
      const base = parseNodeUrl(opts.node ?? io.env.GKM_NODE ?? DEFAULT_NODE_URL)
      const token = opts.token ?? (io.env.GKM_HTTP_TOKEN === '' ? undefined : io.env.GKM_HTTP_TOKEN)
      const client = new NodeClient({ base, token })
      // Progress on stderr (stdout stays the JSON answer): a bar while the node can estimate the
      // share copied, the entries copied otherwise.
      const tty = isTty(io.stderr)
      const bar = progressBar(io.stderr, 'backing up', tty)
      const count = progressLine(io.stderr, 'backing up', tty)
      const result = await client
        .withProgress(
          '/admin/backup',
          { dir: resolve(io.cwd, dir) },
          (p) => {
            const { entries, fraction } = (p ?? {}) as { entries?: unknown; fraction?: unknown }
            if (typeof entries !== 'number') return
            if (typeof fraction === 'number')
              bar.update(Math.round(fraction * 1000), 1000, `${entries} entries`)
            else count.update(`${entries} entries copied`)
          },
          BACKUP_TIMEOUT_MS,
        )
        .finally(() => {
          bar.done()
          count.done()
        })
      printJson(io, result, opts.json === true)
    })

  offlineOptions(
    program
      .command('restore')
      .description("restore a backup into a stopped node's data directory")
      .argument('<backup>', 'a directory made by "gkm-sync backup"')
      .option('--force', 'replace the store the data directory holds (it is moved aside, not deleted)'),
  )
    .addHelpText(
      'after',
      `
The backup is checked (format, counters, audit head) before anything is touched. A data directory
that holds a store is refused unless --force; its store is then moved into
<data-dir>/replaced-<time>. A running node's store is refused. The identity key stays. Start the
node afterwards: it catches up from its peers what happened since the backup.

Example:
  gkm-sync restore /var/backups/gkm-2026-12-01 --data-dir /var/lib/gkm --force`,
    )
    .action(async (backup: string, opts: OfflineOptions & { force?: boolean }) => {
      const dataDir = dataDirOf(io, opts)
      const { restoreStore } = await import('../node/index.ts')
      const r = await restoreStore(resolve(io.cwd, backup), dataDir, {
        force: opts.force === true,
        nowMs: Date.now(),
      })
      printJson(
        io,
        {
          data_dir: dataDir,
          entries: r.entries,
          events: r.events,
          last_seq: r.lastSeq,
          state_hash: r.stateHash ?? null,
          ...(r.movedAside === undefined ? {} : { moved_aside: r.movedAside }),
        },
        opts.json === true,
      )
    })

  offlineOptions(
    program
      .command('repair')
      .description("run LevelDB's repair on a copy of a stopped node's damaged store; --apply swaps it in")
      .option(
        '--apply',
        'when the repaired copy passes every check, move the damaged files aside and use it',
      ),
  )
    .addHelpText(
      'after',
      `
Copies the store's files to <data-dir>.repair-<time>, runs LevelDB's repair there (it rebuilds the
MANIFEST from the table and log files it can read and drops what it cannot), then opens the copy
with every check a node makes at start and prints what it holds. Nothing in the data directory
changes unless --apply, and --apply swaps only a copy that passed (the damaged files go to
<data-dir>/damaged-<time>). Exit code 2 when the copy does not pass.

Example:
  gkm-sync repair --data-dir /var/lib/gkm            # look first
  gkm-sync repair --data-dir /var/lib/gkm --apply    # then use it`,
    )
    .action(async (opts: OfflineOptions & { apply?: boolean }) => {
      const dataDir = dataDirOf(io, opts)
      const { repairStore } = await import('../node/index.ts')
      const r = await repairStore(dataDir, { apply: opts.apply === true, nowMs: Date.now() })
      const passed = !('error' in r.check)
      printJson(
        io,
        {
          data_dir: dataDir,
          copy: r.copy,
          files_before: r.filesBefore,
          check: passed
            ? {
                ok: true,
                events: (r.check as { events: number }).events,
                last_seq: (r.check as { lastSeq: number }).lastSeq,
              }
            : { ok: false, ...r.check },
          applied: r.originalMovedTo !== undefined,
          ...(r.originalMovedTo === undefined ? {} : { original_moved_to: r.originalMovedTo }),
        },
        opts.json === true,
      )
      if (!passed) {
        throw new RequestFailedError(
          `the repaired copy in ${r.copy} still fails the store's checks; restore a backup, or start the node in an empty directory and let it catch up from its peers`,
        )
      }
    })
}
