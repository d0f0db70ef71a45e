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

/** Where the mesh reports. The node passes its own; the default is silent. */
export interface NetLogger {
  info(message: string): void
  warn(message: string): void
  debug(message: string): void
}

export const SILENT_LOGGER: NetLogger = { info: () => {}, warn: () => {}, debug: () => {} }
