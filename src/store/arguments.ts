/** Checks of the arguments every read takes: named errors instead of unbounded or odd reads. */
import type { EventType } from '../core/types.ts'
import { READ_LIMIT_MAX } from './constants.ts'
import { InvalidStoreArgumentError } from './errors.ts'
import { typeCode } from './keys.ts'

export const misuse = (why: string): never => {
  throw new InvalidStoreArgumentError(why)
}

export function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 0 || limit > READ_LIMIT_MAX)
    misuse(`limit must be an integer in 0..${READ_LIMIT_MAX}, got ${limit}`)
  return limit
}

export function checkSeq(seq: number, what: string): number {
  if (!Number.isSafeInteger(seq) || seq < 0) misuse(`${what} must be a non-negative integer, got ${seq}`)
  return seq
}

export function codeOf(type: EventType): number {
  return typeCode(type) ?? misuse(`unknown event type ${JSON.stringify(type)}`)
}
