/**
 * The node's logger: pino, one JSON object per line on stderr (`level`, `time`, `msg`, a
 * `component` and the line's own fields), or a human-readable line when stderr is a terminal
 * (pino-pretty). docs/LOGS.md lists the lines and their fields.
 *
 * Writes are synchronous: a node logs a few lines per peer event, not per stored event, and a
 * line written just before an exit (a fatal error, a signal) must not be lost in a buffer.
 */
import { type DestinationStream, type Logger, pino } from 'pino'
import { PinoPretty } from 'pino-pretty'
import type { NetLogger } from '../net/index.ts'

export type { Logger } from 'pino'

export interface LogInit {
  /** `error`, `warn`, `info`, `debug`, `trace` (config `log.level`); `silent` logs nothing. */
  readonly level: string
  /** Where lines go; stderr by default. */
  readonly destination?: DestinationStream
  /** Human-readable lines instead of JSON; default: when the destination is stderr and a TTY. */
  readonly pretty?: boolean
}

export function createLogger(init: LogInit): Logger {
  const options = { level: init.level, base: { pid: process.pid } }
  if (init.destination !== undefined && init.pretty !== true) return pino(options, init.destination)
  const pretty = init.pretty ?? process.stderr.isTTY === true
  if (pretty) {
    return pino(
      options,
      PinoPretty({
        destination: init.destination ?? 2,
        sync: true,
        colorize: init.destination === undefined && process.stderr.isTTY === true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        singleLine: true,
      }),
    )
  }
  return pino(options, pino.destination({ fd: 2, sync: true }))
}

/** The mesh's logger interface over a pino logger (fields first, as pino takes them). */
export function netLogger(log: Logger): NetLogger {
  return {
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
    debug: (message, fields) => log.debug(fields ?? {}, message),
  }
}

/** A logger that writes nothing (tests and embedders that bring no logger). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
