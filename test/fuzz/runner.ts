/**
 * Runs generated inputs through a decoder or route and counts the cases that break its
 * property. Shared by the small run in `npm test` (test/fuzz/fuzz.test.ts) and the large one in
 * `npm run fuzz` (bench/fuzz.ts). Inputs are drawn in batches from a seed, so a run is
 * reproducible: `FUZZ_SEED=<seed> npm run fuzz`.
 */
import fc from 'fast-check'

export interface FuzzTarget<T = unknown> {
  readonly name: string
  readonly arbitrary: fc.Arbitrary<T>
  /** Throws when the property does not hold for this input (crash, 500, unnamed error...). */
  check(input: T): Promise<void>
  /** Checked once after every case: nothing acknowledged lost, the node still answers. */
  finish?(): Promise<void>
}

export interface FuzzFixture {
  readonly targets: readonly FuzzTarget[]
  close(): Promise<void>
}

export interface FuzzResult {
  readonly name: string
  readonly cases: number
  readonly failures: number
  readonly ms: number
  /** The first few failures: the input (shown) and what went wrong. */
  readonly examples: readonly string[]
}

/** A case that runs longer than this is a hang (every route and decoder has a far lower bound). */
export const CASE_TIMEOUT_MS = 15_000
const BATCH = 500

function show(input: unknown): string {
  let text: string
  try {
    text = input instanceof Uint8Array ? `bytes ${Buffer.from(input).toString('hex')}` : fc.stringify(input)
  } catch {
    text = String(input)
  }
  return text.length > 300 ? `${text.slice(0, 297)}...` : text
}

async function withinCase<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${CASE_TIMEOUT_MS} ms (hang)`)),
      CASE_TIMEOUT_MS,
    )
  })
  try {
    return await Promise.race([p, limit])
  } finally {
    clearTimeout(timer)
  }
}

export async function runTarget<T>(target: FuzzTarget<T>, runs: number, seed: number): Promise<FuzzResult> {
  const started = performance.now()
  let cases = 0
  let failures = 0
  const examples: string[] = []
  const fail = (what: string) => {
    failures++
    if (examples.length < 3) examples.push(what)
  }
  for (let batch = 0; cases < runs; batch++) {
    const inputs = fc.sample(target.arbitrary, { seed: seed + batch, numRuns: Math.min(BATCH, runs - cases) })
    for (const input of inputs) {
      cases++
      try {
        await withinCase(target.check(input))
      } catch (err) {
        fail(`${(err as Error)?.message ?? String(err)} <- ${show(input)}`)
      }
    }
  }
  if (target.finish !== undefined) {
    try {
      await target.finish()
    } catch (err) {
      fail(`after all cases: ${(err as Error)?.message ?? String(err)}`)
    }
  }
  return { name: target.name, cases, failures, ms: performance.now() - started, examples }
}

/** A property failure with the reason. */
export function expect(ok: boolean, why: string): void {
  if (!ok) throw new Error(why)
}
