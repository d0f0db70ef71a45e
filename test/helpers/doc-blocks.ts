/**
 * Shell blocks of a Markdown file, for the test that runs them (test/docs/shell-blocks.test.ts).
 *
 * A block is a fenced ```sh / ```bash / ```shell block. A comment on one of the two lines before
 * its fence changes how it is run:
 *
 *   <!-- not-run: why -->        not run (it starts an mDNS-on node, needs a LAN host, ...)
 *   <!-- run-for: 3s why -->     a block that runs until stopped (a stream): run it that long,
 *                                then stop it; it passes if it had not failed by then
 *
 * Every other block must exit 0.
 */

export interface ShellBlock {
  /** 1-based line of the opening fence. */
  readonly line: number
  readonly code: string
  /** Set when marked `<!-- not-run: ... -->`: the reason. */
  readonly notRun?: string
  /** Set when marked `<!-- run-for: Ns ... -->`: how long to let it run, ms. */
  readonly runForMs?: number
}

const FENCE_OPEN = /^```(sh|bash|shell)\s*$/
const FENCE_CLOSE = /^```\s*$/
const NOT_RUN = /<!--\s*not-run:\s*(.+?)\s*-->/
const RUN_FOR = /<!--\s*run-for:\s*(\d+(?:\.\d+)?)s\b.*?-->/

export function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split('\n')
  const blocks: ShellBlock[] = []
  let inOther = false
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (inOther) {
      if (FENCE_CLOSE.test(line)) inOther = false
      continue
    }
    if (!line.startsWith('```')) continue
    if (!FENCE_OPEN.test(line)) {
      inOther = true // a fence of another language: skip to its end
      continue
    }
    const start = i
    const code: string[] = []
    for (i++; i < lines.length && !FENCE_CLOSE.test(lines[i]); i++) code.push(lines[i])
    if (i >= lines.length) throw new Error(`line ${start + 1}: shell block is not closed`)
    const before = lines.slice(Math.max(0, start - 2), start).join('\n')
    const notRun = NOT_RUN.exec(before)?.[1]
    const runFor = RUN_FOR.exec(before)?.[1]
    blocks.push({
      line: start + 1,
      code: `${code.join('\n')}\n`,
      ...(notRun === undefined ? {} : { notRun }),
      ...(runFor === undefined ? {} : { runForMs: Math.round(Number(runFor) * 1000) }),
    })
  }
  return blocks
}

/** Port numbers a block uses as loopback addresses (`127.0.0.1:N`, `localhost:N`, `/tcp/N`). */
export function portsOf(code: string): number[] {
  const found = new Set<number>()
  for (const m of code.matchAll(/(?:127\.0\.0\.1|localhost):(\d{2,5})\b|\/tcp\/(\d{2,5})\b/g)) {
    const port = Number(m[1] ?? m[2])
    if (port > 0) found.add(port)
  }
  return [...found]
}

/** Replaces every whole-word occurrence of each port (also in `for p in 7501 7502`) and the
 *  `/tmp/` prefix of paths. */
export function substitute(code: string, ports: ReadonlyMap<number, number>, tmp: string): string {
  let out = code.replace(/(^|[\s"'=(])\/tmp\//g, `$1${tmp}/`)
  for (const [from, to] of ports) out = out.replace(new RegExp(`(?<![\\w.])${from}(?!\\w)`, 'g'), String(to))
  return out
}

/**
 * Why a block may not run on this machine, or undefined: it would change the system (sudo,
 * systemctl, apt, /etc/, a global npm install), start a node with mDNS on, or talk to an address
 * that is not loopback. (The hard network rules: a block that needs a LAN is
 * marked not-run instead.)
 */
export function unsafeBecause(code: string): string | undefined {
  // Tests may run as root (CI): a block that installs or changes the system is never run.
  const system =
    /(^|[\s;&|(])(sudo|systemctl|apt-get|apt|useradd|dpkg)\s|\/etc\/|\bnpm\s+(i|install)\b.*\s(-g|--global)\b/m.exec(
      code,
    )
  if (system !== null) return `it changes the system (${system[0].trim()})`
  for (const line of code.split('\n')) {
    if (/gkm-sync\s+start\b/.test(line) && !/--no-mdns\b|--no-mesh\b/.test(line))
      return `it starts a node with mDNS on: ${line.trim()}`
  }
  for (const m of code.matchAll(/\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b/g)) {
    if (m[1] !== '127') return `it names the address ${m[0]} (not loopback)`
  }
  for (const m of code.matchAll(/https?:\/\/([^/:\s'"]+)/g)) {
    if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(m[1])) return `it talks to ${m[1]} (not loopback)`
  }
  return undefined
}
