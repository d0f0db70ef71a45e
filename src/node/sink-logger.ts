/** The adapters' log: the node's logger (pino), so sink lines are JSON lines on stderr with the
 *  node's others, at the configured level. */
import type { SinkLogger } from '../adapters/index.ts'
import type { Logger } from './log.ts'

export function sinkLogger(log: Logger): SinkLogger {
  return {
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
    error: (message, fields) => log.error(fields ?? {}, message),
  }
}
