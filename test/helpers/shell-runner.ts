/**
 * Running documentation shell blocks as a user would (test/docs): bash in its own process group
 * with a deadline, shims that make `npx gkm-sync` / `gkm-sync` this checkout's bin and make
 * `curl` fail on HTTP errors, and a stop that signals the whole group (background nodes too).
 */
import { execFileSync, spawn } from 'node:child_process'
import { chmodSync, readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
/** The checkout's `gkm-sync` bin, as package.json names it. */
export const BIN = join(
  ROOT,
  (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin[
    'gkm-sync'
  ],
)
const STOP_GRACE_MS = 10_000
export const OUTPUT_KEPT_CHARS = 16_000

function which(cmd: string): string | undefined {
  try {
    return execFileSync('bash', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}

export const REAL_CURL = which('curl')

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((ok, fail) => server.listen(0, '127.0.0.1', ok).on('error', fail))
  const { port } = server.address() as { port: number }
  await new Promise<void>((ok) => server.close(() => ok()))
  return port
}

export async function waitFor(what: string, cond: () => Promise<boolean>, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs
  for (;;) {
    if (await cond().catch(() => false)) return
    if (Date.now() > until) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

export interface Ran {
  code: number | null
  signal: NodeJS.Signals | null
  out: string
  stillRunning: boolean
}

export function keep(acc: { out: string }, chunk: Buffer): void {
  acc.out += chunk.toString('utf8')
  if (acc.out.length > OUTPUT_KEPT_CHARS * 2) acc.out = acc.out.slice(-OUTPUT_KEPT_CHARS)
}

/** Signals a process group until it is gone (SIGTERM, then SIGKILL after the grace period). */
export async function stopGroup(pid: number | undefined): Promise<void> {
  if (pid === undefined) return
  const alive = () => {
    try {
      process.kill(-pid, 0)
      return true
    } catch {
      return false
    }
  }
  if (!alive()) return
  try {
    process.kill(-pid, 'SIGTERM')
  } catch {}
  const until = Date.now() + STOP_GRACE_MS
  while (alive() && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
  if (alive()) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {}
    while (alive()) await new Promise((r) => setTimeout(r, 20))
  }
}

/** Runs bash code in its own process group; returns when it exits or after `ms`. */
export async function runBash(code: string, cwd: string, env: NodeJS.ProcessEnv, ms: number): Promise<Ran> {
  const child = spawn('bash', ['-c', `set -eo pipefail\n${code}`], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const acc = { out: '' }
  child.stdout.on('data', (c: Buffer) => keep(acc, c))
  child.stderr.on('data', (c: Buffer) => keep(acc, c))
  let timer: NodeJS.Timeout | undefined
  const exited = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined>(
    (ok) => {
      child.on('exit', (code, signal) => ok({ code, signal }))
      child.on('error', () => ok({ code: -1, signal: null }))
      timer = setTimeout(() => ok(undefined), ms)
    },
  )
  clearTimeout(timer)
  await stopGroup(child.pid)
  return {
    code: exited?.code ?? null,
    signal: exited?.signal ?? null,
    out: acc.out.slice(-OUTPUT_KEPT_CHARS),
    stillRunning: exited === undefined,
  }
}

export async function writeShims(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  const shims: Record<string, string> = {
    // HTTP errors fail the block (unless it handles them with -f itself).
    curl: `#!/usr/bin/env bash
for a in "$@"; do
  case "$a" in
    --fail|--fail-with-body) exec ${JSON.stringify(REAL_CURL)} "$@" ;;
    --*) ;;
    -*f*) exec ${JSON.stringify(REAL_CURL)} "$@" ;;
  esac
done
exec ${JSON.stringify(REAL_CURL)} --fail-with-body "$@"
`,
    npx: `#!/usr/bin/env bash
if [ "$1" = gkm-sync ]; then shift; exec ${JSON.stringify(BIN)} "$@"; fi
echo "docs runner: 'npx $1' is not available to documentation blocks (only npx gkm-sync)" >&2
exit 127
`,
    'gkm-sync': `#!/usr/bin/env bash
exec ${JSON.stringify(BIN)} "$@"
`,
  }
  for (const [name, text] of Object.entries(shims)) {
    await writeFile(join(dir, name), text)
    chmodSync(join(dir, name), 0o755)
  }
}
