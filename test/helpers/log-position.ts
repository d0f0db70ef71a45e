/** Test and benchmark helper: the next position in a signer's log (one log per key, its id the
 *  key's first 8 bytes), so events signed by a test's signers never fork a log by accident. */
import { toHex } from '../../src/util/bytes.ts'
import type { Signer } from '../../src/util/crypto.ts'

const next = new Map<string, number>()

export function nextLogPosition(who: Signer | Uint8Array): { log: string; seq: number } {
  const key = toHex(who instanceof Uint8Array ? who : who.publicKey)
  const seq = next.get(key) ?? 0
  next.set(key, seq + 1)
  return { log: key.slice(0, 16), seq }
}
