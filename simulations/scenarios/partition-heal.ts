import type { ScenarioInput } from '../scenario.ts'

export const partitionHeal: ScenarioInput = {
  name: 'partition-heal',
  description: 'The mesh splits in two halves for 30 s with writes on both sides, then heals',
  writeUntilMs: 34_000,
  healAtMs: 35_000,
  budgetMs: 20_000,
  resolveEveryMs: 2_000,
  faults: { partitions: [{ atMs: 5_000, untilMs: 35_000, groups: 2 }] },
}
