import type { ScenarioInput } from '../scenario.ts'

export const clockSkew: ScenarioInput = {
  name: 'clock-skew',
  description:
    'Ten nodes run up to ±25 s off; one node jumps 90 s ahead for 15 s (its events are refused as drift until the others catch up)',
  writeUntilMs: 24_000,
  healAtMs: 25_000,
  budgetMs: 90_000,
  faults: {
    skew: { count: 10, maxOffsetMs: 25_000, jumps: [{ atMs: 5_000, untilMs: 20_000, byMs: 90_000 }] },
  },
}
