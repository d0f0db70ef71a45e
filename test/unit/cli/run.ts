/** Runs the CLI in-process with captured output (test helper). */
import { EventEmitter } from 'node:events'
import type { CliIo } from '../../../src/cli/io.ts'
import { runCli } from '../../../src/cli/program.ts'

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

export async function run(argv: string[], io: Partial<CliIo> = {}): Promise<RunResult> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(argv, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    stdin: (async function* () {})(),
    env: {},
    signals: new EventEmitter(),
    exit: (c) => {
      throw new Error(`exit(${c}) called unexpectedly`)
    },
    ...io,
  })
  return { code, stdout, stderr }
}
