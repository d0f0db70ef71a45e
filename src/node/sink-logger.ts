/** The adapters' log: one JSON line per entry on stderr, at or above the configured level. */
import type { SinkLogger } from '../adapters/index.ts'
import type { JsonValue } from '../core/types.ts'

const RANK = { debug: 0, info: 1, warn: 2, error: 3 } as const

export function stderrSinkLogger(
  level: keyof typeof RANK,
  write: (line: string) => void = (l) => process.stderr.write(l),
): SinkLogger {
  const at =
    (l: keyof typeof RANK) =>
    (message: string, fields: Record<string, JsonValue> = {}) => {
      if (RANK[l] < RANK[level]) return
      write(
        `${JSON.stringify({ time: new Date().toISOString(), level: l, component: 'sinks', message, ...fields })}\n`,
      )
    }
  return { info: at('info'), warn: at('warn'), error: at('error') }
}
