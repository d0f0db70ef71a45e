/** Counters of the mesh (Network.stats) and the logger it writes to. */

/** Monotonic counters by name (`gossip.accepted`, `errors.WireDecodeError`, ...). */
export class NetStats {
  readonly counters: Record<string, number> = Object.create(null)

  inc(name: string, by = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + by
  }

  get(name: string): number {
    return this.counters[name] ?? 0
  }
}

/** Fields of a log line (`peer`, `reason`, counts): kept apart from the message so that a
 *  structured logger (the node's pino) writes them as JSON keys. */
export type LogFields = Record<string, unknown>

/** Where the mesh reports. The node passes its own (pino); the default is silent. */
export interface NetLogger {
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  debug(message: string, fields?: LogFields): void
}

export const SILENT_LOGGER: NetLogger = { info: () => {}, warn: () => {}, debug: () => {} }
