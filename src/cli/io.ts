/** What the CLI touches outside itself, injectable so that tests run it in-process. */
import type { GkmConfig } from '../config/index.ts'

export interface Writable {
  write(text: string): unknown
}

/** The part of a running node the `start` command uses (src/node `RunningNode` has more). */
export interface StartedNode {
  readonly peerId: string
  readonly http: { readonly host: string; readonly port: number }
  /** Mesh addresses actually bound, when the node reports them; else the configured ones are shown. */
  readonly listenAddrs?: readonly string[]
  stop(): Promise<void>
}

export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP'

export interface SignalSource {
  on(signal: StopSignal, listener: () => void): unknown
  off(signal: StopSignal, listener: () => void): unknown
}

export interface CliIo {
  readonly stdout: Writable
  readonly stderr: Writable
  /** Read by `push -`. */
  readonly stdin: AsyncIterable<Uint8Array | string>
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
  /** Starts a node (`start`); defaults to src/node's startNode, loaded on first use. */
  readonly startNode?: (
    config: GkmConfig,
    opts?: { onRebuildProgress?: (done: number, total: number) => void; libp2pMetrics?: boolean },
  ) => Promise<StartedNode>
  readonly signals: SignalSource
  /** Immediate exit, for a second Ctrl-C while stopping. */
  readonly exit: (code: number) => void
}

export function defaultIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    signals: process,
    exit: (code) => process.exit(code),
  }
}

/** JSON output: pretty by default, one line with `--json`. */
export function printJson(io: CliIo, value: unknown, compact: boolean): void {
  io.stdout.write(`${JSON.stringify(value, null, compact ? undefined : 2)}\n`)
}
