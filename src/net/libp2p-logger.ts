/**
 * A libp2p `ComponentLogger` that writes into the node's structured logger instead of libp2p's
 * own `debug`-based one (silent unless `DEBUG=libp2p*`).
 *
 * Levels: libp2p's plain lines and `.trace` lines are `trace`; its `.error` lines are `debug`,
 * because libp2p reports routine events of a mesh there (a dial that failed, a stream the remote
 * reset, a connection pruned): what an operator must see is logged by gkm-sync itself (peer
 * connected / disconnected with the reason, refusals, catch-up failures). `--log-level debug`
 * shows libp2p's errors; `trace` (config `log.level`) shows everything. A line is formatted only
 * when its level is enabled, so a quiet node pays nothing for libp2p's chatter.
 */
import { format } from 'node:util'
import type { ComponentLogger, Logger } from '@libp2p/interface'

/** The part of a pino logger this needs (pino's `Logger` satisfies it). */
export interface LevelledLogger {
  isLevelEnabled(level: string): boolean
  debug(fields: Record<string, unknown>, message: string): void
  trace(fields: Record<string, unknown>, message: string): void
}

/** libp2p's `debug` formatters (%p peer id, %a multiaddr, %c CID, %b/%t bytes, %k key, %e
 *  error) print as text here. */
const CUSTOM_FORMATTERS = /%([pacbtke])/g

function text(args: unknown[]): string {
  const [first, ...rest] = args
  if (typeof first !== 'string') return format(first, ...rest)
  const values = rest.map((v) =>
    v instanceof Error ? v.message : v instanceof Uint8Array ? `<${v.length} bytes>` : v,
  )
  return format(first.replace(CUSTOM_FORMATTERS, '%s'), ...values)
}

function componentLog(sink: LevelledLogger, component: string): Logger {
  const fields = { libp2p: component }
  const line = (level: 'trace' | 'debug', args: unknown[]) => {
    if (sink.isLevelEnabled(level)) sink[level](fields, text(args))
  }
  const log = ((...args: unknown[]) => line('trace', args)) as Logger
  log.error = (...args: unknown[]) => line('debug', args)
  log.trace = (...args: unknown[]) => line('trace', args)
  log.newScope = (name: string) => componentLog(sink, `${component}:${name}`)
  Object.defineProperty(log, 'enabled', { get: () => sink.isLevelEnabled('trace') })
  return log
}

export function libp2pLogger(sink: LevelledLogger): ComponentLogger {
  return { forComponent: (name: string) => componentLog(sink, name) }
}
