/**
 * Sources of randomness for the outer layers (node, store, net). The core never imports this
 * file: ids and keys are passed into it.
 */
import { randomBytes, randomUUID } from 'node:crypto'

export function newEventId(): string {
  return randomUUID()
}

export function newSeed(): Uint8Array {
  return new Uint8Array(randomBytes(32))
}

/** A new per-author log id: 8 random bytes, hex (docs/PROTOCOL.md "Per-author logs"). */
export function newLogId(): string {
  return randomBytes(8).toString('hex')
}
