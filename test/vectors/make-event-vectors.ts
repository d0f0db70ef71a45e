/**
 * Regenerates test/vectors/events.json (run by hand: `npx node test/vectors/make-event-vectors.ts`)
 * ONLY when the canonical encoding changes on purpose, with a version bump in docs/PROTOCOL.md.
 */
import { writeFileSync } from 'node:fs'
import { signEvent } from '../../src/core/event.ts'
import { toHex } from '../../src/util/bytes.ts'
import { signerFromSeed } from '../../src/util/crypto.ts'
import { VECTOR_CASES } from './event-cases.ts'

const out = VECTOR_CASES.map((c) => {
  const seed = new Uint8Array(32).fill(c.seedByte)
  const e = signEvent(c.fields, signerFromSeed(seed))
  return {
    name: c.name,
    seed: toHex(seed),
    signed: toHex(e.signed),
    signature: toHex(e.signature),
    digest: e.digest,
  }
})
writeFileSync(new URL('./events.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`)
console.log(`wrote ${out.length} vectors`)
