#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-old-space-size=256 --max-semi-space-size=16
// Entry point of the `gkm-sync` command. Runs the compiled CLI (dist/, in an installed package)
// or the TypeScript sources (a checkout; Node >= 22.18 strips the types).
//
// `gkm-sync start` needs runtime flags and an environment variable that only take effect when
// the process starts (src/cli/runtime-flags.ts says why: RSS). The shebang line passes them when
// this file is run as a program; when it is run some other way (`node bin/gkm-sync.js start`,
// a service manager calling node) and they are missing, this launcher starts the node again with
// them as its child, forwards SIGINT, SIGTERM and SIGHUP to it, and exits as it exits.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'

const src = new URL('../src/cli/', import.meta.url)
const dir = existsSync(new URL('main.ts', src)) ? src : new URL('../dist/cli/', import.meta.url)
const ext = dir === src ? 'ts' : 'js'
const { NODE_ENV, NODE_FLAGS } = await import(new URL(`runtime-flags.${ext}`, dir).href)

const args = process.argv.slice(2)
const missing =
  NODE_FLAGS.some((f) => !process.execArgv.includes(f)) ||
  Object.entries(NODE_ENV).some(([k, v]) => process.env[k] !== v)

if (args[0] === 'start' && missing && process.env.GKM_NO_RELAUNCH !== '1') {
  const child = spawn(process.execPath, [...NODE_FLAGS, ...process.execArgv, process.argv[1], ...args], {
    stdio: 'inherit',
    env: { ...process.env, ...NODE_ENV, GKM_NO_RELAUNCH: '1' },
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => {
    if (signal === null) process.exit(code ?? 1)
    // Died of a signal: report it the way a shell does (128 + signal number).
    process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }[signal] ?? 0))
  })
} else {
  await import(new URL(`main.${ext}`, dir).href)
}
