/**
 * One real node process in its namespace: `gkm-sync start` (bin/gkm-sync.js, LevelDB, libp2p)
 * run with `ip netns exec`, which execs node, so the child's PID is the node's own: `kill -9`,
 * SIGSTOP and SIGCONT reach the node itself. With `skew`, the node runs under libfaketime
 * (LD_PRELOAD) reading its offset from a per-node file (`FAKETIME_TIMESTAMP_FILE`, re-read every
 * second), so its wall clock can be moved while it runs; monotonic clocks are left alone.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { NODE_ENV, NODE_FLAGS } from '../../src/cli/runtime-flags.ts'
import { HTTP_PORT, MESH_PORT, NODE_IFACE } from './lab.ts'

const BIN = fileURLToPath(new URL('../../bin/gkm-sync.js', import.meta.url))
/** How long a node may take to print its start-up line (a loaded 2-core machine). */
const START_TIMEOUT_MS = 90_000
const STOP_TIMEOUT_MS = 10_000

const FAKETIME_LIBS = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
]

/** The libfaketime library, or undefined (Debian package `faketime`). */
export function faketimeLib(): string | undefined {
  return FAKETIME_LIBS.find((p) => existsSync(p))
}

/** Node's flags for V8's sampling profiler (`--cpu-prof`): one profile per life of a node, written
 *  when it exits cleanly (the driver's SIGTERM at the end; a `kill -9`ed life leaves none). */
export function cpuProfFlags(dir: string, index: number, life: number): string[] {
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=n${index}-life${life}.cpuprofile`]
}

export type NodeState = 'down' | 'starting' | 'up' | 'paused'

export interface NodeSpec {
  readonly index: number
  readonly ns: string
  readonly ip: string
  readonly dir: string
  readonly peerId: string
  readonly publicKey: string
  readonly token: string
}

export class NodeProc {
  readonly spec: NodeSpec
  state: NodeState = 'down'
  lives = 0
  #proc: ChildProcess | undefined
  #log = ''
  readonly #clockFile: string
  readonly #configFile: string
  readonly #skew: boolean
  /** Where the node's own output goes, appended over its lives (`--node-logs`). */
  readonly #logFile: string | undefined
  /** Where each life's CPU profile goes (`--cpu-prof`). */
  readonly #profDir: string | undefined
  offsetS = 0

  constructor(
    spec: NodeSpec,
    config: Record<string, unknown>,
    skew: boolean,
    logFile?: string,
    profDir?: string,
  ) {
    this.spec = spec
    this.#skew = skew
    this.#logFile = logFile
    this.#profDir = profDir
    this.#configFile = join(spec.dir, 'node.json')
    this.#clockFile = join(spec.dir, 'clock-offset')
    writeFileSync(this.#configFile, JSON.stringify(config, null, 2))
    writeFileSync(this.#clockFile, '+0\n')
  }

  get url(): string {
    return `http://${this.spec.ip}:${HTTP_PORT}`
  }

  get pid(): number | undefined {
    return this.#proc?.pid
  }

  /** The last lines the node wrote on stderr (for failures). */
  get log(): string {
    return this.#log
  }

  /** Sets the node's clock offset (seconds; faketime re-reads it within a second). */
  setOffset(offsetS: number): void {
    if (!this.#skew) throw new Error('clock skew needs the scenario to run the nodes under faketime')
    this.offsetS = offsetS
    writeFileSync(this.#clockFile, `${offsetS >= 0 ? '+' : ''}${offsetS}\n`)
  }

  /** Starts the process and resolves once it printed its start-up line. */
  async start(): Promise<void> {
    if (this.state !== 'down') throw new Error(`node ${this.spec.index} is ${this.state}`)
    const env: NodeJS.ProcessEnv = { ...process.env, ...NODE_ENV, GKM_NO_RELAUNCH: '1' }
    for (const k of Object.keys(env)) if (k.startsWith('GKM_') && k !== 'GKM_NO_RELAUNCH') delete env[k]
    if (this.#skew) {
      const lib = faketimeLib()
      if (lib === undefined) throw new Error('libfaketime is not installed (Debian package faketime)')
      Object.assign(env, {
        LD_PRELOAD: lib,
        FAKETIME_TIMESTAMP_FILE: this.#clockFile,
        FAKETIME_CACHE_DURATION: '1',
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
      })
    }
    this.state = 'starting'
    this.lives++
    this.#log = ''
    const proc = spawn(
      'ip',
      [
        'netns',
        'exec',
        this.spec.ns,
        process.execPath,
        ...NODE_FLAGS,
        ...(this.#profDir === undefined ? [] : cpuProfFlags(this.#profDir, this.spec.index, this.lives)),
        BIN,
        'start',
        '--config',
        this.#configFile,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env },
    )
    this.#proc = proc
    proc.stderr!.on('data', (d: Buffer) => {
      this.#log = (this.#log + d.toString()).slice(-6000)
    })
    if (this.#logFile !== undefined) {
      const file = createWriteStream(this.#logFile, { flags: 'a' })
      proc.stdout!.on('data', (d: Buffer) => file.write(d))
      proc.stderr!.on('data', (d: Buffer) => file.write(d))
      proc.once('close', () => file.end())
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>()
    const timer = setTimeout(
      () =>
        reject(
          new Error(`node ${this.spec.index} did not start within ${START_TIMEOUT_MS} ms: ${this.#log}`),
        ),
      START_TIMEOUT_MS,
    )
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (line.startsWith('gkm-sync node ')) {
        clearTimeout(timer)
        if (this.#proc === proc && this.state === 'starting') this.state = 'up'
        resolve()
      }
    })
    proc.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (this.#proc === proc) this.state = 'down'
      reject(new Error(`node ${this.spec.index} exited (${signal ?? code}) before it started: ${this.#log}`))
    })
    return promise
  }

  #exited(): Promise<void> {
    const p = this.#proc
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return Promise.resolve()
    return new Promise((r) => p.once('exit', () => r()))
  }

  /** kill -9, and waits until the process is gone. */
  async kill9(): Promise<void> {
    const p = this.#proc
    if (p?.pid === undefined) return
    try {
      process.kill(p.pid, 'SIGKILL')
    } catch {}
    await this.#exited()
    this.state = 'down'
  }

  pause(): void {
    if (this.#proc?.pid === undefined || this.state !== 'up') return
    process.kill(this.#proc.pid, 'SIGSTOP')
    this.state = 'paused'
  }

  resume(): void {
    if (this.#proc?.pid === undefined || this.state !== 'paused') return
    process.kill(this.#proc.pid, 'SIGCONT')
    this.state = 'up'
  }

  /** SIGTERM (after SIGCONT), SIGKILL if it has not exited within STOP_TIMEOUT_MS. */
  async stop(): Promise<void> {
    const p = this.#proc
    if (p?.pid === undefined || p.exitCode !== null || p.signalCode !== null) {
      this.state = 'down'
      return
    }
    try {
      process.kill(p.pid, 'SIGCONT')
      process.kill(p.pid, 'SIGTERM')
    } catch {}
    const timer = setTimeout(() => {
      try {
        process.kill(p.pid!, 'SIGKILL')
      } catch {}
    }, STOP_TIMEOUT_MS)
    await this.#exited()
    clearTimeout(timer)
    this.state = 'down'
  }

  /** Synchronous last resort (SIGINT, an exception): SIGKILL by PID. */
  killNow(): void {
    const p = this.#proc
    if (p?.pid === undefined || p.exitCode !== null || p.signalCode !== null) return
    try {
      process.kill(p.pid, 'SIGKILL')
    } catch {}
  }
}

/** The node's config file: HTTP on its namespace address (with a token, as the node requires
 *  off loopback), the mesh on 7421, mDNS tied to the namespace's interface (LAN) or off with a
 *  bootstrap list through the delay proxy (WAN), the federation's allow-list, quiet logs. */
export function nodeConfig(o: {
  spec: NodeSpec
  members: string[]
  mdns: boolean
  bootstrap: string[]
  /** `warn` unless the run keeps the nodes' logs (`--node-logs`: `debug`). */
  logLevel?: 'warn' | 'debug'
}): Record<string, unknown> {
  return {
    dataDir: join(o.spec.dir, 'data'),
    http: { host: o.spec.ip, port: HTTP_PORT, token: o.spec.token },
    listen: [`/ip4/${o.spec.ip}/tcp/${MESH_PORT}`],
    mdns: o.mdns ? { enabled: true, interface: NODE_IFACE } : { enabled: false },
    bootstrap: o.bootstrap,
    members: o.members,
    mesh: { enabled: true },
    log: { level: o.logLevel ?? 'warn' },
  }
}
