/**
 * Runs one measurement in its own process (`node SCRIPT ...args`, stdout piped, stderr
 * inherited) and resolves with the JSON of the last line it printed; rejects when it exits
 * non-zero. The benchmarks that compare this checkout with an older one run each side this way.
 */
import { spawn } from 'node:child_process'

export function childJson<T>(
  args: readonly string[],
  opts: { nodeFlags?: readonly string[]; env?: NodeJS.ProcessEnv; what?: string } = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [...(opts.nodeFlags ?? []), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: opts.env ?? process.env,
    })
    let out = ''
    c.stdout.on('data', (d) => {
      out += d
    })
    c.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').pop() as string) as T)
        : reject(new Error(`${opts.what ?? 'child'} exited ${code}`)),
    )
  })
}
