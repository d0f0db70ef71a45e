/**
 * `gkm-sync doctor`: checks what a node needs before it starts (the config, the data directory,
 * the identity key's permissions, the ports, the clock, the bootstrap peers, the disk) and says
 * what to fix. Exit code 0 when nothing is wrong, 1 otherwise. It only binds and connects on the
 * addresses of the config (a bootstrap peer is one TCP connect, closed at once).
 */
import { constants } from 'node:fs'
import { access, stat, statfs } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { dirname, join } from 'node:path'
import type { Command } from 'commander'
import { type GkmConfig, loadConfig } from '../config/index.ts'
import type { CliIo } from './io.ts'

/** Less free space than this in the data directory's file system is a problem: LevelDB
 *  compactions need room, and a full disk stops every write. */
const DISK_FREE_BYTES_MIN = 1024 ** 3

/** A bootstrap peer that does not accept a TCP connection within this is unreachable. */
const PEER_CONNECT_TIMEOUT_MS = 3_000

/** A wall clock before this is certainly wrong (events are stamped with it; docs/EVENTS.md). */
const CLOCK_MIN_MS = Date.UTC(2025, 0, 1)

interface Finding {
  readonly ok: boolean
  readonly what: string
  readonly fix?: string
}

export function registerDoctorCommand(program: Command, io: CliIo): void {
  program
    .command('doctor')
    .description('check the config, data dir, key permissions, ports, clock, peers and disk; say what to fix')
    .option('--data-dir <dir>', 'data directory (env GKM_DATA_DIR)')
    .option('--config <file>', 'JSON config file (env GKM_CONFIG)')
    .option('--http <host:port>', 'HTTP address (env GKM_HTTP)')
    .action(async (opts: { dataDir?: string; config?: string; http?: string }) => {
      const config = loadConfig({
        file: opts.config,
        env: io.env,
        flags: { dataDir: opts.dataDir, http: opts.http },
        cwd: io.cwd,
      })
      const findings = await diagnose(config)
      for (const f of findings) {
        io.stdout.write(
          `${f.ok ? 'ok     ' : 'PROBLEM'} ${f.what}${f.fix === undefined ? '' : `\n        fix: ${f.fix}`}\n`,
        )
      }
      const problems = findings.filter((f) => !f.ok).length
      io.stdout.write(problems === 0 ? 'no problems found\n' : `${problems} problem(s) found\n`)
      if (problems > 0) {
        const err = new Error(`doctor found ${problems} problem(s)`)
        err.name = 'CliUsageError'
        throw err
      }
    })
}

export async function diagnose(config: GkmConfig): Promise<Finding[]> {
  const out: Finding[] = [{ ok: true, what: 'config is valid' }]
  out.push(await checkDataDir(config.dataDir))
  out.push(await checkKey(config.dataDir))
  out.push(await checkBind('HTTP', config.http.host, config.http.port))
  if (config.mesh.enabled) {
    for (const addr of config.listen) {
      const tcp = /^\/ip[46]\/([^/]+)\/tcp\/(\d+)/.exec(addr)
      if (tcp !== null) out.push(await checkBind('mesh', tcp[1], Number(tcp[2])))
    }
    for (const b of config.bootstrap) {
      const tcp = /^\/(?:ip4|ip6|dns4|dns6|dns)\/([^/]+)\/tcp\/(\d+)/.exec(b)
      if (tcp !== null) out.push(await checkPeer(b, tcp[1], Number(tcp[2])))
    }
  }
  const now = Date.now()
  out.push(
    now >= CLOCK_MIN_MS
      ? { ok: true, what: `clock reads ${new Date(now).toISOString()}` }
      : {
          ok: false,
          what: `clock reads ${new Date(now).toISOString()}, before 2025`,
          fix: 'set the time (timedatectl set-ntp true); events are stamped with this clock and peers refuse clocks off by more than hlcDriftMaxMs',
        },
  )
  out.push(await checkDisk(config.dataDir))
  return out
}

async function existing(path: string): Promise<string> {
  let p = path
  for (;;) {
    try {
      await stat(p)
      return p
    } catch {
      if (dirname(p) === p) return p
      p = dirname(p)
    }
  }
}

async function checkDataDir(dir: string): Promise<Finding> {
  const base = await existing(dir)
  try {
    await access(base, constants.W_OK | constants.X_OK)
  } catch {
    return {
      ok: false,
      what: `data dir ${dir}: ${base} is not writable by this user`,
      fix: `chown the directory to the user that runs the node, or choose another --data-dir`,
    }
  }
  return { ok: true, what: base === dir ? `data dir ${dir} is writable` : `data dir ${dir} will be created` }
}

async function checkKey(dir: string): Promise<Finding> {
  const file = join(dir, 'identity.key')
  try {
    const mode = (await stat(file)).mode & 0o777
    if ((mode & 0o077) !== 0) {
      return {
        ok: false,
        what: `identity key ${file} has mode ${mode.toString(8)}: others can read it`,
        fix: `chmod 600 ${file}`,
      }
    }
    return { ok: true, what: `identity key ${file} is readable by its owner only` }
  } catch {
    return { ok: true, what: `no identity key yet: the first start creates ${file} (mode 600)` }
  }
}

function checkBind(what: string, host: string, port: number): Promise<Finding> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', (err: NodeJS.ErrnoException) =>
      resolve({
        ok: false,
        what: `${what} ${host}:${port} cannot be bound (${err.code ?? err.message})`,
        fix:
          err.code === 'EADDRINUSE'
            ? `another process listens there (is a node already running? ss -ltnp 'sport = :${port}'); stop it or pick another port`
            : err.code === 'EACCES'
              ? 'ports below 1024 need privileges: use a port >= 1024'
              : 'use an address of this machine',
      }),
    )
    server.listen({ host, port }, () => {
      server.close(() => resolve({ ok: true, what: `${what} ${host}:${port} is free` }))
    })
  })
}

function checkPeer(addr: string, host: string, port: number): Promise<Finding> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: PEER_CONNECT_TIMEOUT_MS })
    const fail = (why: string) => {
      socket.destroy()
      resolve({
        ok: false,
        what: `bootstrap peer ${addr} is unreachable (${why})`,
        fix: 'check that the peer runs and that its port is open in firewalls between here and there',
      })
    }
    socket.once('connect', () => {
      socket.destroy()
      resolve({ ok: true, what: `bootstrap peer ${host}:${port} accepts connections` })
    })
    socket.once('timeout', () => fail(`no answer in ${PEER_CONNECT_TIMEOUT_MS} ms`))
    socket.once('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message))
  })
}

async function checkDisk(dir: string): Promise<Finding> {
  const s = await statfs(await existing(dir))
  const free = s.bavail * s.bsize
  const gib = (free / 1024 ** 3).toFixed(1)
  return free >= DISK_FREE_BYTES_MIN
    ? { ok: true, what: `${gib} GiB free for the data dir` }
    : {
        ok: false,
        what: `only ${gib} GiB free for the data dir`,
        fix: 'free space or move the data dir: a full disk stops every write',
      }
}
