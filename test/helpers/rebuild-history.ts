/**
 * What the rebuild property tests (test/unit/node/replay-scan.test.ts, rebuild-fold.test.ts)
 * share: an engine over a store, a deterministic shuffle, live ingest in random small groups,
 * and resolutions of open conflicts. Each test keeps its own event generator.
 */
import { type IngestItem, Ingestor } from '../../src/core/ingest.ts'
import type { Store } from '../../src/core/ports.ts'
import type { Digest, SignedEvent } from '../../src/core/types.ts'
import { EMPTY_STATE_HASH } from '../../src/core/view.ts'
import { trustedYjsMerger } from '../../src/core/yjs-merge.ts'
import type { Signer } from '../../src/util/crypto.ts'
import { prng } from './crash.ts'
import { makeEvent } from './events.ts'

/** A fresh engine over `store`: node key `self`, own log `log`, Yjs documents compacted every
 *  `yjsCompactUpdates` updates (small, so they compact live and in rebuilds). */
export function testEngine(store: Store, self: Signer, log: string, yjsCompactUpdates: number): Ingestor {
  return new Ingestor(
    { store, signer: self, crdt: trustedYjsMerger },
    { hlc: { wallMs: 0, counter: 0 }, stateHash: EMPTY_STATE_HASH, log, logNext: 0, yjsCompactUpdates },
  )
}

/** A deterministic shuffle (parents after their children included: the live path takes them). */
export function shuffled<T>(list: readonly T[], seed: number): T[] {
  const rnd = prng(seed)
  const out = [...list]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

/** Ingests live through `ingestor`, in groups of 1 to 5 events, committing each. */
export async function ingestLive(
  store: Store,
  events: readonly SignedEvent[],
  seed: number,
  ingestor: Ingestor,
  now: number,
): Promise<Ingestor> {
  const rnd = prng(seed)
  for (let at = 0; at < events.length; ) {
    const size = 1 + Math.floor(rnd() * 5)
    const items: IngestItem[] = events.slice(at, at + size).map((event) => ({ kind: 'signed', event }))
    at += size
    const { batch } = await ingestor.ingest(items, now)
    await store.commit(batch)
    ingestor.committed()
  }
  return ingestor
}

/** Resolutions of about half the open conflicts: a write by one of `authors` naming both sides. */
export async function resolutions(
  store: Store,
  seed: number,
  authors: readonly Signer[],
): Promise<SignedEvent[]> {
  const rnd = prng(seed)
  const out: SignedEvent[] = []
  for (const c of await store.listConflicts('open', 1000)) {
    if (rnd() < 0.5) continue
    out.push(
      makeEvent(authors[Math.floor(rnd() * authors.length)], {
        type: c.type,
        target: c.target,
        payload: {
          op: 'resolve',
          conflict_id: c.id,
          strategy: 'manual_merge',
          cells: [{ cell: c.cell, value: `resolved ${out.length}` }],
        },
        hlc: { wallMs: 1_764_000_500_000 + out.length, counter: 0 },
        parents: c.sides.map((s) => s.digest).sort() as Digest[],
      }),
    )
  }
  return out
}
