/**
 * The `gkm-sync` command line: commander definitions of every command, and `runCli`, which
 * runs one invocation and returns its exit code (0 ok, 1 usage or config error, 2 a request
 * failed). Expected errors print one line, `gkm-sync: <what went wrong>`; only bugs print a
 * stack.
 */
import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { isConfigError } from '../config/index.ts'
import { registerClientCommands } from './client-commands.ts'
import { registerDoctorCommand } from './doctor.ts'
import { EXIT_OK, EXIT_REQUEST_FAILED, EXIT_USAGE } from './errors.ts'
import { type CliIo, defaultIo } from './io.ts'
import { registerKeygenCommand } from './keygen.ts'
import { registerStartCommand } from './start.ts'
import { registerStorageCommands } from './storage-commands.ts'

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version

export function buildProgram(io: CliIo): Command {
  const program = new Command('gkm-sync')
    .description(
      'Peer-to-peer sync of vector, persona, graph and document state across a federation of nodes.',
    )
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`gkm-sync: ${text.replace(/^error: /, '')}`),
    })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Run a node with "gkm-sync start"; the other commands talk to a running node over its HTTP API
(--node, default http://127.0.0.1:7420). Docs: docs/CLI.md, docs/API.md, docs/CONFIG.md.`,
    )
  registerStartCommand(program, io)
  registerKeygenCommand(program, io)
  registerDoctorCommand(program, io)
  registerClientCommands(program, io)
  registerStorageCommands(program, io)
  return program
}

/** Runs one invocation (`argv` without the node and script paths); resolves with the exit code. */
export async function runCli(argv: readonly string[], overrides: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = { ...defaultIo(), ...overrides }
  const program = buildProgram(io)
  if (argv.length === 0) {
    program.outputHelp()
    return EXIT_USAGE
  }
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return EXIT_OK
  } catch (err) {
    return reportError(io, err)
  }
}

function reportError(io: CliIo, err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander printed its message already (help, version, unknown command or option, ...).
    return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE
  }
  if (isConfigError(err)) {
    io.stderr.write(
      `${err.message
        .split('\n')
        .map((l) => `gkm-sync: ${l}`)
        .join('\n')}\n`,
    )
    return EXIT_USAGE
  }
  const e = err as { name?: unknown; message?: unknown; exitCode?: unknown; code?: unknown }
  if (e?.name === 'CliUsageError') {
    io.stderr.write(`gkm-sync: ${String(e.message)}\n`)
    return EXIT_USAGE
  }
  if (e?.name === 'RequestFailedError') {
    io.stderr.write(`gkm-sync: ${String(e.message)}\n`)
    return EXIT_REQUEST_FAILED
  }
  // Errors with a stable code (named errors of other layers such as an insecure identity key,
  // system errors such as EADDRINUSE) are expected failures: their message is the explanation.
  if (err instanceof Error && typeof e.code === 'string') {
    io.stderr.write(`gkm-sync: ${err.message}\n`)
    return EXIT_USAGE
  }
  io.stderr.write(
    `gkm-sync: unexpected error (a bug; please report it):\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  )
  return EXIT_USAGE
}
